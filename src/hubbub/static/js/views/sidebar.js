// The list of my conversations, newest activity first, drawn from the conversation store.
// Each conversation keeps its one entry: events change its text in place and move it, so that
// a person tabbing through the list keeps their place while messages arrive.

import {
  conversationName, el, otherMember, plainText, plural, shortTime,
} from "../format.js";
import { arrange } from "./order.js";

// Writes only what differs: an unchanged entry is left alone for assistive technology.
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function setAttribute(node, name, value) {
  if (value === null) node.removeAttribute(name);
  else if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

// Puts `node` in `parent` before `before` when wanted, takes it out when not.
function showChild(parent, node, wanted, before = null) {
  if (!wanted) node.remove();
  else if (node.parentNode !== parent) parent.insertBefore(node, before);
}

export class ConversationList {
  constructor({ conversations, presence, me, openId, conversationUrl }) {
    this.conversations = conversations;
    this.presence = presence;
    this.me = me;
    this.openId = openId;
    this.conversationUrl = conversationUrl;
    this.list = document.getElementById("conversation-list");
    this.empty = document.getElementById("no-conversations");
    this.search = document.getElementById("people-query");
    this.entries = new Map(); // conversation id -> the parts of its entry
  }

  render(change) {
    if (!this.conversations.loaded) return; // nothing to say yet, not even "no conversations"
    if (!change.list && !change.conversations && !change.presence) return;
    const conversations = this.conversations.list();
    this.empty.hidden = conversations.length > 0;
    const lost = this.focusedEntry();
    const kept = new Set(conversations.map((c) => c.id));
    for (const id of this.entries.keys()) if (!kept.has(id)) this.entries.delete(id);
    const items = conversations.map((c) => this.fill(this.entryFor(c), c).item);
    arrange(this.list, items);
    if (lost && !kept.has(lost.id)) this.focusNear(lost.index, items);
  }

  // Which entry has focus, and where it stood, in case its conversation leaves the list.
  focusedEntry() {
    const item = document.activeElement?.closest?.("#conversation-list > li");
    if (!item) return null;
    return { id: Number(item.dataset.conversationId), index: [...this.list.children].indexOf(item) };
  }

  // The conversation that took the gone one's place, else the one above, else the search.
  focusNear(index, items) {
    const near = items[Math.min(index, items.length - 1)];
    (near ? near.querySelector("a") : this.search).focus({ preventScroll: true });
  }

  entryFor(conversation) {
    let parts = this.entries.get(conversation.id);
    if (parts) return parts;
    const id = conversation.id;
    parts = {
      dot: el("span", { class: "dot", "aria-hidden": "true" }),
      name: el("span", { class: "name" }),
      time: el("time"),
      badge: el("span", { class: "badge", "aria-hidden": "true" }),
      preview: el("span", { class: "preview" }),
    };
    parts.row = el("span", { class: "row" }, parts.name, parts.time);
    parts.link = el("a", { href: this.conversationUrl + id, dataset: { conversationId: id } },
      parts.row, parts.preview);
    parts.item = el("li", { dataset: { conversationId: id } }, parts.link);
    this.entries.set(id, parts);
    return parts;
  }

  fill(parts, conversation) {
    const { me, openId } = this;
    const name = conversationName(conversation, me);
    const other = otherMember(conversation, me);
    // The open conversation is being read: no badge for it.
    const unread = conversation.id === openId ? 0 : conversation.unread_count;
    const mentions = unread ? conversation.mention_count || 0 : 0;
    const last = conversation.last_message;
    let preview = "No messages yet";
    if (last) {
      const who = last.sender.id === me.id ? "You" : last.sender.username;
      preview = `${who}: ${plainText(last)}`;
    }
    const online = Boolean(other && this.presence.isOnline(other.id));
    const { muted } = conversation;
    const label = [name, unread ? plural(unread, "unread message", "unread messages") : null,
      mentions ? plural(mentions, "mention", "mentions") : null,
      muted ? "muted" : null, online ? "online" : null].filter(Boolean).join(", ");

    parts.item.classList.toggle("unread", Boolean(unread));
    // Muted: its badge is quiet and its name not bold; it still moves up with new messages.
    parts.item.classList.toggle("muted", Boolean(muted));
    if (!parts.item.classList.length) parts.item.removeAttribute("class");
    setAttribute(parts.link, "aria-current", conversation.id === openId ? "page" : null);
    setAttribute(parts.link, "aria-label", label);
    showChild(parts.row, parts.dot, Boolean(other), parts.name);
    parts.dot.classList.toggle("online", online);
    setText(parts.name, name);
    setAttribute(parts.time, "datetime", conversation.last_activity_at);
    setText(parts.time, shortTime(conversation.last_activity_at));
    showChild(parts.row, parts.badge, Boolean(unread));
    // "@ 3": of the unread messages, some name me.
    setText(parts.badge, unread ? `${mentions ? "@ " : ""}${unread}` : "");
    parts.badge.classList.toggle("mentioned", Boolean(mentions));
    setText(parts.preview, preview);
    return parts;
  }
}
