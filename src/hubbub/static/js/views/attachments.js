// A message's files: raster images as previews (their thumbnails, which open the full image),
// every other file as a card with its name, type and size that downloads it.

import { el, fileSize } from "../format.js";

const INLINE = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
// The box thumbnails fit in on the page; their own size (from the server) keeps the room
// they take while they load, so the history does not jump.
const BOX = 240;

export function attachmentsNode(attachments) {
  if (!attachments?.length) return null;
  return el("div", { class: "attachments" }, ...attachments.map((a) => (
    INLINE.has(a.content_type) && a.thumbnail_url ? imageNode(a) : cardNode(a))));
}

function imageNode(attachment) {
  const scale = Math.min(1, BOX / Math.max(attachment.width || BOX, attachment.height || BOX));
  return el("a", {
    class: "attachment-image", href: attachment.url, target: "_blank", rel: "noopener",
    title: `${attachment.name} (${fileSize(attachment.size)}), opens full size`,
  }, el("img", {
    src: attachment.thumbnail_url, alt: attachment.name, loading: "lazy", decoding: "async",
    width: Math.max(1, Math.round((attachment.width || BOX) * scale)),
    height: Math.max(1, Math.round((attachment.height || BOX) * scale)),
  }));
}

function cardNode(attachment) {
  return el("a", {
    class: "attachment-card", href: attachment.url, download: attachment.name,
    "aria-label": `Download ${attachment.name}, ${kindOf(attachment)}, ${fileSize(attachment.size)}`,
  },
  el("span", { class: "attachment-icon", "aria-hidden": "true" }, "📄"),
  el("span", { class: "attachment-text" },
    el("span", { class: "attachment-name" }, attachment.name),
    el("span", { class: "attachment-meta" }, `${kindOf(attachment)} · ${fileSize(attachment.size)}`)));
}

// "PDF", "PNG image", "Text": what a person calls the type.
const KINDS = {
  "application/pdf": "PDF", "text/plain": "Text", "text/html": "HTML", "text/csv": "CSV",
  "image/svg+xml": "SVG image", "application/zip": "Zip archive",
  "application/octet-stream": "File",
};

export function kindOf(attachment) {
  const type = attachment.content_type;
  if (KINDS[type]) return KINDS[type];
  const [major, minor] = type.split("/");
  if (major === "image") return `${minor.toUpperCase()} image`;
  if (major === "video") return "Video";
  if (major === "audio") return "Audio";
  return minor ? minor.replace(/^(x-|vnd\.)/, "").split(/[.+-]/)[0].toUpperCase() : "File";
}
