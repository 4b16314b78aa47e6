// The connection banner: says when the stream is lost, still connecting, or back.

const BACK_NOTICE_MS = 3000;
const CONNECTING_NOTICE_DELAY_MS = 2000;

const root = document.getElementById("chat-app");
const banner = document.getElementById("connection-banner");
let timer = null;

function say(text, kind) {
  banner.textContent = text;
  banner.className = kind ? `banner ${kind}` : "banner";
}

export function showStatus(status) {
  window.clearTimeout(timer);
  root.classList.toggle("offline", status === "lost");
  if (status === "lost") {
    say("Connection lost. Reconnecting…", "lost");
  } else if (status === "connecting") {
    // A first attempt that fails and is followed by one that works needs no word.
    timer = window.setTimeout(() => say("Connecting…", "lost"), CONNECTING_NOTICE_DELAY_MS);
  } else if (status === "back") {
    say("Connected again.", "back");
    timer = window.setTimeout(() => say("", null), BACK_NOTICE_MS);
  } else {
    say("", null);
  }
}
