// The open conversation's history as the message store has it: messages and my pending sends,
// the group's activity between them, day dividers, the "New messages" divider, grouping by
// sender, scrolling, and older pages (and newer ones below a window far back).

import { ApiError, describe } from "../api.js";
import { touches } from "../dispatch.js";
import {
  activityText, avatar, clock, conversationName, dayKey, dayLabel, el, fullTime, nameOf,
  parseRendered, plainText, plural, shortClock,
} from "../format.js";
import { announce } from "./announce.js";
import { attachmentsNode } from "./attachments.js";
import { reactionRow } from "./reactions.js";

const NEAR_EDGE_PX = 80;
const GROUP_WINDOW_MS = 5 * 60 * 1000;
const UNREAD_MARGIN_PX = 8; // room above the "New messages" divider when a conversation opens
const SEEN_PX = 32; // how much of a message must show before it counts as seen

export class MessageList {
  // actions: what the buttons in a message do: edit(node), delete(node), revisions(id),
  // retry(clientId), discard(clientId), reply(message), pick(message, button) to choose a
  // reaction, toggle(message, emoji). onFailed(text): the history could not be loaded.
  constructor({ store, conversations, me, actions, onFailed }) {
    this.store = store;
    this.conversations = conversations;
    this.me = me;
    this.id = store.id;
    this.actions = actions;
    this.onFailed = onFailed;
    this.mayDeleteAny = false;
    this.activeKey = null; // the message that is the history's Tab stop; null: the newest
    this.noteNodes = new Map(); // activity entry id -> its line, drawn once
    this.loading = false;
    this.loadingSides = new Set(); // "older", "newer": the pages on their way
    this.scroller = document.getElementById("messages");
    this.list = document.getElementById("message-list");
    this.olderButton = document.getElementById("load-older");
    this.newerButton = document.getElementById("load-newer");
    this.loadingNote = document.getElementById("history-loading");
    this.startNote = document.getElementById("history-start");
    this.jumpBar = document.getElementById("jump-unread");
    this.wire();
  }

  // The conversation (for where I stopped reading) and its newest page, side by side.
  async load() {
    if (this.store.loaded || this.loading) return;
    this.loading = true;
    try {
      const [conversation, newest] = await Promise.all([
        this.conversations.refresh(this.id), this.store.fetchNewest()]);
      if (conversation) await this.store.load(newest, conversation.last_read_message_id || 0);
    } catch (error) {
      // A 404 means I am not in it: the conversation store hears the same and says so.
      if (!(error instanceof ApiError && error.status === 404)) this.onFailed(describe(error));
    } finally {
      this.loading = false;
    }
  }

  loadOlder() {
    return this.loadPage("older");
  }

  loadNewer() {
    return this.loadPage("newer");
  }

  // A page above (older) or, below a window far back, below (newer); one of each at a time.
  async loadPage(side) {
    const more = side === "older" ? this.store.hasMore : this.store.hasNewer;
    if (!more || this.loadingSides.has(side)) return;
    this.loadingSides.add(side);
    try {
      await (side === "older" ? this.store.loadOlder() : this.store.loadNewer());
    } catch {
      // Nothing to undo: the button stays and can be tried again.
    } finally {
      this.loadingSides.delete(side);
    }
  }

  render(change) {
    const redrawAll = touches(change, this.id) && this.permissionsChanged();
    const m = change.messages || {};
    if (!change.messages && !redrawAll) return;
    const before = this.scroller.scrollHeight;
    // The end of the history keeps to the bottom; the end of a window far back does not, and
    // a page added below it stays below.
    const stick = this.nearBottom() && !this.store.hasNewer && !m.newer;
    if (m.all || redrawAll) {
      this.renderAll();
    } else {
      for (const clientId of m.pending || []) this.placePending(clientId);
      for (const id of m.ids || []) this.place(this.store.get(id));
      this.decorate();
    }
    this.drawJump();
    // Older messages go above: keep the ones the reader was looking at where they were.
    if (m.older) this.scroller.scrollTop += this.scroller.scrollHeight - before;
    else if (m.first || m.jumped) this.openAtUnread();
    else if (m.reveal || stick) this.scrollToEnd();
    for (const message of m.fresh || []) {
      if (message.sender.id === this.me.id) continue;
      announce(`${nameOf(message.sender)}: ${plainText(message)}`);
    }
    for (const entry of m.notes || []) {
      if (entry.actor.id !== this.me.id) announce(activityText(entry, this.me));
    }
  }

  // Which Delete buttons show depends on whether I may delete other people's messages.
  permissionsChanged() {
    const conversation = this.conversations.get(this.id);
    if (!conversation) return false;
    const may = Boolean(conversation.permissions?.delete_any_message);
    if (may === this.mayDeleteAny) return false;
    this.mayDeleteAny = may;
    return true;
  }

  // ---- drawing -----------------------------------------------------------------------------

  renderMessage(message, pending) {
    const mine = message.sender.id === this.me.id;
    const deleted = Boolean(message.deleted_at);
    const namesMe = Boolean(message.mentions?.includes(this.me.id));
    const classes = ["message", mine ? "mine" : "", deleted ? "deleted" : "",
      namesMe ? "mentions-me" : "", pending ? `pending ${pending.state}` : ""]
      .filter(Boolean).join(" ");
    const node = el("li", {
      class: classes,
      dataset: message.id ? { id: message.id } : { clientId: message.client_id },
    });
    const { sender } = message;
    node.append(el("div", { class: "meta" },
      avatar(sender),
      el("span", { class: "sender" }, nameOf(sender)),
      sender.display_name ? [" ", el("span", { class: "username" }, sender.username)] : null,
      mine ? [" ", el("span", { class: "you" }, "(you)")] : null,
      " ",
      el("time", { datetime: message.created_at, title: fullTime(message.created_at) },
        el("span", { class: "clock" }, clock(message.created_at)),
        el("span", { class: "short-clock" }, shortClock(message.created_at)))));
    if (message.reply_to && !deleted) node.append(this.quoteNode(message.reply_to));
    // The body and its "(edited)" mark share a line: the mark follows the text.
    const content = el("div", { class: "content" });
    let body;
    if (deleted) {
      body = el("p", { class: "body tombstone" }, "message deleted");
    } else if (message.html === "" || (message.body === "" && message.attachments?.length)) {
      body = null; // files alone, no words
    } else if (typeof message.html === "string") {
      // The one place the page inserts markup that came from people.
      body = el("div", { class: "body rich" }, parseRendered(message.html));
      for (const mention of body.querySelectorAll(`.mention[data-user-id="${this.me.id}"]`)) {
        mention.classList.add("me");
      }
    } else {
      body = el("p", { class: "body" }, message.body); // a send on its way: the text as typed
    }
    if (body) content.append(body);
    if (!deleted) content.append(attachmentsNode(message.attachments) || "");
    if (message.edited_at && !deleted) {
      content.append(" ", el("button", {
        type: "button", class: "link-button edited", dataset: { action: "revisions" },
        title: `Edited ${fullTime(message.edited_at)}`,
        "aria-label": "(edited) show earlier versions",
      }, "(edited)"));
    }
    node.append(content);
    if (pending) {
      // Only a refusal waits for a click; anything else goes by itself once it can.
      node.append(pending.state === "failed"
        ? el("p", { class: "status", role: "alert" }, "Not sent. ",
          pending.reason ? `${pending.reason} ` : "",
          el("button", { type: "button", class: "link-button", dataset: { action: "retry" } },
            "Retry"),
          " ",
          el("button", { type: "button", class: "link-button", dataset: { action: "discard" } },
            "Discard"))
        : el("p", { class: "status" },
          pending.state === "waiting" ? "Waiting for connection…" : "Sending…"));
    } else if (!deleted) {
      const actions = [
        el("button", { type: "button", dataset: { action: "react" }, "aria-haspopup": "dialog" },
          "React"),
        el("button", { type: "button", dataset: { action: "reply" } }, "Reply"),
      ];
      if (mine) actions.push(el("button", { type: "button", dataset: { action: "edit" } }, "Edit"));
      if (mine || this.mayDeleteAny) {
        actions.push(el("button", { type: "button", dataset: { action: "delete" } }, "Delete"));
      }
      if (actions.length) {
        // On a touch screen the actions wait behind "⋯", in a menu that opens below it: a tap
        // on the text moves nothing, and Delete is never where that tap lands (hubbub.css).
        content.append(
          el("button", {
            type: "button", class: "more", dataset: { action: "more" },
            "aria-label": "Message actions", "aria-expanded": "false",
          }, "⋯"),
          el("div", { class: "actions", role: "group", "aria-label": "Message actions" },
            ...actions));
      }
    }
    if (!deleted && !pending) {
      const row = reactionRow(message, this.me, (id) => this.nameOfMember(id));
      if (row) node.append(row);
    }
    return node;
  }

  // The message a reply answers, above its text: a click goes to it.
  quoteNode(reply) {
    const gone = reply.excerpt === null;
    const words = gone ? "message deleted" : reply.excerpt;
    return el("button", {
      type: "button", class: `quote${gone ? " gone" : ""}`,
      dataset: { action: "quote", quoteId: reply.id },
      "aria-label": `In reply to ${nameOf(reply.sender)}: ${words}. Show that message`,
    },
    el("span", { class: "quote-sender" }, nameOf(reply.sender)),
    " ",
    el("span", { class: "quote-text" }, words));
  }

  // A member's name by id, for who reacted; someone who left is "someone".
  nameOfMember(id) {
    if (id === this.me.id) return "you";
    const member = this.conversations.get(this.id)?.members.find((m) => m.user.id === id);
    return member ? nameOf(member.user) : "someone";
  }

  // Goes to a message, loading the history around it if it is not loaded; marks it for a
  // moment.
  async show(id) {
    try {
      await this.store.reach(id);
    } catch {
      return; // the history could not be loaded; the quote can be clicked again
    }
    const node = this.nodeFor(id);
    if (!node) {
      announce("That message is no longer in the history.");
      return;
    }
    node.scrollIntoView({ block: "center" });
    this.activate(node);
    node.focus({ preventScroll: true });
    node.classList.remove("target");
    void node.offsetWidth; // start the highlight again when it is shown twice
    node.classList.add("target");
  }

  // One line of the group's activity, between the messages it came between; drawn once; an
  // entry never changes.
  noteNode(entry) {
    let node = this.noteNodes.get(entry.id);
    if (!node) {
      node = el("li", { class: "activity", dataset: { noteId: entry.id } },
        el("span", { class: "activity-text" }, activityText(entry, this.me)),
        " ",
        el("time", { datetime: entry.created_at, title: fullTime(entry.created_at) },
          clock(entry.created_at)));
      this.noteNodes.set(entry.id, node);
    }
    return node;
  }

  // The activity goes after the newest message it follows; what came before the first loaded
  // message waits until the start of the history is loaded (the store fetches only that).
  placeNotes() {
    // Each line goes before the first message newer than what it follows (or a send on its
    // way, or the end); lines in the same gap keep their order. Lines already in place stay.
    const messages = this.messageNodes();
    const entries = this.store.sortedNotes();
    let at = 0;
    const before = entries.map((entry) => {
      while (at < messages.length && messages[at].dataset.id
        && Number(messages[at].dataset.id) <= entry.after_message_id) at += 1;
      return messages[at] || null;
    });
    for (let i = entries.length - 1; i >= 0; i -= 1) {
      const node = this.noteNode(entries[i]);
      const next = before[i + 1] === before[i] && i + 1 < entries.length
        ? this.noteNode(entries[i + 1]) : before[i];
      if (node.parentNode !== this.list || node.nextSibling !== next) {
        this.list.insertBefore(node, next);
      }
    }
  }

  // Draws every message again, in id order, pending ones last; then days and grouping.
  // A message being edited keeps its editor (the history may finish loading after the
  // person has already pressed Up), and whatever had focus gets it back.
  renderAll() {
    const editing = new Map(
      [...this.list.querySelectorAll("li.message.editing")].map((n) => [n.dataset.id, n]));
    const focused = this.list.contains(document.activeElement) ? document.activeElement : null;
    const nodes = this.store.sorted().map((message) => {
      const kept = editing.get(String(message.id));
      return kept && !message.deleted_at ? kept : this.renderMessage(message, null);
    });
    for (const [clientId, pending] of this.store.pending) {
      nodes.push(this.renderMessage(this.store.pendingMessage(clientId), pending));
    }
    this.list.replaceChildren(...nodes);
    if (focused?.isConnected) focused.focus();
    this.decorate();
  }

  // Draws one message in its place by id, leaving the others (and any focus in them) alone.
  // An open editor stays open (the echo of my own message must not throw my edit away)
  // unless the message was deleted; a focused button is focused again in the new drawing.
  place(message) {
    const old = this.nodeFor(message.id);
    if (old?.classList.contains("editing") && !message.deleted_at) return;
    const node = this.renderMessage(message, null);
    if (old) {
      const focused = old.contains(document.activeElement) ? document.activeElement : null;
      old.replaceWith(node);
      if (focused) this.refocus(node, focused);
      return;
    }
    let before = null;
    for (const child of this.list.querySelectorAll(":scope > li.message")) {
      if (!child.dataset.id || Number(child.dataset.id) > message.id) {
        before = child;
        break;
      }
    }
    this.list.insertBefore(node, before);
  }

  // Focus goes back to the same button in the new drawing (the same emoji's chip), or to the
  // message when that button is gone (my reaction was the chip's last).
  refocus(node, focused) {
    const { action, emoji } = focused.dataset;
    const same = action && [...node.querySelectorAll(`[data-action="${action}"]`)]
      .find((button) => emoji === undefined || button.dataset.emoji === emoji);
    if (same) same.focus();
    else node.focus();
  }

  placePending(clientId) {
    const old = this.list.querySelector(`li[data-client-id="${clientId}"]`);
    const pending = this.store.pending.get(clientId);
    if (!pending) {
      old?.remove();
      return;
    }
    const node = this.renderMessage(this.store.pendingMessage(clientId), pending);
    if (old) old.replaceWith(node);
    else this.list.append(node);
  }

  nodeFor(id) {
    return this.list.querySelector(`li[data-id="${id}"]`);
  }

  // The activity in its places, day separators, the unread divider and grouping of
  // consecutive messages by one sender (a line of activity between them starts a new group).
  decorate() {
    this.placeNotes();
    let previous = null;
    let lastDay = null;
    for (const node of this.list.children) {
      node.querySelector(":scope > .day-divider")?.remove();
      node.querySelector(":scope > .unread-divider")?.remove();
      if (node.classList.contains("activity")) {
        const entry = this.store.notes.get(Number(node.dataset.noteId));
        if (lastDay !== dayKey(entry.created_at)) {
          node.prepend(el("div", { class: "day-divider", role: "separator" },
            el("span", {}, dayLabel(entry.created_at))));
        }
        lastDay = dayKey(entry.created_at);
        previous = null;
        continue;
      }
      const message = node.dataset.id
        ? this.store.get(Number(node.dataset.id))
        : this.store.pendingMessage(node.dataset.clientId);
      if (!message) continue;
      const newDay = lastDay !== dayKey(message.created_at);
      lastDay = dayKey(message.created_at);
      const unreadHere = message.id !== null && message.id === this.store.firstUnreadId;
      if (unreadHere) {
        node.prepend(el("div", { class: "unread-divider", role: "separator" },
          el("span", {}, "New messages")));
      }
      if (newDay) {
        node.prepend(el("div", { class: "day-divider", role: "separator" },
          el("span", {}, dayLabel(message.created_at))));
      }
      const continued = previous && !newDay && !unreadHere
        && previous.sender.id === message.sender.id
        && new Date(message.created_at) - new Date(previous.created_at) < GROUP_WINDOW_MS;
      node.classList.toggle("continued", Boolean(continued));
      previous = message;
    }
    this.olderButton.hidden = !this.store.hasMore;
    this.newerButton.hidden = !this.store.hasNewer;
    this.drawStart();
    this.rove();
  }

  // "Loading messages…" until the first page is in; once the oldest message is, a line that
  // says whose conversation begins here (a new one says only that, rather than nothing).
  drawStart() {
    const { loaded, hasMore } = this.store;
    this.loadingNote.hidden = loaded;
    const conversation = this.conversations.get(this.id);
    this.startNote.hidden = !loaded || hasMore || !conversation;
    if (this.startNote.hidden) return;
    const name = conversationName(conversation, this.me);
    const begins = conversation.kind === "group"
      ? `This is the start of ${name}.`
      : `This is the start of your conversation with ${name}.`;
    const empty = !this.list.querySelector(":scope > li.message");
    const text = empty ? `${begins} Say hello!` : begins;
    if (this.startNote.textContent !== text) this.startNote.textContent = text;
  }

  // ---- the keyboard and the touch menu ------------------------------------------------------
  // The history is one Tab stop: the active message (the newest, until another is chosen) and
  // its own buttons. Up and Down move between messages, Home and End to either end; the
  // buttons of every other message stay out of the Tab order (the pointer still reaches them).

  keyOf(node) {
    return node.dataset.id ? `id:${node.dataset.id}` : `client:${node.dataset.clientId}`;
  }

  activate(node) {
    this.activeKey = this.keyOf(node);
    this.rove();
  }

  messageNodes() {
    return [...this.list.querySelectorAll(":scope > li.message")];
  }

  rove() {
    const nodes = this.messageNodes();
    let active = nodes.find((node) => this.keyOf(node) === this.activeKey);
    if (!active) active = nodes[nodes.length - 1];
    for (const node of nodes) {
      const here = node === active;
      if (node.tabIndex !== (here ? 0 : -1)) node.tabIndex = here ? 0 : -1;
      for (const button of node.querySelectorAll("button")) {
        // A refusal's Retry and Discard stay reachable wherever they are.
        const keep = here || button.closest(".status");
        if (button.tabIndex !== (keep ? 0 : -1)) button.tabIndex = keep ? 0 : -1;
      }
    }
  }

  onKey(event) {
    if (event.key === "Escape" && this.list.querySelector(".menu-open")) {
      const open = this.list.querySelector(".menu-open");
      this.closeMenu();
      open.querySelector(".more")?.focus();
      return;
    }
    const node = event.target;
    if (!(node instanceof HTMLLIElement) || !node.classList.contains("message")) return;
    const nodes = this.messageNodes();
    const at = nodes.indexOf(node);
    const to = { ArrowUp: at - 1, ArrowDown: at + 1, Home: 0, End: nodes.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    const next = nodes[Math.max(0, Math.min(to, nodes.length - 1))];
    if (!next) return;
    this.activate(next);
    next.focus();
    if (to < 0 && this.store.hasMore) this.loadOlder(); // Up at the top asks for more
    if (to >= nodes.length && this.store.hasNewer) this.loadNewer(); // and Down at the bottom
  }

  toggleMenu(node) {
    const opening = !node.classList.contains("menu-open");
    this.closeMenu();
    if (!opening) return;
    node.classList.add("menu-open");
    const more = node.querySelector(".more");
    more.setAttribute("aria-expanded", "true");
    // Below the button if it fits in the history, else above it (Edit still nearest).
    const menu = node.querySelector(".actions");
    const room = this.scroller.getBoundingClientRect().bottom - more.getBoundingClientRect().bottom;
    node.classList.toggle("menu-up", menu.offsetHeight > room);
  }

  closeMenu() {
    for (const node of this.list.querySelectorAll(".menu-open")) {
      node.classList.remove("menu-open", "menu-up");
      node.querySelector(".more")?.setAttribute("aria-expanded", "false");
    }
  }

  // ---- scrolling ---------------------------------------------------------------------------

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_EDGE_PX;
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  // Reading starts where it stopped: the "New messages" divider just below the top of the
  // history, or the end when everything is read (or the divider is already in view from there).
  openAtUnread() {
    const divider = this.list.querySelector(".unread-divider");
    if (!divider) {
      this.scrollToEnd();
      return;
    }
    const offset = divider.getBoundingClientRect().top - this.scroller.getBoundingClientRect().top;
    this.scroller.scrollTop += offset - UNREAD_MARGIN_PX;
  }

  // "70 new messages — Jump" while the first unread message is older than what is loaded.
  drawJump() {
    const beyond = this.store.loaded && this.store.unreadBeyond;
    this.jumpBar.hidden = !beyond;
    if (!beyond) return;
    const count = this.conversations.get(this.id)?.unread_count || 0;
    const text = `${plural(count, "new message", "new messages")} — Jump to the first`;
    if (this.jumpBar.textContent !== text) this.jumpBar.textContent = text;
  }

  async jump() {
    this.jumpBar.disabled = true;
    try {
      await this.store.jumpToFirstUnread();
    } catch {
      // The bar stays and can be tried again.
    } finally {
      this.jumpBar.disabled = false;
    }
  }

  // The newest message that is on screen now: its top and a line of it inside the history.
  lastSeenId() {
    const view = this.scroller.getBoundingClientRect();
    const nodes = this.list.querySelectorAll("li.message[data-id]");
    for (let i = nodes.length - 1; i >= 0; i -= 1) {
      const box = nodes[i].getBoundingClientRect();
      if (box.top < view.top) break; // everything above is older, and off screen at the top
      if (box.top + Math.min(box.height, SEEN_PX) <= view.bottom) return Number(nodes[i].dataset.id);
    }
    // A message taller than the history, cut at both ends, is being read too.
    for (let i = nodes.length - 1; i >= 0; i -= 1) {
      const box = nodes[i].getBoundingClientRect();
      if (box.top < view.bottom && box.bottom > view.top) return Number(nodes[i].dataset.id);
    }
    return 0;
  }

  wire() {
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const node = button.closest("li.message");
      const action = button.dataset.action;
      if (action === "edit") this.actions.edit(node);
      else if (action === "delete") this.actions.delete(node);
      else if (action === "revisions") this.actions.revisions(Number(node.dataset.id));
      else if (action === "retry") this.actions.retry(node.dataset.clientId);
      else if (action === "discard") this.actions.discard(node.dataset.clientId);
      else if (action === "reply") this.actions.reply(this.store.get(Number(node.dataset.id)));
      else if (action === "quote") this.show(Number(button.dataset.quoteId));
      else if (action === "react") {
        this.actions.pick(this.store.get(Number(node.dataset.id)), button);
      } else if (action === "toggle-reaction") {
        this.actions.toggle(this.store.get(Number(node.dataset.id)), button.dataset.emoji);
      }
      if (action !== "more") this.closeMenu();
      else this.toggleMenu(node);
    });
    // A tap or click anywhere else closes an open menu; Escape does too.
    document.addEventListener("click", (event) => {
      if (!event.target.closest?.("li.message.menu-open")) this.closeMenu();
    });
    this.list.addEventListener("keydown", (event) => this.onKey(event));
    this.list.addEventListener("focusin", (event) => {
      const node = event.target.closest("li.message");
      if (node && node.tabIndex !== 0) this.activate(node);
    });
    this.olderButton.addEventListener("click", () => this.loadOlder());
    this.newerButton.addEventListener("click", () => this.loadNewer());
    this.jumpBar.addEventListener("click", () => this.jump());
    this.scroller.addEventListener("scroll", () => {
      if (this.scroller.scrollTop < NEAR_EDGE_PX) this.loadOlder();
      else if (this.nearBottom()) this.loadNewer();
    }, { passive: true });
  }
}
