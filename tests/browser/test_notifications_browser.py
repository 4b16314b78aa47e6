"""Browser notifications in Chromium: asked for only on a click, shown for direct messages and
mentions while the page is hidden or on another conversation, never for muted ones, and a
click on one opens its conversation.

The page's Notification is Chromium's own, watched by a subclass that keeps each one it makes
(headless Chromium shows them nowhere a test could look)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from hubbub.services import conversations, messages
from tests.browser.conftest import Tab
from tests.browser.test_chat_browser import entry
from tests.browser.test_history_browser import user_named

pytestmark = pytest.mark.browser

WATCH = """(() => {
  const Real = window.Notification;
  window.hubbubNotes = [];
  window.hubbubAsked = 0;
  window.Notification = class extends Real {
    constructor(title, options) {
      super(title, options);
      window.hubbubNotes.push(this);
    }
    static get permission() { return Real.permission; }
    static requestPermission() {
      window.hubbubAsked += 1;
      return Real.requestPermission();
    }
  };
  // The test says when the page is hidden (a headless page is always visible).
  Object.defineProperty(document, "hidden", { get: () => Boolean(window.hubbubHidden) });
})();"""


@pytest.fixture
def live_server(app: Flask, serve: Callable[[Flask], str]) -> str:
    """Serve the test's own app, so that what the test sends through the services reaches the
    open page at once."""
    return serve(app)


def shown(page: Page) -> list[dict[str, Any]]:
    return list(
        page.evaluate("window.hubbubNotes.map(n => ({title: n.title, body: n.body, tag: n.tag}))")
    )


def mute(page: Page, conversation_id: int, muted: bool) -> None:
    """Mute or unmute through the API, as another of my devices would: the page hears of it
    from the mute.updated event alone."""
    status = page.evaluate(
        """([id, method]) => fetch(`/api/v1/conversations/${id}/mute`, {method, headers:
          {"X-CSRFToken": JSON.parse(document.getElementById("chat-app").dataset.settings)
            .csrf_token}}).then((r) => r.status)""",
        [conversation_id, "PUT" if muted else "DELETE"],
    )
    assert status == 200, status


def send(app: Flask, sender: str, conversation_id: int, body: str) -> int:
    with app.app_context():
        return messages.send_message(user_named(sender), conversation_id, body)[0].id


def test_asked_only_on_a_click_then_dms_and_mentions_notify_unless_muted_or_in_view(
    app: Flask, live_server: str, sign_in: Callable[..., Tab], make_user: Callable[..., Any]
) -> None:
    make_user("bob")
    tab = sign_in("ana")
    page = tab.page
    page.add_init_script(WATCH)
    with app.app_context():
        ana, bob = user_named("ana"), user_named("bob")
        dm = conversations.open_direct(bob, ana.id)[0].id
        crew = conversations.create_group(bob, "Crew", [ana.id]).id
    send(app, "bob", dm, "earlier, before notifications")
    page.reload()
    button = page.get_by_role("button", name="Enable notifications")
    expect(button).to_be_visible()
    assert page.evaluate("window.hubbubAsked") == 0  # nothing asked on its own
    page.context.grant_permissions(["notifications"], origin=live_server)
    button.click()
    expect(button).to_be_hidden()
    expect(page.locator("#notify-status")).to_have_text(
        "Notifications are on for direct messages and mentions."
    )
    assert page.evaluate("window.hubbubAsked") == 1

    def arrived(name: str, preview: str) -> None:
        # The sidebar shows it: every store (the notifier too) has seen the event.
        expect(entry(page, name)).to_contain_text(preview)

    # On the dashboard (no conversation open): a DM notifies, a group message only with a
    # mention of me.
    sent = send(app, "bob", dm, "are you there?")
    arrived("bob", "are you there?")
    send(app, "bob", crew, "plain news for the crew")
    arrived("Crew", "plain news for the crew")
    send(app, "bob", crew, "@ana can you look?")
    arrived("Crew", "@ana can you look?")
    assert shown(page) == [
        {"title": "bob", "body": "are you there?", "tag": f"hubbub-message-{sent}"},
        {
            "title": "bob mentioned you in Crew",
            "body": "@ana can you look?",
            "tag": f"hubbub-message-{sent + 2}",
        },
    ]

    # Muted: never.
    mute(page, crew, True)
    expect(entry(page, "Crew")).to_have_accessible_name(re.compile(r"\bmuted\b"))
    send(app, "bob", crew, "@ana still there?")
    arrived("Crew", "@ana still there?")
    assert len(shown(page)) == 2

    # Looking at the DM: nothing; the same DM while the page is hidden: yes.
    page.goto(f"{live_server}/c/{dm}")
    expect(page.locator("li.message").first).to_be_visible()
    send(app, "bob", dm, "seen as it comes")
    expect(page.locator("li.message").last).to_contain_text("seen as it comes")
    assert shown(page) == []
    page.evaluate("window.hubbubHidden = true")
    send(app, "bob", dm, "while you were away")
    expect(page.locator("li.message").last).to_contain_text("while you were away")
    assert [n["body"] for n in shown(page)] == ["while you were away"]

    # Unmuted again, a mention notifies, and a click on it opens its conversation.
    page.evaluate("window.hubbubHidden = false")
    mute(page, crew, False)
    expect(entry(page, "Crew")).not_to_have_accessible_name(re.compile(r"\bmuted\b"))
    send(app, "bob", crew, "@ana over here")
    expect(entry(page, "Crew")).to_contain_text("@ana over here")
    assert [n["title"] for n in shown(page)][-1] == "bob mentioned you in Crew"
    page.evaluate("window.hubbubNotes.at(-1).dispatchEvent(new Event('click'))")
    expect(page).to_have_url(f"{live_server}/c/{crew}")
    tab.assert_clean()
