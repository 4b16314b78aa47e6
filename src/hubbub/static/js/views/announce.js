// Says a line to screen readers once.

const CLEAR_AFTER_MS = 5000;
let timer = null;

// Cleared after a while, so that no text (a message deleted since, say) lingers in the page.
export function announce(text) {
  const announcer = document.getElementById("announcer");
  if (!announcer) return;
  announcer.textContent = text;
  window.clearTimeout(timer);
  timer = window.setTimeout(() => { announcer.textContent = ""; }, CLEAR_AFTER_MS);
}
