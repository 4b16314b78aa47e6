// Ctrl+K (Cmd+K on a Mac): a dialog to jump to any conversation by a piece of its name, with
// the keyboard alone. The input is a combobox: arrows move the highlighted one, Enter opens it.
// Once something is typed, the last option searches the messages for it (views/search.js).

import { conversationName, el, plural } from "../format.js";

const SHOWN = 8; // matches listed at once; typing more narrows them

export class Switcher {
  constructor({ conversations, me, conversationUrl, searchMessages }) {
    this.conversations = conversations;
    this.searchMessages = searchMessages;
    this.me = me;
    this.conversationUrl = conversationUrl;
    this.dialog = document.getElementById("switcher-dialog");
    this.input = document.getElementById("switcher-input");
    this.results = document.getElementById("switcher-results");
    this.matches = [];
    this.active = 0;
    document.addEventListener("keydown", (event) => {
      const k = event.key === "k" || event.key === "K";
      if (!k || !(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
      event.preventDefault(); // the browser's own Ctrl+K would take focus to its address bar
      if (this.dialog.open) this.dialog.close();
      else this.open();
    });
    this.input.addEventListener("input", () => this.draw(0));
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.results.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.choose(option.dataset.id ? Number(option.dataset.id) : null);
    });
  }

  // The list may arrive, or change, while the dialog is open.
  render() {
    if (this.dialog.open) this.draw(this.active);
  }

  open() {
    this.input.value = "";
    this.draw(0);
    this.dialog.showModal();
    this.input.focus();
  }

  // Conversations whose name holds what was typed, in any case; most recent first, so that an
  // empty box lists the latest ones. Ones with unread messages come before the rest.
  find(query) {
    const wanted = query.trim().toLocaleLowerCase();
    return this.conversations.list()
      .filter((c) => conversationName(c, this.me).toLocaleLowerCase().includes(wanted))
      .sort((a, b) => Number(b.unread_count > 0) - Number(a.unread_count > 0))
      .slice(0, SHOWN);
  }

  // The matches, then (once something is typed) "Search messages for …"; the highlighted one
  // is the first match, or that last option when nothing matches.
  draw(active) {
    this.matches = this.find(this.input.value);
    const typed = this.input.value.trim();
    const count = this.matches.length + (typed ? 1 : 0);
    this.active = Math.max(0, Math.min(active, count - 1));
    const options = this.matches.map((c, index) => el("li", {
      role: "option", id: `switcher-option-${c.id}`, dataset: { id: c.id },
      "aria-selected": index === this.active ? "true" : "false",
    }, conversationName(c, this.me),
    c.unread_count ? el("span", { class: "badge" }, plural(c.unread_count, "new", "new")) : null));
    const empty = typed && !this.matches.length
      ? el("li", { class: "empty" }, "No conversation by that name.") : null;
    const searching = typed ? el("li", {
      role: "option", id: "switcher-option-search", class: "search-option",
      "aria-selected": this.active === this.matches.length ? "true" : "false",
    }, `Search messages for “${typed}”`) : null;
    this.results.replaceChildren(...options, ...[empty, searching].filter(Boolean));
    const current = this.results.querySelector("[aria-selected=true]");
    if (current) {
      this.input.setAttribute("aria-activedescendant", current.id);
      current.scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  }

  onKey(event) {
    const moves = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in moves) {
      event.preventDefault();
      const count = this.matches.length + (this.input.value.trim() ? 1 : 0);
      if (count) this.draw((this.active + moves[event.key] + count) % count);
    } else if (event.key === "Enter") {
      event.preventDefault();
      const chosen = this.matches[this.active];
      if (chosen) this.go(chosen.id);
      else if (this.input.value.trim()) this.choose(null);
    }
  }

  // A conversation by id, or null: the search.
  choose(id) {
    if (id !== null) {
      this.go(id);
      return;
    }
    const typed = this.input.value.trim();
    this.dialog.close();
    this.searchMessages(typed);
  }

  go(id) {
    this.dialog.close();
    window.location.assign(`${this.conversationUrl}${id}`);
  }
}
