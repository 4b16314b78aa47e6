// Editing and deleting messages in place: the inline editor (Enter saves, Escape cancels, Up
// in the empty composer edits my last message) and deleting after a confirmation.

import { describe, path } from "./api.js";
import { el } from "./format.js";
import { announce } from "./views/announce.js";

export class Editing {
  // view: the message list (its nodes); confirmDelete(): resolves to true when confirmed.
  constructor({ api, store, view, composer, confirmDelete, changed }) {
    this.api = api;
    this.store = store;
    this.view = view;
    this.composer = composer;
    this.confirmDelete = confirmDelete;
    this.changed = changed;
  }

  start(node) {
    const message = this.store.get(Number(node.dataset.id));
    if (!message || message.deleted_at || node.classList.contains("editing")) return;
    node.classList.add("editing");
    const editor = el("form", { class: "edit-form" },
      el("label", { class: "visually-hidden", for: `edit-${message.id}` }, "Edit message"),
      el("textarea", { id: `edit-${message.id}`, rows: "2", maxlength: "4000" }),
      el("p", { class: "error", role: "alert" }),
      el("div", { class: "edit-actions" },
        el("button", { type: "submit", class: "button small" }, "Save"),
        el("button", {
          type: "button", class: "button secondary small", dataset: { action: "cancel-edit" },
        }, "Cancel"),
        el("span", { class: "hint" }, "Enter saves, Escape cancels")));
    const area = editor.querySelector("textarea");
    area.value = message.body;
    node.querySelector(".body").replaceWith(editor);
    node.querySelector(".actions")?.setAttribute("hidden", "");
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);

    // Closes the editor and draws the message as the store has it (edited or not).
    const finish = (edited) => {
      node.classList.remove("editing");
      if (edited) this.store.put(edited);
      else this.changed({ messages: { ids: [message.id] } });
      this.composer.focus();
    };
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        finish(null);
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        editor.requestSubmit();
      }
    });
    editor.addEventListener("click", (event) => {
      if (event.target.closest("[data-action=cancel-edit]")) finish(null);
    });
    editor.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (area.value.trim() === message.body.trim()) {
        finish(null);
        return;
      }
      try {
        const answer = await this.api.patch(path`/messages/${message.id}`, { body: area.value });
        finish(answer.message);
      } catch (error) {
        editor.querySelector(".error").textContent = describe(error);
      }
    });
  }

  async remove(node) {
    const id = Number(node.dataset.id);
    if (!(await this.confirmDelete())) {
      node.querySelector("[data-action=delete]")?.focus();
      return;
    }
    try {
      const answer = await this.api.delete(path`/messages/${id}`);
      this.store.put(answer.message);
    } catch (error) {
      announce(describe(error));
      this.composer.showError(describe(error));
    }
    this.composer.focus();
  }

  // Up arrow in the empty composer; false when I have nothing to edit.
  editLast() {
    const mine = this.store.lastOwn();
    const node = mine && this.view.nodeFor(mine.id);
    if (!node) return false;
    node.scrollIntoView({ block: "nearest" });
    this.start(node);
    return true;
  }
}
