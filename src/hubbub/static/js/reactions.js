// Adding and taking back my reactions. The store applies each change as soon as the server
// has it; the event that follows applies it again, which changes nothing.

import { describe, path } from "./api.js";
import { announce } from "./views/announce.js";

export class Reactions {
  constructor({ api, me, store }) {
    this.api = api;
    this.me = me;
    this.store = store;
  }

  // Mine with this emoji goes if it is there, else comes.
  async toggle(message, emoji) {
    if (!message || message.deleted_at) return;
    const mine = message.reactions?.some((r) => r.emoji === emoji && r.user_ids.includes(this.me.id));
    const url = path`/messages/${message.id}/reactions/${emoji}`;
    try {
      if (mine) await this.api.delete(url);
      else await this.api.put(url);
      this.store.react({ message_id: message.id, emoji, user_id: this.me.id }, !mine);
    } catch (error) {
      announce(`The reaction could not be ${mine ? "taken back" : "added"}. ${describe(error)}`);
    }
  }
}
