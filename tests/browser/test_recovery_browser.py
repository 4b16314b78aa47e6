"""Recovery in a real Chromium: a server restart, a lost answer to a send, a send refused for good.

Sends that get no answer wait and go again by themselves (test_resend_browser.py has more);
only a refusal asks the person what to do.

The restart tests run Hubbub as `make serve` does (gunicorn, one gevent worker) in a child
process, stop it (SIGKILL of the master and its worker, or SIGTERM), start it again on the same
port and database, and check that both people's pages come back with every message exactly
once, in order. The other tests use the in-process live server.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Route, WebSocketRoute, expect

from tests.browser.conftest import DESKTOP, Tab, log_in_through_the_form
from tests.support import PASSWORD
from tests.support.processes import (
    API,
    START_GUARD,
    STOP_GRACE,
    Account,
    Process,
    Processes,
    free_port,
    open_direct,
    register,
    request,
    send,
    serve_args,
    wait_until,
)

pytestmark = pytest.mark.browser

# Hang guards only (milliseconds, for Playwright): nothing here measures how fast anything is.
# The stream retries after 0.5, 1, 2, then every 4 seconds; a reconnect is well inside this.
RECONNECT_GUARD = 20_000
DELIVERY_GUARD = 20_000

LOST = "Connection lost. Reconnecting…"
BACK = "Connected again."
STREAM_URL = re.compile(r"/api/v1/stream(\?|$)")
SEND_URL = "**/api/v1/conversations/*/messages"

# Records every text the connection banner shows, from before the page's scripts run, so a
# notice that comes and goes (the "Connected again." one lasts 3 seconds) is never missed.
BANNER_LOG = """
window.hubbubBanner = [];
document.addEventListener("readystatechange", () => {
  const banner = document.getElementById("connection-banner");
  if (!banner || banner.dataset.logged) return;
  banner.dataset.logged = "yes";
  new MutationObserver(() => window.hubbubBanner.push(banner.textContent))
    .observe(banner, { childList: true, characterData: true, subtree: true });
});
"""


# ---------------------------------------------------------------------------------------------
# Helpers


def log_in(open_tab: Callable[..., Tab], base: str, username: str) -> Tab:
    """A browser context of its own, logged in through the form; the banner is recorded."""
    tab = open_tab(username, viewport=DESKTOP)
    page = tab.page
    page.add_init_script(BANNER_LOG)
    log_in_through_the_form(page, base, username)
    return tab


def account(base: str, username: str) -> Account:
    """A token for a user who already exists, as a script would take one."""
    login = {"login": username, "password": PASSWORD}
    status, answer = request(base, "POST", f"{API}/tokens", login)
    assert status == 201, answer
    token = answer["token"]
    status, me = request(base, "GET", f"{API}/me", token=token)
    assert status == 200, me
    return Account(id=me["user"]["id"], username=username, token=token)


def open_chat(tab: Tab, base: str, conversation_id: int, other: str) -> None:
    tab.page.goto(f"{base}/c/{conversation_id}")
    # The history loads once the stream says it is ready.
    expect(tab.page.locator("#conversation-title")).to_have_text(other)


def composer(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Message", exact=True)


def say(page: Page, text: str) -> None:
    composer(page).fill(text)
    composer(page).press("Enter")


def bodies(page: Page) -> Locator:
    return page.locator("#message-list li.message .body")


def pending(page: Page) -> Locator:
    return page.locator("#message-list li.message.pending")


def shows_exactly(page: Page, expected: list[str], timeout: float = DELIVERY_GUARD) -> None:
    """Every message once, in order, none of them still waiting for the server."""
    expect(bodies(page)).to_have_text(expected, timeout=timeout)
    expect(pending(page)).to_have_count(0)


def history(base: str, who: Account, conversation_id: int) -> list[str]:
    """The conversation's bodies on the server, oldest first."""
    path = f"{API}/conversations/{conversation_id}/messages?limit=100"
    status, answer = request(base, "GET", path, token=who.token)
    assert status == 200, answer
    assert answer["has_more"] is False
    return [message["body"] for message in reversed(answer["messages"])]


def banner_log(page: Page) -> list[str]:
    """What the banner said since the log was last cleared, repeats of one text folded."""
    seen: list[str] = page.evaluate("window.hubbubBanner")
    folded: list[str] = []
    for text in seen:
        if not folded or folded[-1] != text:
            folded.append(text)
    return folded


def assert_recovered_banner(page: Page) -> None:
    """The banner said the connection was lost, then that it was back, then went quiet."""
    banner = page.locator("#connection-banner")
    expect(banner).to_be_empty(timeout=RECONNECT_GUARD)
    log = banner_log(page)
    # While reconnecting the page may say "lost" many times; after that, only "back" and quiet.
    assert log[:1] == [LOST] and log[-2:] == [BACK, ""], log
    assert set(log) == {LOST, BACK, ""} and log.count(BACK) == 1, log


def assert_only_expected_complaints(tab: Tab, base: str, expected: list[re.Pattern[str]]) -> None:
    """Like Tab.assert_clean, but the failures this test caused on purpose are allowed."""
    origin = base.removeprefix("http://")
    unexpected = [
        problem
        for problem in tab.report()
        if not (origin in problem and any(pattern.search(problem) for pattern in expected))
    ]
    assert unexpected == [], "the browser reported problems:\n" + "\n".join(unexpected)


# Chromium's console lines for the stream's WebSocket failing, and for requests cut off by a
# server stopping or made while it was down.
STREAM_FAILED = re.compile(
    r"^console error: WebSocket connection to 'ws://[^']+/api/v1/stream(\?after=\d+)?' failed: "
)
REFUSED = [
    re.compile(
        r"^console error: Failed to load resource: net::ERR_(CONNECTION_RESET|CONNECTION_REFUSED"
        r"|CONNECTION_CLOSED|EMPTY_RESPONSE|CONTENT_LENGTH_MISMATCH) \("
    ),
    STREAM_FAILED,
]


class StreamGate:
    """Passes a page's stream WebSocket through to the server, or, while held, closes each new
    attempt at once, so the page keeps reconnecting (with its backoff) until released."""

    def __init__(self, page: Page) -> None:
        self.held = False
        self.urls: list[str] = []
        self.connected: list[str] = []
        self.live: list[tuple[WebSocketRoute, WebSocketRoute]] = []
        page.route_web_socket(STREAM_URL, self.handle)

    def handle(self, ws: WebSocketRoute) -> None:
        self.urls.append(ws.url)
        if self.held:
            ws.close()
            return
        self.connected.append(ws.url)
        self.live.append((ws, ws.connect_to_server()))

    def hold(self) -> None:
        """Refuse new connections; the current one stays until the server drops it."""
        self.held = True

    def cut(self) -> None:
        """Refuse new connections and drop the current one, as a network failure would."""
        self.held = True
        for page_side, server_side in self.live:
            page_side.close()
            server_side.close()
        self.live.clear()

    def release(self) -> None:
        self.held = False


# ---------------------------------------------------------------------------------------------
# A server process that can be stopped and started again on the same port


def children(pid: int) -> list[int]:
    """The ids of the processes whose parent is pid (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (command) state ppid ...": the command may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def port_closed(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(2.0)
        try:
            probe.connect(("127.0.0.1", port))
        except OSError:
            return True
        return False


class Server:
    """Hubbub under gunicorn with one gevent worker, always on one port and one database."""

    def __init__(self, group: Processes, settings: Mapping[str, str]) -> None:
        self.group = group
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # The child sees only the HUBBUB_* variables given here, none of the test process's.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HUBBUB_")}
        self.env.update(settings)
        self.process: Process | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        process = self.group.spawn(f"hubbub-{self.starts}", serve_args(self.port), self.env)
        self.process = process

        def answers() -> bool:
            assert process.running, process.tail()
            try:
                status, _ = request(self.base, "GET", f"{API}/openapi.json", guard=2.0)
            except OSError:
                return False
            return status == 200

        wait_until(f"{process.name} answers", answers, START_GUARD, self.group.tails)

    def stop(self, how: str) -> None:
        """kill: SIGKILL to the master and its worker, as in a crash; term: a clean stop."""
        process = self.process
        assert process is not None and process.running, self.group.tails()
        if how == "kill":
            workers = children(process.pid)
            assert workers, f"gunicorn {process.pid} has no worker"
            process.kill()  # first, so that it starts no new worker
            for pid in workers:  # orphans now; only the ones this server started
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            for pid in workers:
                wait_until(
                    f"worker {pid} is gone", lambda pid=pid: gone(pid), STOP_GRACE, lambda: ""
                )
        else:
            process.stop()
        wait_until(
            f"nothing listens on port {self.port}",
            lambda: port_closed(self.port),
            START_GUARD,
            self.group.tails,
        )


# ---------------------------------------------------------------------------------------------
# 1. The server goes away mid-conversation and comes back


@pytest.mark.parametrize("how", ["kill", "term"])
def test_a_server_restart_mid_conversation_loses_and_doubles_nothing(
    database_url: str,
    processes: Processes,
    tmp_path: Path,
    open_tab: Callable[..., Tab],
    how: str,
) -> None:
    server = Server(
        processes,
        {
            # A migrated database that outlives the server process: a file under tmp_path on
            # SQLite, this test's own database on PostgreSQL.
            "HUBBUB_DATABASE_URL": database_url,
            "HUBBUB_SECRET_KEY": "recovery-test-secret",  # so sessions outlive the restart
            "HUBBUB_RATELIMIT_ENABLED": "0",
            "HUBBUB_INSTANCE_PATH": str(tmp_path / "instance"),
        },
    )
    server.start()
    base = server.base
    ana_account = register(base, "ana")
    bob_account = register(base, "bob")
    conversation_id = open_direct(base, ana_account, bob_account)

    ana = log_in(open_tab, base, "ana")
    bob = log_in(open_tab, base, "bob")
    bob_stream = StreamGate(bob.page)
    open_chat(ana, base, conversation_id, "bob")
    open_chat(bob, base, conversation_id, "ana")

    conversation = [
        (ana, "Bob, are you there?"),
        (bob, "Yes, reading you."),
        (ana, "The server restarts in a moment."),
        (bob, "Ready when it is."),
    ]
    expected: list[str] = []
    for tab, text in conversation:
        say(tab.page, text)
        expected.append(text)
        # Each one arrives on the other page through its stream: both streams are live.
        shows_exactly(ana.page, expected)
        shows_exactly(bob.page, expected)

    for tab in (ana, bob):
        # Gone after a reload: proves the pages recover in place, not by reloading.
        tab.page.evaluate("window.hubbubSamePage = true; window.hubbubBanner = []")
    # Bob's page may not reconnect until messages were sent while it was away.
    bob_stream.hold()

    server.stop(how)
    for tab in (ana, bob):
        expect(tab.page.locator("#connection-banner")).to_have_text(LOST, timeout=RECONNECT_GUARD)
    down = "Sent while the server was down."
    say(ana.page, down)
    waiting = pending(ana.page)
    expect(waiting).to_have_count(1)
    expect(waiting).to_have_class(re.compile(r"\bwaiting\b"))
    expect(waiting.locator(".body")).to_have_text(down)
    # No answer is no refusal: it waits to go by itself, and asks for no click.
    expect(waiting.locator(".status")).to_have_text("Waiting for connection…")
    expect(waiting.get_by_role("button")).to_have_count(0)
    expect(composer(ana.page)).to_have_value("")

    server.start()
    # The message sent while it was down goes by itself once the server answers, once.
    expected.append(down)
    shows_exactly(ana.page, expected, timeout=RECONNECT_GUARD)
    assert history(base, ana_account, conversation_id) == expected

    # While bob's page is still reconnecting: one message from ana's page, one from a script.
    say(ana.page, "Back up, it seems.")
    expected.append("Back up, it seems.")
    shows_exactly(ana.page, expected)
    expected.append("Bob's script checks in.")
    send(base, bob_account, conversation_id, "Bob's script checks in.")
    shows_exactly(ana.page, expected)
    assert history(base, bob_account, conversation_id) == expected

    # Bob's page saw none of it yet; then it reconnects and catches up from where it was.
    expect(bob.page.locator("#connection-banner")).to_have_text(LOST)
    assert len(bob_stream.urls) > len(bob_stream.connected), "bob's page kept trying"
    bob_stream.release()
    shows_exactly(bob.page, expected, timeout=RECONNECT_GUARD)
    resumed = bob_stream.connected[-1]
    assert re.search(r"\?after=\d+$", resumed), f"bob's page did not resume: {resumed}"

    # A fence: bob answers, and ana's page gets it live, so her stream is back too.
    say(bob.page, "Got everything, once.")
    expected.append("Got everything, once.")
    shows_exactly(bob.page, expected)
    shows_exactly(ana.page, expected)
    assert history(base, bob_account, conversation_id) == expected

    for tab in (ana, bob):
        assert tab.page.evaluate("window.hubbubSamePage === true"), f"{tab.label}'s page reloaded"
        assert_recovered_banner(tab.page)
        assert_only_expected_complaints(tab, base, REFUSED)


# ---------------------------------------------------------------------------------------------
# 2. The send reached the server but its answer never reached the page


class LoseFirstAnswer:
    """Lets the first message POST reach the server, then fails it for the page."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, Any]] = []
        self.calls = 0

    def __call__(self, route: Route) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        self.calls += 1
        if self.calls > 1:
            route.continue_()
            return
        response = route.fetch()
        self.answers.append((response.status, response.json()))
        route.abort("connectionreset")


RESET = [
    re.compile(
        r"^console error: Failed to load resource: net::ERR_CONNECTION_RESET \(.*/messages\)$"
    ),
    STREAM_FAILED,  # cut on purpose
]


@pytest.mark.parametrize("senders_stream", ["live", "down"])
def test_retrying_a_send_whose_answer_was_lost_stores_it_once(
    live_server: str, sign_in: Callable[..., Tab], senders_stream: str
) -> None:
    ana = sign_in("ana")
    ana.page.add_init_script(BANNER_LOG)
    bob = sign_in("bob")
    ana_account = account(live_server, "ana")
    bob_account = account(live_server, "bob")
    conversation_id = open_direct(live_server, ana_account, bob_account)
    ana_stream = StreamGate(ana.page)
    open_chat(ana, live_server, conversation_id, "bob")
    open_chat(bob, live_server, conversation_id, "ana")
    expected = ["Hello Ana."]
    say(bob.page, expected[0])
    shows_exactly(ana.page, expected)

    lose = LoseFirstAnswer()
    ana.page.route(SEND_URL, lose)
    text = "Did this one arrive?"
    if senders_stream == "down":
        # Nothing but the answer could tell ana's page that the message is stored.
        ana.page.evaluate("window.hubbubBanner = []")
        ana_stream.cut()
        expect(ana.page.locator("#connection-banner")).to_have_text(LOST)
    say(ana.page, text)
    expected.append(text)

    # The server stored it, and bob sees it, once, whatever ana's page thinks.
    shows_exactly(bob.page, expected)
    assert history(live_server, bob_account, conversation_id) == expected

    if senders_stream == "down":
        # No click: after a short backoff the page sends it again with the same client id, and
        # the server answers with the stored message.
        shows_exactly(ana.page, expected)
        assert lose.calls == 2
        ana_stream.release()
        # The replay after the reconnect brings the message again; the page keeps one copy.
        expect(ana.page.locator("#connection-banner")).to_be_empty(timeout=RECONNECT_GUARD)
        assert_recovered_banner(ana.page)
        assert re.search(r"\?after=\d+$", ana_stream.connected[-1]), ana_stream.connected
    else:
        # The stream tells ana's page the message is stored: no "Not sent.", or not for long.
        shows_exactly(ana.page, expected)
        assert lose.calls == 1
    assert [status for status, _ in lose.answers] == [201]
    assert lose.answers[0][1]["message"]["body"] == text

    # A fence: a later message arrives live on both pages after anything replayed.
    say(bob.page, "Yes, once.")
    expected.append("Yes, once.")
    shows_exactly(ana.page, expected)
    shows_exactly(bob.page, expected)
    assert history(live_server, ana_account, conversation_id) == expected
    assert_only_expected_complaints(ana, live_server, RESET)
    bob.assert_clean()


# ---------------------------------------------------------------------------------------------
# 3. The server refuses a send for good


def test_a_send_the_server_refuses_keeps_the_text_and_says_why(
    live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., Any]
) -> None:
    ana = sign_in("ana")
    make_user("bob")
    ana_account = account(live_server, "ana")
    bob_account = account(live_server, "bob")
    conversation_id = open_direct(live_server, ana_account, bob_account)
    open_chat(ana, live_server, conversation_id, "bob")
    page = ana.page
    box = composer(page)
    alert = page.locator("#composer").get_by_role("alert")

    # Pasted past the textarea's maxlength of 4,000, as a script or an old browser might.
    too_long = "x" * 4001
    box.evaluate("(area, text) => { area.value = text; }", too_long)
    box.press("Enter")
    expect(alert).to_have_text(
        "That message is too long. Use at most 4,000 characters; this has 4,001."
    )
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_value(too_long)
    expect(page.locator("#message-list li.message")).to_have_count(0)
    assert history(live_server, ana_account, conversation_id) == []

    # Shortened to the limit, it goes, and the error goes away.
    box.evaluate("area => { area.value = area.value.slice(1); }")
    box.press("Enter")
    shows_exactly(page, [too_long[1:]])
    expect(alert).to_have_count(0)
    expect(box).not_to_have_attribute("aria-invalid", "true")
    expect(box).to_have_value("")
    assert history(live_server, ana_account, conversation_id) == [too_long[1:]]
    assert_only_expected_complaints(
        ana,
        live_server,
        [re.compile(r"^console error: Failed to load resource: .* status of 422 .*/messages\)$")],
    )
