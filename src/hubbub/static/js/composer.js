// The composer and its send queue: each send shows at once as pending and goes to the server
// in the order it was written. Network trouble and server errors never lose a send nor ask for
// a click: it waits, and goes by itself (same client_id, so the server stores it once) after a
// backoff, when the browser is online again, or when the stream is back. Only a send the
// server refused (a 4xx) waits for Retry or Discard, saying why.

import { ApiError, describe, path } from "./api.js";
import { MentionAutocomplete } from "./autocomplete.js";
import { touches } from "./dispatch.js";
import { conversationName, el, excerptOf, nameOf } from "./format.js";
import { Uploads } from "./uploads.js";
import { announce } from "./views/announce.js";

const TOUCH = window.matchMedia("(hover: none) and (pointer: coarse)");

const TYPING_EVERY_MS = 3000;
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000];
// A send whose answer never comes (a connection that died without a word) is tried again.
const SEND_TIMEOUT_MS = 20000;

export class Composer {
  // editLast(): start editing my last message; false when there is none.
  constructor({ api, me, store, conversations, editLast }) {
    this.api = api;
    this.me = me;
    this.store = store;
    this.conversations = conversations;
    this.id = store.id;
    this.editLast = editLast;
    this.queue = new SendQueue({
      api, store, conversationId: this.id,
      refused: (clientId, error) => this.refused(clientId, error),
    });
    this.lastTypingSent = 0;
    this.wanted = null; // the placeholder before it is fitted to the box
    this.replying = null; // {id, sender, excerpt} of the message the next send answers
    this.measure = null; // a canvas context that measures text
    this.form = document.getElementById("composer");
    this.input = document.getElementById("composer-input");
    this.uploads = new Uploads({
      api, tray: document.getElementById("upload-tray"), changed: () => this.clearError(),
    });
    // Made before wire(): its keydown listener runs first and keeps the keys it takes from ours.
    this.mentions = new MentionAutocomplete({
      input: this.input, list: document.getElementById("mention-options"), me,
      conversation: () => this.conversations.get(this.id),
    });
    if (TOUCH.matches) {
      document.getElementById("composer-hint").textContent =
        "Enter starts a new line; the Send button sends.";
    }
    this.wire();
  }

  render(change) {
    // The message being answered was deleted meanwhile: nothing to answer any more.
    const answering = this.replying?.id;
    if (answering && change.messages && this.store.get(answering)?.deleted_at) {
      this.replyTo(null);
      announce("The message you were replying to was deleted.");
    }
    if (!touches(change, this.id)) return;
    this.form.hidden = this.conversations.isMember(this.id) === false;
    const conversation = this.conversations.get(this.id);
    const wanted = conversation ? `Message ${conversationName(conversation, this.me)}` : null;
    if (!wanted || wanted === this.wanted) return; // the box's resizes fit it again themselves
    this.wanted = wanted;
    this.fitPlaceholder();
  }

  // The placeholder on one line, cut with an ellipsis where the box ends (a textarea's own
  // placeholder is clipped mid-letter instead). Measured with the box's own font.
  fitPlaceholder() {
    if (!this.wanted) return;
    const style = getComputedStyle(this.input);
    const room = this.input.clientWidth - parseFloat(style.paddingLeft)
      - parseFloat(style.paddingRight);
    this.measure ||= document.createElement("canvas").getContext("2d");
    this.measure.font = style.font;
    const fits = (text) => this.measure.measureText(text).width <= room;
    let text = this.wanted;
    if (!fits(text)) {
      const chars = Array.from(text);
      while (chars.length > 1 && !fits(`${chars.join("").trimEnd()}…`)) chars.pop();
      text = `${chars.join("").trimEnd()}…`;
    }
    if (this.input.placeholder !== text) this.input.placeholder = text;
  }

  focus() {
    this.input.focus();
  }

  send(body, attachments = []) {
    this.queue.add(this.store.addPending(body, this.replying, attachments));
    this.replyTo(null);
  }

  // Answer this message with the next send (null: answer none); shown above the box.
  replyTo(message) {
    this.replying = message && !message.deleted_at ? {
      id: message.id, sender: message.sender, excerpt: excerptOf(message),
    } : null;
    const bar = document.getElementById("reply-bar");
    bar.hidden = !this.replying;
    if (this.replying) {
      document.getElementById("reply-quote").replaceChildren(
        "Replying to ", el("strong", {}, nameOf(this.replying.sender)), ": ",
        el("span", { class: "reply-text" }, this.replying.excerpt));
      this.input.focus();
    }
  }

  // The connection is back (the stream is live again): whatever waits goes now.
  resume() {
    this.queue.resume();
  }

  // The server said no for good. A body it found invalid goes back into an empty composer to
  // be edited; otherwise (something typed since, or another refusal) the message stays in
  // place, saying why, for Retry or Discard.
  refused(clientId, error) {
    const pending = this.store.pending.get(clientId);
    if (error.status === 422 && !this.input.value.trim()) {
      this.store.dropPending(clientId);
      this.input.value = pending.body;
      this.uploads.putBack(pending.attachments);
      this.showError(describe(error));
      return;
    }
    pending.reason = describe(error); // drawn by the message list beside Retry and Discard
    this.store.setPendingState(clientId, "failed");
  }

  retry(clientId) {
    const pending = this.store.pending.get(clientId);
    if (!pending) return;
    delete pending.reason;
    this.store.setPendingState(clientId, "sending");
    this.queue.add(clientId);
  }

  discard(clientId) {
    this.queue.remove(clientId);
    this.store.dropPending(clientId);
    this.input.focus();
  }

  showError(text) {
    announce(text);
    this.input.setAttribute("aria-invalid", "true");
    let note = document.getElementById("composer-error");
    if (!note) {
      note = el("p", { class: "error composer-error", id: "composer-error", role: "alert" });
      this.form.append(note);
    }
    note.textContent = text;
  }

  clearError() {
    this.input.removeAttribute("aria-invalid");
    document.getElementById("composer-error")?.remove();
  }

  typed() {
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_EVERY_MS || !this.input.value.trim()) return;
    this.lastTypingSent = now;
    this.api.post(path`/conversations/${this.id}/typing`).catch(() => {});
  }

  wire() {
    new ResizeObserver(() => this.fitPlaceholder()).observe(this.input);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = this.input.value;
      if (this.uploads.busy()) {
        this.showError("Wait until the files have finished uploading, then send.");
        return;
      }
      const attachments = this.uploads.take();
      if (!body.trim() && !attachments.length) return;
      this.input.value = "";
      this.lastTypingSent = 0;
      this.clearError();
      this.send(body, attachments);
    });
    this.wireFiles();
    this.input.addEventListener("keydown", (event) => {
      // On a touch screen Enter makes a new line and the Send button sends, as phone chat apps
      // do: the on-screen keyboard's Enter is where a line break is typed.
      const sends = !event.shiftKey && !event.isComposing && !TOUCH.matches;
      if (event.key === "Enter" && sends) {
        event.preventDefault();
        this.form.requestSubmit();
      } else if (event.key === "ArrowUp" && this.input.value === "") {
        if (this.editLast()) event.preventDefault();
      } else if (event.key === "Escape" && this.replying) {
        // Lets go of the message being answered (the mention list, while open, takes Escape).
        event.preventDefault();
        this.replyTo(null);
      }
    });
    this.input.addEventListener("input", () => this.typed());
    document.getElementById("reply-cancel").addEventListener("click", () => {
      this.replyTo(null);
      this.input.focus();
    });
  }

  // Files come by the Attach button, by a drop anywhere on the conversation, and by a paste into
  // the box (a screenshot); each starts uploading at once (uploads.js).
  wireFiles() {
    const picker = document.getElementById("attach-input");
    document.getElementById("attach-button").addEventListener("click", () => picker.click());
    picker.addEventListener("change", () => {
      this.uploads.add(picker.files);
      picker.value = "";
      this.input.focus();
    });
    this.input.addEventListener("paste", (event) => {
      const pasted = event.clipboardData?.files;
      if (!pasted?.length) return;
      // A copied picture often comes with its file name as text: the file is what was meant.
      event.preventDefault();
      this.uploads.add(pasted);
    });
    const pane = this.form.closest(".conversation");
    const carriesFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
    let depth = 0; // dragenter and dragleave come for every child crossed
    pane.addEventListener("dragenter", (event) => {
      if (!carriesFiles(event) || this.form.hidden) return;
      depth += 1;
      pane.classList.add("dropping");
    });
    pane.addEventListener("dragover", (event) => {
      if (!carriesFiles(event) || this.form.hidden) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    pane.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (!depth) pane.classList.remove("dropping");
    });
    pane.addEventListener("drop", (event) => {
      depth = 0;
      pane.classList.remove("dropping");
      if (!carriesFiles(event) || this.form.hidden) return;
      event.preventDefault();
      this.uploads.add(event.dataTransfer.files);
      this.input.focus();
    });
  }
}

// Whether a failed send may work later by itself: no answer at all, a timeout, a rate limit or
// a server error. Anything else the server said (a 4xx) it will say again.
function transient(error) {
  return !(error instanceof ApiError) || error.status >= 500
    || error.status === 408 || error.status === 429;
}

// My sends to one conversation, one at a time and oldest first, so that the server numbers
// them in the order they were written; one that cannot go now holds the ones behind it.
class SendQueue {
  // refused(clientId, error): the server refused a send for good; it has left the queue.
  constructor({ api, store, conversationId, refused }) {
    this.api = api;
    this.store = store;
    this.id = conversationId;
    this.refused = refused;
    this.line = []; // client ids, oldest first; the first may be on its way
    this.busy = false; // one send at a time, never two copies of one in flight
    this.failures = 0; // in a row, for the backoff
    this.timer = null; // the next try, while one is due
    this.inFlight = null; // the AbortController of the send on its way
    window.addEventListener("online", () => this.resume());
    window.addEventListener("offline", () => this.offline());
  }

  add(clientId) {
    this.line.push(clientId);
    // Behind one that waits for the connection, it waits too; and a new send is no sign that
    // the connection is back, so it does not cut the backoff short.
    if (this.store.pending.get(this.line[0])?.state === "waiting") {
      this.store.setPendingState(clientId, "waiting");
    }
    if (this.timer === null) this.pump();
  }

  remove(clientId) {
    this.line = this.line.filter((id) => id !== clientId);
  }

  resume() {
    this.stopTimer();
    this.failures = 0;
    this.pump();
  }

  // The browser knows the network is gone: the send on its way will not be answered, and the
  // rest need not try until it is back.
  offline() {
    this.stopTimer();
    this.waitAll();
    this.inFlight?.abort();
  }

  async pump() {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.line.length && navigator.onLine) {
        const clientId = this.line[0];
        // Confirmed by the stream meanwhile, or discarded: nothing left to send.
        if (this.store.pending.has(clientId) && !(await this.deliver(clientId))) {
          this.later();
          return;
        }
        if (this.line[0] === clientId) this.line.shift();
      }
      if (this.line.length) this.waitAll();
    } finally {
      this.busy = false;
    }
  }

  // One attempt; false when it should be tried again later. The same client_id each time, so
  // an attempt whose answer was lost and the next one make one message.
  async deliver(clientId) {
    const pending = this.store.pending.get(clientId);
    const control = new AbortController();
    const timeout = window.setTimeout(() => control.abort(), SEND_TIMEOUT_MS);
    this.inFlight = control;
    try {
      const answer = await this.api.post(path`/conversations/${this.id}/messages`, {
        body: pending.body, client_id: clientId, reply_to: pending.replyTo?.id,
        attachment_ids: pending.attachments?.map((a) => a.id),
      }, control.signal);
      this.store.put(answer.message, { reveal: true });
      this.failures = 0;
      // It got through, so the connection is there for the ones behind it.
      for (const id of this.line) this.store.setPendingState(id, "sending");
      return true;
    } catch (error) {
      if (transient(error)) {
        // No answer says nothing reached us; a server error says the network is fine.
        if (!(error instanceof ApiError)) this.waitAll();
        return false;
      }
      this.remove(clientId);
      this.refused(clientId, error);
      return true;
    } finally {
      window.clearTimeout(timeout);
      this.inFlight = null;
    }
  }

  // Tried again after a growing pause; sooner when the browser or the stream says the
  // connection is back (resume), and not at all while the browser says it is offline.
  later() {
    if (!navigator.onLine) return;
    const delay = RETRY_DELAYS_MS[Math.min(this.failures, RETRY_DELAYS_MS.length - 1)];
    this.failures += 1;
    this.stopTimer();
    this.timer = window.setTimeout(() => {
      this.timer = null;
      this.pump();
    }, delay);
  }

  stopTimer() {
    window.clearTimeout(this.timer);
    this.timer = null;
  }

  waitAll() {
    for (const id of this.line) this.store.setPendingState(id, "waiting");
  }
}
