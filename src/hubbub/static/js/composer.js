// The composer and its send queue: each send shows at once as pending, goes to the server one
// after another, and on failure waits as failed for Retry (same client_id) or Discard.

import { ApiError, describe, path } from "./api.js";
import { touches } from "./dispatch.js";
import { conversationName, el } from "./format.js";
import { announce } from "./views/announce.js";

const TYPING_EVERY_MS = 3000;

export class Composer {
  // editLast(): start editing my last message; false when there is none.
  constructor({ api, me, store, conversations, editLast }) {
    this.api = api;
    this.me = me;
    this.store = store;
    this.conversations = conversations;
    this.id = store.id;
    this.editLast = editLast;
    this.queue = Promise.resolve();
    this.lastTypingSent = 0;
    this.form = document.getElementById("composer");
    this.input = document.getElementById("composer-input");
    this.wire();
  }

  render(change) {
    if (!touches(change, this.id)) return;
    this.form.hidden = this.conversations.isMember(this.id) === false;
    const conversation = this.conversations.get(this.id);
    if (conversation) this.input.placeholder = `Message ${conversationName(conversation, this.me)}`;
  }

  focus() {
    this.input.focus();
  }

  // Sends go one after another, so the server numbers them in the order they were written.
  send(body) {
    const clientId = this.store.addPending(body);
    this.queue = this.queue.then(() => this.deliver(clientId));
    return this.queue;
  }

  async deliver(clientId) {
    const pending = this.store.pending.get(clientId);
    if (!pending) return;
    this.store.setPendingState(clientId, "sending");
    try {
      const answer = await this.api.post(path`/conversations/${this.id}/messages`, {
        body: pending.body, client_id: clientId,
      });
      this.store.put(answer.message, { reveal: true });
    } catch (error) {
      if (error instanceof ApiError && error.status < 500 && error.status !== 429) {
        // The server said no for good: say why, and give the text back to edit.
        this.store.dropPending(clientId);
        this.input.value = pending.body;
        this.showError(describe(error));
        return;
      }
      // Unless the stream confirmed it meanwhile, it waits for Retry.
      this.store.setPendingState(clientId, "failed");
    }
  }

  retry(clientId) {
    this.deliver(clientId);
  }

  discard(clientId) {
    this.store.dropPending(clientId);
    this.input.focus();
  }

  showError(text) {
    announce(text);
    this.input.setAttribute("aria-invalid", "true");
    let note = document.getElementById("composer-error");
    if (!note) {
      note = el("p", { class: "error composer-error", id: "composer-error", role: "alert" });
      this.form.append(note);
    }
    note.textContent = text;
  }

  clearError() {
    this.input.removeAttribute("aria-invalid");
    document.getElementById("composer-error")?.remove();
  }

  typed() {
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_EVERY_MS || !this.input.value.trim()) return;
    this.lastTypingSent = now;
    this.api.post(path`/conversations/${this.id}/typing`).catch(() => {});
  }

  wire() {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = this.input.value;
      if (!body.trim()) return;
      this.input.value = "";
      this.lastTypingSent = 0;
      this.clearError();
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
  }
}
