// The connection banner: says when the stream is lost, still connecting, offline, or back; and
// marks the page disconnected meanwhile (presence dots turn to "unknown").

const BACK_NOTICE_MS = 3000;
const CONNECTING_NOTICE_DELAY_MS = 2000;
const DISCONNECTED = new Set(["connecting", "lost", "offline"]);

const root = document.getElementById("chat-app");
const banner = document.getElementById("connection-banner");
let timer = null;

function say(text, kind) {
  banner.textContent = text;
  banner.className = kind ? `banner ${kind}` : "banner";
}

export function showStatus(status) {
  window.clearTimeout(timer);
  root.classList.toggle("offline", DISCONNECTED.has(status));
  if (status === "lost") {
    say("Connection lost. Reconnecting…", "lost");
  } else if (status === "offline") {
    // The browser says so itself: no need to wait for the stream to find out.
    say("Offline. Waiting for the network…", "lost");
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
