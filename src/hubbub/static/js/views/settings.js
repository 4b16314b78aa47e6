// Group settings: rename, members and roles, add, remove, leave. What each control offers is
// what the server's permissions say I may do; the server checks again. Nothing changes on one
// keypress: a role is chosen, then applied; removing, leaving and making an owner are confirmed,
// and what was done is said in the dialog.

import { describe, path } from "../api.js";
import { touches } from "../dispatch.js";
import { el } from "../format.js";
import { peopleSearch } from "../people.js";
import { confirm } from "./dialogs.js";
import { arrange } from "./order.js";

const RANK = { owner: 3, admin: 2, member: 1 }; // for the order of the list only
const NOTHING = { manage: false, delete_any_message: false, assign: {}, remove: [] };
const NOTICE_KEY = "hubbub.notice"; // a line the next page shows: where leaving a group ends
const CONTROLS = "select, button";

function withArticle(role) {
  return role === "owner" || role === "admin" ? `an ${role}` : `a ${role}`;
}

// An ISO time to the microsecond, as the server orders them (a Date keeps milliseconds).
function micros(iso) {
  const fraction = /\.(\d+)/.exec(iso)?.[1] || "";
  return Date.parse(iso) * 1000 + Number(fraction.padEnd(6, "0").slice(3, 6));
}

// The members in the order the server hands ownership on: the longest-standing first.
function bySeniority(a, b) {
  return micros(a.joined_at) - micros(b.joined_at) || a.user.id - b.user.id;
}

// An Apply button waiting for a choice is kept in the layout, but hidden.
function shown(control) {
  return control.checkVisibility({ visibilityProperty: true });
}

function firstControl(row) {
  return [...row.querySelectorAll(CONTROLS)].find(shown) || null;
}

export class GroupSettings {
  constructor({ api, conversations, me, conversationId, dashboard }) {
    this.api = api;
    this.conversations = conversations;
    this.me = me;
    this.id = conversationId;
    this.dashboard = dashboard;
    this.drawn = null; // what the members list shows, so that it is redrawn only when it changes
    this.rows = new Map(); // user id -> {item, shape}: a row is kept while it looks the same
    this.dialog = document.getElementById("settings-dialog");
    this.fullTitle = document.getElementById("settings-title"); // the header may cut it short
    this.renameForm = document.getElementById("rename-form");
    this.renameInput = document.getElementById("rename-title");
    this.members = document.getElementById("settings-members");
    this.addBox = document.getElementById("add-member");
    this.addInput = document.getElementById("add-member-query");
    this.leaveButton = document.getElementById("leave-button");
    this.status = document.getElementById("settings-status");
    this.error = document.getElementById("settings-error");
    this.search = peopleSearch(api, this.addInput,
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

  title() {
    return this.conversation()?.title || "this group";
  }

  // Opens on what the server says now: a role chosen but not applied last time is forgotten.
  open() {
    const conversation = this.conversation();
    if (!conversation) return;
    this.say("", "");
    this.drawn = null;
    this.rows.clear();
    this.draw(conversation);
    this.renameInput.value = conversation.title || "";
    this.dialog.showModal();
    (this.renameForm.hidden ? this.members.querySelector(CONTROLS) : this.renameInput)?.focus();
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
    const focus = this.focusedControl();
    this.renameForm.hidden = !permissions.manage;
    this.addBox.hidden = !permissions.manage;
    const sorted = [...members].sort(
      (a, b) => RANK[b.role] - RANK[a.role] || a.user.username.localeCompare(b.user.username));
    const kept = new Set(sorted.map((member) => member.user.id));
    for (const id of this.rows.keys()) if (!kept.has(id)) this.rows.delete(id);
    arrange(this.members, sorted.map((member) => this.row(member, permissions)));
    this.refocus(focus);
  }

  // A member's row, reused while nothing in it changed, so that a choice not yet applied and
  // the focus stay; a changed row is made again (refocus() then finds its control).
  row(member, permissions) {
    const me = member.user.id === this.me.id;
    const roles = me ? [] : permissions.assign[member.role] || [];
    const removable = !me && permissions.remove.includes(member.role);
    const shape = JSON.stringify([member.user, member.role, roles, removable, me]);
    const known = this.rows.get(member.user.id);
    if (known?.shape === shape) return known.item;
    const item = this.entry(member, roles, removable, me);
    this.rows.set(member.user.id, { item, shape });
    return item;
  }

  // Nobody gets a role control or a Remove button for themselves: they leave instead.
  entry(member, roles, removable, me) {
    const { username } = member.user;
    const item = el("li", { class: "member", dataset: { userId: member.user.id, username } },
      el("span", { class: "member-name" },
        member.user.display_name ? `${member.user.display_name} · ` : "",
        me ? `${username} (you)` : username));
    if (roles.length) {
      const id = `role-${member.user.id}`;
      const choices = roles.includes(member.role) ? roles : [member.role, ...roles];
      item.append(
        el("label", { class: "visually-hidden", for: id }, `Role of ${username}`),
        el("select", { id, dataset: { control: "role", role: member.role } }, ...choices.map(
          (role) => el("option", { value: role, selected: role === member.role }, role))),
        // Shown once another role is chosen; the room for it is kept, so nothing moves.
        el("button", {
          type: "button", class: "button small apply", dataset: { control: "apply" },
          "aria-label": `Apply role for ${username}`,
        }, "Apply"));
    } else {
      item.append(el("span", { class: "role" }, member.role));
    }
    if (removable) {
      item.append(el("button", {
        type: "button", class: "button secondary small", dataset: { control: "remove" },
        "aria-label": `Remove ${username}`,
      }, "Remove"));
    }
    return item;
  }

  // ---- keeping the focus through a redraw --------------------------------------------------

  focusedControl() {
    const active = document.activeElement;
    const item = this.members.contains(active) ? active.closest("li.member") : null;
    if (!item) return null;
    return {
      element: active, userId: item.dataset.userId, control: active.dataset.control,
      index: [...this.members.children].indexOf(item),
    };
  }

  // The same control of the same member; for a member who is gone, the next member's, else
  // the add-member field just below the list, else the member above; never the page.
  refocus(focus) {
    if (!focus || !this.dialog.open) return;
    if (focus.element.isConnected && shown(focus.element)) {
      if (document.activeElement !== focus.element) focus.element.focus({ preventScroll: true });
      return;
    }
    const rows = [...this.members.children];
    const same = rows.find((row) => row.dataset.userId === focus.userId);
    const control = same?.querySelector(`[data-control="${focus.control}"]`);
    const nearest = (candidates) => candidates.map(firstControl).find(Boolean);
    const target = (control && shown(control) ? control : null)
      || (same ? firstControl(same) : nearest(rows.slice(focus.index)))
      || (this.addBox.hidden ? null : this.addInput)
      || nearest(rows.slice(0, focus.index).reverse())
      || this.leaveButton;
    target.focus({ preventScroll: true });
  }

  // ---- acting ----------------------------------------------------------------------------

  say(status, error) {
    this.status.textContent = status;
    this.error.textContent = error;
  }

  async act(call, done) {
    this.say("", "");
    try {
      await call();
      this.say(done, "");
      return true;
    } catch (error) {
      this.say("", describe(error));
      return false;
    }
  }

  // The select only chooses: a row with another role chosen shows its Apply button.
  choose(select) {
    select.closest("li.member").classList.toggle("pending", select.value !== select.dataset.role);
  }

  // Asks, then puts the focus back where it was: on the control that asked, or near it when a
  // redraw took it away meanwhile.
  async confirmed(question) {
    const focus = this.focusedControl();
    const yes = await confirm(question);
    this.refocus(focus);
    return yes;
  }

  async applyRole(item) {
    const select = item.querySelector("select");
    const role = select.value;
    const { userId, username } = item.dataset;
    if (role === select.dataset.role) return;
    // An owner may change any role, other owners' too, and remove anyone.
    if (role === "owner" && !(await this.confirmed({
      heading: `Make ${username} an owner of ${this.title()}?`,
      text: `${username} will be able to do all that you can, including changing your role `
        + "or removing you from the group. You stay an owner too.",
      yes: "Make owner",
      danger: false,
    }))) return;
    await this.act(() => this.api.patch(
      path`/conversations/${this.id}/members/${userId}`, { role }),
    `${username} is now ${withArticle(role)}.`);
  }

  async remove(item) {
    const { userId, username } = item.dataset;
    const title = this.title();
    if (!(await this.confirmed({
      heading: `Remove ${username} from ${title}?`,
      text: "They will no longer see its messages or be able to write in it, "
        + "until someone adds them again.",
      yes: "Remove",
    }))) return;
    await this.act(() => this.api.delete(path`/conversations/${this.id}/members/${userId}`),
      `${username} was removed from ${title}.`);
  }

  async leave() {
    const title = this.title();
    if (!(await confirm({
      heading: `Leave ${title}?`, text: this.leaving(), yes: "Leave group",
    }))) return;
    const left = await this.act(() => this.api.delete(
      path`/conversations/${this.id}/members/${this.me.id}`), `You left ${title}.`);
    if (!left) return;
    carryNotice(`You left ${title}.`);
    window.location.assign(this.dashboard);
  }

  // What leaving does, by the server's rules: the last owner to leave hands ownership to the
  // longest-standing admin, else the longest-standing member.
  leaving() {
    const members = this.conversation()?.members || [];
    const others = members.filter((m) => m.user.id !== this.me.id).sort(bySeniority);
    const mine = members.find((m) => m.user.id === this.me.id);
    const away = "You will no longer see its messages";
    if (!others.length) return `${away}, and nobody will be left in it to add you back.`;
    const back = `${away}, and someone will need to add you again for you to come back.`;
    if (mine?.role !== "owner" || others.some((m) => m.role === "owner")) return back;
    const heir = others.find((m) => m.role === "admin") || others[0];
    return `${back} You are its only owner: ${heir.user.username} will become the owner.`;
  }

  wire() {
    document.getElementById("settings-button").addEventListener("click", () => this.open());
    this.renameForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.act(() => this.api.patch(path`/conversations/${this.id}`,
        { title: this.renameInput.value }), "The group was renamed.");
    });
    this.members.addEventListener("change", (event) => {
      if (event.target.matches("select[data-control=role]")) this.choose(event.target);
    });
    this.members.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-control]");
      const item = button?.closest("li.member");
      if (!item) return;
      if (button.dataset.control === "apply") this.applyRole(item);
      else if (button.dataset.control === "remove") this.remove(item);
    });
    this.leaveButton.addEventListener("click", () => this.leave());
  }
}

function carryNotice(text) {
  try {
    window.sessionStorage.setItem(NOTICE_KEY, text);
  } catch {
    // Storage refused (a private window, say): the dashboard just says nothing.
  }
}

// On the page after leaving a group: says so, where the server's own notices go.
export function showCarriedNotice() {
  let text = null;
  try {
    text = window.sessionStorage.getItem(NOTICE_KEY);
    window.sessionStorage.removeItem(NOTICE_KEY);
  } catch {
    return;
  }
  if (!text) return;
  const notice = el("div", { class: "flashes", role: "status" });
  document.getElementById("main").prepend(notice);
  // Filled once the live region is in the page, so that screen readers read it out.
  window.requestAnimationFrame(() => notice.append(el("p", {}, text)));
}
