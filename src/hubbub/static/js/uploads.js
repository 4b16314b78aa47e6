// Files on their way into the next message: each one chosen (the Attach button, a drop on the
// conversation, a paste into the composer) uploads at once, showing its progress in the tray
// above the box; the next send carries the ones that finished. A failed one says why, for
// Retry or Remove; Remove on one still uploading stops it.

import { describe, ApiError } from "./api.js";
import { el, fileSize, plural } from "./format.js";
import { announce } from "./views/announce.js";

// As the server allows (services/files.py): more than this in one message is refused.
export const PER_MESSAGE = 10;

export class Uploads {
  // changed(): the tray's content changed (the composer may enable or disable Send).
  constructor({ api, tray, changed }) {
    this.api = api;
    this.tray = tray;
    this.changed = changed;
    this.items = []; // {key, file, state: "uploading"|"done"|"failed", loaded, attachment, reason, xhr}
    this.nextKey = 1;
    this.tray.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      const item = this.items.find((i) => i.key === Number(button?.closest("li")?.dataset.key));
      if (!item) return;
      if (button.dataset.action === "remove-upload") this.remove(item);
      else if (button.dataset.action === "retry-upload") this.start(item);
    });
  }

  add(files) {
    const room = PER_MESSAGE - this.items.length;
    const chosen = Array.from(files).slice(0, Math.max(0, room));
    if (files.length > chosen.length) {
      announce(`A message carries at most ${PER_MESSAGE} files; ${plural(files.length - chosen.length, "file was", "files were")} left out.`);
    }
    for (const file of chosen) {
      const item = { key: this.nextKey++, file, state: "uploading", loaded: 0 };
      this.items.push(item);
      this.start(item);
    }
    if (chosen.length) announce(`Uploading ${plural(chosen.length, "file", "files")}.`);
  }

  async start(item) {
    Object.assign(item, { state: "uploading", loaded: 0, reason: null, retryable: false });
    this.draw();
    try {
      item.attachment = await this.api.upload(item.file, {
        progress: (loaded) => { item.loaded = loaded; this.drawProgress(item); },
        started: (xhr) => { item.xhr = xhr; },
      });
      item.state = "done";
      announce(`${item.file.name || "The file"} is uploaded.`);
    } catch (error) {
      if (error?.name === "AbortError") return; // removed while on its way
      item.state = "failed";
      // The server's no is final (a 4xx): only a lost connection or a server error may work
      // when tried again.
      item.retryable = !(error instanceof ApiError) || error.status >= 500;
      item.reason = error instanceof ApiError ? describe(error)
        : "The upload did not get through. Check your connection, then Retry.";
      announce(`${item.file.name || "The file"} was not uploaded: ${item.reason}`);
    } finally {
      item.xhr = null;
    }
    this.draw();
  }

  remove(item) {
    item.xhr?.abort();
    this.items = this.items.filter((i) => i !== item);
    this.draw();
  }

  // Uploads a refused send gave back, ready to go with the next one.
  putBack(attachments = []) {
    for (const attachment of attachments) {
      this.items.push({
        key: this.nextKey++, state: "done", attachment,
        file: { name: attachment.name, size: attachment.size },
      });
    }
    this.draw();
  }

  busy() { return this.items.some((i) => i.state === "uploading"); }
  failed() { return this.items.some((i) => i.state === "failed"); }
  // The uploads the next send carries, taken out of the tray.
  take() {
    const done = this.items.filter((i) => i.state === "done").map((i) => i.attachment);
    this.items = this.items.filter((i) => i.state !== "done");
    this.draw();
    return done;
  }

  draw() {
    this.tray.hidden = this.items.length === 0;
    this.tray.replaceChildren(...this.items.map((item) => this.itemNode(item)));
    this.changed();
  }

  drawProgress(item) {
    const bar = this.tray.querySelector(`li[data-key="${item.key}"] progress`);
    if (bar) bar.value = item.loaded;
  }

  itemNode(item) {
    const name = item.file.name || "pasted image";
    const thumb = item.attachment?.thumbnail_url;
    const node = el("li", { class: `upload ${item.state}`, dataset: { key: item.key } },
      thumb ? el("img", { class: "upload-thumb", src: thumb, alt: "" })
        : el("span", { class: "upload-icon", "aria-hidden": "true" }, "📄"),
      el("span", { class: "upload-name", title: name }, name),
      el("span", { class: "upload-size" }, fileSize(item.file.size)));
    if (item.state === "uploading") {
      node.append(el("progress", {
        max: item.file.size || 1, value: item.loaded, "aria-label": `Uploading ${name}`,
      }));
    } else if (item.state === "failed") {
      node.append(item.retryable ? el("button", {
        type: "button", class: "link-button", dataset: { action: "retry-upload" },
      }, "Retry") : "");
    }
    node.append(el("button", {
      type: "button", class: "upload-remove", dataset: { action: "remove-upload" },
      "aria-label": `Remove ${name}`, title: "Remove",
    }, "×"));
    // Below the name, across the whole item: the reason is often a sentence or two.
    if (item.state === "failed") {
      node.append(el("span", { class: "upload-error", role: "alert" }, item.reason));
    }
    return node;
  }
}
