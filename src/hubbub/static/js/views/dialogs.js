// The page's small dialogs: closing any of them, the delete confirmation, earlier versions.

import { describe, path } from "../api.js";
import { el, fullTime } from "../format.js";

// Every dialog's [data-close] button closes it; earlier versions leave the page with their
// dialog, so that a message deleted later takes them along.
export function wireDialogs() {
  for (const button of document.querySelectorAll("dialog [data-close]")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
  document.getElementById("revisions-dialog").addEventListener("close", () => {
    document.getElementById("revisions-list").replaceChildren();
  });
}

// Resolves to true when the person confirms.
export function confirmDelete() {
  const dialog = document.getElementById("confirm-dialog");
  return new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.showModal();
    document.getElementById("confirm-yes").focus();
  });
}

export async function showRevisions(api, messageId) {
  const list = document.getElementById("revisions-list");
  list.replaceChildren(el("li", {}, "Loading…"));
  document.getElementById("revisions-dialog").showModal();
  try {
    const answer = await api.get(path`/messages/${messageId}/revisions`);
    list.replaceChildren(...answer.revisions.map((revision) =>
      el("li", {},
        el("p", { class: "body" }, revision.body),
        el("p", { class: "hint" }, "Written ",
          el("time", { datetime: revision.created_at }, fullTime(revision.created_at)),
          ", replaced ",
          el("time", { datetime: revision.replaced_at }, fullTime(revision.replaced_at))))));
  } catch (error) {
    list.replaceChildren(el("li", { class: "error" }, describe(error)));
  }
}
