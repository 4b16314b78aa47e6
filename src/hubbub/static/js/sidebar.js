// The list of my conversations, starting a DM, and creating a group.

import { describe } from "./api.js";
import { conversationName, el, otherMember, plural, shortTime } from "./format.js";
import { peopleSearch } from "./people.js";

const REFRESH_MS = 100;

export class Sidebar {
  constructor(app) {
    this.app = app;
    this.list = document.getElementById("conversation-list");
    this.empty = document.getElementById("no-conversations");
    this.conversations = [];
    this.timer = null;
    this.setUpSearch();
    this.setUpNewGroup();
  }

  // The list is small and the server knows the unread counts: ask again after changes.
  async refresh() {
    const asked = (this.asked = (this.asked || 0) + 1);
    let answer;
    try {
      answer = await this.app.api.get("/conversations");
    } catch {
      return; // the stream's banner already says when the server is away
    }
    if (asked !== this.asked) return; // a newer answer is on its way
    this.conversations = answer.conversations;
    this.render();
  }

  refreshSoon() {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.refresh(), REFRESH_MS);
  }

  onEvent(event) {
    if (event.type === "typing") return;
    if (event.type === "presence") {
      this.render();
      return;
    }
    this.refreshSoon();
  }

  render() {
    const { me, openId } = this.app;
    this.empty.hidden = this.conversations.length > 0;
    this.list.replaceChildren(
      ...this.conversations.map((conversation) => {
        const name = conversationName(conversation, me);
        const other = otherMember(conversation, me);
        const unread = conversation.id === openId ? 0 : conversation.unread_count;
        const last = conversation.last_message;
        let preview = "No messages yet";
        if (last) {
          const who = last.sender.id === me.id ? "You" : last.sender.username;
          preview = `${who}: ${last.body === null ? "message deleted" : last.body}`;
        }
        const online = other && this.app.online.has(other.id);
        const label = [name, unread ? plural(unread, "unread message", "unread messages") : null,
          online ? "online" : null].filter(Boolean).join(", ");
        return el("li", { class: unread ? "unread" : null },
          el("a", {
            href: this.app.settings.conversation_url + conversation.id,
            "aria-current": conversation.id === openId ? "page" : null,
            "aria-label": label,
            dataset: { conversationId: conversation.id },
          },
          el("span", { class: "row" },
            other ? el("span", { class: online ? "dot online" : "dot", "aria-hidden": "true" }) : null,
            el("span", { class: "name" }, name),
            el("time", { datetime: conversation.last_activity_at },
              shortTime(conversation.last_activity_at)),
            unread ? el("span", { class: "badge", "aria-hidden": "true" }, String(unread)) : null),
          el("span", { class: "preview" }, preview)));
      }),
    );
  }

  find(id) {
    return this.conversations.find((c) => c.id === id);
  }

  setUpSearch() {
    const input = document.getElementById("people-query");
    peopleSearch(this.app.api, input, document.getElementById("people-results"), {
      label: (user) => `Message ${user.username}`,
      exclude: () => [this.app.me.id],
      status: document.getElementById("people-status"),
      pick: async (user) => {
        try {
          const answer = await this.app.api.post("/conversations", {
            kind: "direct", user_id: user.id,
          });
          window.location.assign(this.app.settings.conversation_url + answer.conversation.id);
        } catch (error) {
          document.getElementById("people-status").textContent = describe(error);
        }
      },
    });
  }

  setUpNewGroup() {
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
    const search = peopleSearch(this.app.api, query, document.getElementById("group-member-results"), {
      label: (user) => `Add ${user.username}`,
      exclude: () => [this.app.me.id, ...chosen.keys()],
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
        const answer = await this.app.api.post("/conversations", {
          kind: "group", title: title.value, member_ids: [...chosen.keys()],
        });
        window.location.assign(this.app.settings.conversation_url + answer.conversation.id);
      } catch (failure) {
        error.textContent = describe(failure);
      }
    });
  }
}

// Every dialog's [data-close] button closes it.
export function wireDialogs() {
  for (const button of document.querySelectorAll("dialog [data-close]")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
}

