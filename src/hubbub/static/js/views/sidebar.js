// The list of my conversations, newest activity first, drawn from the conversation store.

import { conversationName, el, otherMember, plural, shortTime } from "../format.js";

export class ConversationList {
  constructor({ conversations, presence, me, openId, conversationUrl }) {
    this.conversations = conversations;
    this.presence = presence;
    this.me = me;
    this.openId = openId;
    this.conversationUrl = conversationUrl;
    this.list = document.getElementById("conversation-list");
    this.empty = document.getElementById("no-conversations");
  }

  render(change) {
    if (!this.conversations.loaded) return; // nothing to say yet, not even "no conversations"
    if (!change.list && !change.conversations && !change.presence) return;
    const conversations = this.conversations.list();
    this.empty.hidden = conversations.length > 0;
    this.list.replaceChildren(...conversations.map((c) => this.entry(c)));
  }

  entry(conversation) {
    const { me, openId } = this;
    const name = conversationName(conversation, me);
    const other = otherMember(conversation, me);
    // The open conversation is being read: no badge for it.
    const unread = conversation.id === openId ? 0 : conversation.unread_count;
    const last = conversation.last_message;
    let preview = "No messages yet";
    if (last) {
      const who = last.sender.id === me.id ? "You" : last.sender.username;
      preview = `${who}: ${last.body === null ? "message deleted" : last.body}`;
    }
    const online = other && this.presence.isOnline(other.id);
    const label = [name, unread ? plural(unread, "unread message", "unread messages") : null,
      online ? "online" : null].filter(Boolean).join(", ");
    return el("li", { class: unread ? "unread" : null },
      el("a", {
        href: this.conversationUrl + conversation.id,
        "aria-current": conversation.id === openId ? "page" : null,
        "aria-label": label,
        dataset: { conversationId: conversation.id },
      },
      el("span", { class: "row" },
        other ? el("span", { class: online ? "dot online" : "dot", "aria-hidden": "true" }) : null,
        el("span", { class: "name" }, name),
        el("time", { datetime: conversation.last_activity_at },
          shortTime(conversation.last_activity_at)),
        unread ? el("span", { class: "badge", "aria-hidden": "true" }, String(unread)) : null),
      el("span", { class: "preview" }, preview)));
  }
}
