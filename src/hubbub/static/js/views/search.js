// Message search in the sidebar: the box, and while they are shown, the results in place of
// the conversation list. `/` comes here from anywhere but a text field; Enter asks the server
// (GET /search), Escape lets go; a result opens its conversation at that message.

import { describe, path } from "../api.js";
import {
  conversationName, el, fullTime, nameOf, plainText, plural, shortTime,
} from "../format.js";
import { announce } from "./announce.js";

// As services/search.py reads a query: "a quoted phrase", else a run of non-space; the
// operators are filters, not words to mark.
const TOKEN = /"([^"]*)"?|(\S+)/gu;
const OPERATORS = new Set(["from", "in", "has", "before", "after"]);
const LEAD = 40; // characters kept before the first match when a long message is cut
const SNIPPET_MAX = 220;

// The words of q to mark in the results: its terms and phrases, without the filters.
export function searchTerms(q) {
  const terms = [];
  for (const [, phrase, word] of q.matchAll(TOKEN)) {
    if (word === undefined) {
      if (phrase) terms.push(phrase);
      continue;
    }
    const colon = word.indexOf(":");
    if (colon >= 0 && OPERATORS.has(word.slice(0, colon).toLowerCase())) continue;
    terms.push(word);
  }
  return [...new Set(terms)];
}

// One pattern for every term, longest first so that a longer term wins where two overlap.
function matcher(terms) {
  if (!terms.length) return null;
  const escaped = [...terms].sort((a, b) => b.length - a.length)
    .map((term) => term.replace(/[.*+?^${}()|[\]\\]/gu, "\\$&"));
  return new RegExp(escaped.join("|"), "giu");
}

// The text around its first match (a long message is cut, with "…"), each match in a <mark>:
// text nodes and elements only, nothing parsed.
export function highlighted(text, pattern) {
  let start = 0;
  if (pattern) {
    pattern.lastIndex = 0;
    const first = pattern.exec(text);
    pattern.lastIndex = 0; // matchAll below starts where the pattern last stopped
    if (first && first.index > LEAD && text.length > SNIPPET_MAX) {
      const space = text.lastIndexOf(" ", first.index - LEAD);
      start = space > 0 ? space + 1 : first.index - LEAD;
    }
  }
  let shown = text.slice(start);
  const cut = shown.length > SNIPPET_MAX;
  if (cut) shown = shown.slice(0, SNIPPET_MAX).trimEnd();
  const parts = start ? ["…"] : [];
  let at = 0;
  if (pattern) {
    for (const found of shown.matchAll(pattern)) {
      if (!found[0]) continue;
      parts.push(shown.slice(at, found.index), el("mark", {}, found[0]));
      at = found.index + found[0].length;
    }
  }
  parts.push(shown.slice(at));
  if (cut) parts.push("…");
  return parts.filter((part) => part !== "");
}

function isTextField(node) {
  if (!(node instanceof HTMLElement)) return false;
  if (node.isContentEditable || node instanceof HTMLTextAreaElement) return true;
  if (node instanceof HTMLSelectElement) return true;
  return node instanceof HTMLInputElement
    && !["button", "checkbox", "radio", "submit", "reset", "file", "range", "color"]
      .includes(node.type);
}

export class MessageSearch {
  // open(conversationId, messageId): go to a result; elsewhere(q): the sidebar cannot be
  // seen here (a conversation on a phone), so search where it can.
  constructor({ api, conversations, me, conversationUrl, open, elsewhere }) {
    this.api = api;
    this.conversations = conversations;
    this.me = me;
    this.conversationUrl = conversationUrl;
    this.open = open;
    this.elsewhere = elsewhere;
    this.sidebar = document.querySelector(".sidebar");
    this.input = document.getElementById("message-query");
    this.status = document.getElementById("message-search-status");
    this.panel = document.getElementById("search-results");
    this.list = document.getElementById("found-list");
    this.empty = document.getElementById("search-empty");
    this.more = document.getElementById("search-more");
    this.close = document.getElementById("search-close");
    this.heading = document.getElementById("search-results-heading");
    this.q = "";
    this.pattern = null;
    this.nextBefore = null;
    this.asked = 0; // numbers the searches: an answer to an older one is dropped
    this.names = []; // [node, conversation ref] of each result, renamed when the list arrives
    this.wire();
  }

  // The conversation list came (or changed): DMs get their other person's name.
  render(change) {
    if (!change.list && !change.conversations) return;
    for (const [node, ref] of this.names) {
      const text = this.nameOf(ref);
      if (node.textContent !== text) node.textContent = text;
    }
  }

  nameOf(ref) {
    const known = this.conversations.get(ref.id);
    if (known) return conversationName(known, this.me);
    return ref.kind === "group" ? ref.title || "Untitled group" : "Direct message";
  }

  visible() {
    return this.input.getClientRects().length > 0;
  }

  focus() {
    this.input.focus();
    this.input.select();
  }

  // Runs q as if typed into the box (the switcher's last option).
  run(q) {
    if (!this.visible()) {
      this.elsewhere(q);
      return;
    }
    this.input.value = q;
    this.input.focus();
    this.search();
  }

  async search() {
    const q = this.input.value.trim();
    if (!q) {
      this.asked += 1;
      this.hide();
      return;
    }
    this.q = q;
    this.pattern = matcher(searchTerms(q));
    await this.fetch(null);
  }

  // A page of results for this.q: the first (before null) replaces, a later one appends.
  async fetch(before) {
    this.asked += 1;
    const { asked } = this;
    const q = this.q;
    let query = path`/search?q=${q}`;
    if (before !== null) query += path`&before=${before}`;
    this.more.disabled = true;
    if (before === null) this.say("Searching…");
    let answer;
    try {
      answer = await this.api.get(query);
    } catch (error) {
      if (asked !== this.asked) return;
      this.more.disabled = false;
      // A 422 says what to change: "Search terms need at least 3 characters. Make each…"
      const reason = describe(error);
      if (before === null) this.hide(); // the old results answered another question
      this.say(reason, true);
      announce(reason);
      return;
    } finally {
      if (asked === this.asked) this.more.disabled = false;
    }
    if (asked !== this.asked) return;
    if (before === null) {
      this.names = [];
      this.list.replaceChildren();
    }
    this.list.append(...answer.results.map((result) => this.resultNode(result)));
    this.nextBefore = answer.next_before;
    this.more.hidden = answer.next_before === null;
    this.show();
    const count = this.list.children.length;
    const found = count ? `${plural(count, "message", "messages")} found` : "No messages match";
    this.empty.hidden = count > 0;
    this.heading.textContent = count ? `${found}${this.more.hidden ? "" : " so far"}` : "Messages found";
    this.say("");
    announce(before === null || !count ? `${found}.`
      : `${plural(answer.results.length, "more message", "more messages")}, ${count} in all.`);
  }

  say(text, error = false) {
    this.status.textContent = text;
    this.status.classList.toggle("error", error);
    this.input.setAttribute("aria-invalid", error ? "true" : "false");
  }

  resultNode({ message, conversation }) {
    const name = el("span", { class: "name" }, this.nameOf(conversation));
    this.names.push([name, conversation]);
    const link = el("a", {
      class: "found",
      // The search goes along: the results stay beside the conversation they open.
      href: `${this.conversationUrl}${conversation.id}?${new URLSearchParams({ q: this.q })}`
        + `#m-${message.id}`,
      dataset: { conversationId: conversation.id, messageId: message.id },
    },
    el("span", { class: "row" }, name,
      el("time", { datetime: message.created_at, title: fullTime(message.created_at) },
        shortTime(message.created_at))),
    el("span", { class: "sender" }, message.sender.id === this.me.id ? "You" : nameOf(message.sender)),
    el("span", { class: "text" }, ...highlighted(this.textOf(message), this.pattern)));
    return el("li", {}, link);
  }

  // The message as it reads; or as it was written, when the server found a term only there
  // (in a link's address, say, behind its words).
  textOf(message) {
    const text = plainText(message);
    if (!this.pattern || message.deleted_at) return text;
    const holds = (words) => searchTerms(this.q)
      .every((term) => words.toLowerCase().includes(term.toLowerCase()));
    return holds(text) || !holds(message.body) ? text : message.body.replace(/\s+/gu, " ").trim();
  }

  show() {
    this.panel.hidden = false;
    this.sidebar.classList.add("searching");
  }

  hide() {
    this.panel.hidden = true;
    this.sidebar.classList.remove("searching");
    this.list.replaceChildren();
    this.names = [];
    this.say("");
  }

  // Escape, or "Back to conversations": the box empties, the list comes back.
  dismiss() {
    this.asked += 1; // an answer on its way is not wanted any more
    this.input.value = "";
    this.hide();
    this.input.focus();
  }

  links() {
    return [...this.list.querySelectorAll("a.found")];
  }

  wire() {
    document.addEventListener("keydown", (event) => {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      if (isTextField(event.target) || document.querySelector("dialog[open]")) return;
      if (!this.visible()) return;
      event.preventDefault(); // the slash is not typed into the box
      this.focus();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.search();
      } else if (event.key === "Escape") {
        event.preventDefault();
        this.dismiss();
      } else if (event.key === "ArrowDown" && !this.panel.hidden && this.links().length) {
        event.preventDefault();
        this.links()[0].focus();
      }
    });
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.dismiss();
        return;
      }
      const links = this.links();
      const at = links.indexOf(document.activeElement);
      if (at < 0) return;
      if (event.key === "ArrowDown" && at < links.length - 1) {
        event.preventDefault();
        links[at + 1].focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        (at > 0 ? links[at - 1] : this.input).focus();
      }
    });
    this.list.addEventListener("click", (event) => {
      const link = event.target.closest("a.found");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      this.open(Number(link.dataset.conversationId), Number(link.dataset.messageId), link.href);
    });
    this.more.addEventListener("click", () => {
      if (this.nextBefore !== null) this.fetch(this.nextBefore);
    });
    this.close.addEventListener("click", () => this.dismiss());
  }
}
