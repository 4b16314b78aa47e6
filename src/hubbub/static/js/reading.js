// Read marks: tells the server how far I have read the open conversation, once the page is
// visible and its history is scrolled to the end.

import { path } from "./api.js";

export class Reading {
  constructor({ api, me, store, conversations, view }) {
    this.api = api;
    this.me = me;
    this.store = store;
    this.conversations = conversations;
    this.view = view;
    this.sent = 0; // the newest message id I told the server about
    this.started = false;
    this.wire();
  }

  // Whether what arrives in this conversation now is seen at once.
  isReading(conversationId) {
    return conversationId === this.store.id && this.store.loaded
      && document.visibilityState === "visible" && this.view.nearBottom();
  }

  render(change) {
    const m = change.messages;
    if (!m) return;
    if (m.first && !this.started) {
      this.started = true;
      this.sent = this.conversations.get(this.store.id)?.last_read_message_id || 0;
    }
    // My own messages need no marking; someone else's, seen as they arrive, do.
    let others = false;
    for (const message of m.fresh || []) {
      if (message.sender.id === this.me.id) this.sent = Math.max(this.sent, message.id);
      else others = true;
    }
    if (m.first || others) this.mark();
  }

  async mark() {
    if (!this.store.loaded || this.conversations.isMember(this.store.id) === false) return;
    if (document.visibilityState !== "visible" || !this.view.nearBottom()) return;
    const newest = this.store.newestId();
    if (newest <= this.sent) return;
    this.sent = newest;
    try {
      await this.api.post(path`/conversations/${this.store.id}/read`, { message_id: newest });
    } catch {
      this.sent = 0; // try again on the next chance
    }
  }

  wire() {
    this.view.scroller.addEventListener("scroll", () => {
      if (this.view.nearBottom()) this.mark();
    }, { passive: true });
    document.addEventListener("visibilitychange", () => this.mark());
    window.addEventListener("focus", () => this.mark());
  }
}
