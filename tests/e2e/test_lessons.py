"""A student reads a lesson in Chinese in a real Chromium, steps through the handshake with the keyboard,
switches to English, opens the glossary and searches; axe-core finds no serious or critical violation.
Screenshots go to artifacts/e2e/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, Page, expect, sync_playwright

from lessons.models import LessonProgress
from lessons.services import lesson_load_from_files

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "e2e"
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop running in this thread for as long as the browser
    # lives; the ORM calls of the tests and of the database teardown are still plain sync calls.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def student_page(browser: Browser, live_server: Any, transactional_db: None) -> Iterator[Page]:
    """A signed-in student's page on the live server, with the course loaded."""
    lesson_load_from_files()
    user = User.objects.create_user(username="xiaoming", password="correct-horse-battery-9")
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-US")
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
          "url": live_server.url}]
    )  # fmt: skip
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert errors == [], errors


def _axe(page: Page, name: str) -> None:
    """No serious or critical axe-core violation on the page (all of them are printed)."""
    results = Axe().run(page)
    violations = results.response["violations"]
    for violation in violations:
        print(name, violation["impact"], violation["id"], [n["target"] for n in violation["nodes"]][:3])
    blocking = [(v["id"], v["impact"], len(v["nodes"])) for v in violations if v["impact"] in BLOCKING]
    assert blocking == [], f"{name}: {blocking}"


def _shot(page: Page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def test_e2e_student_reads_steps_switches_and_looks_up(student_page: Page, live_server: Any) -> None:
    """Chinese lesson → keyboard step-through of the handshake → English → glossary → search."""
    page = student_page
    page.goto(f"{live_server.url}/learn/")
    page.get_by_test_id("lang-zh-hans").click()
    expect(page.locator("h1")).to_have_text("TCP 如何建立和释放连接")
    expect(page.get_by_test_id("course-progress")).to_contain_text("0 / 15")
    _shot(page, "lessons-01-overview-zh")
    _axe(page, "overview (zh)")

    page.get_by_role("link", name="三次握手", exact=True).click()
    expect(page.locator("h1")).to_have_text("三次握手")
    expect(page.locator("article.lesson")).to_contain_text("三报文握手")
    _shot(page, "lessons-02-lesson-zh")
    _axe(page, "lesson (zh)")

    scenario = page.locator('section[data-scenario="handshake"]')
    player = scenario.locator("[data-player]")
    expect(player).to_be_visible()
    position = player.locator("[data-position]")
    live = player.locator("[data-live]")
    client_state = player.locator('[data-endpoint="0"]')
    server_state = player.locator('[data-endpoint="1"]')
    expect(position).to_have_text("第 1 步，共 6 步")
    expect(server_state.locator(".endpoint-state")).to_have_text("LISTEN")
    expect(server_state.locator(".endpoint-local")).to_have_text("收听")
    # Without the script the table of steps is open; with it the player takes over.
    expect(scenario.locator("details[data-steps]")).not_to_have_attribute("open", "")

    player.focus()
    page.keyboard.press("ArrowRight")
    expect(position).to_have_text("第 2 步，共 6 步")
    expect(client_state.locator(".endpoint-state")).to_have_text("SYN_SENT")
    expect(client_state.locator(".endpoint-local")).to_have_text("同步已发送")
    expect(live).to_contain_text("第 2 步，共 6 步。")
    expect(live).to_contain_text("客户端：SYN_SENT 同步已发送。")
    expect(live).to_contain_text("SYN seq=1000")
    page.keyboard.press("ArrowRight")
    expect(server_state.locator(".endpoint-state")).to_have_text("SYN_RECEIVED")
    expect(server_state.locator(".endpoint-local")).to_have_text("同步收到")
    expect(live).to_contain_text("SYN+ACK seq=5000 ack=1001")
    page.keyboard.press("ArrowRight")
    expect(client_state.locator(".endpoint-state")).to_have_text("ESTABLISHED")
    expect(client_state.locator(".endpoint-local")).to_have_text("已建立连接")
    expect(server_state.locator(".endpoint-state")).to_have_text("SYN_RECEIVED")
    expect(server_state.locator(".endpoint-local")).to_have_text("同步收到")
    page.keyboard.press("ArrowLeft")
    expect(position).to_have_text("第 3 步，共 6 步")
    expect(client_state.locator(".endpoint-state")).to_have_text("SYN_SENT")
    expect(client_state.locator(".endpoint-local")).to_have_text("同步已发送")
    # The buttons work from the keyboard too.
    next_button = player.locator("[data-next]")
    next_button.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    expect(position).to_have_text("第 5 步，共 6 步")
    expect(server_state.locator(".endpoint-state")).to_have_text("ESTABLISHED")
    expect(server_state.locator(".endpoint-local")).to_have_text("已建立连接")
    expect(live).to_contain_text("ACK seq=1001 ack=5001")
    expect(scenario.locator('tr[data-frame="5"]')).to_have_attribute("aria-current", "step")
    page.keyboard.press("End")
    expect(position).to_have_text("第 6 步，共 6 步")
    expect(next_button).to_have_attribute("aria-disabled", "true")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    scenario.scroll_into_view_if_needed()
    scenario.screenshot(path=str(ARTIFACTS / "lessons-03-player-zh.png"))
    _axe(page, "lesson with player (zh)")

    page.get_by_test_id("lang-en").click()
    expect(page.locator("h1")).to_have_text("The three-way handshake")
    player = page.locator('section[data-scenario="handshake"] [data-player]')
    expect(player.locator("[data-position]")).to_have_text("Step 1 of 6")
    player.focus()
    page.keyboard.press("ArrowRight")
    expect(player.locator('[data-endpoint="0"] .endpoint-state')).to_have_text("SYN_SENT")
    expect(player.locator("[data-live]")).to_contain_text(
        "Client calls connect(). Client: SYN_SENT. Server: LISTEN."
    )
    practise = page.get_by_test_id("practise-link")
    expect(practise).to_have_attribute(
        "href", re.compile(r"^/practice/\?skills=c:handshake,.*t:SYN_RECEIVED:rcv_ack$")
    )
    page.get_by_test_id("mark-done").click()
    expect(page.get_by_test_id("lesson-done")).to_be_visible()
    _shot(page, "lessons-04-lesson-en")
    _axe(page, "lesson (en)")

    page.get_by_role("link", name="Glossary", exact=True).click()
    expect(page.locator("h1")).to_have_text("Glossary")
    entry = page.locator("#g-three_way_handshake")
    expect(entry).to_contain_text("three-way handshake")
    expect(entry).to_contain_text("三次握手")
    expect(entry).to_contain_text("三报文握手")
    page.locator('a[href="#g-time_wait"]').first.click()
    expect(page).to_have_url(re.compile(r"#g-time_wait$"))
    _shot(page, "lessons-05-glossary-en")
    _axe(page, "glossary (en)")

    page.get_by_role("searchbox").fill("TIME_WAIT")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_test_id("search-count")).to_contain_text("results for “TIME_WAIT”")
    expect(page.locator("mark").first).to_have_text("TIME_WAIT")
    _shot(page, "lessons-06-search-en")
    _axe(page, "search (en)")

    page.get_by_role("link", name="All lessons").click()
    expect(page.get_by_test_id("course-progress")).to_contain_text("1 of 15 lessons done")
    expect(page.get_by_test_id("lesson-three-way-handshake")).to_contain_text("Done")

    # Reaching the end of a lesson completes it too.
    page.get_by_role("link", name=re.compile("^Half-close")).click()
    expect(page.get_by_test_id("mark-done")).to_be_visible()
    page.locator("#lesson-end").scroll_into_view_if_needed()
    expect(page.get_by_test_id("lesson-done")).to_be_visible()
    expect(page.get_by_test_id("mark-done")).to_have_count(0)
    assert LessonProgress.objects.get(lesson_slug="half-close").completed_at is not None
    page.get_by_role("link", name="All lessons").click()
    expect(page.get_by_test_id("course-progress")).to_contain_text("2 of 15 lessons done")


def test_e2e_lesson_without_javascript_shows_ladder_and_table(
    browser: Browser, live_server: Any, transactional_db: None
) -> None:
    """Progressive enhancement: with JavaScript off, the full ladder and the table of steps are shown."""
    lesson_load_from_files()
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/learn/simultaneous-close/")
    scenario = page.locator('section[data-scenario="simultaneous_close"]')
    expect(scenario.locator("[data-player]")).to_be_hidden()
    expect(scenario.locator("[data-ladder] svg")).to_be_visible()
    expect(scenario.locator("table.steps-table")).to_be_visible()
    expect(scenario.locator("table.steps-table")).to_contain_text("CLOSING")
    scenario.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    scenario.screenshot(path=str(ARTIFACTS / "lessons-07-no-js-en.png"))
    context.close()
