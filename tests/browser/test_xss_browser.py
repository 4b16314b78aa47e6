"""Hostile text stays text: every payload of xss_payloads as a message, an edit and a title.

Each payload is rendered in Chromium for its sender and for a receiver, as it arrives over the
WebSocket and again after a reload: message bodies, edits, "Earlier versions", the conversation
list (names and previews), the conversation's heading and the page title. Nothing may run
(the marker `__xss` is recorded, and so are dialogs), no element or handler attribute may come
from the payloads, the browser may not report a console error or a CSP violation, and each
payload must be shown exactly as the server stored it.

Message bodies are Markdown the server renders (services/render.py): a message shows the
server's `html` for it as markup, in `.body.rich`, and nothing else there, and the markup it
may hold there is only what the renderer's allow-list lets by. Everywhere else (names,
previews, titles, earlier versions, a send on its way) text stays text.

Usernames are not covered: the server only allows [a-z0-9._-] in them (services.accounts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Dialog, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from hubbub.models import User
from hubbub.services.text import clean_body, clean_line
from tests.browser.conftest import DESKTOP, Tab, log_in_through_the_form
from tests.support import PASSWORD, bearer
from tests.support.xss_payloads import PAYLOADS, TITLES, is_title, shown

pytestmark = pytest.mark.browser

API = "/api/v1"
# Hang guard for waits on many live updates at once; not a statement about speed.
SETTLE_MS = 20_000

# Defined before any page script runs: the marker every payload calls if it ever executes.
RECORDER = """(() => {
  const calls = [];
  Object.defineProperty(window, "__xssCalls", { value: calls });
  Object.defineProperty(window, "__xss", {
    value: (n) => { calls.push(String(n)); },
    writable: false,
  });
})();"""

# Everything in the page that the payloads could have created, were any markup interpreted:
# elements outside what the app itself draws, handler attributes, script URLs, foreign scripts.
AUDIT = """() => {
  const found = [];
  // A rendered message body: the server's cleaned Markdown and nothing else (the page's
  // "(edited)" mark follows the body, outside it).
  const RICH = "#message-list li.message > .content > .body.rich";
  const richTags = ["P", "BR", "EM", "STRONG", "S", "CODE", "PRE", "BLOCKQUOTE", "UL", "OL",
    "LI", "A", "SPAN"];
  const allowed = {
    "#message-list": ["LI", "DIV", "SPAN", "TIME", "P", "BUTTON"],
    "#conversation-list": ["LI", "A", "SPAN", "TIME"],
    "#revisions-list": ["LI", "P", "TIME"],
    "#conversation-subtitle": ["SPAN"],
    "#settings-members": ["LI", "SPAN", "LABEL", "SELECT", "OPTION", "BUTTON"],
  };
  const tag = (node) => `<${node.tagName.toLowerCase()}>`;
  const show = (markup) => markup.slice(0, 80);
  // What an element of a rendered body may carry: links to http, https and mailto addresses
  // (never relative, never without an address) in a new tab without an opener, mentions, a
  // list's start; nothing else.
  const attributes = {
    A: ["href", "target", "rel", "title"], SPAN: ["class", "data-user-id"], OL: ["start"],
  };
  const richProblem = (node) => {
    if (!richTags.includes(node.tagName)) return "element";
    const names = [...node.attributes].map((attribute) => attribute.name);
    const extra = names.filter((name) => !(attributes[node.tagName] || []).includes(name));
    if (extra.length) return `attributes ${extra.join(" ")}`;
    const value = (name) => node.getAttribute(name);
    if (node.tagName === "A") {
      const href = value("href") ?? "";
      if (!/^(https?:\\/\\/|mailto:)/i.test(href)) return `href="${href}"`;
      if (value("target") !== "_blank") return `target=${value("target")}`;
      if (value("rel") !== "noopener noreferrer") return `rel=${value("rel")}`;
    }
    if (node.tagName === "SPAN") {
      const everyone = value("class") === "mention everyone" && !node.hasAttribute("data-user-id");
      const member = ["mention", "mention me"].includes(value("class"))
        && /^[1-9][0-9]*$/.test(value("data-user-id") ?? "");
      if (!everyone && !member) return "a span that is no mention";
    }
    if (node.tagName === "OL" && node.hasAttribute("start")
        && !/^[0-9]+$/.test(value("start"))) return "ol start";
    return null;
  };
  for (const [selector, tags] of Object.entries(allowed)) {
    for (const node of document.querySelector(selector)?.querySelectorAll("*") || []) {
      const rich = selector === "#message-list" && node.parentElement.closest(RICH);
      const problem = rich ? richProblem(node) : tags.includes(node.tagName) ? null : "element";
      if (!problem) continue;
      found.push(`${tag(node)} in ${rich ? RICH : selector} (${problem}): ${show(node.outerHTML)}`);
    }
  }
  for (const node of document.querySelectorAll(".rich")) {
    if (!node.matches(RICH)) found.push(`a rich body out of place: ${show(node.outerHTML)}`);
  }
  const textOnly = "title, h1, h2, h3, .body, .name, .preview, .sender, #announcer, #typing, "
    + "#connection-banner";
  for (const node of document.querySelectorAll(textOnly)) {
    if (node.matches(RICH)) continue;
    if (node.children.length) found.push(`markup in ${tag(node)}: ${show(node.innerHTML)}`);
  }
  const foreign = "iframe, frame, object, embed, img, svg, math, video, audio, source, details, "
    + "base, marquee, template, noscript, style, meta[http-equiv], isindex, portal, x";
  for (const node of document.querySelectorAll(foreign)) {
    found.push(`${tag(node)} in the page: ${show(node.outerHTML)}`);
  }
  for (const script of document.querySelectorAll("script")) {
    const ours = /\\/static\\/js\\/app\\.js$/.test(script.src);
    if (!ours) found.push(`script: ${show(script.outerHTML)}`);
  }
  for (const link of document.querySelectorAll("link")) {
    if (!new URL(link.href).pathname.startsWith("/static/")) found.push(`link: ${link.href}`);
  }
  const urls = ["href", "src", "action", "formaction", "data", "srcdoc", "xlink:href", "poster"];
  const scriptUrl = /^[\\s\\u0000-\\u001f]*(javascript|data|vbscript):/i;
  for (const node of document.querySelectorAll("*")) {
    for (const attribute of node.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on")) found.push(`${name}= on ${tag(node)}`);
      if (urls.includes(name) && scriptUrl.test(attribute.value)) {
        found.push(`${name}="${show(attribute.value)}" on ${tag(node)}`);
      }
    }
  }
  return found;
}"""

# Every message in the history as [id, its body's class, its body's markup], the markup
# normalised: the "me" the page adds to a mention of the reader taken out. `null` ids are sends
# on their way.
SHOWN = """() => {
  const me = JSON.parse(document.getElementById("chat-app").dataset.settings).me.id;
  return [...document.querySelectorAll("#message-list li.message")].map((li) => {
    const body = li.querySelector(":scope > .content > .body");
    if (!body) return [li.dataset.id ?? null, null, null];
    const copy = body.cloneNode(true);
    for (const mention of copy.querySelectorAll(`span.mention.me[data-user-id="${me}"]`)) {
      mention.classList.remove("me");
    }
    return [li.dataset.id ?? null, body.className, copy.innerHTML];
  });
}"""
# What the page must show for the server's messages ([id, html] pairs), normalised the same
# way: the html parsed by a template and written out again.
EXPECTED = """(messages) => messages.map(([id, html]) => {
  const template = document.createElement("template");
  template.innerHTML = html;
  return [String(id), "body rich", template.innerHTML];
})"""
# The one-line text of a rendered body, as a preview says it: the words of the html, each run
# of white space one space.
PLAIN = """(htmls) => htmls.map((html) => {
  const template = document.createElement("template");
  template.innerHTML = html;
  return template.content.textContent.replace(/\\s+/gu, " ").trim();
})"""
REVISIONS = "#revisions-list .body"
TEXTS = "selector => [...document.querySelectorAll(selector)].map((node) => node.textContent)"
# The conversation list as [name, preview] pairs.
ENTRIES = """() => [...document.querySelectorAll("#conversation-list li")]
  .map((li) => [li.querySelector(".name").textContent, li.querySelector(".preview").textContent])"""


@pytest.fixture
def live_server(app: Flask, serve: Callable[[Flask], str]) -> str:
    """Serve the test's own app: what the test writes through it reaches the open pages at once
    over the in-process bus, instead of on the next poll of the event log."""
    return serve(app)


@dataclass
class Watched:
    """A signed-in tab whose every page records the marker calls and dialogs it sees."""

    tab: Tab
    dialogs: list[str] = field(default_factory=list)

    @property
    def page(self) -> Page:
        return self.tab.page

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def assert_nothing_ran(self, where: str) -> None:
        calls = self.page.evaluate("window.__xssCalls ? [...window.__xssCalls] : null")
        assert calls is not None, f"{where}: the marker recorder is missing from the page"
        assert calls == [], f"{where}: payloads ran: {sorted(set(calls), key=int)}"
        assert self.dialogs == [], f"{where}: payloads opened dialogs: {self.dialogs}"
        found = self.page.evaluate(AUDIT)
        assert found == [], f"{where}: payload markup reached the page:\n" + "\n".join(found)
        self.tab.assert_clean()


@pytest.fixture
def watched(
    open_tab: Callable[..., Tab], live_server: str, make_user: Callable[..., User]
) -> Callable[[str], Watched]:
    """A new user logged in through the form, with the recorder in place from the first page.

    (Like the `sign_in` fixture, but no navigating again to add the recorder: leaving a page
    whose scripts are still loading drops their connections mid-file on the test server.)
    """

    def factory(username: str) -> Watched:
        make_user(username)
        tab = open_tab(username, viewport=DESKTOP)
        watched = Watched(tab)
        page = tab.page
        page.on("dialog", watched.on_dialog)
        page.add_init_script(RECORDER)
        log_in_through_the_form(page, live_server, username)
        return watched

    return factory


@dataclass
class Caller:
    """Someone using the API with a bearer token, as a script would."""

    client: FlaskClient
    token: str

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.client.open(
            f"{API}{path}", method=method, json=body, headers=bearer(self.token)
        )
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        return response.get_json()


@pytest.fixture
def api(app: Flask) -> Callable[[str], Caller]:
    def factory(username: str) -> Caller:
        client = app.test_client()
        answer = client.post(f"{API}/tokens", json={"login": username, "password": PASSWORD})
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return Caller(app.test_client(), answer.get_json()["token"])

    return factory


def wait_for_texts(page: Page, selector: str, expected: list[str], what: str) -> None:
    """Wait until the textContent of every selector match is exactly `expected`, in order.

    textContent is compared, not what Playwright's text matchers see, so that whitespace,
    line breaks and invisible characters count too.
    """
    try:
        page.wait_for_function(
            f"""([selector, expected]) => JSON.stringify(({TEXTS})(selector))
                  === JSON.stringify(expected)""",
            arg=[selector, expected],
            timeout=SETTLE_MS,
        )
    except PlaywrightTimeoutError:
        actual = page.evaluate(TEXTS, selector)
        found = page.evaluate(AUDIT)[:10]
        assert actual == expected, f"{what}; markup in the page: {found}"
        raise


def rendered(caller: Caller, conversation_id: int) -> list[dict[str, Any]]:
    """The conversation's messages from the API, oldest first; each must have its html."""
    messages: list[dict[str, Any]] = []
    before = ""
    while True:
        path = f"/conversations/{conversation_id}/messages?limit=100{before}"
        answer = caller.call("GET", path)
        messages[:0] = reversed(answer["messages"])
        if not answer["has_more"]:
            break
        before = f"&before={messages[0]['id']}"
    for message in messages:
        assert isinstance(message["html"], str), f"no html for message {message['id']}"
    return messages


def wait_for_bodies(page: Page, messages: list[dict[str, Any]], what: str) -> None:
    """Wait until the history shows exactly these messages, in order, each body's markup the
    server's html for it (in a `.body.rich`)."""
    pairs = [[message["id"], message["html"]] for message in messages]
    try:
        page.wait_for_function(
            f"""pairs => JSON.stringify(({SHOWN})()) === JSON.stringify(({EXPECTED})(pairs))""",
            arg=pairs,
            timeout=SETTLE_MS,
        )
    except PlaywrightTimeoutError:
        actual = page.evaluate(SHOWN)
        expected = page.evaluate(EXPECTED, pairs)
        found = page.evaluate(AUDIT)[:10]
        differ = next(
            (i for i, pair in enumerate(zip(actual, expected, strict=False)) if pair[0] != pair[1]),
            min(len(actual), len(expected)),
        )
        shown_there = actual[differ] if differ < len(actual) else None
        wanted = expected[differ] if differ < len(expected) else None
        assert actual == expected, (
            f"{what}: {len(actual)} messages shown, {len(expected)} expected; the first to "
            f"differ, #{differ}:\n  shown:    {shown_there}\n  expected: {wanted}\n"
            f"markup in the page: {found}"
        )
        raise


def plain_texts(page: Page, htmls: list[str]) -> list[str]:
    texts: list[str] = page.evaluate(PLAIN, htmls)
    return texts


def wait_for_entries(page: Page, expected: list[tuple[str, str]], what: str) -> None:
    """Wait until the conversation list holds exactly these (name, preview) entries."""
    try:
        page.wait_for_function(
            f"""expected => {{
                  const canonical = (pairs) => JSON.stringify(
                    pairs.map((pair) => JSON.stringify(pair)).sort());
                  return canonical(({ENTRIES})()) === canonical(expected);
               }}""",
            arg=[list(entry) for entry in expected],
            timeout=SETTLE_MS,
        )
    except PlaywrightTimeoutError:
        actual = sorted(tuple(entry) for entry in page.evaluate(ENTRIES))
        found = page.evaluate(AUDIT)[:10]
        assert actual == sorted(expected), f"{what}; markup in the page: {found}"
        raise


def wait_for_title(page: Page, title: str) -> None:
    """The conversation's heading and the document's <title> show `title` as text."""
    shown_as = """() => [document.getElementById("conversation-title")?.textContent,
                         document.querySelector("title").textContent]"""
    try:
        page.wait_for_function(
            f"""title => JSON.stringify(({shown_as})())
                  === JSON.stringify([title, `${{title}} · Hubbub`])""",
            arg=title,
            timeout=SETTLE_MS,
        )
    except PlaywrightTimeoutError:
        heading, document_title = page.evaluate(shown_as)
        found = page.evaluate(AUDIT)[:10]
        assert (heading, document_title) == (title, f"{title} · Hubbub"), f"markup: {found}"
        raise


QUOTES = "#message-list li.message .quote-text"


def history(page: Page) -> Locator:
    return page.get_by_role("list", name="Messages")


def message_items(page: Page) -> Locator:
    """The history's messages (not the list items a rendered body may hold)."""
    return history(page).locator("li.message")


def load_all(page: Page, total: int) -> None:
    """After a reload: scroll to the top of the history until all `total` messages are drawn.

    (Scrolling, not the "Load older messages" button: bringing the button into view is itself
    a scroll to the top, which loads the last page and hides the button before the click.)
    """
    items = message_items(page)
    expect(items.first).to_be_visible()
    scroller = page.get_by_label("Message history")
    while (drawn := items.count()) < total:
        scroller.evaluate("element => { element.scrollTop = 0; }")
        page.wait_for_function(
            "n => document.querySelectorAll('#message-list li.message').length > n", arg=drawn
        )
    expect(items).to_have_count(total)
    expect(page.get_by_role("button", name="Load older messages")).to_be_hidden()


def test_the_corpus_is_text_the_server_accepts() -> None:
    assert len(PAYLOADS) >= 60
    assert len({shown(p) for p in PAYLOADS}) == len(PAYLOADS), "payloads must differ once trimmed"
    for payload in PAYLOADS:
        assert clean_body(payload, 4000) == shown(payload)
    for title in TITLES:
        assert clean_line(title, "title", 80) == shown(title)
    assert len(TITLES) >= 60


# Typed into the composer by hand (the rest go through the API): one of every dozen, skipping
# carriage returns, which a textarea turns into plain line breaks.
COMPOSED = [p for p in PAYLOADS[::12] if "\r" not in p]
POSTED = [p for p in PAYLOADS if p not in COMPOSED]
CONVERSATION_TITLE = shown(next(p for p in TITLES if p.startswith("</title>")))
REVISED = "This message will be rewritten many times."


def test_payloads_as_messages_edits_and_earlier_versions(
    live_server: str, watched: Callable[[str], Watched], api: Callable[[str], Caller]
) -> None:
    ana, bob = watched("ana"), watched("bob")
    ana_api, bob_api = api("ana"), api("bob")
    bob_id = bob_api.call("GET", "/me")["user"]["id"]
    group = ana_api.call(
        "POST",
        "/conversations",
        {"kind": "group", "title": CONVERSATION_TITLE, "member_ids": [bob_id]},
    )["conversation"]
    for person in (ana, bob):
        person.page.goto(f"{live_server}/c/{group['id']}")
        wait_for_title(person.page, CONVERSATION_TITLE)
        expect(person.page.get_by_role("heading", level=1)).to_have_text(CONVERSATION_TITLE)

    # Sent live: some typed by ana, then the rest from ana and bob in turn over the API.
    composer = ana.page.get_by_role("textbox", name="Message", exact=True)
    for payload in COMPOSED:
        composer.fill(payload)
        composer.press("Enter")
    expect(ana.page.locator("li.message.pending")).to_have_count(0)
    # Each posted one answers the one before it: its quote carries the hostile words too.
    answered = None
    for number, payload in enumerate(POSTED):
        sender = ana_api if number % 2 == 0 else bob_api
        body = {"body": payload, **({"reply_to": answered} if answered else {})}
        answered = sender.call("POST", f"/conversations/{group['id']}/messages", body)["message"][
            "id"
        ]
    sent = [shown(p) for p in COMPOSED + POSTED]
    listed = rendered(ana_api, group["id"])
    assert [m["body"] for m in listed] == sent
    for person in (ana, bob):
        wait_for_bodies(person.page, listed, f"{person.tab.label}: every message, as it arrived")
        person.assert_nothing_ran(f"{person.tab.label}: messages arriving live")

    # Each message edited to the next one's text: two by hand in ana's page, the rest by API.
    rotated = sent[1:] + sent[:1]
    by_hand = {1, 0}  # ana's first two
    for index in sorted(by_hand, reverse=True):
        item = history(ana.page).locator(f'li.message[data-id="{listed[index]["id"]}"]')
        item.get_by_role("button", name="Edit", exact=True).click()
        editor = ana.page.get_by_role("textbox", name="Edit message")
        expect(editor).to_have_value(sent[index])
        editor.fill(rotated[index])
        editor.press("Enter")
        expect(editor).to_have_count(0)
    for index, message in enumerate(listed):
        if index in by_hand:
            continue
        author = ana_api if message["sender"]["username"] == "ana" else bob_api
        author.call("PATCH", f"/messages/{message['id']}", {"body": rotated[index]})

    # One more message of ana's, rewritten with every payload in turn.
    revised = ana_api.call("POST", f"/conversations/{group['id']}/messages", {"body": REVISED})[
        "message"
    ]
    for payload in PAYLOADS:
        ana_api.call("PATCH", f"/messages/{revised['id']}", {"body": payload})
    final = [*rotated, shown(PAYLOADS[-1])]
    edited = rendered(ana_api, group["id"])
    assert [m["body"] for m in edited] == final
    assert [m["id"] for m in edited] == [*(m["id"] for m in listed), revised["id"]]
    earlier = [REVISED, *(shown(p) for p in PAYLOADS[:-1])]

    def check_earlier_versions(person: Watched, when: str) -> None:
        page = person.page
        message_items(page).last.get_by_role(
            "button", name="(edited) show earlier versions"
        ).click()
        dialog = page.get_by_role("dialog", name="Earlier versions")
        expect(dialog).to_be_visible()
        wait_for_texts(page, REVISIONS, earlier, f"{person.tab.label}: earlier versions {when}")
        person.assert_nothing_ran(f"{person.tab.label}: earlier versions {when}")
        dialog.get_by_role("button", name="Close").click()
        expect(dialog).to_be_hidden()

    for person in (ana, bob):
        wait_for_bodies(person.page, edited, f"{person.tab.label}: every message, edited live")
        marks = history(person.page).get_by_role("button", name="(edited) show earlier versions")
        expect(marks).to_have_count(len(final))
        person.assert_nothing_ran(f"{person.tab.label}: edits arriving live")
        check_earlier_versions(person, "live")

    # Again from the server's copy: a reload, and the older page fetched on request.
    for person in (ana, bob):
        person.page.reload()
        wait_for_title(person.page, CONVERSATION_TITLE)
        load_all(person.page, len(final))
        wait_for_bodies(person.page, edited, f"{person.tab.label}: every message, after a reload")
        person.assert_nothing_ran(f"{person.tab.label}: messages after a reload")
        check_earlier_versions(person, "after a reload")
        # The quotes of the replies, as text: the server's excerpts of the edited originals.
        excerpts = [m["reply_to"]["excerpt"] for m in edited if m["reply_to"]]
        assert len(excerpts) == len(POSTED) - 1
        wait_for_texts(person.page, QUOTES, excerpts, f"{person.tab.label}: quotes after a reload")
        person.assert_nothing_ran(f"{person.tab.label}: quotes after a reload")
        # The list's preview of the group is its last message, said as text: the words of its
        # rendering on one line.
        who = "You" if person is ana else "ana"
        [last_words] = plain_texts(person.page, [edited[-1]["html"]])
        preview = [(CONVERSATION_TITLE, f"{who}: {last_words}")]
        wait_for_entries(person.page, preview, f"{person.tab.label}: the list after a reload")
        person.assert_nothing_ran(f"{person.tab.label}: the list after a reload")


def title_for(index: int, payload: str) -> str:
    """The group title paired with a payload: itself when it is a valid title."""
    return shown(payload) if is_title(payload) else f"Payload {index + 1} in a group"


def test_payloads_as_group_titles_previews_and_page_titles(
    live_server: str, watched: Callable[[str], Watched], api: Callable[[str], Caller]
) -> None:
    ana, bob = watched("ana"), watched("bob")
    ana_api, bob_api = api("ana"), api("bob")
    bob_id = bob_api.call("GET", "/me")["user"]["id"]

    # The heading and the page title, live: one group renamed through every title, the first
    # time by hand in its settings, then over the API. (Done while the list is short: each
    # rename has both pages fetch the list again.)
    renamed = ana_api.call(
        "POST", "/conversations", {"kind": "group", "title": "Rename me", "member_ids": [bob_id]}
    )["conversation"]
    for person in (ana, bob):
        person.page.get_by_role("link", name="Rename me", exact=True).click()
        wait_for_title(person.page, "Rename me")
    ana.page.get_by_role("button", name="Group settings").click()
    settings = ana.page.get_by_role("dialog", name="Group settings")
    settings.get_by_role("textbox", name="Rename group").fill(TITLES[0])
    settings.get_by_role("button", name="Rename", exact=True).click()
    for person in (ana, bob):
        wait_for_title(person.page, shown(TITLES[0]))
    ana.assert_nothing_ran("ana: the group settings")
    settings.get_by_role("button", name="Close").click()
    expect(settings).to_be_hidden()
    for title in TITLES[1:]:
        ana_api.call("PATCH", f"/conversations/{renamed['id']}", {"title": title})
        for person in (ana, bob):
            wait_for_title(person.page, shown(title))
    last_title = shown(TITLES[-1])
    entries: dict[str, list[tuple[str, str]]] = {
        "ana": [(last_title, "No messages yet")],
        "bob": [(last_title, "No messages yet")],
    }
    for person, name in ((ana, "ana"), (bob, "bob")):
        wait_for_entries(person.page, entries[name], f"{name}'s list, after the renames")
        person.assert_nothing_ran(f"{name}: every title as the heading and the page title")
        person.page.reload()
        wait_for_title(person.page, last_title)
        expect(person.page.get_by_role("heading", level=1)).to_have_text(last_title)
        person.assert_nothing_ran(f"{name}: the heading after a reload")

    # Each group's preview says its one message as text: the words of the server's rendering.
    last_messages: list[tuple[str, str, str]] = []  # (title, sender, html)

    def expect_entries() -> None:
        htmls = [html for _, _, html in last_messages]
        for (title, sender, _), words in zip(
            last_messages, plain_texts(ana.page, htmls), strict=True
        ):
            for viewer in ("ana", "bob"):
                who = "You" if viewer == sender else sender
                entries[viewer].append((title, f"{who}: {words}"))

    # One group per payload, titled with it when it fits, holding it as its only message.
    # The first is made by hand in ana's page; ana and bob take turns to write the rest.
    first_title = title_for(0, PAYLOADS[0])
    page = ana.page
    page.get_by_role("button", name="New group").click()
    dialog = page.get_by_role("dialog", name="New group")
    dialog.get_by_label("Group title").fill(PAYLOADS[0])
    dialog.get_by_label("Add members").fill("bob")
    dialog.get_by_role("button", name="Add bob").click()
    expect(dialog.get_by_role("button", name="Remove bob")).to_be_visible()
    dialog.get_by_role("button", name="Create group").click()
    wait_for_title(page, first_title)
    composer = page.get_by_role("textbox", name="Message", exact=True)
    composer.fill(PAYLOADS[0])
    composer.press("Enter")
    expect(page.locator("li.message.pending")).to_have_count(0)
    conversations = ana_api.call("GET", "/conversations")["conversations"]
    [first] = [c for c in conversations if c["title"] == first_title]
    [first_message] = rendered(ana_api, first["id"])
    assert first_message["body"] == shown(PAYLOADS[0])
    last_messages.append((first_title, "ana", first_message["html"]))
    for index, payload in enumerate(PAYLOADS[1:], start=1):
        title = title_for(index, payload)
        made = ana_api.call(
            "POST", "/conversations", {"kind": "group", "title": title, "member_ids": [bob_id]}
        )["conversation"]
        sender, caller = ("ana", ana_api) if index % 2 == 0 else ("bob", bob_api)
        message = caller.call("POST", f"/conversations/{made['id']}/messages", {"body": payload})
        assert message["message"]["body"] == shown(payload)
        last_messages.append((title, sender, message["message"]["html"]))
    expect_entries()

    # Names and previews in the list: live (ana in her new group, bob in the renamed one),
    # then on the dashboard after a reload.
    for person, name in ((ana, "ana"), (bob, "bob")):
        wait_for_entries(person.page, entries[name], f"{name}'s list, live")
        person.assert_nothing_ran(f"{name}: the conversation list, live")
    for person, name in ((ana, "ana"), (bob, "bob")):
        person.page.goto(f"{live_server}/dashboard")
        wait_for_entries(person.page, entries[name], f"{name}'s list after a reload")
        person.assert_nothing_ran(f"{name}: the conversation list after a reload")
