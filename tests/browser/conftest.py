"""Browser fixtures: a live Hubbub server per test and one headless Chromium per session."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Error,
    Page,
    Response,
    expect,
    sync_playwright,
)

from tests.support import PASSWORD, unavailable
from tests.support.streams import wait_for_request_threads

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Reports every Content-Security-Policy violation to Python, on every page the tab loads.
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.hubbubCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${event.documentURI}`
  );
});
"""


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        unavailable(f"Chromium at {CHROMIUM}", "install it with `apt-get install -y chromium`")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                headless=True, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
        except Error as error:
            unavailable(f"Chromium at {CHROMIUM}", error.message.splitlines()[0])
        yield chromium
        chromium.close()


@dataclass
class Tab:
    """A page in its own browser context, with every console error and CSP violation it saw."""

    page: Page
    label: str
    problems: list[str] = field(default_factory=list)
    # Pages the tab navigated to that answered 4xx/5xx on purpose (a form re-shown with 422).
    error_documents: set[str] = field(default_factory=set)
    console_errors: list[tuple[str, str]] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append((message.text, message.location.get("url", "")))

    def on_response(self, response: Response) -> None:
        request = response.request
        if response.status >= 400 and request.is_navigation_request():
            self.error_documents.add(response.url)

    def report(self) -> list[str]:
        """Everything the browser complained about, except the status of a page it was shown.

        Chromium logs "Failed to load resource" for a whole page answered with an error status;
        the tests check those statuses themselves. Any other resource failing is reported.
        """
        found = list(self.problems)
        for text, url in self.console_errors:
            if text.startswith("Failed to load resource") and url in self.error_documents:
                continue
            found.append(f"console error: {text} ({url or 'no url'})")
        return found

    def assert_clean(self) -> None:
        found = self.report()
        assert found == [], "the browser reported problems:\n" + "\n".join(found)


@pytest.fixture
def open_tab(
    browser: Browser,
    request: pytest.FixtureRequest,
    make_app: Callable[..., Flask],
    serve: Callable[[Flask], str],
) -> Iterator[Callable[..., Tab]]:
    """Open pages in fresh contexts; each one's final state is saved to test-artifacts/.

    It depends on the apps and servers so that its pages close first: a closed page's stream
    still writes "last seen" on its way out, and must find its app and database there.
    """
    tabs: list[Tab] = []

    def factory(label: str = "", **context_options: Any) -> Tab:
        context = browser.new_context(**context_options)
        page = context.new_page()
        tab = Tab(page=page, label=label)
        page.on("console", tab.on_console)
        page.on("response", tab.on_response)
        page.on("pageerror", lambda error: tab.problems.append(f"uncaught: {error}"))
        page.expose_function(
            "hubbubCspViolation", lambda text: tab.problems.append(f"CSP violation: {text}")
        )
        page.add_init_script(CSP_REPORTER)
        tabs.append(tab)
        return tab

    yield factory
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]+", "-", request.node.name).strip("-")
    for tab in tabs:
        suffix = f"-{tab.label}" if tab.label else ""
        try:
            # A test may end just after a navigation: closing the page while its scripts still
            # download leaves the test server a file open (and pytest reports it as an error).
            tab.page.wait_for_load_state("load")
            tab.page.screenshot(path=ARTIFACTS / f"{name}{suffix}.png", full_page=True)
        finally:
            tab.page.context.close()
    wait_for_request_threads()


DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}


def log_in_through_the_form(page: Page, base: str, username: str) -> None:
    """Log in as a person does, and wait until the dashboard and its scripts have arrived."""
    page.goto(f"{base}/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/dashboard")
    # Its scripts fully arrived: leaving mid-download leaves the test server a file open.
    page.wait_for_load_state("load")


@pytest.fixture
def sign_in(
    open_tab: Callable[..., Tab], live_server: str, make_user: Callable[..., Any]
) -> Callable[..., Tab]:
    """A new user, logged in through the form in their own browser context, on the dashboard."""

    def factory(
        username: str,
        *,
        viewport: dict[str, int] | None = None,
        color_scheme: str = "light",
        label: str | None = None,
        touch: bool = False,
    ) -> Tab:
        make_user(username)
        tab = open_tab(
            label or username,
            viewport=viewport or DESKTOP,
            color_scheme=color_scheme,
            has_touch=touch,
            is_mobile=touch,
        )
        log_in_through_the_form(tab.page, live_server, username)
        return tab

    return factory
