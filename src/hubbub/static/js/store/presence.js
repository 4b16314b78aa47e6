// Who is online among the people I share a conversation with, and who is typing where.
// While the stream is down nobody's presence is known: no one is shown online on old news.

const EXPIRY_SLACK_MS = 50;

export class PresenceStore {
  constructor({ changed }) {
    this.changed = changed;
    this.online = new Set();
    this.known = false; // until the stream's ready frame says who is online
    this.typers = new Map(); // conversation id -> Map(user id -> {username, until})
  }

  // The stream's ready frame names everyone online at that moment.
  reset(online) {
    this.online = new Set(online || []);
    this.known = true;
    this.changed({ presence: true });
  }

  // The stream is down: presence events may be missed from now until the next ready frame.
  unknown() {
    if (!this.known) return;
    this.known = false;
    this.online.clear();
    this.changed({ presence: true });
  }

  isOnline(userId) {
    return this.online.has(userId);
  }

  // Names of the people typing in a conversation now, in the order they started.
  typing(conversationId) {
    const typers = this.typers.get(conversationId);
    if (!typers) return [];
    const now = Date.now();
    for (const [id, typer] of typers) if (typer.until <= now) typers.delete(id);
    return [...typers.values()].map((typer) => typer.username);
  }

  apply(event) {
    const data = event.data;
    if (event.type === "presence") {
      if (data.status === "online") this.online.add(data.user_id);
      else this.online.delete(data.user_id);
      this.changed({ presence: true });
    } else if (event.type === "typing") {
      const typers = this.typers.get(event.conversation_id) || new Map();
      this.typers.set(event.conversation_id, typers);
      const wait = data.expires_in * 1000;
      typers.set(data.user.id, { username: data.user.username, until: Date.now() + wait });
      this.changed({ typing: true });
      // Nothing else says it stopped: draw again once it has run out.
      window.setTimeout(() => this.changed({ typing: true }), wait + EXPIRY_SLACK_MS);
    } else if (event.type === "message.created") {
      // Their message is what they were typing.
      if (this.typers.get(event.conversation_id)?.delete(data.message.sender.id)) {
        this.changed({ typing: true });
      }
    }
  }
}
