// The emoji picker behind each message's React button: a small popover beside the button with
// the common reactions and a search by name over every emoji (the list comes from the server
// the first time it opens; the common ones work before it arrives). A pick goes to onPick.

import { el } from "../format.js";

// Shown while the search is empty; among equally good matches these come first, in this order
// (so "thumbs" offers 👍 before 👎). Their names are the emoji library's, as /emoji.json has them.
const COMMON = [
  ["👍", "thumbs up"], ["❤️", "red heart"], ["😂", "face with tears of joy"],
  ["🎉", "party popper"], ["😮", "face with open mouth"], ["😢", "crying face"],
  ["🙏", "folded hands"], ["👀", "eyes"], ["🔥", "fire"], ["✅", "check mark button"],
  ["👏", "clapping hands"], ["🚀", "rocket"], ["😊", "smiling face with smiling eyes"],
  ["🤔", "thinking face"], ["😍", "smiling face with heart-eyes"], ["🙌", "raising hands"],
  ["💯", "hundred points"], ["😅", "grinning face with sweat"], ["👎", "thumbs down"],
  ["🤣", "rolling on the floor laughing"], ["😎", "smiling face with sunglasses"],
  ["💪", "flexed biceps"], ["✨", "sparkles"], ["👌", "OK hand"],
];
const COMMON_RANK = new Map(COMMON.map(([emoji], index) => [emoji, index]));
const RESULTS_MAX = 48;
const EDGE_PX = 8; // the least room left between the popover and the window's edges
const GAP_PX = 4; // between the button and the popover

// One emoji as the search reads it: its name first, then its aliases, all in lower case.
function entryOf([emoji, name, aliases]) {
  return {
    emoji, name,
    keys: [name, ...aliases].map((key) => key.toLocaleLowerCase()),
    common: COMMON_RANK.get(emoji) ?? COMMON.length,
  };
}

const COMMON_ENTRIES = COMMON.map(([emoji, name]) => entryOf([emoji, name, []]));

// ":Thumbs_Up" and "thumbs  up" both look for "thumbs up".
function normalise(query) {
  return query.toLocaleLowerCase().replace(/[:_\s]+/gu, " ").trim();
}

// How well an emoji matches, best first: a word of its name starts with what was typed (0), a
// word of an alias does (1), its name holds it (2), an alias does (3); null: no match.
function scoreOf(keys, wanted) {
  let best = null;
  keys.forEach((key, index) => {
    const at = key.indexOf(wanted);
    if (at < 0) return;
    const wordStart = at === 0 || /[\s\-(]/u.test(key[at - 1]);
    const score = (wordStart ? 0 : 2) + (index === 0 ? 0 : 1);
    if (best === null || score < best) best = score;
  });
  return best;
}

function shown(element) {
  return element.getClientRects().length > 0;
}

// What stands in for the React button where it cannot be seen: on a touch screen it sits in
// the "⋯" menu, which closes as the picker opens, so the "⋯" button that opens that menu; else
// the nearest thing around it that takes focus (the message).
function standIn(anchor) {
  if (shown(anchor)) return anchor;
  let box = anchor.parentElement;
  while (box && !shown(box)) box = box.parentElement;
  const opener = box && [...box.children].find((c) => c.matches("[aria-expanded]") && shown(c));
  return opener || anchor.parentElement?.closest("[tabindex]") || null;
}

export class EmojiPicker {
  constructor({ emojiUrl }) {
    this.emojiUrl = emojiUrl;
    this.all = null; // every emoji as entryOf() makes them, once the list is in
    this.loading = false;
    this.loadFailed = false;
    this.anchor = null; // the button the open picker belongs to; null while closed
    this.twin = null; // a selector for that button, should its message be drawn again
    this.onPick = null;
    this.popover = null; // built on the first open, then kept
  }

  // Opens beside the button, or closes when it is already open for it (a second click).
  open(anchor, onPick) {
    if (this.anchor && this.current() === anchor) {
      this.close(true);
      return;
    }
    this.build();
    this.anchor = anchor;
    this.twin = twinSelector(anchor);
    this.onPick = onPick;
    this.input.value = "";
    this.draw();
    this.popover.hidden = false;
    this.place();
    this.resized.observe(anchor.closest("ul, ol") || document.body);
    // Again once the click is done with: the touch "⋯" menu holding the button closes after it.
    requestAnimationFrame(() => {
      if (this.anchor) this.place();
    });
    this.input.focus({ preventScroll: true });
    this.load();
  }

  // restore: focus goes back to the button (after Escape or a pick, not after a click elsewhere,
  // which has put focus where it wanted).
  close(restore = false) {
    if (!this.anchor) return;
    const anchor = this.current();
    this.anchor = null;
    this.onPick = null;
    this.popover.hidden = true;
    this.resized.disconnect();
    if (restore) standIn(anchor)?.focus();
  }

  pick(emoji) {
    const { onPick } = this;
    this.close(true);
    onPick(emoji);
  }

  // The button as it is drawn now: when someone else reacts while the picker is open, the
  // message is drawn again and the button replaced by a twin.
  current() {
    if (this.anchor.isConnected || !this.twin) return this.anchor;
    return document.querySelector(this.twin) || this.anchor;
  }

  // ---- the list -----------------------------------------------------------------------------

  // Every emoji, once per page; until it is in (or should it fail) the common ones are searched.
  async load() {
    if (this.all || this.loading) return;
    this.loading = true;
    try {
      const response = await fetch(this.emojiUrl, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`${response.status}`);
      this.all = (await response.json()).map(entryOf);
      this.loadFailed = false;
    } catch {
      this.loadFailed = true; // tried again on the next open
    } finally {
      this.loading = false;
    }
    if (this.anchor && normalise(this.input.value)) this.draw();
  }

  find(wanted) {
    const found = [];
    (this.all || COMMON_ENTRIES).forEach((entry, order) => {
      const score = scoreOf(entry.keys, wanted);
      if (score !== null) found.push({ entry, score, order });
    });
    found.sort((a, b) => a.score - b.score || a.entry.common - b.entry.common || a.order - b.order);
    return found.slice(0, RESULTS_MAX).map(({ entry }) => entry);
  }

  // ---- drawing ------------------------------------------------------------------------------

  build() {
    if (this.popover) return;
    this.input = el("input", {
      type: "search", class: "picker-search", placeholder: "Search emoji by name",
      "aria-label": "Search emoji by name", autocomplete: "off", spellcheck: "false",
    });
    this.caption = el("p", { class: "picker-caption", id: "emoji-picker-caption" });
    this.grid = el("div", {
      class: "picker-grid", role: "group", "aria-labelledby": "emoji-picker-caption",
    });
    this.status = el("p", { class: "picker-status", role: "status" });
    // The grid and what the search found scroll in a box of one size, so that typing never
    // moves the popover's edges.
    this.popover = el("div", {
      class: "emoji-picker", role: "dialog", "aria-label": "Choose a reaction", hidden: true,
    }, this.input, this.caption, el("div", { class: "picker-body" }, this.grid, this.status));
    document.body.append(this.popover);
    this.wire();
  }

  // The common reactions while the search is empty, else the best matches. Focus in the grid
  // stays on the same emoji if it is still there, else on the first.
  draw() {
    const wanted = normalise(this.input.value);
    const entries = wanted ? this.find(wanted) : COMMON_ENTRIES;
    const focused = this.grid.contains(document.activeElement)
      ? document.activeElement.dataset.emoji : null;
    this.grid.replaceChildren(...entries.map((entry) => el("button", {
      type: "button", class: "picker-emoji", tabindex: "-1",
      dataset: { emoji: entry.emoji }, "aria-label": entry.name, title: entry.name,
    }, entry.emoji)));
    this.caption.textContent = wanted ? "Search results" : "Common reactions";
    this.status.textContent = this.statusText(wanted, entries.length);
    const buttons = this.buttons();
    const again = buttons.find((b) => b.dataset.emoji === focused) || buttons[0];
    if (again) again.tabIndex = 0;
    if (focused) (again || this.input).focus();
  }

  statusText(wanted, count) {
    if (!wanted) return "";
    if (!this.all && this.loadFailed) {
      return "The full list of emoji could not be loaded; these are the common ones.";
    }
    if (count) return "";
    return this.all ? `No emoji named “${this.input.value.trim()}”.` : "Loading emoji…";
  }

  buttons() {
    return [...this.grid.children];
  }

  // Below the button and flush with its right edge if that fits, else above it; always inside
  // the visible part of the window (on a phone, above its keyboard too).
  place() {
    const target = standIn(this.current()) || this.current();
    const box = target.getBoundingClientRect();
    const view = window.visualViewport;
    const top0 = view ? view.offsetTop : 0;
    const left0 = view ? view.offsetLeft : 0;
    const height = view ? view.height : window.innerHeight;
    const width = view ? view.width : document.documentElement.clientWidth;
    const size = this.popover.getBoundingClientRect();
    let top = box.bottom + GAP_PX;
    if (top + size.height > top0 + height - EDGE_PX && box.top - GAP_PX - size.height >= top0) {
      top = box.top - GAP_PX - size.height;
    }
    top = Math.max(top0 + EDGE_PX, Math.min(top, top0 + height - EDGE_PX - size.height));
    let left = box.right - size.width;
    left = Math.max(left0 + EDGE_PX, Math.min(left, left0 + width - EDGE_PX - size.width));
    this.popover.style.top = `${Math.round(top)}px`;
    this.popover.style.left = `${Math.round(left)}px`;
  }

  // ---- the keyboard, the pointer ------------------------------------------------------------

  wire() {
    this.input.addEventListener("input", () => this.draw());
    this.popover.addEventListener("keydown", (event) => this.onKey(event));
    this.grid.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-emoji]");
      if (button) this.pick(button.dataset.emoji);
    });
    // The emoji last focused is the grid's Tab stop, whether the keyboard or a click put it there.
    this.grid.addEventListener("focusin", (event) => this.rove(event.target));
    // A click or tap anywhere else closes it (the button itself toggles it, in open()).
    document.addEventListener("click", (event) => {
      if (!this.anchor || this.popover.contains(event.target)) return;
      if (!this.current().contains(event.target)) this.close();
    });
    this.popover.addEventListener("focusout", (event) => {
      if (event.relatedTarget && !this.popover.contains(event.relatedTarget)) this.close();
    });
    const follow = () => {
      if (this.anchor) this.place();
    };
    window.addEventListener("resize", follow);
    window.visualViewport?.addEventListener("resize", follow);
    document.addEventListener("scroll", follow, { capture: true, passive: true });
    // The list around the button can grow or shrink without a scroll (a short history sits at
    // the bottom of its box, so a reaction arriving below moves the button up).
    this.resized = new ResizeObserver(follow);
  }

  rove(button) {
    if (!button.dataset.emoji) return;
    for (const other of this.buttons()) {
      const here = other === button;
      if (other.tabIndex !== (here ? 0 : -1)) other.tabIndex = here ? 0 : -1;
    }
  }

  onKey(event) {
    if (event.key === "Escape") {
      event.preventDefault(); // a search box would only empty itself
      event.stopPropagation();
      this.close(true);
    } else if (event.key === "Tab") {
      this.onTab(event);
    } else if (event.target === this.input) {
      this.onSearchKey(event);
    } else if (event.target.dataset.emoji) {
      this.onGridKey(event);
    }
  }

  // Tab goes between the search and the grid (one stop, its focused emoji), round and round
  // until the picker closes: leaving it open behind focus would leave it in the way.
  onTab(event) {
    event.preventDefault();
    const stops = [this.input, this.grid.querySelector("[tabindex='0']")].filter(Boolean);
    const at = stops.indexOf(document.activeElement);
    stops[(at + (event.shiftKey ? stops.length - 1 : 1)) % stops.length].focus();
  }

  // Down goes into the grid; Enter takes the best match at once.
  onSearchKey(event) {
    const first = this.grid.querySelector("[tabindex='0']");
    if (event.key === "ArrowDown" && first) {
      event.preventDefault();
      first.focus();
    } else if (event.key === "Enter") {
      event.preventDefault();
      const best = this.buttons()[0];
      if (best) this.pick(best.dataset.emoji);
    }
  }

  // Arrows move by one, and up and down by a row; up from the top row goes back to the search.
  // Enter and Space are the buttons' own. Typing goes on with the search.
  onGridKey(event) {
    const buttons = this.buttons();
    const at = buttons.indexOf(event.target);
    const columns = this.columns(buttons);
    const last = buttons.length - 1;
    let to = {
      ArrowLeft: at - 1, ArrowRight: at + 1, ArrowUp: at - columns, ArrowDown: at + columns,
      Home: 0, End: last,
    }[event.key];
    if (to === undefined) {
      const typing = (event.key.length === 1 && event.key !== " ") || event.key === "Backspace";
      if (typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
        this.input.focus(); // the key goes on to the search box
      }
      return;
    }
    event.preventDefault();
    if (to < 0 && event.key === "ArrowUp") {
      this.input.focus();
      return;
    }
    // Down from the row above a short last row lands on its last emoji; from the last row, nowhere.
    if (to > last) to = Math.floor(at / columns) === Math.floor(last / columns) ? at : last;
    buttons[Math.max(0, to)].focus();
  }

  // How many emoji a row holds as drawn (the CSS decides: fewer, larger ones on a touch screen).
  columns(buttons) {
    const top = buttons[0]?.offsetTop;
    const next = buttons.findIndex((button) => button.offsetTop !== top);
    return next > 0 ? next : Math.max(buttons.length, 1);
  }
}

// A selector for the same button in a new drawing of its message: the nearest element with a
// data-id around it, and the button's data-action.
function twinSelector(anchor) {
  const holder = anchor.parentElement?.closest("[data-id]");
  const action = anchor.dataset.action;
  if (!holder || !action) return null;
  return `${holder.localName}[data-id="${CSS.escape(holder.dataset.id)}"] `
    + `[data-action="${CSS.escape(action)}"]`;
}
