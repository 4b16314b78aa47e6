// One conversation: its history, the composer, editing and deleting, typing and live updates.

import { ApiError, describe, path } from "./api.js";
import { clock, conversationName, dayKey, dayLabel, el, fullTime, otherMember } from "./format.js";

const PAGE = 50;
const UNREAD_PAGES = 4; // how far back the first view looks for the first unread message
const NEAR_EDGE_PX = 80;
const GROUP_WINDOW_MS = 5 * 60 * 1000;
const TYPING_EVERY_MS = 3000;

function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Chat {
  constructor(app, { onConversation, openSettings, confirmDelete, showRevisions }) {
    this.app = app;
    this.id = app.openId;
    this.onConversation = onConversation;
    this.openSettings = openSettings;
    this.confirmDelete = confirmDelete;
    this.showRevisions = showRevisions;
    this.conversation = null;
    this.items = new Map(); // message id -> message
    this.pending = new Map(); // client id -> {body, state}
    this.hasMore = false;
    this.loaded = false;
    this.queued = [];
    this.readSent = 0;
    this.firstUnreadId = null;
    this.member = true;
    this.typers = new Map(); // user id -> {username, until}
    this.lastTypingSent = 0;

    this.scroller = document.getElementById("messages");
    this.list = document.getElementById("message-list");
    this.olderButton = document.getElementById("load-older");
    this.input = document.getElementById("composer-input");
    this.form = document.getElementById("composer");
    this.typingLine = document.getElementById("typing");
    this.announcer = document.getElementById("announcer");
    this.title = document.getElementById("conversation-title");
    this.subtitle = document.getElementById("conversation-subtitle");
    this.settingsButton = document.getElementById("settings-button");

    this.wire();
  }

  // ---- loading ---------------------------------------------------------------------------

  async load() {
    try {
      const [details, page] = await Promise.all([
        this.app.api.get(path`/conversations/${this.id}`),
        this.app.api.get(path`/conversations/${this.id}/messages?limit=${PAGE}`),
      ]);
      this.setConversation(details.conversation);
      const lastRead = details.conversation.last_read_message_id || 0;
      this.readSent = lastRead;
      let messages = page.messages;
      this.hasMore = page.has_more;
      // Look back a few pages for where I stopped reading, so the divider has a place.
      for (let pages = 1; this.hasMore && pages < UNREAD_PAGES; pages += 1) {
        const oldest = messages[messages.length - 1];
        if (!oldest || oldest.id <= lastRead) break;
        const older = await this.app.api.get(
          path`/conversations/${this.id}/messages?before=${oldest.id}&limit=${PAGE}`);
        messages = messages.concat(older.messages);
        this.hasMore = older.has_more;
      }
      const unread = messages.filter((m) => m.id > lastRead && m.sender.id !== this.app.me.id);
      this.firstUnreadId = unread.length ? unread[unread.length - 1].id : null;
      for (const message of messages) this.items.set(message.id, message);
      this.renderAll();
      this.loaded = true;
      for (const event of this.queued.splice(0)) this.onEvent(event);
      this.scrollToEnd();
      this.markRead();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.leftConversation();
        return;
      }
      this.title.textContent = "This conversation could not be loaded";
      this.subtitle.textContent = describe(error);
    }
  }

  // After a reconnect, pick up anything the replay cannot bring (the replay brings events).
  async resumed() {
    if (!this.loaded) return;
    this.markRead();
  }

  async loadOlder() {
    if (!this.hasMore || this.loadingOlder) return;
    const oldest = Math.min(...[...this.items.keys()]);
    this.loadingOlder = true;
    try {
      const page = await this.app.api.get(
        path`/conversations/${this.id}/messages?before=${oldest}&limit=${PAGE}`);
      const before = this.scroller.scrollHeight;
      this.hasMore = page.has_more;
      for (const message of page.messages) {
        if (this.items.has(message.id)) continue;
        this.items.set(message.id, message);
        this.place(message);
      }
      this.decorate();
      // Keep the messages the reader was looking at where they were.
      this.scroller.scrollTop += this.scroller.scrollHeight - before;
    } catch {
      // Nothing to undo: the button stays and can be tried again.
    } finally {
      this.loadingOlder = false;
    }
  }

  setConversation(conversation) {
    this.conversation = conversation;
    const name = conversationName(conversation, this.app.me);
    this.title.textContent = name;
    document.title = `${name} · Hubbub`;
    this.input.placeholder = `Message ${name}`;
    this.settingsButton.hidden = conversation.kind !== "group";
    this.renderSubtitle();
    this.onConversation(conversation);
  }

  renderSubtitle() {
    const conversation = this.conversation;
    if (!conversation) return;
    const other = otherMember(conversation, this.app.me);
    if (other) {
      const online = this.app.online.has(other.id);
      this.subtitle.replaceChildren(
        el("span", { class: online ? "dot online" : "dot", "aria-hidden": "true" }),
        online ? "Online" : "Offline");
    } else {
      const names = conversation.members.map((m) => m.user.username).sort();
      this.subtitle.textContent = `${names.length} members: ${names.join(", ")}`;
    }
  }

  // ---- rendering ---------------------------------------------------------------------------

  myRole() {
    const mine = this.conversation?.members.find((m) => m.user.id === this.app.me.id);
    return mine ? mine.role : null;
  }

  canDelete(message) {
    if (message.deleted_at) return false;
    if (message.sender.id === this.app.me.id) return true;
    return this.conversation?.kind === "group" && ["owner", "admin"].includes(this.myRole());
  }

  renderMessage(message, pending) {
    const mine = message.sender.id === this.app.me.id;
    const deleted = Boolean(message.deleted_at);
    const classes = ["message", mine ? "mine" : "", deleted ? "deleted" : "",
      pending ? `pending ${pending.state}` : ""].filter(Boolean).join(" ");
    const node = el("li", {
      class: classes,
      dataset: message.id ? { id: message.id } : { clientId: message.client_id },
      "aria-label": null,
    });
    node.append(el("div", { class: "meta" },
      el("span", { class: "sender" }, mine ? `${message.sender.username} (you)` : message.sender.username),
      " ",
      el("time", { datetime: message.created_at, title: fullTime(message.created_at) },
        clock(message.created_at))));
    if (deleted) {
      node.append(el("p", { class: "body tombstone" }, "message deleted"));
    } else {
      node.append(el("p", { class: "body" }, message.body));
    }
    if (message.edited_at && !deleted) {
      node.append(el("button", {
        type: "button", class: "link-button edited", dataset: { action: "revisions" },
        title: `Edited ${fullTime(message.edited_at)}`,
        "aria-label": "(edited) show earlier versions",
      }, "(edited)"));
    }
    if (pending) {
      if (pending.state === "failed") {
        node.append(el("p", { class: "status", role: "alert" }, "Not sent. ",
          el("button", { type: "button", class: "link-button", dataset: { action: "retry" } },
            "Retry"),
          " ",
          el("button", { type: "button", class: "link-button", dataset: { action: "discard" } },
            "Discard")));
      } else {
        node.append(el("p", { class: "status" }, "Sending…"));
      }
    } else if (!deleted) {
      const actions = [];
      if (mine) {
        actions.push(el("button", { type: "button", dataset: { action: "edit" } }, "Edit"));
      }
      if (this.canDelete(message)) {
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
    const ordered = [...this.items.values()].sort((a, b) => a.id - b.id);
    const nodes = ordered.map((message) => {
      const kept = editing.get(String(message.id));
      return kept && !message.deleted_at ? kept : this.renderMessage(message, null);
    });
    for (const [clientId, pending] of this.pending) {
      nodes.push(this.renderMessage(this.pendingMessage(clientId, pending), pending));
    }
    this.list.replaceChildren(...nodes);
    if (focused?.isConnected) focused.focus();
    this.decorate();
  }

  // Draws one message in its place by id, leaving the others (and any focus in them) alone.
  // An open editor stays open (the echo of my own message must not throw my edit away)
  // unless the message was deleted; a focused button is focused again in the new drawing.
  place(message) {
    const old = this.list.querySelector(`li[data-id="${message.id}"]`);
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
    const pending = this.pending.get(clientId);
    if (!pending) {
      old?.remove();
      return;
    }
    const node = this.renderMessage(this.pendingMessage(clientId, pending), pending);
    if (old) old.replaceWith(node);
    else this.list.append(node);
  }

  pendingMessage(clientId, pending) {
    return {
      id: null, client_id: clientId, body: pending.body, sender: this.app.me,
      created_at: pending.created_at, edited_at: null, deleted_at: null,
    };
  }

  // Day separators, the unread divider and grouping of consecutive messages by one sender.
  decorate() {
    let previous = null;
    for (const node of this.list.children) {
      node.querySelector(":scope > .day-divider")?.remove();
      node.querySelector(":scope > .unread-divider")?.remove();
      const message = node.dataset.id
        ? this.items.get(Number(node.dataset.id))
        : this.pendingMessage(node.dataset.clientId, this.pending.get(node.dataset.clientId));
      if (!message) continue;
      const newDay = !previous || dayKey(previous.created_at) !== dayKey(message.created_at);
      const unreadHere = message.id !== null && message.id === this.firstUnreadId;
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
    this.olderButton.hidden = !this.hasMore;
  }

  // Put one message into place; keeps the view at the bottom when it was there.
  upsert(message) {
    const stick = this.nearBottom();
    const known = this.items.has(message.id);
    this.items.set(message.id, message);
    if (message.client_id && this.pending.has(message.client_id)
        && message.sender.id === this.app.me.id) {
      this.pending.delete(message.client_id);
      this.placePending(message.client_id);
    }
    this.place(message);
    this.decorate();
    if (stick) this.scrollToEnd();
    return !known;
  }

  // ---- live ------------------------------------------------------------------------------

  onEvent(event) {
    if (event.conversation_id !== this.id) {
      if (event.type === "presence") this.renderSubtitle();
      return;
    }
    if (!this.loaded && event.type !== "typing") {
      this.queued.push(event);
      return;
    }
    const data = event.data;
    switch (event.type) {
      case "message.created": {
        const fresh = this.upsert(data.message);
        if (fresh && data.message.sender.id !== this.app.me.id) {
          this.stopTyping(data.message.sender.id);
          this.announce(`${data.message.sender.username}: ${data.message.body ?? "message deleted"}`);
          this.markRead();
        }
        break;
      }
      case "message.edited":
      case "message.deleted":
        if (this.items.has(data.message.id)) this.upsert(data.message);
        break;
      case "member.added":
        if (data.member.user.id === this.app.me.id) this.rejoined();
        else this.reloadDetails();
        break;
      case "conversation.updated":
      case "member.updated":
        this.reloadDetails();
        break;
      case "member.removed":
        if (data.user_id === this.app.me.id) this.leftConversation();
        else this.reloadDetails();
        break;
      case "typing":
        this.startTyping(data.user, data.expires_in);
        break;
      default:
        break;
    }
  }

  async reloadDetails() {
    try {
      const answer = await this.app.api.get(path`/conversations/${this.id}`);
      const role = this.myRole();
      this.setConversation(answer.conversation);
      if (this.myRole() !== role) this.renderAll(); // which Delete buttons show depends on it
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) this.leftConversation();
    }
  }

  // Added back while the page was open: the page is a member's page again.
  rejoined() {
    this.member = true;
    this.form.hidden = false;
    document.getElementById("left-notice").hidden = true;
    this.reloadDetails();
    this.catchUp();
  }

  // Messages written while this page could not see them (a member removed, then added back).
  async catchUp() {
    let more = true;
    while (more) {
      const newest = Math.max(0, ...this.items.keys());
      let page;
      try {
        page = await this.app.api.get(
          path`/conversations/${this.id}/messages?after=${newest}&limit=100`);
      } catch {
        return;
      }
      for (const message of page.messages) this.upsert(message);
      more = page.has_more && page.messages.length > 0;
    }
  }

  leftConversation() {
    this.member = false;
    this.form.hidden = true;
    this.settingsButton.hidden = true;
    document.getElementById("left-notice").hidden = false;
    if (!this.conversation) this.title.textContent = "Conversation";
    this.onConversation(null);
  }

  startTyping(user, expiresIn) {
    this.typers.set(user.id, { username: user.username, until: Date.now() + expiresIn * 1000 });
    this.renderTyping();
    window.setTimeout(() => this.renderTyping(), expiresIn * 1000 + 50);
  }

  stopTyping(userId) {
    this.typers.delete(userId);
    this.renderTyping();
  }

  renderTyping() {
    const now = Date.now();
    for (const [id, typer] of this.typers) if (typer.until <= now) this.typers.delete(id);
    const names = [...this.typers.values()].map((t) => t.username);
    let text = "";
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = "Several people are typing…";
    if (this.typingLine.textContent !== text) this.typingLine.textContent = text;
  }

  // Said once by screen readers; cleared after, so that no text (a message deleted since,
  // say) lingers in the page.
  announce(text) {
    this.announcer.textContent = text;
    window.clearTimeout(this.announceTimer);
    this.announceTimer = window.setTimeout(() => { this.announcer.textContent = ""; }, 5000);
  }

  // ---- reading ---------------------------------------------------------------------------

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_EDGE_PX;
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  async markRead() {
    if (!this.loaded || !this.member || document.visibilityState !== "visible") return;
    if (!this.nearBottom()) return;
    const newest = Math.max(0, ...this.items.keys());
    if (newest <= this.readSent) return;
    this.readSent = newest;
    try {
      await this.app.api.post(path`/conversations/${this.id}/read`, { message_id: newest });
    } catch {
      this.readSent = 0; // try again on the next chance
    }
  }

  // ---- sending, editing, deleting --------------------------------------------------------

  // Sends go one after another, so the server numbers them in the order they were written.
  send(body) {
    const clientId = newClientId();
    this.pending.set(clientId, { body, state: "sending", created_at: new Date().toISOString() });
    this.placePending(clientId);
    this.decorate();
    this.scrollToEnd();
    this.queue = (this.queue || Promise.resolve()).then(() => this.deliver(clientId));
    return this.queue;
  }

  async deliver(clientId) {
    const pending = this.pending.get(clientId);
    if (!pending) return;
    pending.state = "sending";
    this.placePending(clientId);
    try {
      const answer = await this.app.api.post(path`/conversations/${this.id}/messages`, {
        body: pending.body, client_id: clientId,
      });
      this.pending.delete(clientId);
      this.placePending(clientId);
      this.upsert(answer.message);
      this.scrollToEnd();
      this.readSent = Math.max(this.readSent, answer.message.id);
    } catch (error) {
      if (error instanceof ApiError && error.status < 500 && error.status !== 429) {
        // The server said no for good: say why, and give the text back to edit.
        this.pending.delete(clientId);
        this.placePending(clientId);
        this.decorate();
        this.input.value = pending.body;
        this.showComposerError(describe(error));
        return;
      }
      if (!this.pending.has(clientId)) return; // the stream confirmed it meanwhile
      pending.state = "failed";
      this.placePending(clientId);
      this.decorate();
    }
  }

  showComposerError(text) {
    this.announce(text);
    this.input.setAttribute("aria-invalid", "true");
    let note = document.getElementById("composer-error");
    if (!note) {
      note = el("p", { class: "error composer-error", id: "composer-error", role: "alert" });
      this.form.append(note);
    }
    note.textContent = text;
  }

  clearComposerError() {
    this.input.removeAttribute("aria-invalid");
    document.getElementById("composer-error")?.remove();
  }

  startEdit(node) {
    const message = this.items.get(Number(node.dataset.id));
    if (!message || message.deleted_at || node.classList.contains("editing")) return;
    node.classList.add("editing");
    const body = node.querySelector(".body");
    const editor = el("form", { class: "edit-form" },
      el("label", { class: "visually-hidden", for: `edit-${message.id}` }, "Edit message"),
      el("textarea", { id: `edit-${message.id}`, rows: "2", maxlength: "4000" }),
      el("p", { class: "error", role: "alert" }),
      el("div", { class: "edit-actions" },
        el("button", { type: "submit", class: "button small" }, "Save"),
        el("button", { type: "button", class: "button secondary small", dataset: { action: "cancel-edit" } },
          "Cancel"),
        el("span", { class: "hint" }, "Enter saves, Escape cancels")));
    const area = editor.querySelector("textarea");
    area.value = message.body;
    body.replaceWith(editor);
    node.querySelector(".actions")?.setAttribute("hidden", "");
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
    const finish = () => {
      node.classList.remove("editing");
      this.place(this.items.get(message.id));
      this.decorate();
      this.input.focus();
    };
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        finish();
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        editor.requestSubmit();
      }
    });
    editor.addEventListener("click", (event) => {
      if (event.target.closest("[data-action=cancel-edit]")) finish();
    });
    editor.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (area.value.trim() === message.body.trim()) {
        finish();
        return;
      }
      try {
        const answer = await this.app.api.patch(path`/messages/${message.id}`, { body: area.value });
        this.items.set(answer.message.id, answer.message);
        finish();
      } catch (error) {
        editor.querySelector(".error").textContent = describe(error);
      }
    });
  }

  async remove(node) {
    const id = Number(node.dataset.id);
    if (!(await this.confirmDelete())) {
      node.querySelector("[data-action=delete]")?.focus();
      return;
    }
    try {
      const answer = await this.app.api.delete(path`/messages/${id}`);
      this.upsert(answer.message);
    } catch (error) {
      this.announce(describe(error));
      this.showComposerError(describe(error));
    }
    this.input.focus();
  }

  editLast() {
    const mine = [...this.items.values()]
      .filter((m) => m.sender.id === this.app.me.id && !m.deleted_at)
      .sort((a, b) => b.id - a.id)[0];
    if (!mine) return false;
    const node = this.list.querySelector(`li[data-id="${mine.id}"]`);
    if (!node) return false;
    node.scrollIntoView({ block: "nearest" });
    this.startEdit(node);
    return true;
  }

  typed() {
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_EVERY_MS || !this.input.value.trim()) return;
    this.lastTypingSent = now;
    this.app.api.post(path`/conversations/${this.id}/typing`).catch(() => {});
  }

  // ---- wiring ----------------------------------------------------------------------------

  wire() {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = this.input.value;
      if (!body.trim()) return;
      this.input.value = "";
      this.lastTypingSent = 0;
      this.clearComposerError();
      this.send(body);
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.form.requestSubmit();
      } else if (event.key === "ArrowUp" && this.input.value === "") {
        if (this.editLast()) event.preventDefault();
      }
    });
    this.input.addEventListener("input", () => this.typed());
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const node = button.closest("li.message");
      const action = button.dataset.action;
      if (action === "edit") this.startEdit(node);
      else if (action === "delete") this.remove(node);
      else if (action === "revisions") this.showRevisions(Number(node.dataset.id));
      else if (action === "retry") this.deliver(node.dataset.clientId);
      else if (action === "discard") {
        this.pending.delete(node.dataset.clientId);
        this.placePending(node.dataset.clientId);
        this.decorate();
        this.input.focus();
      }
    });
    this.olderButton.addEventListener("click", () => this.loadOlder());
    this.scroller.addEventListener("scroll", () => {
      if (this.scroller.scrollTop < NEAR_EDGE_PX) this.loadOlder();
      if (this.nearBottom()) this.markRead();
    }, { passive: true });
    document.addEventListener("visibilitychange", () => this.markRead());
    window.addEventListener("focus", () => this.markRead());
    this.settingsButton.addEventListener("click", () => this.openSettings(this.conversation));
  }
}
