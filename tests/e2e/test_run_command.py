"""The README's run command, started for real, serves a product the demo student can use (marker ``e2e``).

Each test starts ``bash scripts/run.sh`` (what ``make run`` calls) in its own process group, on a free
port and a throw-away SQLite file, waits for ``/healthz``, drives Chromium through the demo quiz and
then presses Ctrl-C (SIGINT to the group), checking that every process it started has stopped.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
START_TIMEOUT_S = 240


@dataclass
class RunningProduct:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _redis_url_for_run() -> str:
    """The suite's Redis server, on a database number of its own (the run's worker drains it)."""
    base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    return base.rsplit("/", 1)[0] + "/13"


def _wait_healthy(product: RunningProduct) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if product.process.poll() is not None:
            pytest.fail(f"the run command exited with {product.process.returncode}:\n{product.log_text()}")
        try:
            with urllib.request.urlopen(product.url + "/healthz", timeout=2) as response:
                body: dict[str, Any] = json.load(response)
                return body
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"/healthz did not answer within {START_TIMEOUT_S} s:\n{product.log_text()}")


def _stop(product: RunningProduct) -> None:
    """Ctrl-C: SIGINT to the whole process group; everything must be gone within 30 s."""
    pgid = product.process.pid
    os.killpg(pgid, signal.SIGINT)
    try:
        product.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        pytest.fail(f"the run command did not stop on Ctrl-C:\n{product.log_text()}")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(pgid, signal.SIGKILL)
    pytest.fail("processes started by the run command were still alive after Ctrl-C")


def _start(tmp_path: Path, **env: str) -> RunningProduct:
    port = _free_port()
    log = tmp_path / "run.log"
    full_env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    for name in ("DJANGO_SETTINGS_MODULE", "TCPQUIZ_EAGER_TASKS"):
        full_env.pop(name, None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "run.sh")],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return RunningProduct(url=f"http://127.0.0.1:{port}", process=process, log=log)


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM} (the test command installs it)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


def _complete_demo_quiz(browser: Any, url: str, screenshot: str) -> None:
    """Sign in as the demo student, answer every question of the demo quiz, see every result."""
    context = browser.new_context(base_url=url, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill("student")
    page.get_by_label("Password").fill("student-demo-1")
    page.get_by_test_id("login-submit").click()
    page.get_by_role("heading", name="My courses").wait_for()
    page.goto("/courses/")
    page.get_by_role("link", name="Next state: the TCP state machine").click()
    page.get_by_test_id("start-attempt").click()
    # One question per page: answer it, see its result, go on with the navigator.
    count = page.locator(".qnav-item").count()
    assert count >= 1
    for position in range(1, count + 1):
        page.get_by_test_id(f"nav-{position}").click()
        question = page.get_by_test_id(f"question-{position}")
        question.get_by_role("radio").first.check()
        question.get_by_role("button", name="Check answer").click()
        page.get_by_test_id(f"answer-{position}").locator('[data-status="graded"]').wait_for()
        assert "RFC 9293" in page.get_by_test_id(f"explanation-{position}").inner_text()
    assert page.get_by_test_id("progress").get_attribute("data-answered") == str(count)
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    context.close()


def test_run_command_with_redis_serves_and_grades_in_a_worker(tmp_path: Path, browser: Any) -> None:
    """With a Redis answering, the run command starts gunicorn, a Celery worker and beat; the demo
    student completes the demo quiz, graded by the worker; Ctrl-C stops all of them."""
    product = _start(tmp_path, REDIS_URL=_redis_url_for_run())
    try:
        health = _wait_healthy(product)
        assert health["database"]["ok"] is True
        assert health["broker"]["ok"] is True
        _complete_demo_quiz(browser, product.url, "run-command-worker.png")
        log = product.log_text()
        assert "starting the web server, a Celery worker and Celery beat" in log
        assert "student-demo-1" in log  # the demo credentials are printed
        assert "questions.tasks.grade_answer" in log or "grade_answer" in log
    finally:
        _stop(product)


def test_run_command_without_redis_runs_embedded(tmp_path: Path, browser: Any) -> None:
    """With no Redis, the run command says it runs embedded (grading in-process) and still grades."""
    product = _start(tmp_path, TCPQUIZ_EMBEDDED="1")
    try:
        _wait_healthy(product)
        assert "embedded mode" in product.log_text()
        _complete_demo_quiz(browser, product.url, "run-command-embedded.png")
    finally:
        _stop(product)
