// The open conversation's header: its name, who is in it or whether the other person is
// online, the Mute and Group settings buttons, and the notice once I am not in it.

import { describe } from "../api.js";
import { touches } from "../dispatch.js";
import { conversationName, el, otherMember } from "../format.js";
import { announce } from "./announce.js";

const NAMED = 3; // members named in the header before "and N more"

export class Header {
  constructor({ conversations, presence, me, conversationId }) {
    this.conversations = conversations;
    this.presence = presence;
    this.me = me;
    this.id = conversationId;
    this.shown = null; // the last details drawn, kept once I am no longer in it
    this.drawnSubtitle = null; // what the subtitle says now, so that it is redrawn only on change
    this.title = document.getElementById("conversation-title");
    this.subtitle = document.getElementById("conversation-subtitle");
    this.settingsButton = document.getElementById("settings-button");
    this.muteButton = document.getElementById("mute-button");
    this.muteButton.addEventListener("click", () => this.toggleMute());
    this.leftNotice = document.getElementById("left-notice");
    // A title cut short by the narrow header shows whole when tapped, and folds again.
    this.title.addEventListener("click", () => this.title.classList.toggle("expanded"));
  }

  render(change) {
    if (!touches(change, this.id) && !change.presence) return;
    const conversation = this.conversations.get(this.id);
    const left = this.conversations.isMember(this.id) === false;
    if (conversation) this.shown = conversation;
    this.leftNotice.hidden = !left;
    this.settingsButton.hidden = left || conversation?.kind !== "group";
    this.muteButton.hidden = left || !conversation;
    if (conversation) this.drawMute(conversation.muted);
    if (!this.shown) {
      if (left) this.title.textContent = "Conversation";
      return;
    }
    const name = conversationName(this.shown, this.me);
    if (this.title.textContent !== name) this.title.textContent = name;
    this.title.title = name; // the header shows one line of it
    this.renderSubtitle();
  }

  // Redrawn only when what it says changes: every presence or typing event renders the header,
  // and a subtitle made again each time would swap its dot under whoever is looking at it.
  renderSubtitle() {
    const other = otherMember(this.shown, this.me);
    const online = Boolean(other && this.presence.isOnline(other.id));
    const drawn = JSON.stringify(other
      ? [other.display_name, online, this.presence.known] : memberSummary(this.shown));
    if (drawn === this.drawnSubtitle) return;
    this.drawnSubtitle = drawn;
    if (other) {
      // Disconnected (or not yet connected), nobody can say: not "Offline" on old news.
      const status = !this.presence.known ? "Status unknown" : online ? "Online" : "Offline";
      this.subtitle.replaceChildren(
        other.display_name ? `${other.display_name} · ` : "",
        el("span", { class: online ? "dot online" : "dot", "aria-hidden": "true" }), status);
    } else {
      this.subtitle.replaceChildren(el("span", { class: "summary" }, memberSummary(this.shown)));
    }
  }

  // A pressed "Muted" while muted, "Mute" while not; the name says what a press does.
  drawMute(muted) {
    const text = muted ? "Muted" : "Mute";
    if (this.muteButton.textContent !== text) this.muteButton.textContent = text;
    this.muteButton.setAttribute("aria-pressed", String(Boolean(muted)));
    this.muteButton.title = muted
      ? "Muted: no notifications from this conversation. Press to unmute."
      : "Mute: no notifications from this conversation.";
  }

  async toggleMute() {
    const conversation = this.conversations.get(this.id);
    if (!conversation) return;
    this.muteButton.disabled = true;
    try {
      await this.conversations.setMuted(this.id, !conversation.muted);
      announce(conversation.muted ? "Muted." : "Unmuted.");
    } catch (error) {
      announce(`Could not change it. ${describe(error)}`);
    } finally {
      this.muteButton.disabled = false;
    }
  }

  // The history could not be loaded: say so where the name would be.
  failed(text) {
    this.drawnSubtitle = null;
    this.title.textContent = "This conversation could not be loaded";
    this.subtitle.textContent = text;
  }
}

// "3 members: ana, ben, cara"; past a few names, "12 members: ana, ben, cara and 9 more".
export function memberSummary(conversation) {
  const names = conversation.members.map((m) => m.user.username).sort();
  const shown = names.length > NAMED + 1 ? names.slice(0, NAMED) : names;
  const more = names.length - shown.length;
  return `${names.length} members: ${shown.join(", ")}${more ? ` and ${more} more` : ""}`;
}
