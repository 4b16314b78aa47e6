// The reactions under a message: one chip per emoji with its count, mine pressed; who reacted
// shows on hover and focus (the chip's name says it to screen readers). A click or Enter on
// a chip adds or takes back mine.

import { el } from "../format.js";

// nameOf(userId): what to call the person who reacted ("you" for me).
export function reactionRow(message, me, nameOf) {
  const reactions = message.reactions || [];
  if (!reactions.length) return null;
  return el("div", { class: "reactions", role: "group", "aria-label": "Reactions" },
    ...reactions.map((reaction) => {
      const mine = reaction.user_ids.includes(me.id);
      const who = listOf(reaction.user_ids.map(nameOf));
      return el("button", {
        type: "button", class: `reaction${mine ? " mine" : ""}`,
        dataset: { action: "toggle-reaction", emoji: reaction.emoji },
        "aria-pressed": mine ? "true" : "false",
        "aria-label": `${reaction.emoji} ${reaction.count}: ${who}`,
        // Shown above the chip on hover and on keyboard focus alike (hubbub.css); a title
        // would show on hover only.
        "data-who": `${who} reacted with ${reaction.emoji}`,
      },
      el("span", { class: "reaction-emoji", "aria-hidden": "true" }, reaction.emoji),
      el("span", { class: "reaction-count", "aria-hidden": "true" }, String(reaction.count)));
    }));
}

const LIST = new Intl.ListFormat("en", { style: "long", type: "conjunction" });

function listOf(names) {
  return LIST.format(names);
}
