// Readable names and times, and small DOM helpers that always insert user text as text.

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "long", month: "long", day: "numeric",
});
const yearDayFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "long", day: "numeric",
});
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
const shortDayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

export function dayKey(iso) {
  return startOfDay(new Date(iso));
}

export function dayLabel(iso) {
  const date = new Date(iso);
  const days = Math.round((startOfDay(new Date()) - startOfDay(date)) / 86400000);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  if (date.getFullYear() === new Date().getFullYear()) return dayFormat.format(date);
  return yearDayFormat.format(date);
}

export function clock(iso) {
  return timeFormat.format(new Date(iso));
}

// The clock face without its day period ("10:52" of "10:52 AM"), for the narrow gutter beside
// a follow-on message, as Slack's shows; the same as clock() where there is no day period.
export function shortClock(iso) {
  return timeFormat.formatToParts(new Date(iso))
    .filter((part) => part.type !== "dayPeriod").map((part) => part.value).join("").trim();
}

export function fullTime(iso) {
  return fullFormat.format(new Date(iso));
}

// For a conversation list: the time today, else the day.
export function shortTime(iso) {
  const date = new Date(iso);
  if (startOfDay(date) === startOfDay(new Date())) return timeFormat.format(date);
  return shortDayFormat.format(date);
}

// A DM is named after the other person; a group by its title.
export function conversationName(conversation, me) {
  if (conversation.kind === "group") return conversation.title || "Untitled group";
  return (otherMember(conversation, me) || me).username; // notes to self: my own name
}

export function otherMember(conversation, me) {
  if (conversation.kind !== "direct") return null;
  const other = conversation.members.find((m) => m.user.id !== me.id);
  return other ? other.user : null;
}

// What a person is called on the page: their display name, else their username.
export function nameOf(user) {
  return user.display_name || user.username;
}

// The server's rendering of a body (services/render.py cleans it to an allow-list), parsed
// inert by a template: the one way the page reads markup that came from people.
export function parseRendered(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  return template.content;
}

// A message as one line of plain text, for previews and screen readers: the words of its
// rendering (nothing of it is inserted), a space where a block or a line ends, else the text
// as typed.
// A message's files follow its words after a paper clip, as the server's quotes word them
// (wire/serialize.py excerpt).
export function plainText(message) {
  if (message.deleted_at) return "message deleted";
  let text = message.body;
  if (typeof message.html === "string") {
    const words = parseRendered(message.html);
    for (const end of words.querySelectorAll("p, li, br, pre, blockquote")) end.after(" ");
    text = words.textContent;
  }
  const files = (message.attachments || []).map((a) => a.name);
  if (files.length) text = `${text} 📎 ${files.join(", ")}`;
  return text.replace(/\s+/gu, " ").trim();
}

const EXCERPT_MAX = 120; // as the server cuts a reply's quote (wire/serialize.py)

// The start of a message as a reply quotes it, as the server words it.
export function excerptOf(message) {
  const text = plainText(message);
  const chars = Array.from(text);
  if (chars.length <= EXCERPT_MAX) return text;
  return `${chars.slice(0, EXCERPT_MAX - 1).join("").trimEnd()}…`;
}

// One line of a group's activity: "ana added cara", "You renamed the group from “A” to “B”".
export function activityText(entry, me) {
  const who = (user) => (user.id === me.id ? "you" : nameOf(user));
  const actor = entry.actor.id === me.id ? "You" : nameOf(entry.actor);
  if (entry.action === "renamed") {
    return entry.old_title
      ? `${actor} renamed the group from “${entry.old_title}” to “${entry.title}”`
      : `${actor} named the group “${entry.title}”`;
  }
  if (entry.action === "added") return `${actor} added ${who(entry.subject)}`;
  if (entry.action === "removed") return `${actor} removed ${who(entry.subject)}`;
  return `${actor} left`;
}

// Up to two letters for an initials avatar: of the display name's first two words, else of
// the username's parts ("ana.lima" -> "AL"). Letters, not code units: "Élodie" -> "É".
export function initials(user) {
  const words = nameOf(user).split(/[\s._-]+/u).filter(Boolean);
  const letters = words.slice(0, 2).map((word) => Array.from(word)[0]);
  return letters.join("").toLocaleUpperCase() || "?";
}

const AVATAR_HUES = 8; // .hue-0 to .hue-7 in hubbub.css; the CSP allows no inline styles

export function avatar(user) {
  return el("span", { class: `avatar hue-${user.id % AVATAR_HUES}`, "aria-hidden": "true" },
    initials(user));
}

// el("li", {class: "x", "aria-label": "y"}, child, "text") — strings become text nodes.
export function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

// "812 bytes", "4.2 KB", "18 MB": sizes as file managers show them (1 KB = 1,024 bytes).
export function fileSize(bytes) {
  if (bytes < 1024) return plural(bytes, "byte", "bytes");
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
