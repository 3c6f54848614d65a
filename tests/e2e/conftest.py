"""End-to-end journeys: the real server (`vafa run`) driven by headless Chromium.

The server runs once per test module as a subprocess on a free loopback port, against
the migrated test database of the chosen engine (`--db`); every test still starts from
empty tables, through the root `sessionmaker` fixture.

The tests use Playwright's async API on pytest-asyncio's session loop. Playwright's
sync API marks its own event loop as running on the main thread between calls
(`wait_for_future`), and then pytest-asyncio can no longer run the async fixtures
(`sessionmaker`) nor the async tests that follow in the same session.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.conftest import ARTIFACTS, WEBHOOK_SECRET
from vafa.settings import ROOT

E2E_DIR = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SCREENSHOTS = ARTIFACTS / "screenshots"
SECRET_KEY = "e2e-secret-key-for-vafa-browser-tests-only-0123456789"
CUSTOMER_PHONE = "+989123456789"
STARTUP_TIMEOUT = 30.0
CLI_TIMEOUT = 60.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this folder is an e2e test (`-m "not e2e"` skips them)."""
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Lets the page fixture save a screenshot of the moment a journey failed.
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


# --- the server ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]
    log_dir: Path

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run `python -m vafa.cli ARGS` against the server's database and settings."""
        return subprocess.run(
            [sys.executable, "-m", "vafa.server.cli", *args],
            env=self.env,
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
        )

    async def acli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """`cli` off the event loop, so the browser keeps running meanwhile."""
        return await asyncio.to_thread(self.cli, *args, stdin=stdin)

    def server_log(self) -> str:
        return _tail(self.log_dir / "server.stderr")


def _tail(path: Path, limit: int = 8000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-limit:]


def server_env(database_url: str, var_dir: Path) -> dict[str, str]:
    # Hermetic: nothing from the developer's own Vafa configuration leaks in.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VAFA_", "KAVENEGAR_")) and k not in ("DATABASE_URL", "HOST", "PORT")
    }
    env.update(
        DATABASE_URL=database_url,
        VAFA_SECRET_KEY=SECRET_KEY,
        VAFA_SMS_WEBHOOK_SECRET=WEBHOOK_SECRET,
        VAFA_COOKIE_SECURE="false",
        VAFA_VAR_DIR=str(var_dir),
        VAFA_WORKER_INTERVAL="0.2",
        VAFA_SMS_BACKEND="outbox",
        PYTHONUNBUFFERED="1",
    )
    return env


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def live_server(migrated: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`vafa run` (web and embedded SMS worker) on a free port; `.url` is its base URL.

    One server per test module: each test empties the tables through `sessionmaker`,
    and the server is gone before tests of other modules run, so its worker never
    delivers (changes) SMS rows those tests create in the same database.
    """
    root = tmp_path_factory.mktemp("live-server")
    var_dir = root / "var"
    var_dir.mkdir()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = server_env(migrated, var_dir)
    stdout = (root / "server.stdout").open("wb")
    stderr = (root / "server.stderr").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "vafa.server.cli", "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
    )
    server = LiveServer(url=url, env=env, log_dir=root)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(url):
            if process.poll() is not None:
                pytest.fail(
                    f"vafa run exited with code {process.returncode} before serving "
                    f"/healthz.\n--- stderr ---\n{server.server_log()}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"vafa run did not answer GET {url}/healthz with 200 within "
                    f"{STARTUP_TIMEOUT:.0f} s.\n--- stderr ---\n{server.server_log()}",
                    pytrace=False,
                )
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        stdout.close()
        stderr.close()


@pytest.fixture
def server(live_server: LiveServer, sessionmaker: Any) -> LiveServer:
    """The live server, with every table emptied for this test."""
    return live_server


async def latest_code(server: LiveServer, phone: str = CUSTOMER_PHONE, timeout: float = 5.0) -> str:
    """The newest login code sent to `phone`, read from the outbox by the real CLI."""
    deadline = time.monotonic() + timeout
    while True:
        result = await server.acli("sms", "outbox", "--json", "--to", phone)
        assert result.returncode == 0, f"vafa sms outbox failed:\n{result.stderr}"
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        if lines:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"no SMS to {phone} in the outbox after {timeout} s")
        await asyncio.sleep(0.2)
    body = json.loads(lines[0])["body"]
    match = re.search(r"[0-9]{6}", body)
    assert match, f"no six-digit code in the SMS body: {body!r}"
    return match.group(0)


# --- the browser ---------------------------------------------------------------------


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package", pytrace=False)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


# Reports every Content-Security-Policy violation to the test (a blocked stylesheet,
# script or font of our own shows up here even when the console says nothing).
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__vafaCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "(inline)"}`
    + ` on ${event.documentURI} (${event.sourceFile || ""}:${event.lineNumber || ""})`
  );
}, true);
"""


@dataclass
class BrowserProblems:
    """Everything that went wrong in the browser during one journey."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def any(self) -> bool:
        return bool(
            self.console_errors or self.page_errors or self.failed_requests or self.csp_violations
        )

    def __str__(self) -> str:
        parts = []
        for name in ("console_errors", "page_errors", "failed_requests", "csp_violations"):
            for entry in getattr(self, name):
                parts.append(f"{name}: {entry}")
        return "\n".join(parts)

    def assert_none(self) -> None:
        assert not self.any(), f"the browser reported problems:\n{self}"


@pytest.fixture
def browser_problems() -> BrowserProblems:
    return BrowserProblems()


@pytest.fixture
async def context(
    browser: Browser, browser_problems: BrowserProblems
) -> AsyncIterator[BrowserContext]:
    """A phone-sized Persian browser: 390x844 CSS pixels at 2x, touch, fa-IR."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="fa-IR",
    )
    problems = browser_problems

    def on_console(message: Any) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        problems.console_errors.append(f"{message.text} ({url})")

    def on_request_failed(request: Any) -> None:
        # A request the browser itself cancelled because the page moved on is no fault.
        if request.failure == "net::ERR_ABORTED":
            return
        problems.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def on_web_error(error: Any) -> None:
        problems.page_errors.append(str(error.error))

    def on_csp(source: Any, description: str) -> None:
        problems.csp_violations.append(description)

    context.on("console", on_console)
    context.on("requestfailed", on_request_failed)
    context.on("weberror", on_web_error)
    await context.expose_binding("__vafaCspViolation", on_csp)
    await context.add_init_script(_CSP_LISTENER)
    try:
        yield context
    finally:
        await context.close()


@pytest.fixture
def screenshot_dir(request: pytest.FixtureRequest) -> Path:
    folder = SCREENSHOTS / request.config.getoption("--db")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def page(
    context: BrowserContext, request: pytest.FixtureRequest, screenshot_dir: Path
) -> AsyncIterator[Page]:
    page = await context.new_page()
    page.set_default_timeout(10_000)
    yield page
    if request.node.stash.get(_FAILED, False) and not page.is_closed():
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
        try:
            await page.screenshot(path=screenshot_dir / f"FAILED-{name}.png", full_page=True)
        except Exception:  # the failure itself matters more than its picture
            pass


@pytest.fixture
def screenshot(page: Page, screenshot_dir: Path) -> Callable[[str], Awaitable[Path]]:
    """`await screenshot("name")` saves test-artifacts/screenshots/<db>/<name>.png."""

    async def take(name: str) -> Path:
        await page.evaluate("document.fonts.ready.then(() => true)")
        path = screenshot_dir / f"{name}.png"
        await page.screenshot(path=path, full_page=True)
        return path

    return take


async def assert_assets_loaded(page: Page) -> None:
    """Our own stylesheets, font and htmx really arrived (nothing blocked by the CSP)."""
    state = await page.evaluate(
        """async () => {
          await document.fonts.ready;
          const header = document.querySelector("header");
          const sw = document.querySelector("form.language-switch");
          return {
            htmx: typeof window.htmx === "object" && window.htmx !== null,
            header: header ? getComputedStyle(header).backgroundColor : null,
            switchDisplay: sw ? getComputedStyle(sw).display : null,
            fonts: [...document.fonts].filter(f => f.status === "loaded").map(f => f.family),
          };
        }"""
    )
    assert state["htmx"], "htmx did not load"
    assert state["header"] == "rgb(15, 118, 110)", f"vafa.css not applied: {state}"
    assert state["switchDisplay"] == "flex", f"Bootstrap not applied: {state}"
    assert any("Vazirmatn" in family for family in state["fonts"]), f"no Vazirmatn: {state}"
