// Finding people by username prefix, for starting a DM and for adding group members.

import { path } from "./api.js";
import { el } from "./format.js";

const DEBOUNCE_MS = 150;

// Wires a search input to a list of result buttons; pick(user) runs when one is chosen.
export function peopleSearch(api, input, results, { label, exclude = () => [], pick, status }) {
  let timer = null;
  let asked = "";

  async function search() {
    const query = input.value.trim();
    asked = query;
    if (!query) {
      results.replaceChildren();
      if (status) status.textContent = "";
      return;
    }
    let answer;
    try {
      answer = await api.get(path`/users?q=${query}`);
    } catch {
      if (status) status.textContent = "Search is unavailable right now.";
      return;
    }
    if (asked !== query) return; // a newer search is on its way
    const skip = new Set(exclude());
    const users = answer.users.filter((user) => !skip.has(user.id));
    results.replaceChildren(
      ...users.map((user) =>
        el("li", {},
          el("button", {
            type: "button", class: "result", dataset: { userId: user.id, username: user.username },
          },
            label(user))),
      ),
    );
    if (status) {
      status.textContent = users.length ? "" : `Nobody found whose name starts with “${query}”.`;
    }
  }

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    const first = results.querySelector("button");
    if (event.key === "ArrowDown" && first) {
      event.preventDefault();
      first.focus();
    } else if (event.key === "Enter" && first) {
      event.preventDefault();
      first.click();
    }
  });
  results.addEventListener("keydown", (event) => {
    const buttons = [...results.querySelectorAll("button")];
    const at = buttons.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at < buttons.length - 1) {
      event.preventDefault();
      buttons[at + 1].focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      (at > 0 ? buttons[at - 1] : input).focus();
    } else if (event.key === "Escape") {
      results.replaceChildren();
      input.focus();
    }
  });
  results.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-user-id]");
    if (!button) return;
    pick({ id: Number(button.dataset.userId), username: button.dataset.username }, button);
  });

  return {
    clear() {
      input.value = "";
      results.replaceChildren();
      if (status) status.textContent = "";
    },
    refresh: search,
  };
}
