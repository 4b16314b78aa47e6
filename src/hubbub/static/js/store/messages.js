// One conversation's messages and my sends still on their way, kept up to date by events.
// A send is pending under a fresh client_id until the answer or the stream's message.created
// with that client_id, whichever comes first, replaces it.
// Beside the messages, the group's activity (renames, joins, removals, leaves) of the part of
// the history that is loaded: each entry follows the message it names in after_message_id.
// What is loaded is one stretch of the history: from the end back, or, after going to a
// message far back (a search result, an old quote), a window around it (hasNewer) that grows
// both ways; events for messages past the window are left to the pages that will bring them.

import { path } from "../api.js";
import { excerptOf } from "../format.js";

const PAGE = 50;
const UNREAD_PAGES = 4; // how far back the first view looks for the first unread message
const CATCH_UP_PAGE = 100;
const ACTIVITY_PAGE = 100;
const ACTIVITY_PAGES = 10; // at most this many pages of activity for one stretch of history
// Events after which the group's activity has a new entry.
const ACTIVITY_EVENTS = new Set(["conversation.updated", "member.added", "member.removed"]);

// The message an event is about.
function messageIdOf(event) {
  return event.data.message?.id ?? event.data.message_id;
}

function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class MessageStore {
  constructor({ api, me, conversationId, changed }) {
    this.api = api;
    this.me = me;
    this.id = conversationId;
    this.changed = changed;
    this.items = new Map(); // message id -> message
    this.notes = new Map(); // activity entry id -> entry
    // client id -> {body, state: "sending" | "waiting" | "failed", reason?, created_at}
    this.pending = new Map();
    this.hasMore = false; // older messages than the loaded ones exist
    this.hasNewer = false; // newer ones too: the window does not reach the end
    this.held = null; // while a page of the window is on its way: events it may not include
    this.holdingAll = false; // held: every message's events, not only those of unloaded ones
    this.turn = Promise.resolve(); // moves of the loaded stretch, one after another (inTurn)
    this.loaded = false;
    this.queued = []; // events that arrived before the first page
    this.firstUnreadId = null; // where the "New messages" divider goes
    this.lastRead = 0; // my read marker when the conversation opened
    // The first unread message is older than the pages the first view loads: the page opens at
    // the end and offers to jump there (jumpToFirstUnread), and marks nothing read meanwhile.
    this.unreadBeyond = false;
  }

  // ---- reading -----------------------------------------------------------------------------

  sorted() {
    return [...this.items.values()].sort((a, b) => a.id - b.id);
  }

  get(id) {
    return this.items.get(id) || null;
  }

  // The activity entries, in the order of the history.
  sortedNotes() {
    return [...this.notes.values()]
      .sort((a, b) => a.after_message_id - b.after_message_id || a.id - b.id);
  }

  oldestId() {
    return this.items.size ? Math.min(...this.items.keys()) : 0;
  }

  newestId() {
    return Math.max(0, ...this.items.keys());
  }

  // My newest message that can still be edited.
  lastOwn() {
    let found = null;
    for (const message of this.items.values()) {
      if (message.sender.id !== this.me.id || message.deleted_at) continue;
      if (!found || message.id > found.id) found = message;
    }
    return found;
  }

  // A pending send in the shape of a message, to be drawn like one.
  pendingMessage(clientId) {
    const pending = this.pending.get(clientId);
    if (!pending) return null;
    return {
      id: null, client_id: clientId, body: pending.body, sender: this.me,
      created_at: pending.created_at, edited_at: null, deleted_at: null,
      reply_to: pending.replyTo, reactions: [], attachments: pending.attachments,
    };
  }

  // ---- fetching ----------------------------------------------------------------------------

  fetchNewest() {
    return this.api.get(path`/conversations/${this.id}/messages?limit=${PAGE}`);
  }

  // The first view: the newest page, and a few more while they are all unread, so that the
  // divider has a place. Events that came meanwhile are applied after it.
  async load(newest, lastRead) {
    let messages = newest.messages;
    this.hasMore = newest.has_more;
    for (let pages = 1; this.hasMore && pages < UNREAD_PAGES; pages += 1) {
      const oldest = messages[messages.length - 1];
      if (!oldest || oldest.id <= lastRead) break;
      const older = await this.api.get(
        path`/conversations/${this.id}/messages?before=${oldest.id}&limit=${PAGE}`);
      messages = messages.concat(older.messages);
      this.hasMore = older.has_more;
    }
    this.lastRead = lastRead;
    const oldest = messages[messages.length - 1];
    this.unreadBeyond = this.hasMore && Boolean(oldest) && oldest.id > lastRead;
    for (const message of messages) this.items.set(message.id, message);
    await this.fetchNotes(this.hasMore ? this.oldestId() : 0, null, ACTIVITY_PAGES);
    this.placeDivider();
    this.loaded = true;
    this.changed({ messages: { all: true, first: true } });
    for (const event of this.queued.splice(0)) this.apply(event);
  }

  // The divider goes on the oldest unread message from someone else, once it is loaded.
  placeDivider() {
    // Not while the first unread message may be older than the loaded ones.
    if (this.unreadBeyond || (this.hasMore && this.oldestId() > this.lastRead)) {
      this.firstUnreadId = null;
      return;
    }
    let first = null;
    for (const message of this.items.values()) {
      if (message.id > this.lastRead && message.sender.id !== this.me.id
        && (first === null || message.id < first)) first = message.id;
    }
    this.firstUnreadId = first;
  }

  async fetchOlder() {
    const oldest = this.oldestId();
    const page = await this.api.get(
      path`/conversations/${this.id}/messages?before=${oldest}&limit=${PAGE}`);
    const hasMore = page.has_more;
    const added = page.messages.filter((m) => !this.items.has(m.id));
    const from = hasMore ? Math.min(oldest, ...added.map((m) => m.id)) : 0;
    await this.fetchNotes(from, oldest, ACTIVITY_PAGES);
    this.hasMore = hasMore;
    for (const message of added) this.items.set(message.id, message);
    const reached = !this.hasMore || Math.min(...this.items.keys()) <= this.lastRead;
    const placed = this.unreadBeyond && reached;
    if (placed) {
      this.unreadBeyond = false; // back far enough: the divider has its place now
      this.placeDivider();
    }
    return { added, placed };
  }

  // Runs a change of what is loaded after the ones asked for before it, so that no page lands
  // in a window another has replaced meanwhile.
  inTurn(move) {
    const next = this.turn.then(move, move);
    this.turn = next.catch(() => {});
    return next;
  }

  loadOlder() {
    return this.inTurn(() => this.addOlder());
  }

  async addOlder() {
    const { added, placed } = await this.fetchOlder();
    // A divider placed above what is drawn needs the whole list decorated again.
    this.changed({ messages: { older: true, all: placed, ids: added.map((m) => m.id) } });
  }

  // Loads older pages until the first unread message is in, then shows it.
  jumpToFirstUnread() {
    return this.inTurn(async () => {
      while (this.unreadBeyond) await this.fetchOlder();
      this.changed({ messages: { all: true, jumped: true } });
    });
  }

  // Brings the message with this id in: one older page if it may be just above, else a
  // window of the history around it.
  reach(id) {
    return this.inTurn(() => this.bringIn(id));
  }

  async bringIn(id) {
    if (this.items.has(id)) return;
    if (!this.hasNewer && this.hasMore && this.oldestId() > id) {
      const { added } = await this.fetchOlder();
      if (this.items.has(id)) {
        this.changed({ messages: { older: true, all: true, ids: added.map((m) => m.id) } });
        return;
      }
    }
    const { page, held } = await this.fetchWindow(path`around=${id}`, true);
    // The jump to the first unread message starts from the end again (toNewest).
    await this.replaceWith(page, held, page.has_newer, false);
    this.changed({ messages: { all: true, around: id } });
  }

  // The next page below the window; at the end, the window is the live history again.
  loadNewer() {
    return this.inTurn(() => this.addNewer());
  }

  async addNewer() {
    if (!this.hasNewer) return;
    const newest = this.newestId();
    const { page, held } = await this.fetchWindow(path`after=${newest}`);
    const added = page.messages.filter((m) => !this.items.has(m.id));
    for (const message of added) this.items.set(message.id, message);
    this.hasNewer = page.has_more;
    await this.fetchNotes(newest, this.windowEnd(), ACTIVITY_PAGES);
    this.replay(held);
    this.placeDivider();
    this.changed({ messages: { newer: true, ids: added.map((m) => m.id) } });
  }

  // Back to the end of the history (the newest page), as when the conversation opened.
  toNewest() {
    return this.inTurn(() => this.reload());
  }

  async reload() {
    if (!this.hasNewer) return;
    const { page, held } = await this.fetchWindow("", true);
    // As when it opened: while unread messages lie further back, the jump is offered again.
    const oldest = Math.min(...page.messages.map((m) => m.id));
    await this.replaceWith(page, held, false, page.has_more && oldest > this.lastRead);
    this.changed({ messages: { all: true, reveal: true } });
  }

  // What is loaded becomes this page (around a message, or the newest): its activity, the
  // divider, then the events held while it was on its way.
  async replaceWith(page, held, hasNewer, unreadBeyond) {
    this.items = new Map(page.messages.map((m) => [m.id, m]));
    this.hasMore = page.has_more;
    this.hasNewer = hasNewer;
    this.unreadBeyond = unreadBeyond;
    this.notes = new Map();
    await this.fetchNotes(this.hasMore ? this.oldestId() : 0, this.windowEnd(), ACTIVITY_PAGES);
    this.placeDivider();
    this.replay(held);
  }

  // A page of history by this query; the events that came meanwhile for messages not loaded
  // (for any message, when the page is to replace what is loaded) are handed back to be
  // applied on top of it (replay), as the page may predate them.
  async fetchWindow(query, replacing = false) {
    const held = [];
    this.held = held;
    this.holdingAll = replacing;
    try {
      const page = await this.api.get(
        path`/conversations/${this.id}/messages?limit=${PAGE}` + (query ? `&${query}` : ""));
      return { page, held };
    } finally {
      if (this.held === held) this.held = null;
    }
  }

  // Held events, in order, for the messages now loaded; those past the window are dropped,
  // as the next page is asked for after they happened and brings them.
  replay(held) {
    const newest = this.newestId();
    for (const event of held) {
      if (!this.hasNewer || messageIdOf(event) <= newest) this.apply(event);
    }
  }

  // The newest message id whose activity belongs to what is loaded (null: all of it).
  windowEnd() {
    return this.hasNewer ? this.newestId() + 1 : null;
  }

  // The activity placed after the messages from `from` up to `before` (null: the end), newest
  // first, page by page; returns the entries that were not known yet.
  async fetchNotes(from, before, pages) {
    const found = [];
    let query = path`from_message=${from}&limit=${ACTIVITY_PAGE}`;
    if (before !== null) query += path`&before_message=${before}`;
    let next = null;
    for (let page = 0; page < pages; page += 1) {
      const answer = await this.api.get(path`/conversations/${this.id}/activity?` + query
        + (next === null ? "" : path`&before=${next}`));
      for (const entry of answer.activity) {
        if (!this.notes.has(entry.id)) found.push(entry);
        this.notes.set(entry.id, entry);
      }
      if (!answer.has_more || answer.activity.length === 0) break;
      next = answer.activity[answer.activity.length - 1].id;
    }
    return found;
  }

  // The group changed (renamed, someone came or went): its newest activity, said as fresh.
  // Below a window it waits for the pages that will bring it.
  async refreshNotes() {
    if (this.hasNewer) return;
    const fresh = await this.fetchNotes(this.hasMore ? this.oldestId() : 0, null, 1);
    if (fresh.length) this.changed({ messages: { notes: fresh } });
  }

  // Messages written while I could not see them (removed, then added back).
  async catchUp() {
    while (!this.hasNewer) {
      const page = await this.api.get(path`/conversations/${this.id}/messages?after=${
        this.newestId()}&limit=${CATCH_UP_PAGE}`);
      for (const message of page.messages) this.put(message, { quiet: true });
      if (!page.has_more || page.messages.length === 0) return;
    }
  }

  // ---- changing ----------------------------------------------------------------------------

  apply(event) {
    if (event.conversation_id !== this.id) return;
    const data = event.data;
    if (ACTIVITY_EVENTS.has(event.type)) {
      if (!this.loaded) {
        this.queued.push(event);
        return;
      }
      // Removed myself: there is nothing more of it to see.
      if (event.type === "member.removed" && data.user_id === this.me.id) return;
      const back = event.type === "member.added" && data.member.user.id === this.me.id;
      (back ? this.catchUp() : Promise.resolve())
        .then(() => this.refreshNotes()).catch(() => {});
      return;
    }
    const reaction = event.type.startsWith("reaction.");
    if (!event.type.startsWith("message.") && !reaction) return;
    const id = messageIdOf(event);
    if (!this.loaded) {
      this.queued.push(event);
    } else if (this.held && (this.holdingAll || !this.items.has(id))) {
      this.held.push(event);
    } else if (this.hasNewer && !this.items.has(id)) {
      // Past the window: the page that brings it is asked for later. Someone else's new
      // message is still worth a word (the "New messages below" pill).
      if (event.type === "message.created") this.changed({ messages: { later: [data.message] } });
    } else if (reaction) {
      this.react(data, event.type === "reaction.added");
    } else if (event.type === "message.created" || this.items.has(id)) {
      this.put(data.message);
    }
  }

  // Someone's reaction came or went. Either is the same however often it is applied, so the
  // answer to my own click and the event it sends may come in either order.
  react({ message_id: id, emoji, user_id: userId }, added) {
    const message = this.items.get(id);
    if (!message || message.deleted_at) return;
    const reactions = (message.reactions || []).map((r) => ({ ...r, user_ids: [...r.user_ids] }));
    let entry = reactions.find((r) => r.emoji === emoji);
    if (added && !entry) {
      entry = { emoji, count: 0, user_ids: [] };
      reactions.push(entry);
    }
    if (!entry) return;
    if (added && !entry.user_ids.includes(userId)) entry.user_ids.push(userId);
    if (!added) entry.user_ids = entry.user_ids.filter((uid) => uid !== userId);
    message.reactions = reactions.map((r) => ({ ...r, count: r.user_ids.length }))
      .filter((r) => r.count > 0);
    this.changed({ messages: { ids: [id] } });
  }

  // The replies to a message quote it as it reads now: an edit rewords them, a delete empties.
  requote(message) {
    const ids = [];
    for (const reply of this.items.values()) {
      if (reply.reply_to?.id !== message.id) continue;
      const excerpt = message.deleted_at ? null : excerptOf(message);
      if (excerpt === reply.reply_to.excerpt) continue;
      reply.reply_to = { ...reply.reply_to, excerpt };
      ids.push(reply.id);
    }
    return ids;
  }

  // A message as the server has it now, from an answer, an event or a page. New ones are
  // "fresh" (said to screen readers, marked read) unless quiet; reveal scrolls to them.
  put(message, { quiet = false, reveal = false } = {}) {
    const fresh = !quiet && !this.items.has(message.id);
    this.items.set(message.id, message);
    const change = { ids: [message.id, ...this.requote(message)], fresh: fresh ? [message] : [],
      reveal };
    if (message.client_id && message.sender.id === this.me.id
        && this.pending.delete(message.client_id)) {
      change.pending = [message.client_id];
    }
    this.changed({ messages: change });
  }

  // Shows a send at once; returns its client_id. replyTo: the quote of the message it
  // answers ({id, sender, excerpt}), or null. Sending from a window far back goes back to
  // the end, where it will be.
  addPending(body, replyTo = null, attachments = []) {
    if (this.hasNewer) this.toNewest().catch(() => {});
    const clientId = newClientId();
    this.pending.set(clientId, {
      body, replyTo, attachments, state: "sending", created_at: new Date().toISOString(),
    });
    this.changed({ messages: { pending: [clientId], reveal: true } });
    return clientId;
  }

  setPendingState(clientId, state) {
    const pending = this.pending.get(clientId);
    if (!pending || pending.state === state) return;
    pending.state = state;
    this.changed({ messages: { pending: [clientId] } });
  }

  dropPending(clientId) {
    if (this.pending.delete(clientId)) this.changed({ messages: { pending: [clientId] } });
  }
}
