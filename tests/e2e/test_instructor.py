"""The demo instructor previews a question family and authors a quiz in a real Chromium (marker ``e2e``).

pytest-django's live_server serves the pages; they are driven through labels, roles and a few
data-testid hooks, screenshots go to artifacts/e2e/, and axe-core checks the instructor pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "e2e"


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    import playwright.sync_api as sync_api

    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM} (the test command installs it)"
    # Database work before Playwright starts (its sync API runs an event loop in this thread).
    call_command("seed_demo", verbosity=0)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1100, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def _sign_in_as_instructor(page: Any) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("instructor")
    page.get_by_label("Password").fill("instructor-demo-1")
    page.get_by_test_id("login-submit").click()
    page.get_by_role("heading", name="My courses").wait_for()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Instructor").click()
    page.get_by_role("heading", name="Courses I teach").wait_for()


def test_e2e_instructor_previews_a_family_and_creates_a_quiz(page: Any) -> None:
    """The demo instructor previews the ladder family (keys filled in), then creates an exam with two
    question slots; both pages are saved to artifacts/e2e/."""
    _sign_in_as_instructor(page)

    page.get_by_role("navigation", name="Instructor").get_by_role("link", name="Question families").click()
    page.get_by_test_id("preview-which_event").click()
    form = page.get_by_test_id("preview-form")
    form.get_by_label("Variants").fill("3")
    form.get_by_label("Difficulty").select_option("hard")
    form.get_by_label("Seed").fill("2024")
    form.get_by_role("button", name="Preview").click()
    page.get_by_test_id("variant-3").wait_for()
    assert "2024" in page.get_by_test_id("preview-seed").inner_text()
    first = page.get_by_test_id("variant-1")
    assert first.locator(".is-key").count() == 1
    assert first.locator("svg").count() >= 1
    assert "RFC 9293" in page.get_by_test_id("variant-1-explanation").inner_text()
    page.screenshot(path=str(ARTIFACTS / "instructor-family-preview.png"), full_page=True)

    page.get_by_role("navigation", name="Instructor").get_by_role("link", name="Courses I teach").click()
    page.get_by_role("link", name="New quiz — TCP connection management").click()
    page.get_by_label("Title").fill("Closing connections exam")
    page.get_by_label("Description").fill("Two questions on **closing** a connection.")
    page.get_by_label("Mode").select_option("exam")
    page.get_by_label("Time limit (minutes)").fill("20")
    page.get_by_test_id("save-quiz").click()
    page.get_by_role("heading", name="Closing connections exam").wait_for()

    add = page.get_by_test_id("add-slot-form")
    add.get_by_label("Question family").select_option(label="Ladder completion")
    add.get_by_label("Difficulty").select_option("hard")
    add.get_by_label("Points").fill("2")
    add.get_by_role("button", name="Add question").click()
    page.get_by_test_id("slot-1").wait_for()
    add = page.get_by_test_id("add-slot-form")
    add.get_by_label("Question family").select_option(label="Which event?")
    add.get_by_label("Difficulty").select_option("easy")
    add.get_by_role("button", name="Add question").click()
    page.get_by_test_id("slot-2").wait_for()

    assert page.get_by_test_id("slot-list").locator("li.slot").count() == 2
    assert page.get_by_role("heading", name="2 questions").is_visible()
    assert "3 points in all" in page.locator("#slots").inner_text()
    page.get_by_role("button", name="Move up question 2").click()
    page.get_by_test_id("slot-1").get_by_label("Question family").wait_for()
    assert page.get_by_test_id("slot-1").get_by_label("Question family").input_value() == "which_event"
    page.screenshot(path=str(ARTIFACTS / "instructor-quiz-editor.png"), full_page=True)


def test_e2e_instructor_pages_have_no_serious_accessibility_violations(page: Any) -> None:
    """axe-core finds no serious or critical violation on the instructor pages."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    _sign_in_as_instructor(page)
    course_url = page.get_by_role("link", name="Quizzes — TCP connection management").get_attribute("href")
    page.goto(course_url)
    quiz_url = page.get_by_role("link", name="Next state: the TCP state machine", exact=True).get_attribute(
        "href"
    )
    pages = {
        "home": "/instructor/",
        "families": "/instructor/families/",
        "preview": "/instructor/families/ladder/preview/?n=2&seed=5",
        "preview-diagram": "/instructor/families/which_event/preview/?n=2&seed=5",
        "course": course_url,
        "roster": f"{course_url}roster/",
        "quiz-new": f"{course_url}quizzes/new/",
        "quiz-edit": quiz_url,
        "results": f"{quiz_url}results/",
    }
    page.goto(course_url)
    page.get_by_label("Bank title").fill("Closing a connection")
    page.get_by_role("button", name="New question bank").click()
    page.get_by_role("heading", name="Question bank: Closing a connection").wait_for()
    page.get_by_test_id("add-item-form").get_by_label("Question family").select_option(label="RST")
    page.get_by_role("button", name="Add item").click()
    page.get_by_test_id("bank-items").wait_for()
    pages["bank"] = page.url
    for name, url in pages.items():
        page.goto(url)
        results = axe.run(page)
        serious = [
            (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"]
            if v.get("impact") in {"serious", "critical"}
        ]
        assert serious == [], f"{name}: {serious}"
        if name in {"results", "bank", "roster"}:
            page.screenshot(path=str(ARTIFACTS / f"instructor-{name}.png"), full_page=True)
