// The page's small dialogs: closing any of them, the one confirmation, earlier versions.

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

// The one confirmation for every act that one click should not do: deleting a message,
// removing someone, leaving a group, making an owner. The heading asks, the text names the
// consequence, `yes` labels the button that does it (red when `danger`). Resolves to true
// when the person confirms; Cancel and Escape resolve to false. Focus starts on the button
// that does it, the consequence named above it; closing puts focus back on what asked.
export function confirm({ heading, text, yes, danger = true }) {
  const dialog = document.getElementById("confirm-dialog");
  const yesButton = document.getElementById("confirm-yes");
  document.getElementById("confirm-heading").textContent = heading;
  document.getElementById("confirm-text").textContent = text;
  yesButton.textContent = yes;
  yesButton.className = danger ? "button danger" : "button";
  return new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.showModal();
    yesButton.focus();
  });
}

export function confirmDelete() {
  return confirm({
    heading: "Delete message?",
    text: "It will be removed for everyone in this conversation.",
    yes: "Delete",
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
