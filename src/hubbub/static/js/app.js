// The chat page: reads its settings, builds the stores and the views, and feeds them the stream.

import { Api, ApiError } from "./api.js";
import { Composer } from "./composer.js";
import { Dispatcher } from "./dispatch.js";
import { Editing } from "./editing.js";
import { Notifier } from "./notifications.js";
import { Reactions } from "./reactions.js";
import { Reading } from "./reading.js";
import { wireStarting } from "./starting.js";
import { ConversationStore } from "./store/conversations.js";
import { MessageStore } from "./store/messages.js";
import { PresenceStore } from "./store/presence.js";
import { Stream } from "./stream.js";
import { showStatus } from "./views/banner.js";
import { confirmDelete, showRevisions, wireDialogs } from "./views/dialogs.js";
import { Header } from "./views/header.js";
import { MessageList } from "./views/messages.js";
import { EmojiPicker } from "./views/picker.js";
import { MessageSearch } from "./views/search.js";
import { GroupSettings, showCarriedNotice } from "./views/settings.js";
import { ConversationList } from "./views/sidebar.js";
import { Switcher } from "./views/switcher.js";
import { TypingLine } from "./views/typing.js";
import { NewBelow, UnreadTitle } from "./views/unread.js";

const settings = JSON.parse(document.getElementById("chat-app").dataset.settings);
const { me } = settings;
const openId = settings.conversation_id;
const conversationUrl = settings.conversation_url;
const api = new Api(settings.api, settings.csrf_token);

const dispatcher = new Dispatcher();
const changed = (change) => dispatcher.changed(change);
let reading = null; // the open conversation's read marks, if one is open
const conversations = new ConversationStore({
  api, me, changed, reading: (id) => Boolean(reading?.isReading(id)),
});
const presence = new PresenceStore({ changed });
dispatcher.stores.push(conversations, presence,
  new Notifier({ conversations, me, openId, conversationUrl }));
dispatcher.views.push(
  new ConversationList({ conversations, presence, me, openId, conversationUrl }));
wireDialogs();
showCarriedNotice(); // "You left …", on the dashboard after leaving a group
wireStarting({ api, me, conversationUrl });
// A search result opens its conversation at the message: here, by showing it; elsewhere,
// by going to /c/ID#m-MESSAGE, which the page shows once its history is in (below).
const search = new MessageSearch({
  api, conversations, me, conversationUrl,
  open(conversationId, messageId, href) {
    if (conversationId === openId && chat) {
      window.history.replaceState(null, "", href); // a reload comes back to it
      chat.list.show(messageId);
    } else {
      window.location.assign(href);
    }
  },
  elsewhere(q) {
    window.location.assign(`${settings.dashboard}?${new URLSearchParams({ q })}`);
  },
});
dispatcher.views.push(search);
dispatcher.views.push(new Switcher({
  conversations, me, conversationUrl, searchMessages: (q) => search.run(q),
})); // Ctrl+K

// The open conversation's store and views; views draw in this order, the read marks after
// the history has scrolled.
function openConversation() {
  const store = new MessageStore({ api, me, conversationId: openId, changed });
  const header = new Header({ conversations, presence, me, conversationId: openId });
  let editing = null;
  const composer = new Composer({
    api, me, store, conversations, editLast: () => editing.editLast(),
  });
  const list = new MessageList({
    store, conversations, me,
    onFailed: (text) => header.failed(text),
    actions: {
      edit: (node) => editing.start(node),
      delete: (node) => editing.remove(node),
      revisions: (id) => showRevisions(api, id),
      retry: (clientId) => composer.retry(clientId),
      discard: (clientId) => composer.discard(clientId),
      reply: (message) => composer.replyTo(message),
      pick: (message, button) => picker.open(button, (emoji) => reactions.toggle(message, emoji)),
      toggle: (message, emoji) => reactions.toggle(message, emoji),
    },
  });
  const picker = new EmojiPicker({ emojiUrl: settings.emoji_url });
  const reactions = new Reactions({ api, me, store });
  editing = new Editing({ api, store, view: list, composer, confirmDelete, changed });
  reading = new Reading({ api, me, store, conversations, view: list });
  const groupSettings = new GroupSettings({
    api, conversations, me, conversationId: openId, dashboard: settings.dashboard,
  });
  dispatcher.stores.push(store);
  dispatcher.views.push(header, list, reading, new NewBelow({ me, view: list }), composer,
    new TypingLine({ presence, conversationId: openId }), groupSettings);
  return { store, list, composer };
}

const chat = openId === null ? null : openConversation();
dispatcher.views.push(new UnreadTitle({ conversations, me, conversationId: openId }));

// Without a session this page answers with the login page, which comes back here after.
function toLogin() {
  window.location.reload();
}

const stream = new Stream(settings.stream, {
  // Loading starts once the stream is ready, so that nothing written in between is missed.
  // After a reconnect the replay brings what was missed; only a failed first load is retried.
  onReady(frame, resumed) {
    presence.reset(frame.online);
    conversations.load().catch(() => {}); // the banner already says when the server is away
    if (!chat) return;
    chat.composer.resume(); // the server is there again: sends waiting for it go now
    if (resumed && chat.store.loaded) reading.mark();
    else chat.list.load().then(showLinked);
  },
  onEvent: (event) => dispatcher.event(event),
  onStatus(status) {
    showStatus(status);
    if (status === "lost" || status === "offline") presence.unknown();
  },
  onResync() {
    window.location.reload();
  },
  onEnded: toLogin,
  async onFailing() {
    try {
      await api.get("/me");
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) toLogin();
    }
  },
});
stream.start();

// The message a search result (or a link) points at, as #m-ID: shown once, after the first
// page is in; older pages load until it is there.
let linked = Number(/^#m-([0-9]+)$/u.exec(window.location.hash)?.[1]) || null;
function showLinked() {
  if (linked === null || !chat.store.loaded) return;
  const id = linked;
  linked = null;
  chat.list.show(id);
}

if (chat) chat.composer.focus();
// The dashboard's ?q=: a search asked for where the sidebar could not be seen.
const asked = new URLSearchParams(window.location.search).get("q");
if (asked && (!chat || search.visible())) search.run(asked);
