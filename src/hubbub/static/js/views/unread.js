// Signs of what is still unread: the "New messages below" pill while the history is scrolled
// up, and the count of unread messages in the tab's title.

const TITLE_COUNT = /^\(\d+\) /;

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

// "(3) Lunch club · Hubbub": unread messages across all my conversations, as Slack and
// Discord count them, muted ones left out. The header writes the rest of the title first.
export class UnreadTitle {
  constructor({ conversations }) {
    this.conversations = conversations;
  }

  render() {
    let count = 0;
    for (const conversation of this.conversations.list()) {
      if (!conversation.muted) count += conversation.unread_count || 0;
    }
    const base = document.title.replace(TITLE_COUNT, "");
    const title = count ? `(${count}) ${base}` : base;
    if (document.title !== title) document.title = title;
  }
}
