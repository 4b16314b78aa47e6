"""Chat in a real Chromium: DMs, groups, editing, deleting and unread counts, seen live by others.

Every person has their own browser context. Elements are found the way a person finds them: by
role and label. Nothing waits on the clock: `expect` retries until the page shows what it should.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, Response, expect

from tests.browser.conftest import Tab

pytestmark = pytest.mark.browser

SignIn = Callable[..., Tab]
CONVERSATION_URL = re.compile(r"/c/(\d+)$")


# ---- finding things ---------------------------------------------------------------------------


def composer(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Message", exact=True)


def conversation_list(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Your conversations")


def entry(page: Page, name: str) -> Locator:
    """The link to a conversation in the list; its accessible name starts with the name."""
    return conversation_list(page).get_by_role("link", name=re.compile(rf"^{re.escape(name)}(,|$)"))


def message(page: Page, text: str) -> Locator:
    """The message items whose body reads exactly `text` (pending or delivered)."""
    return page.locator("li.message").filter(has=page.get_by_text(text, exact=True))


def history(page: Page) -> Locator:
    return page.get_by_role("list", name="Messages")


def bodies(page: Page) -> Locator:
    """The text of every message in the open conversation, top to bottom."""
    return page.locator("li.message .body")


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def settings_dialog(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Group settings")


def members_list(page: Page) -> Locator:
    return settings_dialog(page).get_by_role("list", name="Members")


def is_read_marker(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/read")


# ---- doing things -----------------------------------------------------------------------------


def send(page: Page, text: str) -> Locator:
    """Type a message and press Enter; returns it once the server has confirmed it."""
    box = composer(page)
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")
    sent = message(page, text)
    expect(sent).to_have_count(1)
    expect(sent).not_to_have_class(re.compile(r"\bpending\b"))
    return sent


def start_dm(page: Page, username: str) -> None:
    """Find a person with the search box and open the DM with them."""
    page.get_by_label("Find people").fill(username)
    page.get_by_role("button", name=f"Message {username}").click()
    expect(page).to_have_url(CONVERSATION_URL)
    expect(heading(page)).to_have_text(username)


def create_group(page: Page, title: str, usernames: list[str]) -> None:
    page.get_by_role("button", name="New group").click()
    dialog = page.get_by_role("dialog", name="New group")
    dialog.get_by_label("Group title").fill(title)
    for username in usernames:
        dialog.get_by_label("Add members").fill(username)
        dialog.get_by_role("button", name=f"Add {username}").click()
        expect(dialog.get_by_role("button", name=f"Remove {username}")).to_be_visible()
    dialog.get_by_role("button", name="Create group").click()
    expect(page).to_have_url(CONVERSATION_URL)
    expect(heading(page)).to_have_text(title)


def open_entry(page: Page, name: str) -> None:
    """Click a conversation in the list and wait until it has loaded."""
    entry(page, name).click()
    expect(page).to_have_url(CONVERSATION_URL)
    expect(heading(page)).to_have_text(name)


def go_to_dashboard(page: Page) -> None:
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()


def hover_action(item: Locator, action: str) -> Locator:
    """A message's action button, which shows when the pointer is over the message."""
    item.hover()
    return item.get_by_role("group", name="Message actions").get_by_role("button", name=action)


# ---- 1. direct messages -----------------------------------------------------------------------


def test_dm_messages_arrive_live_once_and_stay_in_order(sign_in: SignIn) -> None:
    ana_tab, bob_tab = sign_in("ana"), sign_in("bob")
    ana, bob = ana_tab.page, bob_tab.page
    expect(bob.get_by_text("No conversations yet.")).to_be_visible()

    start_dm(ana, "bob")
    expect(composer(ana)).to_be_focused()
    composer(ana).press_sequentially("Hi bob")
    composer(ana).press("Enter")
    expect(message(ana, "Hi bob")).to_have_count(1)

    # Bob, on his dashboard, sees the DM turn up with a preview and an unread badge.
    link = entry(bob, "ana")
    expect(link).to_contain_text("ana: Hi bob")
    expect(link).to_have_accessible_name(re.compile(r"^ana, 1 unread message\b"))
    expect(link.get_by_text("1", exact=True)).to_be_visible()
    expect(bob.get_by_text("No conversations yet.")).to_be_hidden()

    open_entry(bob, "ana")
    expect(message(bob, "Hi bob")).to_have_count(1)
    send(bob, "Hi ana! All good?")
    expect(message(ana, "Hi ana! All good?")).to_have_count(1)

    # Shift+Enter starts a new line; Enter sends both lines as one message.
    box = composer(ana)
    box.press_sequentially("Two things:")
    box.press("Shift+Enter")
    box.press_sequentially("lunch at noon")
    expect(box).to_have_value("Two things:\nlunch at noon")
    box.press("Enter")
    for page in (ana, bob):
        two_lines = message(page, "Two things:\nlunch at noon")
        expect(two_lines).to_have_count(1)
        assert "\n" in two_lines.locator(".body").inner_text()

    history = ["Hi bob", "Hi ana! All good?", "Two things:\nlunch at noon"]
    for page in (ana, bob):
        expect(bodies(page)).to_have_text(history)
        for text in history:
            expect(message(page, text)).to_have_count(1)

    for page, name in ((ana, "bob"), (bob, "ana")):
        page.reload()
        expect(heading(page)).to_have_text(name)
        expect(bodies(page)).to_have_text(history)
        assert bodies(page).last.inner_text() == "Two things:\nlunch at noon"
    ana_tab.assert_clean()
    bob_tab.assert_clean()


# ---- 2. groups --------------------------------------------------------------------------------


def test_group_is_created_renamed_and_a_plain_member_cannot_manage_it(sign_in: SignIn) -> None:
    ana_tab, bob_tab, cara_tab = sign_in("ana"), sign_in("bob"), sign_in("cara")
    ana, bob, cara = ana_tab.page, bob_tab.page, cara_tab.page

    ana.get_by_role("button", name="New group").click()
    dialog = ana.get_by_role("dialog", name="New group")
    expect(dialog.get_by_label("Group title")).to_be_focused()
    dialog.get_by_label("Group title").fill("Weekend trip")
    for username in ("bob", "cara"):
        dialog.get_by_label("Add members").fill(username)
        dialog.get_by_role("button", name=f"Add {username}").click()
        expect(dialog.get_by_role("button", name=f"Remove {username}")).to_be_visible()
    # A chosen person can be taken off again, and found again.
    dialog.get_by_role("button", name="Remove cara").click()
    expect(dialog.get_by_role("button", name="Remove cara")).to_have_count(0)
    dialog.get_by_label("Add members").fill("cara")
    dialog.get_by_role("button", name="Add cara").click()
    chosen = dialog.get_by_role("list", name="Chosen members").get_by_role("listitem")
    expect(chosen).to_have_count(2)
    dialog.get_by_role("button", name="Create group").click()
    expect(ana).to_have_url(CONVERSATION_URL)
    expect(heading(ana)).to_have_text("Weekend trip")
    expect(ana.get_by_text("3 members: ana, bob, cara")).to_be_visible()

    for page in (bob, cara):
        expect(entry(page, "Weekend trip")).to_contain_text("No messages yet")
        open_entry(page, "Weekend trip")

    # Cara is a plain member: she sees who is in the group, and nothing to manage it with.
    cara.get_by_role("button", name="Group settings").click()
    dialog = settings_dialog(cara)
    expect(members_list(cara).get_by_role("listitem")).to_have_count(3)
    expect(members_list(cara)).to_contain_text("cara (you)")
    expect(dialog.get_by_role("textbox", name="Rename group")).to_be_hidden()
    expect(dialog.get_by_role("button", name=re.compile(r"^Remove "))).to_have_count(0)
    expect(dialog.get_by_role("combobox")).to_have_count(0)
    expect(dialog.get_by_role("searchbox", name="Add a member")).to_be_hidden()
    expect(dialog.get_by_role("button", name="Leave group")).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    ana.get_by_role("button", name="Group settings").click()
    dialog = settings_dialog(ana)
    rename = dialog.get_by_role("textbox", name="Rename group")
    expect(rename).to_have_value("Weekend trip")
    rename.fill("Ski trip")
    dialog.get_by_role("button", name="Rename", exact=True).click()
    for page in (ana, bob, cara):
        expect(heading(page)).to_have_text("Ski trip")
        expect(entry(page, "Ski trip")).to_be_visible()
        expect(entry(page, "Weekend trip")).to_have_count(0)
    for tab in (ana_tab, bob_tab, cara_tab):
        tab.assert_clean()


def test_group_members_are_removed_added_promoted_and_leave_live(
    sign_in: SignIn, live_server: str
) -> None:
    ana_tab, bob_tab, cara_tab = sign_in("ana"), sign_in("bob"), sign_in("cara")
    ana, bob, cara = ana_tab.page, bob_tab.page, cara_tab.page
    create_group(ana, "Book club", ["bob", "cara"])
    for page in (bob, cara):
        open_entry(page, "Book club")

    ana.get_by_role("button", name="Group settings").click()
    dialog = settings_dialog(ana)
    members = members_list(ana)
    expect(members.get_by_role("listitem")).to_have_count(3)

    # Removing cara (once confirmed) closes the conversation for her, live.
    dialog.get_by_role("button", name="Remove cara").click()
    ana.get_by_role("dialog", name="Remove cara from Book club?").get_by_role(
        "button", name="Remove"
    ).click()
    expect(members.get_by_role("listitem")).to_have_count(2)
    expect(members).not_to_contain_text("cara")
    expect(cara.get_by_text("You are no longer a member of this conversation.")).to_be_visible()
    expect(composer(cara)).to_be_hidden()
    expect(cara.get_by_role("button", name="Group settings")).to_be_hidden()
    expect(entry(cara, "Book club")).to_have_count(0)
    expect(bob.get_by_text("2 members: ana, bob")).to_be_visible()

    # Adding her back puts the group in her list again.
    dialog.get_by_label("Add a member").fill("cara")
    dialog.get_by_role("button", name="Add cara").click()
    expect(members.get_by_role("listitem")).to_have_count(3)
    expect(members).to_contain_text("cara")
    expect(entry(cara, "Book club")).to_be_visible()
    open_entry(cara, "Book club")
    expect(composer(cara)).to_be_visible()

    # Bob becomes an admin: he may now rename the group and manage cara, not the owner.
    expect(bob.get_by_role("button", name="Group settings")).to_be_visible()
    ana.get_by_label("Role of bob").select_option("admin")
    dialog.get_by_role("button", name="Apply role for bob").click()
    expect(dialog.get_by_role("status")).to_have_text("bob is now an admin.")
    expect(ana.get_by_label("Role of bob")).to_have_value("admin")
    bob.get_by_role("button", name="Group settings").click()
    bob_dialog = settings_dialog(bob)
    expect(bob_dialog.get_by_role("textbox", name="Rename group")).to_be_visible()
    expect(bob_dialog.get_by_role("textbox", name="Rename group")).to_have_value("Book club")
    expect(bob_dialog.get_by_label("Role of cara")).to_be_visible()
    expect(bob_dialog.get_by_role("button", name="Remove cara")).to_be_visible()
    expect(bob_dialog.get_by_role("button", name="Remove ana")).to_have_count(0)
    expect(bob_dialog.get_by_label("Role of ana")).to_have_count(0)

    bob_dialog.get_by_role("button", name="Leave group").click()
    bob.get_by_role("dialog", name="Leave Book club?").get_by_role(
        "button", name="Leave group"
    ).click()
    expect(bob).to_have_url(f"{live_server}/dashboard")
    expect(bob.get_by_role("heading", name="Hello, bob")).to_be_visible()
    expect(entry(bob, "Book club")).to_have_count(0)
    expect(members.get_by_role("listitem")).to_have_count(2)
    expect(members).not_to_contain_text("bob")
    expect(ana.get_by_text("2 members: ana, cara")).to_be_visible()
    for tab in (ana_tab, bob_tab, cara_tab):
        tab.assert_clean()


def test_a_member_added_back_can_write_again_on_the_open_page(sign_in: SignIn) -> None:
    ana_tab, cara_tab = sign_in("ana"), sign_in("cara")
    ana, cara = ana_tab.page, cara_tab.page
    create_group(ana, "Choir", ["cara"])
    open_entry(cara, "Choir")
    ana.get_by_role("button", name="Group settings").click()
    dialog = settings_dialog(ana)
    dialog.get_by_role("button", name="Remove cara").click()
    ana.get_by_role("dialog", name="Remove cara from Choir?").get_by_role(
        "button", name="Remove"
    ).click()
    notice = cara.get_by_text("You are no longer a member of this conversation.")
    expect(notice).to_be_visible()
    expect(composer(cara)).to_be_hidden()

    dialog.get_by_label("Add a member").fill("cara")
    dialog.get_by_role("button", name="Add cara").click()
    dialog.get_by_role("button", name="Close").click()
    send(ana, "Welcome back, cara")
    expect(entry(cara, "Choir")).to_contain_text("ana: Welcome back, cara")
    expect(message(cara, "Welcome back, cara")).to_have_count(1)
    expect(notice).to_be_hidden()
    expect(composer(cara)).to_be_visible()
    ana_tab.assert_clean()
    cara_tab.assert_clean()


# ---- 3. editing and deleting ------------------------------------------------------------------


def test_edits_and_deletes_are_seen_live(sign_in: SignIn) -> None:
    ana_tab, bob_tab = sign_in("ana"), sign_in("bob")
    ana, bob = ana_tab.page, bob_tab.page
    start_dm(ana, "bob")
    send(ana, "Meet at 10")
    open_entry(bob, "ana")
    expect(message(bob, "Meet at 10")).to_have_count(1)

    # Up arrow in an empty composer edits my last message; Escape gives up without changes.
    composer(ana).press("ArrowUp")
    editor = ana.get_by_role("textbox", name="Edit message")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("Meet at 10")
    editor.fill("Meet at 10:30")
    editor.press("Escape")
    expect(editor).to_have_count(0)
    expect(composer(ana)).to_be_focused()
    expect(message(ana, "Meet at 10")).to_have_count(1)
    expect(ana.get_by_role("button", name=re.compile(r"^\(edited\)"))).to_have_count(0)

    composer(ana).press("ArrowUp")
    expect(editor).to_have_value("Meet at 10")
    editor.fill("Meet at 11")
    editor.press("Enter")
    expect(editor).to_have_count(0)
    for page in (ana, bob):
        edited = message(page, "Meet at 11")
        expect(edited).to_have_count(1)
        expect(edited.get_by_role("button", name=re.compile(r"^\(edited\)"))).to_be_visible()
        expect(message(page, "Meet at 10")).to_have_count(0)

    message(bob, "Meet at 11").get_by_role("button", name=re.compile(r"^\(edited\)")).click()
    versions = bob.get_by_role("dialog", name="Earlier versions")
    expect(versions.get_by_role("listitem")).to_have_count(1)
    expect(versions.get_by_role("listitem")).to_contain_text("Meet at 10")
    versions.get_by_role("button", name="Close").click()
    expect(versions).to_be_hidden()

    # Delete asks first; Cancel keeps the message.
    hover_action(message(ana, "Meet at 11"), "Delete").click()
    confirm = ana.get_by_role("dialog", name="Delete message?")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(message(ana, "Meet at 11")).to_have_count(1)

    hover_action(message(ana, "Meet at 11"), "Delete").click()
    confirm.get_by_role("button", name="Delete").click()
    expect(confirm).to_be_hidden()
    for page in (ana, bob):
        expect(message(page, "message deleted")).to_have_count(1)
        expect(history(page)).not_to_contain_text("Meet at")
        expect(page.get_by_role("button", name=re.compile(r"^\(edited\)"))).to_have_count(0)
    expect(entry(ana, "bob")).to_contain_text("You: message deleted")
    expect(entry(bob, "ana")).to_contain_text("ana: message deleted")
    for page in (ana, bob):
        expect(conversation_list(page)).not_to_contain_text("Meet at")
    ana_tab.assert_clean()
    bob_tab.assert_clean()


def test_group_owner_may_delete_a_members_message_but_a_member_may_not(sign_in: SignIn) -> None:
    ana_tab, bob_tab, cara_tab = sign_in("ana"), sign_in("bob"), sign_in("cara")
    ana, bob, cara = ana_tab.page, bob_tab.page, cara_tab.page
    create_group(ana, "Garden", ["bob", "cara"])
    for page in (bob, cara):
        open_entry(page, "Garden")
    send(bob, "Tomatoes are ripe")
    for page in (ana, cara):
        expect(message(page, "Tomatoes are ripe")).to_have_count(1)

    cara_view = message(cara, "Tomatoes are ripe")
    cara_view.hover()
    expect(cara_view.get_by_role("button", name="Delete")).to_have_count(0)
    expect(cara_view.get_by_role("button", name="Edit")).to_have_count(0)

    ana_view = message(ana, "Tomatoes are ripe")
    expect(hover_action(ana_view, "Edit")).to_have_count(0)
    hover_action(ana_view, "Delete").click()
    ana.get_by_role("dialog", name="Delete message?").get_by_role("button", name="Delete").click()
    for page, who in ((ana, "bob"), (bob, "You"), (cara, "bob")):
        expect(message(page, "message deleted")).to_have_count(1)
        expect(history(page)).not_to_contain_text("Tomatoes")
        expect(entry(page, "Garden")).to_contain_text(f"{who}: message deleted")
        expect(conversation_list(page)).not_to_contain_text("Tomatoes")
    for tab in (ana_tab, bob_tab, cara_tab):
        tab.assert_clean()


# ---- 4. unread counts -------------------------------------------------------------------------


def test_unread_badge_counts_new_messages_and_clears_once_read(sign_in: SignIn) -> None:
    ana_tab, bob_tab = sign_in("ana"), sign_in("bob")
    ana, bob = ana_tab.page, bob_tab.page
    start_dm(ana, "bob")
    send(ana, "Are you there?")

    # Bob reads the first message, then goes back to his dashboard.
    with bob.expect_response(is_read_marker):
        open_entry(bob, "ana")
    expect(message(bob, "Are you there?")).to_have_count(1)
    go_to_dashboard(bob)
    expect(entry(bob, "ana")).not_to_have_accessible_name(re.compile("unread"))

    for text in ("First news", "Second news", "Third news"):
        send(ana, text)
    link = entry(bob, "ana")
    expect(link).to_contain_text("ana: Third news")
    expect(link).to_have_accessible_name(re.compile(r"^ana, 3 unread messages\b"))
    expect(link.get_by_text("3", exact=True)).to_be_visible()

    with bob.expect_response(is_read_marker):
        open_entry(bob, "ana")
    expect(bodies(bob)).to_have_text(["Are you there?", "First news", "Second news", "Third news"])
    divider = bob.get_by_role("separator").filter(has_text="New messages")
    expect(divider).to_have_count(1)
    # The divider sits at the top of the first unread message, below the one already read.
    expect(message(bob, "First news").locator(divider)).to_have_count(1)
    expect(message(bob, "Are you there?").locator(divider)).to_have_count(0)

    go_to_dashboard(bob)
    link = entry(bob, "ana")
    expect(link).to_contain_text("ana: Third news")
    expect(link).not_to_have_accessible_name(re.compile("unread"))
    expect(link.get_by_text("3", exact=True)).to_have_count(0)
    ana_tab.assert_clean()
    bob_tab.assert_clean()


def test_no_unread_badge_for_the_conversation_that_is_open(sign_in: SignIn) -> None:
    ana_tab, bob_tab = sign_in("ana"), sign_in("bob")
    ana, bob = ana_tab.page, bob_tab.page
    start_dm(ana, "bob")
    send(ana, "Hello")
    with bob.expect_response(is_read_marker):
        open_entry(bob, "ana")

    # Bob's page reads the new message as it arrives: that is what keeps it read later.
    with bob.expect_response(is_read_marker):
        send(ana, "Still here?")
    expect(message(bob, "Still here?")).to_have_count(1)
    link = entry(bob, "ana")
    # The list has caught up with the new message, and shows no badge for the open DM.
    expect(link).to_contain_text("ana: Still here?")
    expect(link).to_have_attribute("aria-current", "page")
    expect(link).not_to_have_accessible_name(re.compile("unread"))
    expect(link.get_by_text("1", exact=True)).to_have_count(0)

    # What was read while open stays read after leaving it.
    go_to_dashboard(bob)
    expect(entry(bob, "ana")).to_contain_text("ana: Still here?")
    expect(entry(bob, "ana")).not_to_have_accessible_name(re.compile("unread"))
    ana_tab.assert_clean()
    bob_tab.assert_clean()
