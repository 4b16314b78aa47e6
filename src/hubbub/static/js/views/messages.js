// The open conversation's history as the message store has it: messages and my pending sends,
// day dividers, the "New messages" divider, grouping by sender, scrolling and older pages.

import { ApiError, describe } from "../api.js";
import { touches } from "../dispatch.js";
import {
  avatar, clock, conversationName, dayKey, dayLabel, el, fullTime,
} from "../format.js";
import { announce } from "./announce.js";

const NEAR_EDGE_PX = 80;
const GROUP_WINDOW_MS = 5 * 60 * 1000;

export class MessageList {
  // actions: what the buttons in a message do: edit(node), delete(node), revisions(id),
  // retry(clientId), discard(clientId). onFailed(text): the history could not be loaded.
  constructor({ store, conversations, me, actions, onFailed }) {
    this.store = store;
    this.conversations = conversations;
    this.me = me;
    this.id = store.id;
    this.actions = actions;
    this.onFailed = onFailed;
    this.mayDeleteAny = false;
    this.loading = false;
    this.loadingOlder = false;
    this.scroller = document.getElementById("messages");
    this.list = document.getElementById("message-list");
    this.olderButton = document.getElementById("load-older");
    this.loadingNote = document.getElementById("history-loading");
    this.startNote = document.getElementById("history-start");
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

  async loadOlder() {
    if (!this.store.hasMore || this.loadingOlder) return;
    this.loadingOlder = true;
    try {
      await this.store.loadOlder();
    } catch {
      // Nothing to undo: the button stays and can be tried again.
    } finally {
      this.loadingOlder = false;
    }
  }

  render(change) {
    const redrawAll = touches(change, this.id) && this.permissionsChanged();
    const m = change.messages || {};
    if (!change.messages && !redrawAll) return;
    const before = this.scroller.scrollHeight;
    const stick = this.nearBottom();
    if (m.all || redrawAll) {
      this.renderAll();
    } else {
      for (const clientId of m.pending || []) this.placePending(clientId);
      for (const id of m.ids || []) this.place(this.store.get(id));
      this.decorate();
    }
    // Older messages go above: keep the ones the reader was looking at where they were.
    if (m.older) this.scroller.scrollTop += this.scroller.scrollHeight - before;
    else if (m.first || m.reveal || stick) this.scrollToEnd();
    for (const message of m.fresh || []) {
      if (message.sender.id === this.me.id) continue;
      announce(`${message.sender.username}: ${message.body ?? "message deleted"}`);
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
    const classes = ["message", mine ? "mine" : "", deleted ? "deleted" : "",
      pending ? `pending ${pending.state}` : ""].filter(Boolean).join(" ");
    const node = el("li", {
      class: classes,
      dataset: message.id ? { id: message.id } : { clientId: message.client_id },
    });
    const { sender } = message;
    node.append(el("div", { class: "meta" },
      avatar(sender),
      el("span", { class: "sender" }, sender.display_name || sender.username),
      sender.display_name ? [" ", el("span", { class: "username" }, sender.username)] : null,
      mine ? [" ", el("span", { class: "you" }, "(you)")] : null,
      " ",
      el("time", { datetime: message.created_at, title: fullTime(message.created_at) },
        clock(message.created_at))));
    // The body and its "(edited)" mark share a line: the mark follows the text.
    const content = el("div", { class: "content" });
    if (deleted) {
      content.append(el("p", { class: "body tombstone" }, "message deleted"));
    } else {
      content.append(el("p", { class: "body" }, message.body));
    }
    if (message.edited_at && !deleted) {
      content.append(" ", el("button", {
        type: "button", class: "link-button edited", dataset: { action: "revisions" },
        title: `Edited ${fullTime(message.edited_at)}`,
        "aria-label": "(edited) show earlier versions",
      }, "(edited)"));
    }
    node.append(content);
    if (pending) {
      node.append(pending.state === "failed"
        ? el("p", { class: "status", role: "alert" }, "Not sent. ",
          el("button", { type: "button", class: "link-button", dataset: { action: "retry" } },
            "Retry"),
          " ",
          el("button", { type: "button", class: "link-button", dataset: { action: "discard" } },
            "Discard"))
        : el("p", { class: "status" }, "Sending…"));
    } else if (!deleted) {
      const actions = [];
      if (mine) actions.push(el("button", { type: "button", dataset: { action: "edit" } }, "Edit"));
      if (mine || this.mayDeleteAny) {
        actions.push(el("button", { type: "button", dataset: { action: "delete" } }, "Delete"));
      }
      if (actions.length) {
        node.append(el("div", { class: "actions", role: "group", "aria-label": "Message actions" },
          ...actions));
      }
    }
    return node;
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
      const focused = old.contains(document.activeElement)
        ? document.activeElement.dataset.action : null;
      old.replaceWith(node);
      if (focused) node.querySelector(`[data-action="${focused}"]`)?.focus();
      return;
    }
    let before = null;
    for (const child of this.list.children) {
      if (!child.dataset.id || Number(child.dataset.id) > message.id) {
        before = child;
        break;
      }
    }
    this.list.insertBefore(node, before);
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

  // Day separators, the unread divider and grouping of consecutive messages by one sender.
  decorate() {
    let previous = null;
    for (const node of this.list.children) {
      node.querySelector(":scope > .day-divider")?.remove();
      node.querySelector(":scope > .unread-divider")?.remove();
      const message = node.dataset.id
        ? this.store.get(Number(node.dataset.id))
        : this.store.pendingMessage(node.dataset.clientId);
      if (!message) continue;
      const newDay = !previous || dayKey(previous.created_at) !== dayKey(message.created_at);
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
    this.drawStart();
  }

  // "Loading messages…" until the first page is in; once the oldest message is, a line that
  // says whose conversation begins here (a new one says only that, rather than nothing).
  drawStart() {
    const { loaded, hasMore } = this.store;
    this.loadingNote.hidden = loaded;
    const conversation = this.conversations.get(this.id);
    this.startNote.hidden = !loaded || hasMore || !conversation;
    if (this.startNote.hidden) return;
    const begins = conversation.kind === "group"
      ? `This is the start of ${conversationName(conversation, this.me)}.`
      : `This is the start of your conversation with ${conversationName(conversation, this.me)}.`;
    const empty = this.list.children.length === 0;
    const text = empty ? `${begins} Say hello!` : begins;
    if (this.startNote.textContent !== text) this.startNote.textContent = text;
  }

  // ---- scrolling ---------------------------------------------------------------------------

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_EDGE_PX;
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
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
    });
    this.olderButton.addEventListener("click", () => this.loadOlder());
    this.scroller.addEventListener("scroll", () => {
      if (this.scroller.scrollTop < NEAR_EDGE_PX) this.loadOlder();
    }, { passive: true });
  }
}
