// Browser notifications for direct messages and for messages that mention me, while the page
// is hidden or shows another conversation; a click opens the conversation. Permission is asked
// for only when the person presses "Enable notifications". Muted conversations never notify.

import { nameOf, plainText } from "./format.js";

// A message older than this when it arrives (a replay after a long disconnection) is old news.
const FRESH_MS = 2 * 60 * 1000;
const BODY_MAX = 140;

export class Notifier {
  constructor({ conversations, me, openId, conversationUrl }) {
    this.conversations = conversations;
    this.me = me;
    this.openId = openId;
    this.conversationUrl = conversationUrl;
    this.setting = document.getElementById("notify-setting");
    this.button = document.getElementById("notify-button");
    this.status = document.getElementById("notify-status");
    this.supported = "Notification" in window;
    this.button.addEventListener("click", () => this.enable());
    this.draw();
  }

  async enable() {
    this.button.disabled = true;
    try {
      await Notification.requestPermission();
    } finally {
      this.button.disabled = false;
      this.draw();
    }
  }

  // The button while the browser has not been asked; afterwards, what it answered.
  draw() {
    this.setting.hidden = !this.supported;
    if (!this.supported) return;
    const { permission } = Notification;
    this.button.hidden = permission !== "default";
    const text = {
      granted: "Notifications are on for direct messages and mentions.",
      denied: "Notifications are blocked in this browser's site settings.",
    }[permission] || "";
    if (this.status.textContent !== text) this.status.textContent = text;
  }

  // A store of the dispatcher: it sees every event after the conversation store has.
  apply(event) {
    if (event.type !== "message.created" || !this.supported) return;
    if (Notification.permission !== "granted") return;
    const { message } = event.data;
    if (message.sender.id === this.me.id || message.deleted_at) return;
    if (Date.now() - Date.parse(message.created_at) > FRESH_MS) return;
    const conversation = this.conversations.get(event.conversation_id);
    if (conversation) {
      this.consider(conversation, message);
    } else {
      // A conversation new to me (someone's first message to me): known once it is fetched.
      this.conversations.refresh(event.conversation_id)
        .then((found) => found && this.consider(found, message)).catch(() => {});
    }
  }

  consider(conversation, message) {
    if (conversation.muted) return;
    const mentioned = Boolean(message.mentions?.includes(this.me.id));
    if (conversation.kind !== "direct" && !mentioned) return;
    const looking = !document.hidden && conversation.id === this.openId;
    if (looking) return;
    this.show(conversation, message);
  }

  show(conversation, message) {
    const sender = nameOf(message.sender);
    const title = conversation.kind === "direct"
      ? sender
      : `${sender} mentioned you in ${conversation.title || "a group"}`;
    let body = plainText(message);
    if (body.length > BODY_MAX) body = `${body.slice(0, BODY_MAX - 1)}…`;
    // One per message, however many of my tabs are open: the same tag replaces, not adds.
    const notification = new Notification(title, {
      body, tag: `hubbub-message-${message.id}`, data: { conversationId: conversation.id },
    });
    notification.addEventListener("click", () => {
      window.focus();
      notification.close();
      if (conversation.id !== this.openId) {
        window.location.assign(this.conversationUrl + conversation.id);
      }
    });
  }
}
