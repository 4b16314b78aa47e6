// @ autocomplete in the composer: while the caret ends "@" and the start of a name, the
// conversation's members (and @all in a group) to choose from by keyboard, click or tap.

import { avatar, el, nameOf, plural } from "./format.js";
import { announce } from "./views/announce.js";

const SHOWN = 8; // options at once; typing more narrows them
const EVERYONE = "all"; // services/render.py EVERYONE
// "@" and what a username may hold, up to the caret, where the server reads a mention
// (services/render.py MENTION): not after a letter, digit, "_", "@", "." or "-", so that
// "ana@example.com" offers nobody.
const FRAGMENT = /(?<![\p{L}\p{N}_@.-])@([A-Za-z0-9._-]*)$/u;
const NAME_CHARS = /^[A-Za-z0-9._-]*/u;
const byName = new Intl.Collator(undefined, { sensitivity: "base" });

export class MentionAutocomplete {
  // conversation(): the open conversation from the store, or null before it has loaded.
  constructor({ input, list, me, conversation }) {
    this.input = input;
    this.list = list;
    this.me = me;
    this.conversation = conversation;
    this.options = []; // {username, name, user}: what the list shows, best first
    this.active = 0;
    this.fragment = null; // {start, end, query} of the "@ca" the list is for, while open
    this.dismissed = null; // the start of the fragment Escape closed, until something is typed
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    this.wire();
  }

  isOpen() {
    return this.fragment !== null;
  }

  // The "@name" the caret is at the end of, or null.
  fragmentAtCaret() {
    const { value, selectionStart: caret, selectionEnd } = this.input;
    if (caret !== selectionEnd || document.activeElement !== this.input) return null;
    const found = FRAGMENT.exec(value.slice(0, caret));
    if (!found) return null;
    return { start: caret - found[0].length, end: caret, query: found[1].toLowerCase() };
  }

  // Members other than me whose username or display name starts with the query: usernames
  // first, then display names, then a later word of one; @all last, in a group only.
  matches(query) {
    const conversation = this.conversation();
    if (!conversation) return [];
    const found = [];
    for (const { user } of conversation.members) {
      const rank = user.id === this.me.id ? null : rankOf(user, query);
      if (rank !== null) found.push({ rank, user });
    }
    found.sort((a, b) => a.rank - b.rank || byName.compare(nameOf(a.user), nameOf(b.user)));
    // A member called "all" is who the server names by @all.
    const everyone = conversation.kind === "group" && EVERYONE.startsWith(query)
      && !conversation.members.some((m) => m.user.username === EVERYONE);
    const options = found.slice(0, everyone ? SHOWN - 1 : SHOWN)
      .map(({ user }) => ({ username: user.username, name: nameOf(user), user }));
    if (everyone) options.push({ username: EVERYONE, name: "everyone in this group", user: null });
    return options;
  }

  // Opens, narrows or closes the list for where the caret is now.
  update() {
    const fragment = this.fragmentAtCaret();
    if (fragment?.start !== this.dismissed) this.dismissed = null;
    if (!fragment || this.dismissed !== null) {
      this.close();
      return;
    }
    if (this.fragment?.start === fragment.start && this.fragment.query === fragment.query) {
      return; // the caret's move that follows typing: nothing new to show
    }
    const options = this.matches(fragment.query);
    if (!options.length) {
      this.close();
      return;
    }
    const kept = options.findIndex((o) => o.username === this.options[this.active]?.username);
    const counted = options.length !== this.options.length || !this.isOpen();
    this.fragment = fragment;
    this.options = options;
    this.active = Math.max(0, kept);
    this.draw();
    if (counted) {
      announce(`${plural(options.length, "suggestion", "suggestions")}: Up and Down choose, `
        + "Enter inserts");
    }
  }

  draw() {
    this.list.replaceChildren(...this.options.map((option, index) => el("li", {
      role: "option", id: `mention-option-${index}`, dataset: { index },
    },
    option.user ? avatar(option.user)
      : el("span", { class: "avatar everyone", "aria-hidden": "true" }, "@"),
    el("span", { class: "mention-name" }, option.name), " ",
    el("span", { class: "mention-handle" }, `@${option.username}`))));
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.mark();
  }

  mark() {
    for (const [index, node] of [...this.list.children].entries()) {
      node.setAttribute("aria-selected", index === this.active ? "true" : "false");
    }
    const node = this.list.children[this.active];
    this.input.setAttribute("aria-activedescendant", node.id);
    node.scrollIntoView({ block: "nearest" });
  }

  move(step) {
    const count = this.options.length;
    this.active = (this.active + step + count) % count;
    this.mark();
  }

  close() {
    if (!this.isOpen()) return;
    this.fragment = null;
    this.options = [];
    this.list.hidden = true;
    this.list.replaceChildren();
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  // "@username " in place of the fragment and of the rest of a name the caret was inside,
  // taking one space already after it rather than adding a second.
  choose(index) {
    const { username } = this.options[index];
    const { start, end } = this.fragment;
    const value = this.input.value;
    let to = end + NAME_CHARS.exec(value.slice(end))[0].length;
    if (value[to] === " ") to += 1;
    this.close();
    this.input.setRangeText(`@${username} `, start, to, "end");
    // As typing does, so that whatever follows the text (the typing notice) hears of it.
    this.input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // Registered before the composer's own keydown listener: a key the open list takes is kept
  // from it (Enter would send, Up would edit my last message, Escape is the list's).
  onKey(event) {
    if (!this.isOpen() || event.isComposing) return;
    const plain = !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey;
    if (event.key === "ArrowDown" && plain) this.move(1);
    else if (event.key === "ArrowUp" && plain) this.move(-1);
    else if ((event.key === "Enter" || event.key === "Tab") && plain) this.choose(this.active);
    else if (event.key === "Escape") {
      this.dismissed = this.fragment.start;
      this.close();
    } else return;
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  wire() {
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.input.addEventListener("input", () => {
      this.dismissed = null;
      this.update();
    });
    // The caret moved (arrows, a click, a tap): in another fragment, or out of any.
    this.input.addEventListener("selectionchange", () => this.update());
    this.input.addEventListener("blur", () => this.close());
    this.input.form?.addEventListener("submit", () => this.close());
    // A press on an option must not take the focus from the box (its blur would close the
    // list before the click); on a touch screen this keeps the keyboard up too.
    this.list.addEventListener("mousedown", (event) => event.preventDefault());
    this.list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option && this.isOpen()) this.choose(Number(option.dataset.index));
    });
  }
}

// 0: the username starts with the query; 1: the display name does; 2: a later word of it.
function rankOf(user, query) {
  if (user.username.startsWith(query)) return 0;
  const name = (user.display_name || "").toLocaleLowerCase();
  if (name.startsWith(query)) return 1;
  if (name.split(/\s+/u).some((word) => word.startsWith(query))) return 2;
  return null;
}
