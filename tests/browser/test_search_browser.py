"""Message search in Chromium: the sidebar's box, its results in place of the conversation
list, and a result that opens its conversation at that message, far back in the history: a
window around it that grows both ways, and the way back to the newest messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from hubbub.models import Membership, User, db
from hubbub.services import conversations, members, messages, reads
from tests.browser.conftest import PHONE, Tab
from tests.browser.test_accounts_browser import assert_no_horizontal_scroll
from tests.browser.test_history_browser import bodies, message_item, seed_direct, user_named
from tests.browser.test_recovery_browser import assert_only_expected_complaints
from tests.browser.test_replies_browser import id_of
from tests.browser.test_unread_browser import eventually, send

pytestmark = pytest.mark.browser

OLD = "Here is an example of the plan"


@pytest.fixture
def live_server(app: Flask, serve: Callable[[Flask], str]) -> str:
    """Serve the test's own app, so that what the test seeds reaches the open pages."""
    return serve(app)


def seed_old_message(app: Flask) -> int:
    """bob's DM with ana: OLD from bob, then 120 more, so that OLD is not on the first page."""
    lines = [("bob", OLD)] + [("ana" if n % 2 else "bob", f"line {n}") for n in range(120)]
    return seed_direct(app, "bob", "ana", lines)


def reads_of(app: Flask, conversation_id: int) -> int:
    """ana's read marker in the conversation, as the server has it (0: none)."""
    with app.app_context():
        marker = db.session.scalar(
            select(Membership.last_read_message_id).where(
                Membership.conversation_id == conversation_id,
                Membership.user_id == user_named("ana").id,
                Membership.left_at.is_(None),
            )
        )
        return int(marker or 0)


def search_box(page: Page) -> Locator:
    return page.get_by_role("searchbox", name="Search messages")


def results(page: Page) -> Locator:
    return page.locator("#found-list a.found")


def search_finds_the_old_message_and_opens_it(tab: Tab, dm: int, *, tap: bool = False) -> None:
    page = tab.page
    box = search_box(page)
    if tap:
        box.tap()
    else:
        box.click()
    box.fill("ampl")
    box.press("Enter")
    found = results(page)
    expect(found).to_have_count(1)
    expect(page.get_by_role("heading", name="1 message found")).to_be_visible()
    expect(found.locator(".name")).to_have_text("bob")  # a DM: named after the other person
    expect(found.locator(".sender")).to_have_text("bob")
    expect(found.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(found.locator(".text")).to_have_text(OLD)
    expect(found.locator("mark")).to_have_text(["ampl"])
    # The results stand where the list was.
    expect(page.locator("#conversation-list")).to_be_hidden()

    if tap:
        found.tap()
    else:
        found.click()
    # The search goes along, so the results stay beside the conversation.
    expect(page).to_have_url(re.compile(rf"/c/{dm}(\?q=ampl)?#m-\d+$"))
    target = message_item(page, OLD)
    expect(target).to_be_focused()
    expect(target).to_be_in_viewport()
    expect(target).to_have_class(re.compile(r"\btarget\b"))


def signed_in_with_an_old_message(
    app: Flask, sign_in: Callable[..., Tab], make_user: Callable[..., User], **options: Any
) -> tuple[Tab, int]:
    """ana's page (tab options as sign_in takes them) on the DM of seed_old_message."""
    make_user("bob")
    tab = sign_in("ana", **options)
    dm = seed_old_message(app)
    tab.page.reload()
    return tab, dm


def test_a_piece_of_a_word_finds_an_old_message_and_opens_the_conversation_there(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    tab, dm = signed_in_with_an_old_message(app, sign_in, make_user)
    page = tab.page
    marker_before = reads_of(app, dm)
    search_finds_the_old_message_and_opens_it(tab, dm)
    # One page around it, not the 121 messages in between: the newest are not loaded.
    expect(page.locator("li.message")).to_have_count(50)
    expect(message_item(page, "line 119")).to_have_count(0)
    pill = page.locator("#new-below")
    expect(pill).to_have_text("Jump to the newest ↓")
    # What arrives now lies past the window: said, not drawn out of place.
    send(app, "bob", "ana", "written while ana reads the past")
    expect(pill).to_have_text("New messages below ↓")
    expect(message_item(page, "written while ana reads the past")).to_have_count(0)
    # Reading far back moves no read marker (nothing newer was seen).
    page.wait_for_timeout(300)  # time for a marker that should not move to have moved
    assert reads_of(app, dm) == marker_before

    # Down through the newer pages to the end: every message once, in order, and the new one.
    scroller = page.get_by_label("Message history")
    last = message_item(page, "written while ana reads the past")
    for _ in range(10):
        if last.count():
            break
        scroller.evaluate("e => { e.scrollTop = e.scrollHeight; }")
        page.wait_for_timeout(300)
    scroller.evaluate("e => { e.scrollTop = e.scrollHeight; }")
    expect(last).to_be_in_viewport()
    expected = [OLD] + [f"line {n}" for n in range(120)] + ["written while ana reads the past"]
    assert bodies(page) == expected
    expect(pill).to_be_hidden()
    # At the end again, reading marks what is seen.
    newest = id_of(app, "written while ana reads the past")
    eventually(lambda: reads_of(app, dm), lambda marker: marker == newest, "read marker")
    tab.assert_clean()


def test_the_way_back_from_a_result_and_a_send_from_there(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    tab, dm = signed_in_with_an_old_message(app, sign_in, make_user)
    page = tab.page
    search_finds_the_old_message_and_opens_it(tab, dm)
    pill = page.locator("#new-below")
    # The pill goes back to the newest page at once, as the conversation opens.
    pill.click()
    expect(message_item(page, "line 119")).to_be_in_viewport()
    expect(message_item(page, OLD)).to_have_count(0)
    expect(page.locator("li.message")).to_have_count(50)
    expect(pill).to_be_hidden()

    # From the window again, a send goes to the end, where it is drawn once.
    results(page).click()
    expect(message_item(page, OLD)).to_be_focused()
    expect(pill).to_be_visible()
    composer = page.get_by_label("Message", exact=True)
    composer.fill("sent from far back")
    composer.press("Enter")
    sent = message_item(page, "sent from far back")
    expect(sent).to_be_in_viewport()
    expect(sent).not_to_have_class(re.compile(r"\bpending\b"))
    expect(message_item(page, "line 119")).to_have_count(1)
    expect(message_item(page, OLD)).to_have_count(0)
    assert bodies(page)[-2:] == ["line 119", "sent from far back"]
    expect(pill).to_be_hidden()
    tab.assert_clean()


def test_a_reply_quote_a_page_up_keeps_the_history_whole(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    """A quote of a message just above what is loaded loads the page above, no window."""
    make_user("bob")
    tab = sign_in("ana")
    lines = [("bob", f"line {n}") for n in range(60)]
    dm = seed_direct(app, "bob", "ana", lines)
    with app.app_context():
        messages.send_message(user_named("ana"), dm, "about that", reply_to=id_of(app, "line 5"))
    page = tab.page
    page.goto(f"{live_server}/c/{dm}")
    page.locator("li.message button.quote").click()
    expect(message_item(page, "line 5")).to_be_focused()
    expect(page.locator("li.message")).to_have_count(61)
    expect(page.locator("#new-below")).to_be_hidden()
    tab.assert_clean()


def test_slash_focuses_the_box_a_short_term_says_why_and_escape_brings_the_list_back(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana")
    dm = seed_direct(app, "bob", "ana", [("bob", "Quiet river walk on Sunday")])
    page = tab.page
    page.goto(f"{live_server}/c/{dm}")
    expect(message_item(page, "Quiet river walk on Sunday")).to_be_visible()
    box = search_box(page)
    # The composer is a text field: "/" is typed there. From the history, it comes here.
    page.keyboard.type("/")
    expect(page.get_by_role("textbox", name="Message", exact=True)).to_have_value("/")
    page.get_by_role("textbox", name="Message", exact=True).fill("")
    message_item(page, "Quiet river walk on Sunday").focus()
    page.keyboard.press("/")
    expect(box).to_be_focused()
    expect(box).to_have_value("")

    page.keyboard.type("ri")
    page.keyboard.press("Enter")
    status = page.locator("#message-search-status")
    expect(status).to_contain_text("Make each term 3 characters or longer")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#conversation-list")).to_be_visible()

    box.fill("nothing like this")
    box.press("Enter")
    expect(page.locator("#search-empty")).to_have_text("No messages match.")
    expect(page.locator("#conversation-list")).to_be_hidden()
    expect(status).to_have_text("")

    box.fill("river")
    box.press("Enter")
    expect(results(page)).to_have_count(1)
    expect(results(page).locator("mark")).to_have_text(["river"])
    page.keyboard.press("ArrowDown")
    expect(results(page).first).to_be_focused()
    page.keyboard.press("Escape")
    expect(box).to_be_focused()
    expect(box).to_have_value("")
    expect(page.locator("#search-results")).to_be_hidden()
    expect(page.locator("#conversation-list").get_by_role("link")).to_have_count(1)

    # Ctrl+K leads here too: its last option searches for what was typed.
    page.keyboard.press("Control+k")
    page.keyboard.type("walk")
    option = page.get_by_role("option", name="Search messages for “walk”")
    expect(option).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Switch conversation")).to_be_hidden()
    expect(box).to_have_value("walk")
    expect(results(page).locator("mark")).to_have_text(["walk"])
    # Choosing a result in the open conversation shows it without leaving the page.
    results(page).first.click()
    expect(message_item(page, "Quiet river walk on Sunday")).to_be_focused()
    page.get_by_role("button", name="Back to conversations").click()
    expect(page.locator("#conversation-list")).to_be_visible()
    # The refused search is the one thing the browser may complain of.
    refused = re.compile(r"^console error: Failed to load resource: .* status of 422 .*/search")
    assert_only_expected_complaints(tab, live_server, [refused])


def test_a_group_i_was_removed_from_is_not_searched(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    # Away while it happens: an open page would hear of the group and ask for it, too late.
    page.goto("about:blank")
    with app.app_context():
        bob, ana = user_named("bob"), user_named("ana")
        gone = conversations.create_group(bob, "Old team", [ana.id])
        messages.send_message(bob, gone.id, "the secret sample plan")
        members.remove_member(bob, gone.id, ana.id)
        kept = conversations.create_group(bob, "New team", [ana.id])
        messages.send_message(bob, kept.id, "the open sample plan")
    assert id_of(app, "the secret sample plan")
    page.goto(f"{live_server}/dashboard")
    box = search_box(page)
    box.fill("sample plan")
    box.press("Enter")
    found = results(page)
    expect(found).to_have_count(1)
    expect(found.locator(".name")).to_have_text("New team")
    expect(found.locator(".text")).to_have_text("the open sample plan")
    expect(found.locator("mark")).to_have_text(["sample", "plan"])
    tab.assert_clean()


def test_on_a_phone_in_dark_mode_results_fill_the_sidebar_and_open_the_message(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    tab, dm = signed_in_with_an_old_message(
        app, sign_in, make_user, viewport=PHONE, color_scheme="dark", touch=True
    )
    search_finds_the_old_message_and_opens_it(tab, dm, tap=True)
    assert_no_horizontal_scroll(tab.page, PHONE["width"])
    tab.assert_clean()


def test_a_result_among_unread_messages_far_back_marks_nothing_read(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    """ana has read 2 of bob's 260 lines; she opens the 6th from a search. Reading around it
    says nothing of the lines after it, so her marker stays, and back at the newest the jump
    to her first unread message is offered again."""
    make_user("bob")
    tab = sign_in("ana")
    lines = [("bob", OLD if n == 5 else f"line {n}") for n in range(260)]
    dm = seed_direct(app, "bob", "ana", lines)
    with app.app_context():
        reads.mark_read(user_named("ana"), dm, id_of(app, "line 1"))
    marker = reads_of(app, dm)
    page = tab.page
    page.goto(f"{live_server}/c/{dm}")
    jump = page.locator("#jump-unread")
    expect(jump).to_be_visible()
    search_finds_the_old_message_and_opens_it(tab, dm)
    expect(jump).to_be_hidden()
    expect(message_item(page, "line 7")).to_be_in_viewport()
    page.wait_for_timeout(500)  # time for a marker that should not move to have moved
    assert reads_of(app, dm) == marker
    page.locator("#new-below").click()
    expect(message_item(page, "line 259")).to_be_in_viewport()
    expect(jump).to_be_visible()
    page.wait_for_timeout(300)
    assert reads_of(app, dm) == marker
    tab.assert_clean()


def test_load_more_brings_the_next_page_of_results_until_none_are_left(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    """45 matches: 20, then 20 more, then the last 5, newest first, each once; then no more."""
    make_user("bob")
    tab = sign_in("ana")
    lines = [("bob" if n % 3 else "ana", f"standup note {n}") for n in range(45)]
    seed_direct(app, "bob", "ana", lines + [("bob", "nothing to see")])
    page = tab.page
    page.reload()
    box = search_box(page)
    box.fill("standup")
    box.press("Enter")
    found = results(page).locator(".text")
    more = page.get_by_role("button", name="Load more")
    expect(found).to_have_count(20)
    expect(page.get_by_role("heading", name="20 messages found so far")).to_be_visible()
    more.click()
    expect(found).to_have_count(40)
    more.click()
    expect(found).to_have_count(45)
    expect(page.get_by_role("heading", name="45 messages found")).to_be_visible()
    expect(more).to_be_hidden()
    expect(found).to_have_text([f"standup note {n}" for n in reversed(range(45))])
    tab.assert_clean()


def test_a_piece_found_only_in_a_links_address_is_shown_and_marked_where_it_is(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    """The server searches what was written; the page shows how it reads. A piece that only
    the written form holds (an address behind a link's words) is shown in that form, marked."""
    make_user("bob")
    tab = sign_in("ana")
    seed_direct(
        app,
        "bob",
        "ana",
        [
            ("bob", "the [release notes](https://example.com/zebra-crossing) are up"),
            ("bob", "a zebra, seen in the text"),
        ],
    )
    page = tab.page
    page.reload()
    box = search_box(page)
    box.fill("zebra")
    box.press("Enter")
    found = results(page).locator(".text")
    expect(found).to_have_text(
        [
            "a zebra, seen in the text",
            "the [release notes](https://example.com/zebra-crossing) are up",
        ]
    )
    expect(found.locator("mark")).to_have_text(["zebra", "zebra"])
    box.fill("release")
    box.press("Enter")
    expect(found).to_have_text(["the release notes are up"])  # in the words: as it reads
    expect(found.locator("mark")).to_have_text(["release"])
    tab.assert_clean()
