"""Logging out in one tab sends the user's other open chat tab to the login page by itself.

Two tabs of one browser share the session cookie. When one of them logs out, the server closes
the other tab's stream with 1008 and the page reloads onto the login page, without anyone
touching it and without trying to reconnect. Someone else's chat page, in another browser,
carries on. Both on the in-process development server (werkzeug, as `make run`) and under
gunicorn with a gevent worker (as `make serve`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, WebSocket, expect

from tests.browser.conftest import DESKTOP, Tab, log_in_through_the_form
from tests.support import PASSWORD
from tests.support.processes import (
    Processes,
    open_direct,
    register,
    send,
    start_hubbub,
)

pytestmark = pytest.mark.browser

# Hang guards only (milliseconds, as Playwright counts): nothing here asserts how fast.
GUARD_MS = 15_000
POLICY_VIOLATION = 1008

# Tells Python the code of every WebSocket close the page sees (console.debug, one line each).
CLOSE_CODES = """
(() => {
  const Real = window.WebSocket;
  function Recorded(...args) {
    const socket = new Real(...args);
    socket.addEventListener("close", (event) => console.debug(`hubbub-close ${event.code}`));
    return socket;
  }
  Recorded.prototype = Real.prototype;
  window.WebSocket = Recorded;
})();
"""


@pytest.fixture(params=["werkzeug", "gunicorn"])
def server(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> str:
    """The base URL of a Hubbub on this test's database: in-process, or a gunicorn process."""
    if request.param == "werkzeug":
        base: str = request.getfixturevalue("live_server")
        return base
    processes: Processes = request.getfixturevalue("processes")
    settings = {
        "HUBBUB_DATABASE_URL": database_url,
        "HUBBUB_SECRET_KEY": "session-end-test-secret",
        "HUBBUB_RATELIMIT_ENABLED": "0",
        "HUBBUB_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    return start_hubbub(processes, "hubbub", settings)


class Watched:
    """A page's stream WebSockets and the close codes it saw, from now on."""

    def __init__(self, page: Page) -> None:
        self.streams: list[WebSocket] = []
        self.close_codes: list[int] = []
        page.add_init_script(CLOSE_CODES)
        page.on("websocket", self._opened)
        page.on("console", self._console)

    def _opened(self, socket: WebSocket) -> None:
        if "/api/v1/stream" in socket.url:
            self.streams.append(socket)

    def _console(self, message: ConsoleMessage) -> None:
        if message.text.startswith("hubbub-close "):
            self.close_codes.append(int(message.text.split()[1]))


def log_in(open_tab: Callable[..., Tab], base: str, username: str, label: str) -> Tab:
    """A browser context of its own, logged in through the form, on the dashboard."""
    tab = open_tab(label, viewport=DESKTOP)
    log_in_through_the_form(tab.page, base, username)
    return tab


def bodies(page: Page) -> Locator:
    return page.locator("#message-list li.message .body")


def open_chat(page: Page, base: str, conversation_id: int, other: str, shown: list[str]) -> None:
    page.goto(f"{base}/c/{conversation_id}")
    expect(page.locator("#conversation-title")).to_have_text(other)
    # The history loads once the stream says it is ready: from here on the stream is live.
    expect(bodies(page)).to_have_text(shown)


def test_logging_out_in_one_tab_sends_the_other_chat_tab_to_the_login_page(
    server: str, open_tab: Callable[..., Tab]
) -> None:
    base = server
    ana, ben = register(base, "ana"), register(base, "ben")
    conversation_id = open_direct(base, ana, ben)
    send(base, ben, conversation_id, "Are you there?")

    chat_tab = log_in(open_tab, base, "ana", "ana-chat")
    ben_tab = log_in(open_tab, base, "ben", "ben")
    chat, bens_page = chat_tab.page, ben_tab.page
    chat_seen, ben_seen = Watched(chat), Watched(bens_page)
    open_chat(chat, base, conversation_id, "ben", ["Are you there?"])
    open_chat(bens_page, base, conversation_id, "ana", ["Are you there?"])
    # (The dashboard each page came from may have opened a stream of its own before.)
    chat_live, ben_live = len(chat_seen.streams), len(ben_seen.streams)
    chat_codes = len(chat_seen.close_codes)

    # A second tab of the same browser: it shares the cookie, and logs out.
    other_tab = chat.context.new_page()
    other_tab.goto(f"{base}/dashboard")
    expect(other_tab.get_by_role("heading", name="Hello, ana")).to_be_visible()
    other_tab.get_by_role("button", name="Log out").click()
    expect(other_tab).to_have_url(f"{base}/")
    logged_out_at = time.monotonic()

    # The chat tab, untouched, goes to the login page, which would bring it back here after.
    expect(chat).to_have_url(
        re.compile(rf"/login\?next=%2Fc%2F{conversation_id}$"), timeout=GUARD_MS
    )
    print(f"\nlogout-to-login-page [other tab]: {time.monotonic() - logged_out_at:.2f} s")
    expect(chat.get_by_role("button", name="Log in")).to_be_visible()
    retries = len(chat_seen.streams) - chat_live
    codes_until_login = chat_seen.close_codes[chat_codes:]

    # ben's page, in another browser, still shows what is said after ana's tab went.
    send(base, ben, conversation_id, "Anyone?")
    send(base, ana, conversation_id, "From ana's script: logging out left its token alone")
    after = ["Are you there?", "Anyone?", "From ana's script: logging out left its token alone"]
    expect(bodies(bens_page)).to_have_text(after, timeout=GUARD_MS)
    expect(bens_page.locator("#connection-banner")).to_have_text("")
    expect(bens_page).to_have_url(f"{base}/c/{conversation_id}")
    assert len(ben_seen.streams) == ben_live
    assert not ben_seen.streams[-1].is_closed()

    # Logging in again on that login page goes back to the conversation, live.
    chat.get_by_label("Username or email").fill("ana")
    chat.get_by_label("Password", exact=True).fill(PASSWORD)
    chat.get_by_role("button", name="Log in").click()
    expect(chat).to_have_url(f"{base}/c/{conversation_id}")
    expect(bodies(chat)).to_have_text(after)
    send(base, ben, conversation_id, "Welcome back")
    expect(bodies(chat).last).to_have_text("Welcome back", timeout=GUARD_MS)
    other_tab.close()

    # It went there because the server closed its stream with 1008, taken as final: the page
    # never tried to reconnect, and the browser reported nothing wrong.
    assert codes_until_login[:1] == [POLICY_VIOLATION], (
        f"close codes the chat tab saw: {codes_until_login}"
    )
    assert retries == 0, f"the chat tab opened {retries} more stream(s) before the login page"
    chat_tab.assert_clean()
    ben_tab.assert_clean()
