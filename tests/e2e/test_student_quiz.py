"""A student practises and sits a timed exam in a real Chromium (marker ``e2e``).

The server is pytest-django's live_server (a thread of this process, tasks run eagerly); the pages
are driven only through what a person sees (labels, roles, a few data-testid hooks) and, for the
widgets, through the keyboard alone. Every page is checked with axe-core (no serious or critical
violation) and photographed into artifacts/e2e/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from questions.generators.registry import families
from questions.models import Attempt

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "e2e"
PRACTICE_TITLE = "Practice: opening and closing connections"
EXAM_TITLE = "Exam: TCP connection management"
T = TypeVar("T")


def orm(work: Callable[[], T]) -> T:
    """Run database work in another thread: Playwright's sync API runs an event loop in this one."""

    def run() -> T:
        try:
            return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


@dataclass(frozen=True)
class _Chromium:
    browser: Any
    base_url: str


@pytest.fixture
def browser(live_server: Any) -> Iterator[Any]:
    import playwright.sync_api as sync_api

    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM} (the test command installs it)"
    call_command("seed_demo", verbosity=0)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield _Chromium(chromium, live_server.url)
        chromium.close()


def _new_page(browser: Any, width: int = 1100) -> Any:
    context = browser.browser.new_context(
        base_url=browser.base_url, viewport={"width": width, "height": 900}, locale="en"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def page(browser: Any) -> Any:
    return _new_page(browser)


def _sign_in(page: Any) -> None:
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill("student")
    page.get_by_label("Password").fill("student-demo-1")
    page.get_by_test_id("login-submit").click()
    page.get_by_role("heading", name="Dashboard", level=1).wait_for()


def _chinese(page: Any) -> None:
    page.get_by_test_id("lang-zh-hans").click()
    page.wait_for_load_state()


def _english(page: Any) -> None:
    page.get_by_test_id("lang-en").click()
    page.wait_for_load_state()


def _axe(page: Any, name: str) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    results = axe.run(page)
    serious = [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]
    assert serious == [], f"{name}: {serious}"


def _shot(page: Any, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _focused(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => {
              const el = document.activeElement;
              const form = el && el.form;
              const group = form && el.name ? [...form.elements].filter(e => e.name === el.name) : [];
              return {
                tag: el ? el.tagName.toLowerCase() : "",
                type: el && el.type ? el.type : "",
                value: el && "value" in el ? el.value : "",
                groupChecked: group.some(e => e.checked),
                submit: !!(el && el.matches(
                  '[data-testid^="submit-answer"], [data-testid="save-next"], [data-testid="save-finish"]')),
                move: !!(el && el.matches("[data-move]")),
                numeric: !!(el && el.matches(".num-input")),
              };
            }"""
        )
    )


def _answer_by_keyboard(page: Any) -> str:
    """Fill the question's widget with the keyboard only (Tab, Space, arrows, typing) and press Enter
    on its main button. Returns the kind of widget it was."""
    card = page.locator("section.question").first
    kind = str(card.get_attribute("data-kind"))
    page.locator("#q-title").focus()
    if kind == "order":
        first = page.locator(".order-item .order-text").first.inner_text()
        for _ in range(40):
            page.keyboard.press("Tab")
            if _focused(page)["move"]:
                break
        page.keyboard.press("Enter")  # the first item's "move down" (its "move up" is disabled)
        assert page.locator(".order-item .order-text").nth(1).inner_text() == first
        page.keyboard.press("Alt+ArrowUp")
        assert page.locator(".order-item .order-text").first.inner_text() == first
        page.keyboard.press("Alt+ArrowDown")
    for _ in range(250):
        page.keyboard.press("Tab")
        focus = _focused(page)
        if focus["submit"]:
            page.keyboard.press("Enter")
            return kind
        if focus["type"] in ("radio", "checkbox") and not focus["groupChecked"]:
            page.keyboard.press("Space")
        elif focus["tag"] == "select" and not focus["value"]:
            page.keyboard.press("ArrowDown")
        elif focus["numeric"] and not focus["value"]:
            page.keyboard.type("1")
    raise AssertionError(f"Tab never reached the answer button of a {kind} question")


def _answer_all_in_practice_quiz(page: Any, shots: set[str]) -> None:
    count = page.locator(".qnav-item").count()
    for position in range(1, count + 1):
        page.get_by_test_id(f"nav-{position}").click()
        kind = _answer_by_keyboard(page)
        page.get_by_test_id(f"answer-{position}").locator('[data-status="graded"]').wait_for()
        assert page.get_by_test_id(f"explanation-{position}").inner_text().strip()
        if kind not in shots:
            shots.add(kind)
            _axe(page, f"practice quiz, {kind} answered")
            _shot(page, f"practice-quiz-{kind}-result")


def test_e2e_practice_session(page: Any) -> None:
    """A full practice session: the dashboard starts the practice quiz; every question (one of each
    input kind) is answered with the keyboard and explained at once; "another one like this" draws a
    fresh variant; the attempt is submitted and reviewed; the dashboard then shows mastery, and its
    one-click practice of a weak skill opens the practice page on that skill."""
    _sign_in(page)
    _axe(page, "dashboard (new student)")
    _shot(page, "dashboard-new")
    page.get_by_role("button", name=f"Start {PRACTICE_TITLE}").click()
    page.get_by_test_id("question-1").wait_for()
    _axe(page, "practice quiz, question 1")
    _shot(page, "practice-quiz-question")
    _answer_all_in_practice_quiz(page, set())

    page.get_by_test_id("nav-2").click()
    page.get_by_test_id("another").click()
    page.get_by_test_id("question-8").wait_for()
    assert page.locator(".qnav-item").count() == 8
    _answer_by_keyboard(page)
    page.get_by_test_id("answer-8").locator('[data-status="graded"]').wait_for()
    assert page.get_by_test_id("progress").get_attribute("data-answered") == "8"

    page.get_by_test_id("finish-link").click()
    page.get_by_test_id("finish-confirm").wait_for()
    assert page.get_by_test_id("unanswered").count() == 0
    page.get_by_test_id("submit-attempt").click()
    summary = page.get_by_test_id("attempt-summary")
    summary.wait_for()
    assert re.search(r"[\d.]+ / 8", summary.inner_text())
    page.get_by_test_id("skill-breakdown").wait_for()
    _axe(page, "practice review")
    _shot(page, "practice-quiz-review")

    page.get_by_test_id("nav-dashboard").click()
    page.get_by_test_id("mastery").get_by_role("table").wait_for()
    _axe(page, "dashboard with mastery")
    _shot(page, "dashboard-after-practice")
    weakest = page.get_by_test_id("weakest-skills").get_by_role("link", name=re.compile("^Practise"))
    if weakest.count():
        weakest.first.click()
    else:
        page.get_by_test_id("mastery").get_by_role("link").first.click()
    page.get_by_test_id("practice-skills").wait_for()
    _answer_by_keyboard(page)
    page.get_by_test_id("answer-1").locator('[data-status="graded"]').wait_for()
    _axe(page, "practice page, answered")
    _shot(page, "practice-page-skill-result")
    page.get_by_test_id("another").click()
    page.get_by_test_id("practice-card").wait_for()
    assert page.get_by_test_id("submit-answer-1").count() == 1


def _form_state(page: Any) -> str:
    return str(
        page.evaluate(
            """() => { const data = new FormData(document.querySelector("#answer-form"));
                       data.delete("csrfmiddlewaretoken"); return new URLSearchParams(data).toString(); }"""
        )
    )


def test_e2e_timed_exam(browser: Any) -> None:
    """A full timed exam: answers are autosaved and survive a reload and a new browser session; the
    confirmation lists the unanswered questions; the review shows score, skills, keys and diagrams
    (in both languages). The second attempt's answer after the deadline is refused with a clear
    message and the attempt shows as expired with the answer saved before the deadline graded."""
    page = _new_page(browser)
    _sign_in(page)
    page.get_by_role("button", name=f"Start {EXAM_TITLE}").click()
    page.get_by_test_id("question-1").wait_for()
    assert page.get_by_test_id("timer").is_visible()
    assert "exam" in page.locator(".page-head .badge").inner_text()
    for position in (1, 2, 3):
        page.get_by_test_id(f"nav-{position}").click()
        _axe(page, f"exam question {position}")
        _shot(page, f"exam-question-{position}")
        _answer_by_keyboard(page)  # "Save and next"
        page.get_by_test_id(f"question-{position + 1}").wait_for()

    page.get_by_test_id("nav-2").click()
    before = _form_state(page)
    page.reload()
    assert _form_state(page) == before
    assert page.get_by_test_id("save-status").inner_text().strip() == "Your saved answer is restored."

    # A new browser session (the browser was closed): the dashboard offers to resume.
    page.context.close()
    page = _new_page(browser)
    _sign_in(page)
    page.get_by_test_id("open-quizzes").get_by_role("link", name=f"Resume {EXAM_TITLE}").click()
    page.get_by_test_id("question-4").wait_for()
    assert page.get_by_test_id("progress").get_attribute("data-answered") == "3"
    page.get_by_test_id("nav-2").click()
    assert _form_state(page) == before

    page.get_by_test_id("finish-link").click()
    unanswered = page.get_by_test_id("unanswered")
    assert "5 questions are not answered" in unanswered.inner_text()
    _axe(page, "exam confirmation")
    _shot(page, "exam-finish-confirm")
    _chinese(page)
    _axe(page, "exam confirmation (Chinese)")
    _english(page)
    page.get_by_test_id("submit-attempt").click()
    page.get_by_test_id("attempt-summary").wait_for()
    page.get_by_test_id("skill-breakdown").wait_for()
    assert page.locator('[data-status="pending"]').count() == 0
    assert page.locator(".diagram svg").count() >= 3
    _axe(page, "exam review")
    _shot(page, "exam-review")
    _chinese(page)
    page.get_by_role("heading", name=re.compile("回顾")).wait_for()
    _axe(page, "exam review (Chinese)")
    _shot(page, "exam-review-zh")
    _english(page)

    # Second attempt: one answer saved, then the time runs out.
    page.goto("/dashboard/")
    page.get_by_role("button", name=f"Start {EXAM_TITLE}").click()
    page.get_by_test_id("question-1").wait_for()
    _chinese(page)
    _axe(page, "exam question (Chinese)")
    _shot(page, "exam-question-zh")
    _english(page)
    _answer_by_keyboard(page)
    page.get_by_test_id("question-2").wait_for()
    orm(
        lambda: Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS).update(
            deadline=timezone.now() - timedelta(seconds=1)
        )
    )
    page.get_by_test_id("nav-1").click()  # the server closes the attempt as the page loads
    page.get_by_test_id("attempt-summary").wait_for()
    assert "Time ran out" in page.get_by_test_id("attempt-summary").inner_text()
    assert page.get_by_test_id("answer-1").locator('[data-status="graded"]').count() == 1
    _shot(page, "exam-expired-review")


def test_e2e_answer_after_deadline_refused_and_timer_closes_attempt(browser: Any) -> None:
    """An answer sent after the deadline is refused with a clear message; at the deadline the page's
    timer reloads it and the server shows the attempt closed."""

    def quick_exam() -> None:
        from questions import services
        from questions.models import Course, Quiz

        services.quiz_create(
            course=Course.objects.get(join_code="DEMO-TCP1"),
            title="Quick check",
            slots=[("next_state", "easy"), ("seq_ack", "easy")],
            mode=Quiz.Mode.EXAM,
            time_limit=timedelta(minutes=5),
        )

    page = _new_page(browser)
    orm(quick_exam)
    _sign_in(page)
    page.get_by_role("button", name="Start Quick check").click()
    page.get_by_test_id("question-1").wait_for()
    page.get_by_role("radio").first.check()
    page.get_by_test_id("saved").wait_for()
    orm(
        lambda: Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS).update(
            deadline=timezone.now() - timedelta(seconds=1)
        )
    )
    page.get_by_role("radio").nth(1).check()  # autosave after the deadline
    refused = page.get_by_test_id("save-error")
    refused.wait_for()
    assert "Time is up" in refused.inner_text()
    _shot(page, "exam-answer-after-deadline")

    page.goto("/dashboard/")
    page.get_by_role("button", name="Start Quick check").click()
    page.get_by_test_id("question-1").wait_for()
    orm(
        lambda: Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS).update(
            deadline=timezone.now() + timedelta(seconds=3)
        )
    )
    page.reload()
    assert page.get_by_test_id("timer").inner_text().strip().endswith(("0:03", "0:02", "0:01"))
    page.get_by_test_id("attempt-summary").wait_for(timeout=15_000)
    assert "Time ran out" in page.get_by_test_id("attempt-summary").inner_text()


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_e2e_every_family_with_the_keyboard(browser: Any, lang: str) -> None:
    """One variant of every family renders on the practice page (diagrams legible, inputs labelled),
    is answered with the keyboard only and graded; screenshots of each, in both languages."""
    page = _new_page(browser)
    _sign_in(page)
    if lang == "zh-hans":
        _chinese(page)
    for name in families():
        page.goto(f"/practice/?family={name}&seed=3")
        page.get_by_test_id("practice-card").wait_for()
        _axe(page, f"{name} ({lang})")
        _answer_by_keyboard(page)
        page.get_by_test_id("answer-1").locator('[data-status="graded"]').wait_for()
        _axe(page, f"{name} answered ({lang})")
        _shot(page, f"family-{lang}-{name}")


def test_e2e_pages_at_phone_width(browser: Any) -> None:
    """At 375 px the dashboard, a ladder question and the quiz page fit the screen (no sideways
    scrolling of the page; wide tables scroll inside their own region)."""
    page = _new_page(browser, width=375)
    _sign_in(page)
    for url, name in (
        ("/dashboard/", "phone-dashboard"),
        ("/practice/?family=ladder&seed=4", "phone-ladder"),
    ):
        page.goto(url)
        page.wait_for_load_state()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, name
        _axe(page, name)
        _shot(page, name)
    page.goto("/dashboard/")
    page.get_by_role("button", name=f"Start {EXAM_TITLE}").click()
    page.get_by_test_id("question-1").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(page, "phone-exam-question")


def test_e2e_student_pages_have_no_serious_violations_in_both_languages(page: Any) -> None:
    """axe-core finds no serious or critical violation on the home, dashboard, courses, quiz and
    practice pages, in English and in Chinese."""
    _sign_in(page)
    quiz_url = page.get_by_role("link", name=EXAM_TITLE).first.get_attribute("href")
    for lang in ("en", "zh-hans"):
        if lang == "zh-hans":
            _chinese(page)
        for name, url in {
            "home": "/",
            "dashboard": "/dashboard/",
            "courses": "/courses/",
            "quiz": quiz_url,
            "practice": "/practice/",
        }.items():
            page.goto(url)
            page.wait_for_load_state()
            _axe(page, f"{name} ({lang})")
    _shot(page, "quiz-detail-zh")


def test_e2e_language_switch_to_chinese(page: Any) -> None:
    """The language switch shows the pages in Chinese."""
    page.goto("/")
    page.get_by_test_id("lang-zh-hans").click()
    page.get_by_role("heading", name="掌握 TCP 如何建立和释放连接").wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
