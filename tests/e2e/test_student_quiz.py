"""A student takes the demo quiz in a real Chromium (marker ``e2e``).

The server is pytest-django's live_server (a thread of this process, tasks run eagerly); the pages
are driven only through what a person sees: labels, roles and a few data-testid hooks.
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
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    # Database work happens before Playwright starts: inside its sync API this thread runs an event
    # loop (Django would refuse ORM calls) and a different context (a new, leaked connection).
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


def _sign_in(page: Any) -> None:
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill("student")
    page.get_by_label("Password").fill("student-demo-1")
    page.get_by_test_id("login-submit").click()
    page.get_by_role("heading", name="My courses").wait_for()


def test_e2e_demo_student_answers_every_question(page: Any) -> None:
    """The demo student signs in, answers every question of the demo quiz and sees each result
    with its explanation; the finished page is saved to artifacts/e2e/."""
    _sign_in(page)
    page.get_by_role("link", name="Next state: the TCP state machine").click()
    page.get_by_test_id("start-attempt").click()

    questions = page.locator("section.question")
    count = questions.count()
    assert count == 5
    for position in range(1, count + 1):
        question = page.get_by_test_id(f"question-{position}")
        question.get_by_role("radio").first.check()
        question.get_by_role("button", name="Submit answer").click()
        result = page.get_by_test_id(f"answer-{position}").locator('[data-status="graded"]')
        result.wait_for()
        assert page.get_by_test_id(f"explanation-{position}").inner_text().strip()
        assert "RFC 9293" in page.get_by_test_id(f"explanation-{position}").inner_text()

    progress = page.get_by_test_id("progress")
    assert progress.get_attribute("data-answered") == str(count)
    page.screenshot(path=str(ARTIFACTS / "demo-quiz-answered.png"), full_page=True)

    page.get_by_test_id("submit-attempt").click()
    summary = page.get_by_test_id("attempt-summary")
    summary.wait_for()
    assert f"/ {count}" in summary.inner_text()
    page.screenshot(path=str(ARTIFACTS / "demo-quiz-submitted.png"), full_page=True)


def test_e2e_pages_have_no_serious_accessibility_violations(page: Any) -> None:
    """axe-core finds no serious or critical violation on the home, courses and attempt pages."""
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    axe = axe_module.Axe()
    _sign_in(page)
    page.get_by_role("link", name="Next state: the TCP state machine").click()
    page.get_by_test_id("start-attempt").click()
    page.get_by_test_id("question-1").get_by_role("radio").first.check()
    page.get_by_test_id("question-1").get_by_role("button", name="Submit answer").click()
    page.get_by_test_id("answer-1").locator('[data-status="graded"]').wait_for()
    for name, url in {"attempt": page.url, "courses": "/courses/", "home": "/"}.items():
        page.goto(url)
        results = axe.run(page)
        serious = [
            (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"]
            if v.get("impact") in {"serious", "critical"}
        ]
        assert serious == [], f"{name}: {serious}"


def test_e2e_language_switch_to_chinese(page: Any) -> None:
    """The language switch shows the pages in Chinese."""
    page.goto("/")
    page.get_by_test_id("lang-zh-hans").click()
    page.get_by_role("heading", name="掌握 TCP 如何建立和释放连接").wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
