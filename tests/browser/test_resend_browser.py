"""Resending in a real Chromium: sends that could not go wait and go by themselves, once, in order.

The browser's own offline signal comes from Playwright's context.set_offline; failed sends from
page.route. What the server stored is read from its database: each message once, in the order
it was written, under the one client_id every attempt carried.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, Request, Route, expect
from sqlalchemy import select

from hubbub.models import Message, db
from tests.browser.conftest import PHONE, Tab
from tests.browser.test_recovery_browser import (
    BACK,
    BANNER_LOG,
    SEND_URL,
    account,
    assert_only_expected_complaints,
    banner_log,
    bodies,
    open_chat,
    pending,
    say,
    shows_exactly,
)
from tests.support.processes import open_direct

pytestmark = pytest.mark.browser

OFFLINE = "Offline. Waiting for the network…"
WAITING = "Waiting for connection…"
# "At once" for the banner: well before any stream timeout or retry timer would say it.
AT_ONCE = 1_000
# Back online, the sends go on the "online" event itself; the first backoff step is 1 s and the
# page makes no attempt while offline, so this is well short of any timer it could wait for.
SOON = 3_000
DELIVERY_GUARD = 20_000

# Chromium's console lines for what these tests break on purpose.
OFFLINE_COMPLAINTS = [
    re.compile(r"^console error: WebSocket connection to 'ws://[^']+/api/v1/stream"),
    re.compile(r"^console error: Failed to load resource: net::ERR_INTERNET_DISCONNECTED"),
]


# ---- what the server has and what the page sent ---------------------------------------------


def stored(app: Flask, conversation_id: int) -> list[tuple[str, str | None]]:
    """The conversation's messages in the database as (body, client_id), oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(Message.body, Message.client_id)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id)
        )
        return [(body, client_id) for body, client_id in rows]


class SendLog:
    """Every message POST the page makes, as (body, client_id), whatever became of it."""

    def __init__(self, page: Page) -> None:
        self.attempts: list[tuple[str, str]] = []
        page.on("request", self.saw)

    def saw(self, request: Request) -> None:
        if request.method == "POST" and re.search(r"/conversations/\d+/messages$", request.url):
            sent = json.loads(request.post_data or "{}")
            self.attempts.append((sent["body"], sent["client_id"]))

    def client_ids(self, body: str) -> set[str]:
        return {client_id for sent, client_id in self.attempts if sent == body}


def assert_stored_once(
    app: Flask, conversation_id: int, expected: list[str], log: SendLog, mine: list[str]
) -> None:
    """Each message once, in order; each of mine under the one client_id all its attempts used."""
    rows = stored(app, conversation_id)
    assert [body for body, _ in rows] == expected
    for body, client_id in rows:
        if body in mine:
            assert log.client_ids(body) == {client_id}, (body, log.attempts)


# ---- presence dots ----------------------------------------------------------------------------


def dots(page: Page, other: str) -> list[Locator]:
    """The presence dot beside the other person in the conversation list and in the header."""
    sidebar = page.get_by_role("navigation", name="Your conversations").get_by_role(
        "link", name=re.compile(rf"^{re.escape(other)}(,|$)")
    )
    return [sidebar.locator(".dot"), page.locator("#conversation-subtitle .dot")]


def look(dot: Locator) -> dict[str, Any]:
    style: dict[str, Any] = dot.evaluate(
        """dot => {
          const style = getComputedStyle(dot);
          return { background: style.backgroundColor, opacity: Number(style.opacity) };
        }"""
    )
    return style


TRANSPARENT = "rgba(0, 0, 0, 0)"


def assert_online(dot: Locator, green: str | None = None) -> str:
    expect(dot).to_have_class(re.compile(r"\bonline\b"))
    seen = look(dot)
    assert seen["opacity"] == 1, seen
    assert seen["background"] != TRANSPARENT, seen
    if green is not None:
        assert seen["background"] == green, seen
    return str(seen["background"])


def assert_unknown(dot: Locator, green: str) -> None:
    """Greyed: neither the green of online nor the hollow ring of offline."""
    expect(dot).not_to_have_class(re.compile(r"\bonline\b"))
    seen = look(dot)
    assert seen["background"] not in (green, TRANSPARENT), seen


# ---- the page and the conversation ------------------------------------------------------------


def two_people(live_server: str, sign_in: Callable[..., Tab]) -> tuple[Tab, Tab, int, list[str]]:
    """Ana and bob in a DM, both pages open, one message between them already live."""
    ana = sign_in("ana")
    ana.page.add_init_script(BANNER_LOG)
    bob = sign_in("bob")
    conversation_id = open_direct(
        live_server, account(live_server, "ana"), account(live_server, "bob")
    )
    open_chat(ana, live_server, conversation_id, "bob")
    open_chat(bob, live_server, conversation_id, "ana")
    expected = ["Hello Ana."]
    say(bob.page, expected[0])
    shows_exactly(ana.page, expected)
    return ana, bob, conversation_id, expected


# ---------------------------------------------------------------------------------------------
# 1. The browser goes offline and comes back


def test_sends_written_offline_go_by_themselves_once_in_order_when_back_online(
    live_server: str, sign_in: Callable[..., Tab], app: Flask
) -> None:
    ana, bob, conversation_id, expected = two_people(live_server, sign_in)
    page = ana.page
    log = SendLog(page)
    banner = page.locator("#connection-banner")
    # Bob's page is open: he is online, green in the list and in the header.
    green = assert_online(dots(page, "bob")[0])
    for dot in dots(page, "bob"):
        assert_online(dot, green)
    page.evaluate("window.hubbubBanner = []")

    page.context.set_offline(True)
    # The browser said so: the page says it at once, without waiting for the stream to time out.
    expect(banner).to_have_text(OFFLINE, timeout=AT_ONCE)
    # Whether bob is online is unknown now: no green, and not the ring that says "offline".
    for dot in dots(page, "bob"):
        assert_unknown(dot, green)
    subtitle = page.locator("#conversation-subtitle")
    expect(subtitle).to_have_text("Status unknown")

    mine = ["First, written offline.", "Second, still offline.", "Third, and last."]
    for text in mine:
        say(page, text)
    expect(bodies(page)).to_have_text([*expected, *mine])
    expect(pending(page)).to_have_count(len(mine))
    expect(pending(page).locator(".status")).to_have_text([WAITING] * len(mine))
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    expect(page.locator("#message-list").get_by_role("alert")).to_have_count(0)
    assert [body for body, _ in stored(app, conversation_id)] == expected

    page.context.set_offline(False)
    # No click: they go as soon as the browser is online, in the order they were written.
    expected += mine
    shows_exactly(page, expected, timeout=SOON)
    shows_exactly(bob.page, expected)
    assert_stored_once(app, conversation_id, expected, log, mine)
    # Nothing was tried while offline: one attempt each.
    assert [body for body, _ in log.attempts] == mine, log.attempts

    # The stream is back with who is online: bob is green again, in both places.
    expect(banner).to_be_empty(timeout=DELIVERY_GUARD)
    for dot in dots(page, "bob"):
        expect(dot).to_have_class(re.compile(r"\bonline\b"))
        assert_online(dot, green)
    expect(subtitle).to_have_text("Online")
    assert banner_log(page) == [OFFLINE, BACK, ""], banner_log(page)

    # A fence: bob answers, and it arrives live after everything.
    say(bob.page, "All three, once each.")
    expected.append("All three, once each.")
    shows_exactly(page, expected)
    assert_only_expected_complaints(ana, live_server, OFFLINE_COMPLAINTS)
    bob.assert_clean()


# ---------------------------------------------------------------------------------------------
# 2. Sends that fail on the network or with a server error


class FailFirst:
    """Fails the first message POSTs as listed ("network" or an HTTP status), then lets all go."""

    def __init__(self, *failures: str | int) -> None:
        self.failures = list(failures)

    def __call__(self, route: Route) -> None:
        if route.request.method != "POST" or not self.failures:
            route.fallback()
            return
        failure = self.failures.pop(0)
        if failure == "network":
            route.abort("connectionrefused")
        else:
            error = {"error": {"code": "unavailable", "message": "Try again later."}}
            route.fulfill(status=int(failure), json=error)


def test_a_send_that_fails_on_the_network_or_with_a_5xx_goes_again_by_itself_once(
    live_server: str, sign_in: Callable[..., Tab], app: Flask
) -> None:
    ana, bob, conversation_id, expected = two_people(live_server, sign_in)
    page = ana.page
    log = SendLog(page)
    fail = FailFirst("network", 503)
    page.route(SEND_URL, fail)

    mine = ["Through a bad network.", "Written right after."]
    for text in mine:
        say(page, text)
    # The network failed: both wait, the second behind the first, and no one is asked to click.
    waiting = pending(page)
    expect(waiting.locator(".status")).to_have_text([WAITING, WAITING])
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)

    # After the backoff, a 503, then another try: they go in order, with no click at all.
    expected += mine
    shows_exactly(page, expected, timeout=DELIVERY_GUARD)
    shows_exactly(bob.page, expected)
    assert fail.failures == []
    assert_stored_once(app, conversation_id, expected, log, mine)
    first, second = mine
    assert [body for body, _ in log.attempts] == [first, first, first, second], log.attempts
    assert_only_expected_complaints(
        ana,
        live_server,
        [
            re.compile(r"^console error: Failed to load resource: net::ERR_CONNECTION_REFUSED"),
            re.compile(r"^console error: Failed to load resource: .* status of 503 .*/messages\)$"),
        ],
    )
    bob.assert_clean()


# ---------------------------------------------------------------------------------------------
# 3. A send the server refuses: that one waits for Retry or Discard, and says why


def test_a_send_refused_with_a_4xx_says_why_and_waits_for_retry_or_discard(
    live_server: str, sign_in: Callable[..., Tab], app: Flask
) -> None:
    ana, bob, conversation_id, expected = two_people(live_server, sign_in)
    page = ana.page
    log = SendLog(page)
    refusals = ["You may not post here just now.", "Not this one either."]

    def refuse_twice(route: Route) -> None:
        if route.request.method != "POST" or not refusals:
            route.fallback()
            return
        error = {"error": {"code": "forbidden", "message": refusals.pop(0)}}
        route.fulfill(status=403, json=error)

    page.route(SEND_URL, refuse_twice)
    refused, discarded, after = "Refused, then retried.", "Refused, then discarded.", "Fine."
    say(page, refused)
    say(page, discarded)
    say(page, after)

    # The ones behind a refusal are not held up by it.
    expect(page.locator("#message-list li.message:not(.pending) .body")).to_have_text(
        [*expected, after]
    )
    failed = pending(page)
    expect(failed).to_have_count(2)
    expect(failed).to_have_class([re.compile(r"\bfailed\b")] * 2)
    expect(failed.get_by_role("alert")).to_have_text(
        [
            "Not sent. You may not post here just now. Retry Discard",
            "Not sent. Not this one either. Retry Discard",
        ]
    )
    first, second = failed.all()
    second.get_by_role("button", name="Discard").click()
    expect(failed).to_have_count(1)
    first.get_by_role("button", name="Retry").click()

    expected += [after, refused]
    shows_exactly(page, expected)
    shows_exactly(bob.page, expected)
    assert_stored_once(app, conversation_id, expected, log, [refused, after])
    assert len(log.client_ids(discarded)) == 1
    assert_only_expected_complaints(
        ana,
        live_server,
        [re.compile(r"^console error: Failed to load resource: .* status of 403 .*/messages\)$")],
    )
    bob.assert_clean()


# ---------------------------------------------------------------------------------------------
# 4. On a phone the banner is one line, offline and back, and leaves the header its place


def banner_box(page: Page) -> dict[str, float]:
    box: dict[str, float] = page.locator("#connection-banner").evaluate(
        """banner => {
          const box = banner.getBoundingClientRect();
          const style = getComputedStyle(banner);
          return { width: box.width, height: box.height, left: box.left, right: box.right,
                   font: parseFloat(style.fontSize), line: parseFloat(style.lineHeight) };
        }"""
    )
    return box


def test_on_a_phone_the_banner_is_one_line_offline_and_back(
    live_server: str, sign_in: Callable[..., Tab]
) -> None:
    ana = sign_in("ana", viewport=PHONE, color_scheme="dark")
    sign_in("bob")
    conversation_id = open_direct(
        live_server, account(live_server, "ana"), account(live_server, "bob")
    )
    open_chat(ana, live_server, conversation_id, "bob")
    page = ana.page
    banner = page.locator("#connection-banner")
    page.context.set_offline(True)
    expect(banner).to_have_text(OFFLINE, timeout=AT_ONCE)
    offline = banner_box(page)
    page.context.set_offline(False)
    expect(banner).to_have_text(BACK, timeout=DELIVERY_GUARD)
    back = banner_box(page)
    for seen in (offline, back):
        # One line of text plus the pill's padding, inside the screen.
        assert seen["height"] < 2 * seen["line"], seen
        assert seen["left"] >= 0 and seen["right"] <= PHONE["width"], seen
    # The same pill both times: "back" is not the size of the phone's back arrow.
    assert back["font"] == offline["font"] and back["height"] == offline["height"], (offline, back)
    assert_only_expected_complaints(ana, live_server, OFFLINE_COMPLAINTS)
