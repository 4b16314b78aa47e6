// Group settings: rename, members and roles, add, remove, leave. What each control offers is
// what the server's permissions say I may do; the server checks again.

import { describe, path } from "../api.js";
import { touches } from "../dispatch.js";
import { el } from "../format.js";
import { peopleSearch } from "../people.js";
import { announce } from "./announce.js";

const RANK = { owner: 3, admin: 2, member: 1 }; // for the order of the list only
const NOTHING = { manage: false, delete_any_message: false, assign: {}, remove: [] };

export class GroupSettings {
  constructor({ api, conversations, me, conversationId, dashboard }) {
    this.api = api;
    this.conversations = conversations;
    this.me = me;
    this.id = conversationId;
    this.dashboard = dashboard;
    this.drawn = null; // what the members list shows, so that it is redrawn only when it changes
    this.dialog = document.getElementById("settings-dialog");
    this.fullTitle = document.getElementById("settings-title"); // the header may cut it short
    this.renameForm = document.getElementById("rename-form");
    this.renameInput = document.getElementById("rename-title");
    this.members = document.getElementById("settings-members");
    this.addBox = document.getElementById("add-member");
    this.error = document.getElementById("settings-error");
    this.search = peopleSearch(api, document.getElementById("add-member-query"),
      document.getElementById("add-member-results"), {
        label: (user) => `Add ${user.username}`,
        exclude: () => (this.conversation()?.members || []).map((m) => m.user.id),
        pick: (user) => this.act(() => this.api.post(
          path`/conversations/${this.id}/members`, { user_id: user.id }),
        `${user.username} was added.`).then(() => this.search.clear()),
      });
    this.wire();
  }

  conversation() {
    return this.conversations.get(this.id);
  }

  open() {
    const conversation = this.conversation();
    if (!conversation) return;
    this.error.textContent = "";
    this.draw(conversation);
    this.renameInput.value = conversation.title || "";
    this.dialog.showModal();
    (this.renameForm.hidden ? this.members.querySelector("button, select")
      : this.renameInput)?.focus();
  }

  render(change) {
    if (!touches(change, this.id)) return;
    const conversation = this.conversation();
    if (!conversation) {
      if (this.dialog.open) this.dialog.close(); // I am no longer in it
      return;
    }
    if (conversation.kind === "group") this.draw(conversation);
  }

  draw(conversation) {
    const { members } = conversation;
    const permissions = conversation.permissions || NOTHING;
    this.fullTitle.textContent = conversation.title || "";
    const drawn = JSON.stringify([permissions, members]);
    if (drawn === this.drawn) return; // a new message, say: keep the focus where it is
    this.drawn = drawn;
    this.renameForm.hidden = !permissions.manage;
    this.addBox.hidden = !permissions.manage;
    const sorted = [...members].sort(
      (a, b) => RANK[b.role] - RANK[a.role] || a.user.username.localeCompare(b.user.username));
    this.members.replaceChildren(...sorted.map((member) => this.entry(member, permissions)));
  }

  // Nobody gets a role control or a Remove button for themselves: they leave instead.
  entry(member, permissions) {
    const me = member.user.id === this.me.id;
    const name = me ? `${member.user.username} (you)` : member.user.username;
    const roles = me ? [] : permissions.assign[member.role] || [];
    const item = el("li", { class: "member", dataset: { userId: member.user.id } },
      el("span", { class: "member-name" }, name));
    if (roles.length) {
      const id = `role-${member.user.id}`;
      const choices = roles.includes(member.role) ? roles : [member.role, ...roles];
      const select = el("select", { id, dataset: { userId: member.user.id } }, ...choices.map(
        (role) => el("option", { value: role, selected: role === member.role }, role)));
      item.append(
        el("label", { class: "visually-hidden", for: id }, `Role of ${member.user.username}`),
        select);
    } else {
      item.append(el("span", { class: "role" }, member.role));
    }
    if (!me && permissions.remove.includes(member.role)) {
      item.append(el("button", {
        type: "button", class: "button secondary small", dataset: { remove: member.user.id },
        "aria-label": `Remove ${member.user.username}`,
      }, "Remove"));
    }
    return item;
  }

  async act(call, done) {
    this.error.textContent = "";
    try {
      await call();
      announce(done);
      return true;
    } catch (error) {
      this.error.textContent = describe(error);
      return false;
    }
  }

  wire() {
    const id = this.id;
    document.getElementById("settings-button").addEventListener("click", () => this.open());
    this.renameForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.act(() => this.api.patch(path`/conversations/${id}`, { title: this.renameInput.value }),
        "The group was renamed.");
    });
    this.members.addEventListener("change", (event) => {
      const select = event.target.closest("select[data-user-id]");
      if (!select) return;
      this.act(() => this.api.patch(
        path`/conversations/${id}/members/${select.dataset.userId}`, { role: select.value }),
      "The role was changed.");
    });
    this.members.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-remove]");
      if (!button) return;
      this.act(() => this.api.delete(
        path`/conversations/${id}/members/${button.dataset.remove}`), "Removed from the group.");
    });
    document.getElementById("leave-button").addEventListener("click", async () => {
      const left = await this.act(() => this.api.delete(
        path`/conversations/${id}/members/${this.me.id}`), "You left the group.");
      if (left) window.location.assign(this.dashboard);
    });
  }
}
