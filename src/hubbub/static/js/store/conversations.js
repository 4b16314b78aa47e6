// My conversations: title, members, unread count, last message, read marker and permissions,
// kept up to date by applying events. The list is fetched once; after that only the one
// conversation whose numbers only the server knows is asked for again.

import { ApiError, path } from "../api.js";

const KINDS = new Set([
  "message.created", "message.edited", "message.deleted", "read.updated", "conversation.created",
  "conversation.updated", "member.added", "member.updated", "member.removed", "mute.updated",
]);

function newestFirst(a, b) {
  return Date.parse(b.last_activity_at) - Date.parse(a.last_activity_at) || b.id - a.id;
}

export class ConversationStore {
  // reading(id): whether the person is looking at the newest messages of that conversation.
  constructor({ api, me, changed, reading }) {
    this.api = api;
    this.me = me;
    this.changed = changed;
    this.reading = reading;
    this.byId = new Map();
    this.loaded = false;
    this.loading = null;
    this.stale = new Set(); // touched by events before the list arrived
    this.gone = new Set(); // ones I was removed from or left, while this page is open
    this.fetches = new Map(); // id -> {again}: one fetch of a conversation at a time
    this.settled = new Set(); // deleted messages already taken off the unread counts
  }

  list() {
    return [...this.byId.values()].sort(newestFirst);
  }

  get(id) {
    return this.byId.get(id) || null;
  }

  // true, false, or null while nobody can tell yet.
  isMember(id) {
    if (this.byId.has(id)) return true;
    return this.loaded || this.gone.has(id) ? false : null;
  }

  // The whole list, once; a failed attempt may be made again (after a reconnect).
  load() {
    if (this.loaded) return Promise.resolve();
    this.loading = this.loading || this.fetchList().finally(() => { this.loading = null; });
    return this.loading;
  }

  async fetchList() {
    const answer = await this.api.get("/conversations");
    this.byId = new Map(answer.conversations.map((c) => [c.id, c]));
    this.loaded = true;
    for (const id of this.stale) this.refresh(id).catch(() => {});
    this.stale.clear();
    this.changed({ list: true });
  }

  // One conversation asked for again; resolves to it, or null once it answers 404 (not mine).
  // Events that arrive meanwhile may be missing from the answer: then it is asked once more.
  refresh(id) {
    const running = this.fetches.get(id);
    if (running) {
      running.again = true;
      return running.done;
    }
    const job = { again: false };
    this.fetches.set(id, job);
    job.done = this.fetchOne(id, job).finally(() => this.fetches.delete(id));
    return job.done;
  }

  async fetchOne(id, job) {
    do {
      job.again = false;
      try {
        const answer = await this.api.get(path`/conversations/${id}`);
        this.byId.set(id, answer.conversation);
        this.gone.delete(id);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
        this.drop(id);
      }
      this.changed({ conversations: new Set([id]) });
    } while (job.again);
    return this.get(id);
  }

  drop(id) {
    this.byId.delete(id);
    this.gone.add(id);
  }

  // ---- events ------------------------------------------------------------------------------

  apply(event) {
    const id = event.conversation_id;
    if (!KINDS.has(event.type)) return;
    if (!this.loaded) {
      this.stale.add(id);
      return;
    }
    const running = this.fetches.get(id);
    if (running) running.again = true;
    const conversation = this.byId.get(id);
    const data = event.data;
    const aboutMe = (data.member?.user.id ?? data.user_id) === this.me.id;
    if (event.type === "member.removed" && aboutMe) {
      this.drop(id);
    } else if (!conversation || event.type === "conversation.created"
        || (event.type === "member.added" && aboutMe)) {
      this.refresh(id).catch(() => {}); // one I have not seen yet, or see again
    } else {
      this.update(conversation, event.type, data, aboutMe);
    }
    this.changed({ conversations: new Set([id]) });
  }

  update(conversation, type, data, aboutMe) {
    const { message } = data;
    switch (type) {
      case "message.created": {
        const last = conversation.last_message;
        if (last && last.id >= message.id) {
          if (last.id === message.id) conversation.last_message = message;
          break; // the list's answer was newer than this event: counted already
        }
        // A replay of a message deleted since: never counted, so its deletion takes nothing off.
        if (message.deleted_at) this.settled.add(message.id);
        conversation.last_message = message;
        conversation.last_activity_at = message.created_at;
        if (message.sender.id === this.me.id) {
          // What I write myself marks all before it read, as the server does.
          conversation.last_read_message_id = message.id;
          conversation.unread_count = 0;
          conversation.mention_count = 0;
        } else if (!message.deleted_at && this.unread(conversation, message)
            && !this.reading(conversation.id)) {
          conversation.unread_count += 1;
          if (this.namesMe(message)) conversation.mention_count += 1;
        }
        break;
      }
      case "message.edited":
      case "message.deleted":
        if (conversation.last_message?.id === message.id) conversation.last_message = message;
        if (type === "message.deleted" && !this.settled.has(message.id)) {
          this.settled.add(message.id);
          if (this.unread(conversation, message)) {
            conversation.unread_count = Math.max(0, conversation.unread_count - 1);
            // A tombstone names no one: whether it did, only the server still knows.
            if (conversation.mention_count) this.refresh(conversation.id).catch(() => {});
          }
        } else if (type === "message.edited" && this.unread(conversation, message)) {
          this.refresh(conversation.id).catch(() => {}); // it may name me now, or no longer
        }
        break;
      case "read.updated":
        conversation.last_read_message_id = Math.max(
          conversation.last_read_message_id || 0, data.last_read_message_id);
        this.refresh(conversation.id).catch(() => {}); // only the server can count what is left
        break;
      case "conversation.updated":
      case "member.added":
        conversation.title = data.conversation.title;
        conversation.members = data.conversation.members;
        break;
      case "member.updated":
        conversation.members = conversation.members.map(
          (known) => (known.user.id === data.member.user.id ? data.member : known));
        if (aboutMe) {
          conversation.my_role = data.member.role;
          this.refresh(conversation.id).catch(() => {}); // what I may do now
        }
        break;
      case "member.removed":
        conversation.members = conversation.members.filter((m) => m.user.id !== data.user_id);
        break;
      case "mute.updated": // mine alone: I muted it here or on another device
        conversation.muted = data.muted;
        break;
      default:
        break;
    }
  }

  // Mutes or unmutes one of mine; the answer is the conversation as it is now.
  async setMuted(id, muted) {
    const url = path`/conversations/${id}/mute`;
    const answer = await (muted ? this.api.put(url) : this.api.delete(url));
    const conversation = this.byId.get(id);
    if (conversation) conversation.muted = answer.conversation.muted;
    this.changed({ conversations: new Set([id]) });
  }

  namesMe(message) {
    return Boolean(message.mentions?.includes(this.me.id));
  }

  // From someone else and after my read marker: a message the server counts until deleted.
  unread(conversation, message) {
    return message.sender.id !== this.me.id
      && message.id > (conversation.last_read_message_id || 0);
  }
}
