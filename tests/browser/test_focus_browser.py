"""Focus and confirmations in a real Chromium: updates keep the person's place, and nothing in
Group settings changes on one keypress (issue 14, items 4 to 6).

What others do is written through the services, and reaches the open page over the
in-process bus; what the server holds is read back through the API, as a script would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Locator, Page, Request, expect

from hubbub.services import conversations, members, messages
from tests.browser.conftest import Tab
from tests.browser.test_history_browser import user_named
from tests.support import PASSWORD, bearer

pytestmark = pytest.mark.browser

SignIn = Callable[..., Tab]
API = "/api/v1"
# Long enough for a request the page had sent to reach the local server and be answered.
SETTLE_MS = 400
# Which element has focus: its id, its conversation, its accessible name.
FOCUSED = """() => {
  const node = document.activeElement;
  return [node.id || node.tagName, node.dataset.conversationId || null,
          node.getAttribute("aria-label") || null, Boolean(node.__kept)];
}"""


@pytest.fixture
def live_server(app: Flask, serve: Callable[[Flask], str]) -> str:
    """The test's own app, so that what the test writes reaches the open pages at once."""
    return serve(app)


def roles_in(app: Flask, username: str, conversation_id: int) -> dict[str, str]:
    """Who is in the conversation and with which role, as the API tells `username`."""
    client: FlaskClient = app.test_client()
    answer = client.post(f"{API}/tokens", json={"login": username, "password": PASSWORD})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    response = client.get(
        f"{API}/conversations/{conversation_id}", headers=bearer(answer.get_json()["token"])
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    found = response.get_json()["conversation"]["members"]
    return {member["user"]["username"]: member["role"] for member in found}


def group(app: Flask, owner: str, title: str, others: list[str]) -> int:
    with app.app_context():
        made = conversations.create_group(
            user_named(owner), title, [user_named(name).id for name in others]
        )
        return int(made.id)


def set_role(app: Flask, by: str, conversation_id: int, who: str, role: str) -> None:
    with app.app_context():
        members.change_role(user_named(by), conversation_id, user_named(who).id, role)


def send(app: Flask, sender: str, conversation_id: int, body: str) -> None:
    with app.app_context():
        messages.send_message(user_named(sender), conversation_id, body)


def focused(page: Page) -> list[Any]:
    result: list[Any] = page.evaluate(FOCUSED)
    return result


def open_settings(page: Page, live_server: str, conversation_id: int) -> Locator:
    page.goto(f"{live_server}/c/{conversation_id}")
    page.get_by_role("button", name="Group settings").click()
    dialog = page.get_by_role("dialog", name="Group settings")
    expect(dialog).to_be_visible()
    return dialog


def watch_writes(page: Page) -> list[str]:
    """Every request the page makes that could change something on the server."""
    writes: list[str] = []

    def seen(request: Request) -> None:
        if request.method in ("POST", "PATCH", "PUT", "DELETE") and "/api/" in request.url:
            writes.append(f"{request.method} {request.url}")

    page.on("request", seen)
    return writes


# ---- item 4: the conversation list -------------------------------------------------------


@pytest.mark.parametrize("moves_in_place", [True, False], ids=["moveBefore", "insertBefore"])
def test_focus_stays_on_a_conversation_in_the_list_as_messages_reorder_it(
    app: Flask, sign_in: SignIn, make_user: Callable[..., Any], moves_in_place: bool
) -> None:
    for name in ("bob", "cara"):
        make_user(name)
    tab = sign_in("ana")
    page = tab.page
    if not moves_in_place:
        # A browser without moveBefore(): the list falls back to insertBefore(), which drops
        # focus on the way; the list must put it back.
        page.add_init_script("delete Element.prototype.moveBefore;")
    with app.app_context():
        ana = user_named("ana")
        with_bob = int(conversations.open_direct(ana, user_named("bob").id)[0].id)
        with_cara = int(conversations.open_direct(ana, user_named("cara").id)[0].id)
    send(app, "bob", with_bob, "first from bob")
    send(app, "cara", with_cara, "first from cara")
    page.reload()
    if not moves_in_place:
        assert page.evaluate("() => 'moveBefore' in Element.prototype") is False
    names = page.get_by_role("navigation", name="Your conversations").locator(".name")
    expect(names).to_have_text(["cara", "bob"])
    bob_link = page.locator(f'#conversation-list a[data-conversation-id="{with_bob}"]')
    bob_link.focus()
    # Marks the very element, to tell it apart from a copy drawn in its place.
    bob_link.evaluate("(node) => { node.__kept = true; }")
    assert focused(page) == ["A", str(with_bob), "bob, 1 unread message", True]

    # Cara writes: her conversation's entry changes, the focused one stays where focus is.
    send(app, "cara", with_cara, "second from cara")
    expect(page.get_by_role("link", name="cara, 2 unread messages")).to_contain_text(
        "cara: second from cara"
    )
    assert focused(page) == ["A", str(with_bob), "bob, 1 unread message", True]

    # Bob writes: his entry moves to the top and its text changes, with the focus on it.
    send(app, "bob", with_bob, "second from bob")
    expect(names).to_have_text(["bob", "cara"])
    expect(bob_link).to_contain_text("bob: second from bob")
    expect(bob_link.locator(".badge")).to_have_text("2")
    assert focused(page) == ["A", str(with_bob), "bob, 2 unread messages", True]

    # Cara writes again: hers moves above the focused one.
    send(app, "cara", with_cara, "third from cara")
    expect(names).to_have_text(["cara", "bob"])
    assert focused(page) == ["A", str(with_bob), "bob, 2 unread messages", True]
    # The keyboard goes on from where it was: Enter opens bob's conversation.
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("bob")
    tab.assert_clean()


# ---- item 4: Group settings --------------------------------------------------------------


def test_focus_stays_in_group_settings_through_role_changes_and_removals(
    app: Flask, sign_in: SignIn, make_user: Callable[..., Any], live_server: str
) -> None:
    for name in ("bob", "cara", "dan"):
        make_user(name)
    tab = sign_in("ana")
    page = tab.page
    lunch = group(app, "ana", "Lunch club", ["bob", "cara", "dan"])
    dialog = open_settings(page, live_server, lunch)
    rows = dialog.get_by_role("list", name="Members").get_by_role("listitem")
    expect(rows).to_have_count(4)

    # Bob made an admin from the keyboard: the focus stays on his role.
    role_of_bob = dialog.get_by_label("Role of bob")
    role_of_bob.focus()
    page.keyboard.press("ArrowUp")
    expect(role_of_bob).to_have_value("admin")
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Apply role for bob")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("status")).to_have_text("bob is now an admin.")
    expect(dialog.get_by_role("button", name="Apply role for bob")).to_have_count(0)
    expect(role_of_bob).to_be_focused()
    assert roles_in(app, "ana", lunch)["bob"] == "admin"

    # Someone else's change redraws and reorders the list (dan moves above cara): focus stays
    # on cara's Remove button.
    remove_cara = dialog.get_by_role("button", name="Remove cara")
    remove_cara.focus()
    set_role(app, "ana", lunch, "dan", "admin")
    expect(rows).to_have_text(
        [re.compile(r"^ana"), re.compile(r"^bob"), re.compile(r"^dan"), re.compile(r"^cara")]
    )
    expect(remove_cara).to_be_focused()
    # Cara's own row changes (she is made an admin): the focus is on her Remove button again.
    set_role(app, "ana", lunch, "cara", "admin")
    expect(dialog.get_by_label("Role of cara")).to_have_value("admin")
    expect(remove_cara).to_be_focused()
    set_role(app, "ana", lunch, "cara", "member")
    expect(dialog.get_by_label("Role of cara")).to_have_value("member")
    expect(remove_cara).to_be_focused()

    # Bob removed: the focus goes to the member now in his place.
    dialog.get_by_role("button", name="Remove bob").focus()
    page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog", name="Remove bob from Lunch club?")
    confirm.get_by_role("button", name="Remove").click()
    expect(rows).to_have_count(3)
    expect(dialog.get_by_label("Role of dan")).to_be_focused()

    # Cara, the last in the list, removed: the focus goes to the field below it.
    remove_cara.focus()
    page.keyboard.press("Enter")
    page.get_by_role("dialog", name="Remove cara from Lunch club?").get_by_role(
        "button", name="Remove"
    ).click()
    expect(rows).to_have_count(2)
    expect(dialog.get_by_role("searchbox", name="Add a member")).to_be_focused()
    assert sorted(roles_in(app, "ana", lunch)) == ["ana", "dan"]
    tab.assert_clean()


# ---- item 5: a role needs Apply ----------------------------------------------------------


def test_an_arrow_key_on_a_role_only_chooses_and_apply_changes_it(
    app: Flask, sign_in: SignIn, make_user: Callable[..., Any], live_server: str
) -> None:
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    lunch = group(app, "ana", "Lunch club", ["bob"])
    dialog = open_settings(page, live_server, lunch)
    writes = watch_writes(page)
    role_of_bob = dialog.get_by_label("Role of bob")
    apply = dialog.get_by_role("button", name="Apply role for bob")
    expect(apply).to_have_count(0)  # nothing chosen yet: hidden, though its room is kept

    role_of_bob.focus()
    page.keyboard.press("ArrowUp")
    expect(role_of_bob).to_have_value("admin")
    page.wait_for_timeout(SETTLE_MS)
    assert writes == []
    assert roles_in(app, "ana", lunch) == {"ana": "owner", "bob": "member"}
    expect(apply).to_be_visible()
    page.keyboard.press("ArrowUp")
    expect(role_of_bob).to_have_value("owner")
    page.wait_for_timeout(SETTLE_MS)
    assert writes == []
    assert roles_in(app, "ana", lunch) == {"ana": "owner", "bob": "member"}

    # Back to his role: nothing to apply.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(role_of_bob).to_have_value("member")
    expect(apply).to_have_count(0)

    # Admin, applied.
    role_of_bob.select_option("admin")
    apply.click()
    expect(dialog.get_by_role("status")).to_have_text("bob is now an admin.")
    assert roles_in(app, "ana", lunch) == {"ana": "owner", "bob": "admin"}

    # Owner asks first, and says what it means; Cancel keeps him an admin.
    role_of_bob.select_option("owner")
    apply.click()
    confirm = page.get_by_role("dialog", name="Make bob an owner of Lunch club?")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(
        "bob will be able to do all that you can, including changing your role or removing you"
        " from the group. You stay an owner too."
    )
    expect(confirm.get_by_role("button", name="Make owner")).to_be_focused()
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(apply).to_be_focused()
    assert roles_in(app, "ana", lunch) == {"ana": "owner", "bob": "admin"}
    apply.click()
    confirm.get_by_role("button", name="Make owner").click()
    expect(dialog.get_by_role("status")).to_have_text("bob is now an owner.")
    assert roles_in(app, "ana", lunch) == {"ana": "owner", "bob": "owner"}
    tab.assert_clean()


# ---- item 6: removing and leaving are confirmed, and say what happened -------------------


def test_removing_a_member_asks_first_and_says_it_was_done(
    app: Flask, sign_in: SignIn, make_user: Callable[..., Any], live_server: str
) -> None:
    for name in ("bob", "cara"):
        make_user(name)
    tab = sign_in("ana")
    page = tab.page
    lunch = group(app, "ana", "Lunch club", ["bob", "cara"])
    dialog = open_settings(page, live_server, lunch)
    writes = watch_writes(page)

    dialog.get_by_role("button", name="Remove bob").click()
    confirm = page.get_by_role("dialog", name="Remove bob from Lunch club?")
    expect(confirm).to_contain_text(
        "They will no longer see its messages or be able to write in it, until someone adds"
        " them again."
    )
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(dialog.get_by_role("button", name="Remove bob")).to_be_focused()
    page.wait_for_timeout(SETTLE_MS)
    assert writes == []
    assert len(roles_in(app, "ana", lunch)) == 3

    # Escape is a Cancel too.
    dialog.get_by_role("button", name="Remove bob").click()
    expect(confirm).to_be_visible()
    page.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(dialog).to_be_visible()
    assert len(roles_in(app, "ana", lunch)) == 3

    dialog.get_by_role("button", name="Remove bob").click()
    confirm.get_by_role("button", name="Remove").click()
    expect(dialog.get_by_role("status")).to_have_text("bob was removed from Lunch club.")
    expect(dialog.get_by_role("button", name="Remove bob")).to_have_count(0)
    assert roles_in(app, "ana", lunch) == {"ana": "owner", "cara": "member"}
    tab.assert_clean()


def test_leaving_asks_first_names_the_new_owner_and_ends_on_the_dashboard(
    app: Flask, sign_in: SignIn, make_user: Callable[..., Any], live_server: str
) -> None:
    for name in ("bob", "cara"):
        make_user(name)
    tab = sign_in("ana")
    page = tab.page
    lunch = group(app, "ana", "Lunch club", ["cara", "bob"])
    set_role(app, "ana", lunch, "bob", "admin")  # the longest-standing admin: the heir
    dialog = open_settings(page, live_server, lunch)

    dialog.get_by_role("button", name="Leave group").click()
    confirm = page.get_by_role("dialog", name="Leave Lunch club?")
    expect(confirm).to_contain_text(
        "You will no longer see its messages, and someone will need to add you again for you"
        " to come back. You are its only owner: bob will become the owner."
    )
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(dialog.get_by_role("button", name="Leave group")).to_be_focused()
    assert len(roles_in(app, "cara", lunch)) == 3

    dialog.get_by_role("button", name="Leave group").click()
    confirm.get_by_role("button", name="Leave group").click()
    expect(page).to_have_url(f"{live_server}/dashboard")
    notice = page.get_by_role("status").filter(has_text="You left Lunch club.")
    expect(notice).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Your conversations").get_by_role("link")
    ).to_have_count(0)
    assert roles_in(app, "cara", lunch) == {"bob": "owner", "cara": "member"}
    # Said once: the next visit to the dashboard is quiet.
    page.reload()
    expect(page.get_by_role("heading", name="Hello, ana")).to_be_visible()
    expect(page.get_by_text("You left Lunch club.")).to_have_count(0)
    tab.assert_clean()


def test_the_last_member_leaving_is_told_nobody_can_add_them_back(
    app: Flask, sign_in: SignIn, live_server: str
) -> None:
    tab = sign_in("ana")
    page = tab.page
    alone = group(app, "ana", "Notes", [])
    dialog = open_settings(page, live_server, alone)
    dialog.get_by_role("button", name="Leave group").click()
    confirm = page.get_by_role("dialog", name="Leave Notes?")
    expect(confirm).to_contain_text(
        "You will no longer see its messages, and nobody will be left in it to add you back."
    )
    confirm.get_by_role("button", name="Cancel").click()
    tab.assert_clean()
