// The chat page: reads its settings, opens the stream and wires the pieces together.

import { Api, ApiError, describe, path } from "./api.js";
import { Chat } from "./chat.js";
import { el, fullTime } from "./format.js";
import { GroupSettings } from "./settings.js";
import { Sidebar, wireDialogs } from "./sidebar.js";
import { Stream } from "./stream.js";

const root = document.getElementById("chat-app");
const settings = JSON.parse(root.dataset.settings);
const banner = document.getElementById("connection-banner");
const BACK_NOTICE_MS = 3000;
const CONNECTING_NOTICE_DELAY_MS = 2000;

const app = {
  settings,
  me: settings.me,
  openId: settings.conversation_id,
  api: new Api(settings.api, settings.csrf_token),
  online: new Set(),
  announce(text) {
    const announcer = document.getElementById("announcer") || banner;
    announcer.textContent = text;
  },
};

wireDialogs();
// Earlier versions leave the page with their dialog: a message deleted later takes them along.
document.getElementById("revisions-dialog").addEventListener("close", () => {
  document.getElementById("revisions-list").replaceChildren();
});
const sidebar = new Sidebar(app);
const groupSettings = new GroupSettings(app);
const confirmDialog = document.getElementById("confirm-dialog");
const revisionsDialog = document.getElementById("revisions-dialog");

function confirmDelete() {
  return new Promise((resolve) => {
    confirmDialog.returnValue = "";
    confirmDialog.addEventListener("close", () => resolve(confirmDialog.returnValue === "yes"),
      { once: true });
    confirmDialog.showModal();
    document.getElementById("confirm-yes").focus();
  });
}

async function showRevisions(messageId) {
  const list = document.getElementById("revisions-list");
  list.replaceChildren(el("li", {}, "Loading…"));
  revisionsDialog.showModal();
  try {
    const answer = await app.api.get(path`/messages/${messageId}/revisions`);
    list.replaceChildren(...answer.revisions.map((revision) =>
      el("li", {},
        el("p", { class: "body" }, revision.body),
        el("p", { class: "hint" }, "Written ",
          el("time", { datetime: revision.created_at }, fullTime(revision.created_at)),
          ", replaced ",
          el("time", { datetime: revision.replaced_at }, fullTime(revision.replaced_at))))));
  } catch (error) {
    list.replaceChildren(el("li", { class: "error" }, describe(error)));
  }
}

const chat = app.openId === null ? null : new Chat(app, {
  onConversation: (conversation) => {
    if (conversation) groupSettings.update(conversation);
    else if (groupSettings.dialog.open) groupSettings.dialog.close();
  },
  openSettings: (conversation) => groupSettings.open(conversation),
  confirmDelete,
  showRevisions,
});

let bannerTimer = null;
function showStatus(status) {
  window.clearTimeout(bannerTimer);
  root.classList.toggle("offline", status === "lost");
  if (status === "lost") {
    banner.textContent = "Connection lost. Reconnecting…";
    banner.className = "banner lost";
  } else if (status === "connecting") {
    // A first attempt that fails and is followed by one that works needs no word.
    bannerTimer = window.setTimeout(() => {
      banner.textContent = "Connecting…";
      banner.className = "banner lost";
    }, CONNECTING_NOTICE_DELAY_MS);
  } else if (status === "back") {
    banner.textContent = "Connected again.";
    banner.className = "banner back";
    bannerTimer = window.setTimeout(() => {
      banner.textContent = "";
      banner.className = "banner";
    }, BACK_NOTICE_MS);
  } else {
    banner.textContent = "";
    banner.className = "banner";
  }
}

const stream = new Stream(settings.stream, {
  onReady(frame, resumed) {
    app.online = new Set(frame.online || []);
    sidebar.refresh();
    if (!chat) return;
    if (resumed) chat.resumed();
    else chat.load();
    chat.renderSubtitle();
  },
  onEvent(event) {
    if (event.type === "presence") {
      if (event.data.status === "online") app.online.add(event.data.user_id);
      else app.online.delete(event.data.user_id);
    }
    sidebar.onEvent(event);
    chat?.onEvent(event);
  },
  onStatus: showStatus,
  onResync() {
    window.location.reload();
  },
  onEnded: toLogin,
  async onFailing() {
    try {
      await app.api.get("/me");
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) toLogin();
    }
  },
});

// Without a session this page answers with the login page, which comes back here after.
function toLogin() {
  window.location.reload();
}
stream.start();

if (chat) document.getElementById("composer-input").focus();
