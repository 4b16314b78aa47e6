"""History, grouping, keyboard, screen readers, small screens and hostile text, in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Dialog, Locator, Page, Route, WebSocketRoute, expect
from sqlalchemy import select

from hubbub.models import Message, User, db
from hubbub.services import conversations, messages, reads
from tests.browser.conftest import DESKTOP, PHONE, Tab
from tests.browser.test_accounts_browser import assert_no_horizontal_scroll, luminance

pytestmark = pytest.mark.browser

# A focused element shows a ring: an outline that is drawn, or a box shadow.
FOCUS_RING = """() => {
  const style = getComputedStyle(document.activeElement);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return outline || style.boxShadow !== "none";
}"""

# Notes each stream event after the page has handled it, so a test can wait for live updates
# it cannot see (the echo of my own message) before it acts.
EVENT_LOG = """(() => {
  const Native = window.WebSocket;
  window.hubbubHandled = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const frame = JSON.parse(event.data);
        setTimeout(() => window.hubbubHandled.push(frame), 0);
      });
    }
  };
})();"""

# The announcer clears itself a few seconds after speaking: keep everything it said.
RECORD_ANNOUNCEMENTS = """() => {
  const announcer = document.getElementById("announcer");
  window.hubbubAnnounced = [];
  new MutationObserver(() => {
    if (announcer.textContent) window.hubbubAnnounced.push(announcer.textContent);
  }).observe(announcer, { childList: true, characterData: true, subtree: true });
}"""


def user_named(name: str) -> User:
    found = db.session.scalar(select(User).where(User.username == name))
    assert found is not None, name
    return found


def seed_direct(app: Flask, first: str, second: str, lines: list[tuple[str, str]]) -> int:
    """The DM between two users, with (sender, body) lines sent through the services in order."""
    with app.app_context():
        conversation, _ = conversations.open_direct(user_named(first), user_named(second).id)
        for sender, body in lines:
            messages.send_message(user_named(sender), conversation.id, body)
        return int(conversation.id)


def bodies(page: Page) -> list[str]:
    return list(page.eval_on_selector_all("li.message .body", "ps => ps.map(p => p.textContent)"))


def message_item(page: Page, body: str) -> Locator:
    return page.locator("li.message").filter(
        has=page.locator(".body").get_by_text(body, exact=True)
    )


def assert_focus_ring(page: Page) -> None:
    where = page.evaluate("document.activeElement.outerHTML.slice(0, 80)")
    assert page.evaluate(FOCUS_RING), f"no visible focus indicator on {where}"


def wait_for_event(page: Page, kind: str, body: str) -> None:
    """Wait until the page has handled a stream event of this kind about a message with body."""
    page.wait_for_function(
        """([kind, body]) => (window.hubbubHandled || [])
             .some((frame) => frame.type === kind && frame.data?.message?.body === body)""",
        arg=[kind, body],
    )


def wait_for_announcement(page: Page, text: str) -> None:
    page.wait_for_function("text => window.hubbubAnnounced.includes(text)", arg=text)


def tab_until(page: Page, target: Locator, *, key: str = "Tab", limit: int = 20) -> list[str]:
    """Press Tab until target has focus, checking the focus ring at every stop on the way."""
    stops: list[str] = []
    for _ in range(limit):
        page.keyboard.press(key)
        stops.append(str(page.evaluate("document.activeElement.outerHTML.slice(0, 60)")))
        assert_focus_ring(page)
        if target.evaluate("element => element === document.activeElement"):
            return stops
    raise AssertionError(f"{key} never reached {target}; stops: {stops}")


def test_scroll_back_through_300_messages(
    live_server: str, app: Flask, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    lines = [("ana" if i % 2 else "bob", f"message {i}") for i in range(1, 301)]
    conversation_id = seed_direct(app, "ana", "bob", lines)

    page.goto(f"{live_server}/c/{conversation_id}")
    items = page.locator("li.message")
    scroller = page.get_by_label("Message history")
    expect(page.get_by_role("heading", name="bob")).to_be_visible()
    # Only the newest page is drawn, scrolled to its end.
    expect(items).to_have_count(50)
    expect(message_item(page, "message 300")).to_be_in_viewport()
    assert bodies(page)[0] == "message 251"
    expect(message_item(page, "message 251")).not_to_be_in_viewport()
    older = page.get_by_role("button", name="Load older messages")
    expect(older).to_be_attached()

    # Scrolled to the top, the next page loads above, and what was on top stays in view.
    scroller.evaluate("element => { element.scrollTop = 0; }")
    expect(items).to_have_count(100)
    assert bodies(page)[0] == "message 201"
    expect(message_item(page, "message 251")).to_be_in_viewport()
    expect(message_item(page, "message 201")).not_to_be_in_viewport()

    # The rest by the button, and by scrolling to the top again.
    for loaded in range(100, 300, 50):
        if loaded % 100:
            scroller.evaluate("element => { element.scrollTop = 0; }")
        else:
            older.click()
        page.wait_for_function(
            "n => document.querySelectorAll('li.message').length > n", arg=loaded
        )
    expect(message_item(page, "message 1")).to_be_attached()
    expect(items).to_have_count(300)
    assert bodies(page) == [f"message {i}" for i in range(1, 301)]
    expect(older).to_be_hidden()
    scroller.evaluate("element => { element.scrollTop = 0; }")
    expect(message_item(page, "message 1")).to_be_in_viewport()
    tab.assert_clean()


def test_scrolling_near_the_top_keeps_the_place(
    live_server: str, app: Flask, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    """A wheel or a finger stops a little below the top, not at 0: older messages load there too.

    The reader must still see the messages they were reading once the older page is in.
    """
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    lines = [("ana" if i % 2 else "bob", f"message {i}") for i in range(1, 101)]
    conversation_id = seed_direct(app, "ana", "bob", lines)
    page.goto(f"{live_server}/c/{conversation_id}")
    items = page.locator("li.message")
    expect(items).to_have_count(50)
    scroller = page.get_by_label("Message history")
    expect(message_item(page, "message 100")).to_be_in_viewport()

    # 40px from the top: inside the 80px where the next page is fetched.
    # Message 51 opens the page under the button, so 52 is among those in view there.
    scroller.evaluate("element => { element.scrollTop = 40; }")
    expect(items).to_have_count(100)
    position = scroller.evaluate("e => `scrollTop ${e.scrollTop} of ${e.scrollHeight}`")
    expect(
        message_item(page, "message 52"), f"the view jumped away ({position})"
    ).to_be_in_viewport()
    expect(message_item(page, "message 100")).not_to_be_in_viewport()
    tab.assert_clean()


def test_a_short_conversation_sits_by_the_composer(
    live_server: str, app: Flask, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    """As in every chat, a few messages sit at the bottom of the history, next to the composer."""
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    conversation_id = seed_direct(app, "bob", "ana", [("bob", "hi"), ("ana", "hello")])
    page.goto(f"{live_server}/c/{conversation_id}")
    expect(page.locator("li.message")).to_have_count(2)
    history = page.get_by_label("Message history").bounding_box()
    last = message_item(page, "hello").bounding_box()
    assert history and last
    gap = history["y"] + history["height"] - (last["y"] + last["height"])
    assert gap <= 32, f"{gap:.0f}px of empty history between the last message and the composer"
    tab.assert_clean()


def test_days_senders_and_the_unread_divider(
    live_server: str, app: Flask, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("ana")
    tab = sign_in("bob")
    page = tab.page
    # The browser's midnight; its clock is held at noon today so that days are certain.
    midnight_ms = page.evaluate("new Date(new Date().setHours(0, 0, 0, 0)).getTime()")
    midnight = datetime.fromtimestamp(midnight_ms / 1000, UTC)
    page.clock.set_fixed_time(midnight + timedelta(hours=12))
    minute = timedelta(minutes=1)
    yesterday = midnight - timedelta(hours=12)
    today = midnight + timedelta(hours=11)
    plan = [
        ("ana", "two days ago", midnight - timedelta(hours=36)),
        ("ana", "yesterday 1", yesterday),
        ("ana", "yesterday 2", yesterday + minute),  # same sender, a minute on
        ("bob", "yesterday 3", yesterday + 2 * minute),  # another sender
        ("ana", "today 1", today),  # a new day
        ("bob", "today 2", today + minute),
        ("bob", "today 3", today + 2 * minute),  # same sender
        ("bob", "today 4", today + 10 * minute),  # same sender, 8 minutes later
        ("ana", "today 5", today + 11 * minute),
        ("ana", "today 6", today + 12 * minute),  # same sender, but first unread for bob
        ("ana", "today 7", today + 13 * minute),  # same sender
    ]
    conversation_id = seed_direct(app, "ana", "bob", [(who, body) for who, body, _ in plan])
    with app.app_context():
        for _, body, when in plan:
            found = db.session.scalar(select(Message).where(Message.body == body))
            assert found is not None
            found.created_at = when
        db.session.commit()
        read_up_to = db.session.scalar(select(Message.id).where(Message.body == "today 5"))
        assert read_up_to is not None
        reads.mark_read(user_named("bob"), conversation_id, read_up_to)
    two_days_ago_ms = midnight_ms - 36 * 3600 * 1000
    two_days_ago_day = page.evaluate("ms => new Date(ms).getDate()", two_days_ago_ms)

    page.goto(f"{live_server}/c/{conversation_id}")
    expect(page.locator("li.message")).to_have_count(len(plan))
    separators = page.get_by_role("separator")
    expect(separators).to_have_text(
        [
            re.compile(rf"^(?!Today|Yesterday)\D*\b{two_days_ago_day}\b"),
            "Yesterday",
            "Today",
            "New messages",
        ]
    )
    # Each day's separator opens its first message; the divider opens the first unread one.
    openers = page.locator("li.message:has(> .day-divider) .body")
    expect(openers).to_have_text(["two days ago", "yesterday 1", "today 1"])
    expect(page.locator("li.message:has(> .unread-divider) .body")).to_have_text("today 6")
    previous = page.locator("li.message:has(+ li > .unread-divider) .body")
    expect(previous).to_have_text("today 5")
    divider_box = page.locator(".unread-divider").bounding_box()
    first_unread_box = message_item(page, "today 6").locator(".body").bounding_box()
    last_read_box = message_item(page, "today 5").locator(".body").bounding_box()
    assert divider_box and first_unread_box and last_read_box
    assert last_read_box["y"] + last_read_box["height"] <= divider_box["y"]
    assert divider_box["y"] + divider_box["height"] <= first_unread_box["y"]

    continued = page.eval_on_selector_all(
        "li.message.continued .body", "ps => ps.map(p => p.textContent)"
    )
    assert continued == ["yesterday 2", "today 3", "today 7"]
    tab.assert_clean()


def test_chat_with_the_keyboard_only(
    live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    page.add_init_script(EVENT_LOG)
    keyboard = page.keyboard

    find = page.get_by_role("searchbox", name="Find people")
    tab_until(page, find)
    keyboard.type("bob")
    result = page.get_by_role("button", name="Message bob")
    expect(result).to_be_visible()
    keyboard.press("ArrowDown")
    expect(result).to_be_focused()
    assert_focus_ring(page)
    keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/c/\d+$"))
    expect(page.get_by_role("heading", name="bob")).to_be_visible()
    composer = page.get_by_role("textbox", name="Message", exact=True)
    expect(composer).to_be_focused()
    assert_focus_ring(page)

    keyboard.type("hello bob")
    keyboard.press("Enter")
    expect(message_item(page, "hello bob")).to_be_visible()
    expect(composer).to_have_value("")
    # (See test_my_messages_keep_the_order_i_sent_them for why this waits for the server.)
    expect(page.locator("li.message.pending")).to_have_count(0)

    keyboard.type("line one")
    keyboard.press("Shift+Enter")
    keyboard.type("line two")
    expect(composer).to_have_value("line one\nline two")
    keyboard.press("Enter")
    second = page.locator("li.message").last
    expect(second.locator(".body")).to_have_text("line one\nline two")
    expect(page.locator("li.message.pending")).to_have_count(0)
    expect(composer).to_have_value("")
    # (See test_an_edit_survives_the_echo_of_my_message for why this waits for the echo.)
    wait_for_event(page, "message.created", "line one\nline two")

    # Up arrow in the empty composer edits my last message; Escape goes back unchanged.
    keyboard.press("ArrowUp")
    editor = page.get_by_role("textbox", name="Edit message")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("line one\nline two")
    keyboard.press("Escape")
    expect(editor).to_have_count(0)
    expect(composer).to_be_focused()
    expect(second.locator(".body")).to_have_text("line one\nline two")

    keyboard.press("ArrowUp")
    expect(editor).to_be_focused()
    keyboard.press("ControlOrMeta+a")
    keyboard.type("line one, edited")
    keyboard.press("Enter")
    expect(editor).to_have_count(0)
    expect(second.locator(".body")).to_have_text("line one, edited")
    expect(second.get_by_role("button", name="(edited) show earlier versions")).to_be_visible()
    expect(composer).to_be_focused()
    wait_for_event(page, "message.edited", "line one, edited")

    # Back from the composer through the last message's actions; each shows when focused.
    delete = second.get_by_role("button", name="Delete")
    edit = second.get_by_role("button", name="Edit", exact=True)
    tab_until(page, delete, key="Shift+Tab", limit=3)
    expect(delete).to_be_visible()
    expect(second.locator(".actions")).to_have_css("opacity", "1")
    keyboard.press("Shift+Tab")
    expect(edit).to_be_focused()
    expect(edit).to_be_visible()
    expect(second.locator(".actions")).to_have_css("opacity", "1")
    assert_focus_ring(page)
    keyboard.press("Tab")
    expect(delete).to_be_focused()

    keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Delete message?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Delete")).to_be_focused()
    keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(delete).to_be_focused()
    expect(second.locator(".body")).to_have_text("line one, edited")
    expect(page.locator("li.message.deleted")).to_have_count(0)
    tab.assert_clean()


def test_an_edit_survives_the_echo_of_my_message(
    live_server: str, app: Flask, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    """Up arrow right after sending: the stream's copy of the message must not end the edit.

    The page learns of its own message twice, from the POST's answer and from the stream. Here
    the stream's copy is held back until the editor is open, as a slow stream would.
    """
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    conversation_id = seed_direct(app, "ana", "bob", [])
    held: list[str | bytes] = []
    routes: list[WebSocketRoute] = []

    def hold_my_message(route: WebSocketRoute) -> None:
        server = route.connect_to_server()
        routes.append(route)

        def from_server(frame: str | bytes) -> None:
            if "first draft" in str(frame):
                held.append(frame)
            else:
                route.send(frame)

        server.on_message(from_server)

    page.route_web_socket(re.compile(r"/api/v1/stream"), hold_my_message)
    page.goto(f"{live_server}/c/{conversation_id}")
    composer = page.get_by_role("textbox", name="Message", exact=True)
    expect(composer).to_be_focused()
    page.keyboard.type("first draft")
    page.keyboard.press("Enter")
    expect(message_item(page, "first draft")).to_be_visible()
    expect(page.locator("li.message.pending")).to_have_count(0)

    page.keyboard.press("ArrowUp")
    editor = page.get_by_role("textbox", name="Edit message")
    expect(editor).to_be_focused()
    page.keyboard.type(", second thoughts")
    assert len(held) == 1 and routes, (len(routes), held)
    routes[-1].send(held.pop())
    # Frames are handled in order: once bob's later message shows, the copy was handled too.
    with app.app_context():
        messages.send_message(user_named("bob"), conversation_id, "bob was here")
    expect(message_item(page, "bob was here")).to_be_visible()

    expect(editor, "the late copy from the stream closed the editor").to_be_focused()
    expect(editor).to_have_value("first draft, second thoughts")
    page.keyboard.press("Enter")
    expect(message_item(page, "first draft, second thoughts")).to_be_visible()
    expect(composer).to_be_focused()
    tab.assert_clean()


def test_my_messages_keep_the_order_i_sent_them(
    live_server: str, app: Flask, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    """Two quick sends, the first one slow on the network: they stay in the order written."""
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    conversation_id = seed_direct(app, "ana", "bob", [])
    page.goto(f"{live_server}/c/{conversation_id}")
    composer = page.get_by_role("textbox", name="Message", exact=True)
    expect(composer).to_be_focused()
    expect(page.get_by_role("heading", name="bob")).to_be_visible()
    slow: list[Route] = []

    def hold_the_first_send(route: Route) -> None:
        if route.request.method == "POST" and not slow:
            slow.append(route)
        else:
            route.continue_()

    page.route(re.compile(r"/api/v1/conversations/\d+/messages$"), hold_the_first_send)
    page.keyboard.type("first")
    page.keyboard.press("Enter")
    page.keyboard.type("second")
    page.keyboard.press("Enter")
    # The second waits for the first: the server must number them in the order written.
    expect(message_item(page, "second")).to_have_class(re.compile(r"\bpending\b"))
    expect(message_item(page, "first")).to_have_class(re.compile(r"\bpending\b"))
    assert len(slow) == 1
    slow[0].continue_()
    expect(page.locator("li.message.pending")).to_have_count(0)
    expect(page.locator("li.message .body")).to_have_text(["first", "second"])
    tab.assert_clean()


def test_screen_reader_names_and_live_regions(
    live_server: str, app: Flask, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("carol")
    ana_tab = sign_in("ana")
    bob_tab = sign_in("bob")
    ana, bob = ana_tab.page, bob_tab.page
    conversation_id = seed_direct(
        app, "bob", "ana", [("bob", "first from bob"), ("bob", "second from bob")]
    )

    # The list says how many are unread, in the link's name; the badge is for the eyes only.
    link = ana.get_by_role("link", name=re.compile(r"^bob, 2 unread messages(, online)?$"))
    expect(link).to_be_visible()
    expect(link.locator(".badge")).to_have_attribute("aria-hidden", "true")
    link.click()
    expect(ana).to_have_url(f"{live_server}/c/{conversation_id}")
    history = ana.get_by_role("list", name="Messages")
    expect(history.get_by_role("listitem")).to_have_count(2)
    expect(ana.get_by_role("link", name=re.compile(r"^bob(, online)?$"))).to_have_attribute(
        "aria-current", "page"
    )
    typing = ana.locator("#typing")
    announcer = ana.locator("#announcer")
    expect(typing).to_have_attribute("aria-live", "polite")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(typing).to_have_text("")
    ana.evaluate(RECORD_ANNOUNCEMENTS)

    bob.goto(f"{live_server}/c/{conversation_id}")
    bob_composer = bob.get_by_role("textbox", name="Message", exact=True)
    expect(bob_composer).to_be_focused()
    bob.keyboard.type("hello ana")
    expect(typing).to_have_text("bob is typing…")
    bob.keyboard.press("Enter")
    expect(history.get_by_role("listitem")).to_have_count(3)
    wait_for_announcement(ana, "bob: hello ana")
    expect(typing).to_have_text("")

    # Another conversation's message counts in its link, and is not read out here.
    with app.app_context():
        carol_dm, _ = conversations.open_direct(user_named("carol"), user_named("ana").id)
        messages.send_message(user_named("carol"), carol_dm.id, "psst")
    expect(ana.get_by_role("link", name="carol, 1 unread message")).to_be_visible()
    assert ana.evaluate("window.hubbubAnnounced") == ["bob: hello ana"]

    decorations = ana.locator(".dot, .badge, .back > .arrow")
    expect(decorations.first).to_be_attached()
    for decoration in decorations.all():
        expect(decoration).to_have_attribute("aria-hidden", "true")
    ana_tab.assert_clean()
    bob_tab.assert_clean()


@pytest.mark.parametrize(
    ("viewport", "scheme"),
    [
        pytest.param(PHONE, "dark", id="phone-dark"),
        pytest.param(DESKTOP, "light", id="desktop-light"),
    ],
)
def test_conversation_on_a_phone_and_a_desktop(
    live_server: str,
    app: Flask,
    sign_in: Callable[..., Tab],
    make_user: Callable[..., User],
    viewport: dict[str, int],
    scheme: str,
) -> None:
    phone = viewport == PHONE
    make_user("bob")
    tab = sign_in("ana", viewport=viewport, color_scheme=scheme)
    page = tab.page
    seed_direct(app, "bob", "ana", [("bob", "Morning! Did the build pass?")])

    link = page.get_by_role("link", name=re.compile(r"^bob, 1 unread message"))
    expect(link).to_be_visible()
    assert_no_horizontal_scroll(page, viewport["width"])
    link.click()
    expect(page).to_have_url(re.compile(r"/c/\d+$"))
    expect(page.get_by_role("heading", name="bob")).to_be_visible()

    sidebar = page.get_by_role("complementary", name="Your conversations")
    back = page.get_by_role("link", name="Conversations", exact=True)
    conversation = page.get_by_role("region", name="bob")
    if phone:
        expect(sidebar).to_be_hidden()
        expect(back).to_be_visible()
    else:
        expect(sidebar).to_be_visible()
        expect(back).to_be_hidden()
        side, main = sidebar.bounding_box(), conversation.bounding_box()
        assert side and main and side["x"] + side["width"] <= main["x"], (side, main)
        assert abs(side["y"] - main["y"]) <= 1, (side, main)

    composer = page.get_by_role("textbox", name="Message", exact=True)
    send = page.get_by_role("button", name="Send")
    expect(composer).to_be_in_viewport(ratio=1)
    expect(send).to_be_in_viewport(ratio=1)

    long_word = "x" * 300
    long_url = "https://example.com/" + "a" * 120 + "/?q=" + "b" * 120 + "&page=1"
    for body in (long_word, long_url, "Yes, all green."):
        composer.fill(body)
        send.click()
        expect(message_item(page, body)).to_be_visible()
    expect(page.locator("li.message.pending")).to_have_count(0)

    assert_no_horizontal_scroll(page, viewport["width"])
    history = page.get_by_label("Message history")
    overflow = history.evaluate("element => element.scrollWidth - element.clientWidth")
    assert overflow <= 0, f"the history scrolls sideways by {overflow}px"
    for body in (long_word, long_url):
        box = message_item(page, body).locator(".body").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
        assert box["height"] > 40, f"{body[:10]}… did not wrap: {box}"
    expect(composer).to_be_in_viewport(ratio=1)
    expect(send).to_be_in_viewport(ratio=1)

    background = str(page.evaluate("getComputedStyle(document.body).backgroundColor"))
    text = str(page.evaluate("getComputedStyle(document.body).color"))
    body_text = str(
        message_item(page, "Yes, all green.")
        .locator(".body")
        .evaluate("p => getComputedStyle(p).color")
    )
    if scheme == "dark":
        assert luminance(background) < 0.1, f"the dark background is not dark: {background}"
        assert luminance(text) > 0.6 and luminance(body_text) > 0.6, (text, body_text)
    else:
        assert luminance(background) > 0.8, f"the light background is not light: {background}"
        assert luminance(text) < 0.1 and luminance(body_text) < 0.1, (text, body_text)
    # Leave the screenshot on the newest messages with the composer empty.
    expect(composer).to_have_value("")
    tab.assert_clean()


HOSTILE = ["<img src=x onerror=alert(1)>", "<b>bold</b>", "javascript:alert(1)"]
HOSTILE_TITLE = "<script>alert(2)</script>"


def test_user_text_is_shown_as_text(
    live_server: str, app: Flask, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    with app.app_context():
        group = conversations.create_group(user_named("ana"), HOSTILE_TITLE, [user_named("bob").id])
        group_id = int(group.id)
    expect(page.get_by_role("link", name=HOSTILE_TITLE)).to_be_visible()
    page.get_by_role("link", name=HOSTILE_TITLE).click()
    expect(page).to_have_url(f"{live_server}/c/{group_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_TITLE)
    assert page.title() == f"{HOSTILE_TITLE} · Hubbub"

    page.evaluate(RECORD_ANNOUNCEMENTS)
    composer = page.get_by_role("textbox", name="Message", exact=True)
    for body in HOSTILE:
        composer.fill(body)
        composer.press("Enter")
        expect(message_item(page, body)).to_be_visible()
    expect(page.locator("li.message.pending")).to_have_count(0)
    # One more arrives live from bob, after all of mine, and is read out as text.
    from_bob = "<img src=y onerror=alert(3)><svg onload=alert(4)>"
    with app.app_context():
        messages.send_message(user_named("bob"), group_id, from_bob)
    expect(message_item(page, from_bob)).to_be_visible()
    wait_for_announcement(page, f"bob: {from_bob}")

    history = page.get_by_role("list", name="Messages")
    for body in [*HOSTILE, from_bob]:
        expect(history.get_by_text(body, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=HOSTILE_TITLE)).to_contain_text(f"bob: {from_bob}")
    expect(page.locator("#chat-app").locator("img, b, script, svg")).to_have_count(0)
    expect(page.locator("h1 *, h2 *")).to_have_count(0)
    assert dialogs == [], f"user text ran as code: {dialogs}"
    tab.assert_clean()
