// Starting conversations: a DM with someone found by the people search, and a new group.

import { describe } from "./api.js";
import { el } from "./format.js";
import { peopleSearch } from "./people.js";

// Both open the new conversation's page once the server has it.
export function wireStarting(settings) {
  wireSearch(settings);
  wireNewGroup(settings);
}

function wireSearch({ api, me, conversationUrl }) {
  const input = document.getElementById("people-query");
  peopleSearch(api, input, document.getElementById("people-results"), {
    label: (user) => `Message ${user.username}`,
    exclude: () => [me.id],
    status: document.getElementById("people-status"),
    pick: async (user) => {
      try {
        const answer = await api.post("/conversations", {
          kind: "direct", user_id: user.id,
        });
        window.location.assign(conversationUrl + answer.conversation.id);
      } catch (error) {
        document.getElementById("people-status").textContent = describe(error);
      }
    },
  });
}

function wireNewGroup({ api, me, conversationUrl }) {
  const dialog = document.getElementById("new-group-dialog");
  const form = document.getElementById("new-group-form");
  const title = document.getElementById("group-title");
  const chosenList = document.getElementById("group-members");
  const error = document.getElementById("new-group-error");
  const chosen = new Map();
  const query = document.getElementById("group-member-query");

  const renderChosen = () => {
    chosenList.replaceChildren(
      ...[...chosen.values()].map((user) =>
        el("li", { class: "chip" }, user.username,
          el("button", {
            type: "button", class: "chip-remove", "aria-label": `Remove ${user.username}`,
            dataset: { userId: user.id },
          }, "×"))),
    );
  };
  const search = peopleSearch(api, query, document.getElementById("group-member-results"), {
    label: (user) => `Add ${user.username}`,
    exclude: () => [me.id, ...chosen.keys()],
    pick: (user) => {
      chosen.set(user.id, user);
      renderChosen();
      search.clear();
      query.focus();
    },
  });
  chosenList.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-user-id]");
    if (!button) return;
    chosen.delete(Number(button.dataset.userId));
    renderChosen();
    query.focus();
  });

  document.getElementById("new-group-button").addEventListener("click", () => {
    chosen.clear();
    renderChosen();
    search.clear();
    form.reset();
    error.textContent = "";
    dialog.showModal();
    title.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!title.value.trim()) {
      error.textContent = "Give the group a title.";
      title.focus();
      return;
    }
    try {
      const answer = await api.post("/conversations", {
        kind: "group", title: title.value, member_ids: [...chosen.keys()],
      });
      window.location.assign(conversationUrl + answer.conversation.id);
    } catch (failure) {
      error.textContent = describe(failure);
    }
  });
}
