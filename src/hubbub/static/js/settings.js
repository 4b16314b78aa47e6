// Group settings: rename, members and roles, add, remove, leave. The server checks again.

import { describe, path } from "./api.js";
import { el } from "./format.js";
import { peopleSearch } from "./people.js";

const RANK = { owner: 3, admin: 2, member: 1 };

// Which roles may `mine` give `target` (empty: the control is not shown).
function rolesFor(mine, target) {
  if (mine === "owner") return ["owner", "admin", "member"];
  if (mine === "admin" && target !== "owner") return ["admin", "member"];
  return [];
}

function mayRemove(mine, target) {
  return mine === "owner" || (mine === "admin" && target === "member");
}

export class GroupSettings {
  constructor(app) {
    this.app = app;
    this.dialog = document.getElementById("settings-dialog");
    this.renameForm = document.getElementById("rename-form");
    this.renameInput = document.getElementById("rename-title");
    this.members = document.getElementById("settings-members");
    this.addBox = document.getElementById("add-member");
    this.error = document.getElementById("settings-error");
    this.conversation = null;
    this.search = peopleSearch(app.api, document.getElementById("add-member-query"),
      document.getElementById("add-member-results"), {
        label: (user) => `Add ${user.username}`,
        exclude: () => (this.conversation?.members || []).map((m) => m.user.id),
        pick: (user) => this.act(() => this.app.api.post(
          path`/conversations/${this.conversation.id}/members`, { user_id: user.id }),
        `${user.username} was added.`).then(() => this.search.clear()),
      });
    this.wire();
  }

  myRole() {
    return this.conversation?.members.find((m) => m.user.id === this.app.me.id)?.role;
  }

  open(conversation) {
    this.error.textContent = "";
    this.update(conversation);
    this.renameInput.value = conversation.title || "";
    this.dialog.showModal();
    (this.renameForm.hidden ? this.members.querySelector("button, select")
      : this.renameInput)?.focus();
  }

  // Called with fresh details whenever the conversation changes, open or not.
  update(conversation) {
    this.conversation = conversation;
    if (!conversation || conversation.kind !== "group") return;
    const mine = this.myRole();
    const manager = mine === "owner" || mine === "admin";
    this.renameForm.hidden = !manager;
    this.addBox.hidden = !manager;
    const members = [...conversation.members].sort(
      (a, b) => RANK[b.role] - RANK[a.role] || a.user.username.localeCompare(b.user.username));
    this.members.replaceChildren(...members.map((member) => {
      const me = member.user.id === this.app.me.id;
      const name = me ? `${member.user.username} (you)` : member.user.username;
      const roles = me ? [] : rolesFor(mine, member.role);
      const item = el("li", { class: "member", dataset: { userId: member.user.id } },
        el("span", { class: "member-name" }, name));
      if (roles.length) {
        const id = `role-${member.user.id}`;
        const select = el("select", { id, dataset: { userId: member.user.id } },
          ...roles.map((role) => el("option", { value: role, selected: role === member.role }, role)));
        item.append(el("label", { class: "visually-hidden", for: id }, `Role of ${member.user.username}`), select);
      } else {
        item.append(el("span", { class: "role" }, member.role));
      }
      if (!me && mayRemove(mine, member.role)) {
        item.append(el("button", {
          type: "button", class: "button secondary small", dataset: { remove: member.user.id },
          "aria-label": `Remove ${member.user.username}`,
        }, "Remove"));
      }
      return item;
    }));
  }

  async act(call, done) {
    this.error.textContent = "";
    try {
      await call();
      this.app.announce(done);
      return true;
    } catch (error) {
      this.error.textContent = describe(error);
      return false;
    }
  }

  wire() {
    const id = () => this.conversation.id;
    this.renameForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.act(() => this.app.api.patch(path`/conversations/${id()}`, { title: this.renameInput.value }),
        "The group was renamed.");
    });
    this.members.addEventListener("change", (event) => {
      const select = event.target.closest("select[data-user-id]");
      if (!select) return;
      this.act(() => this.app.api.patch(
        path`/conversations/${id()}/members/${select.dataset.userId}`, { role: select.value }),
      "The role was changed.");
    });
    this.members.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-remove]");
      if (!button) return;
      this.act(() => this.app.api.delete(
        path`/conversations/${id()}/members/${button.dataset.remove}`), "Removed from the group.");
    });
    document.getElementById("leave-button").addEventListener("click", async () => {
      const left = await this.act(() => this.app.api.delete(
        path`/conversations/${id()}/members/${this.app.me.id}`), "You left the group.");
      if (left) window.location.assign(this.app.settings.dashboard);
    });
  }
}
