// Signs of what is still unread: the "New messages below" pill while the history is scrolled
// up, and the count of unread messages in the tab's title.

import { conversationName } from "../format.js";

// Shows when someone else's message arrives out of sight below; a click goes to the newest.
export class NewBelow {
  constructor({ me, view }) {
    this.me = me;
    this.view = view;
    this.pill = document.getElementById("new-below");
    this.pill.addEventListener("click", () => {
      this.view.scrollToEnd();
      this.pill.hidden = true;
    });
    this.view.scroller.addEventListener("scroll", () => {
      if (!this.pill.hidden && this.view.nearBottom()) this.pill.hidden = true;
    }, { passive: true });
  }

  render(change) {
    const fresh = change.messages?.fresh || [];
    if (!fresh.some((message) => message.sender.id !== this.me.id)) return;
    // The history has already pinned itself to the end if I was there: then nothing is hidden.
    if (!this.view.nearBottom()) this.pill.hidden = false;
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
