// Read marks: tells the server how far I have read the open conversation, moving the marker
// only to the last message that has really been on screen while the tab was visible and focused.

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
    return conversationId === this.store.id && this.store.loaded && !this.store.hasNewer
      && this.attending() && this.view.nearBottom();
  }

  // Someone is looking: the tab is showing and has focus (a background window reads nothing).
  attending() {
    return document.visibilityState === "visible" && document.hasFocus();
  }

  render(change) {
    const m = change.messages;
    if (!m) return;
    if (m.first && !this.started) {
      this.started = true;
      this.sent = this.conversations.get(this.store.id)?.last_read_message_id || 0;
    }
    // My own messages need no marking: the server moves my marker when I send.
    for (const message of m.fresh || []) {
      if (message.sender.id === this.me.id) this.sent = Math.max(this.sent, message.id);
    }
    // Drawing may have brought messages into view (the first page, one that just arrived).
    if (m.first || m.fresh?.length || m.ids?.length) this.mark();
  }

  async mark() {
    if (!this.store.loaded || this.conversations.isMember(this.store.id) === false) return;
    // Opened far from where reading stopped, nothing is read until the jump back there; nor
    // while a window far back is open (a search result): reading it reads nothing newer.
    if (!this.attending() || this.store.unreadBeyond || this.store.hasNewer) return;
    const seen = this.view.lastSeenId();
    if (seen <= this.sent) return;
    this.sent = seen;
    try {
      await this.api.post(path`/conversations/${this.store.id}/read`, { message_id: seen });
    } catch {
      this.sent = 0; // try again on the next chance
    }
  }

  wire() {
    // At most one look per frame while scrolling: the geometry is read, not the scroll events.
    let queued = false;
    this.view.scroller.addEventListener("scroll", () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        this.mark();
      });
    }, { passive: true });
    document.addEventListener("visibilitychange", () => this.mark());
    window.addEventListener("focus", () => this.mark());
  }
}
