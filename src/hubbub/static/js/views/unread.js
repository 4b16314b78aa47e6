// Signs of what is still unread: the "New messages below" pill while the history is scrolled
// up (or "Jump to the newest" while a window far back is open), and the count of unread
// messages in the tab's title.

import { conversationName } from "../format.js";

// Shows when someone else's message arrives out of sight below, and all the while a window
// far back is open; a click goes to the newest.
export class NewBelow {
  constructor({ me, view }) {
    this.me = me;
    this.view = view;
    this.store = view.store;
    this.away = false; // a window far back is open
    this.later = false; // and someone wrote past it
    this.pill = document.getElementById("new-below");
    this.pill.addEventListener("click", () => {
      this.show(null);
      if (this.store.hasNewer) this.store.toNewest().catch(() => this.render({ messages: {} }));
      else this.view.scrollToEnd();
    });
    this.view.scroller.addEventListener("scroll", () => {
      if (!this.pill.hidden && !this.store.hasNewer && this.view.nearBottom()) this.show(null);
    }, { passive: true });
  }

  render(change) {
    const m = change.messages;
    if (!m) return;
    const others = (list) => (list || []).some((message) => message.sender.id !== this.me.id);
    if (this.store.hasNewer) {
      // Where the way back leads, until someone writes past the window.
      this.away = true;
      this.later ||= others(m.later);
      this.show(this.later ? "New messages below ↓" : "Jump to the newest ↓");
      return;
    }
    if (this.away) {
      this.away = false; // back at the end of the history
      this.later = false;
      this.show(null);
    }
    // The history has already pinned itself to the end if I was there: then nothing is hidden.
    if (others(m.fresh) && !this.view.nearBottom()) this.show("New messages below ↓");
  }

  show(text) {
    this.pill.hidden = text === null;
    if (text !== null && this.pill.textContent !== text) this.pill.textContent = text;
  }
}

// The tab's title, "(3) Lunch club · Hubbub": the open conversation's name (kept after I leave
// it), and unread messages across all my conversations, as Slack and Discord count them, muted
// ones left out. The only writer of the title; the server's title stands on the dashboard.
export class UnreadTitle {
  constructor({ conversations, me, conversationId }) {
    this.conversations = conversations;
    this.me = me;
    this.id = conversationId;
    this.base = document.title;
  }

  render() {
    const open = this.id === null ? null : this.conversations.get(this.id);
    if (open) this.base = `${conversationName(open, this.me)} · Hubbub`;
    let count = 0;
    for (const conversation of this.conversations.list()) {
      if (!conversation.muted) count += conversation.unread_count || 0;
    }
    const title = count ? `(${count}) ${this.base}` : this.base;
    if (document.title !== title) document.title = title;
  }
}
