// The live stream: one WebSocket that reconnects by itself and resumes after the last event.
// Statuses it reports: "connecting" (never live yet), "live", "lost", "offline" (the browser
// says there is no network), "back".

const RETRY_DELAYS = [500, 1000, 2000, 4000];
const SESSION_ENDED = 1008; // the server closes with this when the session or token is revoked

export class Stream {
  constructor(url, { onEvent, onReady, onStatus, onResync, onEnded, onFailing }) {
    this.url = url;
    this.onEvent = onEvent;
    this.onReady = onReady;
    this.onStatus = onStatus;
    this.onResync = onResync;
    this.onEnded = onEnded;
    this.onFailing = onFailing;
    this.lastId = null;
    this.failures = 0;
    this.socket = null;
    this.closed = false;
    this.wasLive = false;
  }

  start() {
    // A laptop that wakes up or a phone back on the network should not wait for a timer; one
    // that loses the network should not wait for the socket to time out to say so.
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this.wentOffline());
    if (navigator.onLine) this.connect();
    else this.onStatus("offline");
  }

  connect() {
    const url = new URL(this.url, window.location.href);
    url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    if (this.lastId !== null) url.searchParams.set("after", String(this.lastId));
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener("message", (message) => this.receive(JSON.parse(message.data)));
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.closed) return;
      if (event.code === SESSION_ENDED) {
        // Logged out elsewhere, password changed, token revoked: reconnecting cannot help.
        this.closed = true;
        this.onEnded();
        return;
      }
      if (!navigator.onLine) {
        this.onStatus("offline"); // "online" reconnects; trying before would only fail
        return;
      }
      // A refused handshake looks like any other failure from here; the page can ask why.
      if (this.failures >= 2) this.onFailing();
      this.onStatus(this.wasLive ? "lost" : "connecting");
      const delay = RETRY_DELAYS[Math.min(this.failures, RETRY_DELAYS.length - 1)];
      this.failures += 1;
      this.timer = window.setTimeout(() => this.connect(), delay);
    });
  }

  reconnectNow() {
    if (this.socket || this.closed) return;
    window.clearTimeout(this.timer);
    this.failures = 0;
    this.connect();
  }

  // The socket may look open for a while yet, but nothing will come through it: let it go, so
  // that "online" starts a fresh one that resumes after the last event.
  wentOffline() {
    if (this.closed) return;
    window.clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null; // its close event is not a failure to retry
    socket?.close();
    this.onStatus("offline");
  }

  receive(frame) {
    if (frame.type === "ready") {
      const resumed = this.lastId !== null;
      this.lastId = frame.last_id;
      this.failures = 0;
      this.onStatus(this.wasLive ? "back" : "live");
      this.wasLive = true;
      this.onReady(frame, resumed);
    } else if (frame.type === "resync") {
      this.closed = true;
      this.onResync();
    } else if (frame.type === "ping") {
      // Keeps proxies from closing an idle connection; nothing to do.
    } else {
      if (frame.id !== undefined) {
        if (this.lastId !== null && frame.id <= this.lastId) return;
        this.lastId = frame.id;
      }
      this.onEvent(frame);
    }
  }
}
