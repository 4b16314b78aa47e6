"""One thread per process: notices a grown log without a wake-up, ends revoked streams, tells
the other processes who holds a stream here, prunes."""

from __future__ import annotations

import logging
import math
import threading
import time

from flask import Flask

from hubbub.models import db
from hubbub.realtime import access
from hubbub.realtime.bus import bus_of
from hubbub.realtime.presence import board_of
from hubbub.services import events
from hubbub.services import presence as signals

log = logging.getLogger(__name__)
PRUNE_EVERY = 3600.0


_lock = threading.Lock()


def ensure_started(app: Flask) -> None:
    """Start this process's watcher and bus listener, once, when the first reader arrives."""
    if app.extensions.get("hubbub.watcher") is not None:
        return
    with _lock:
        if app.extensions.get("hubbub.watcher") is not None:
            return
        stop = threading.Event()
        thread = threading.Thread(
            target=_watch, args=(app, stop), name="hubbub-watcher", daemon=True
        )
        app.extensions["hubbub.watcher"] = (thread, stop)
        board_of(app)  # listening for other processes' streams before the bus starts
        bus_of(app).start()
        thread.start()


def stop(app: Flask) -> None:
    """Stop the watcher and the bus listener (an app being thrown away, as in tests)."""
    with _lock:
        started = app.extensions.pop("hubbub.watcher", None)
    if started is not None:
        thread, stopping = started
        stopping.set()
        bus_of(app).recheck.set()  # wakes the watcher, which then sees it must stop
        thread.join(timeout=5)
    bus_of(app).stop()


def _watch(app: Flask, stopping: threading.Event) -> None:
    hub = bus_of(app)
    board = board_of(app)
    every = {
        "log": float(app.config["HUBBUB_LOG_POLL_SECONDS"]),
        "access": float(app.config["HUBBUB_ACCESS_CHECK_SECONDS"]),
        "prune": PRUNE_EVERY,
    }
    if hub.shared:
        every["presence"] = board.interval
    due = dict.fromkeys(every, 0.0)
    delivered = -1
    while not stopping.is_set():
        presence_due = time.monotonic() >= due.get("presence", math.inf)
        if presence_due:
            # Needs no database: during an outage the others must still hear that we hold
            # our streams, or they would announce our people offline.
            board.tell_others()
        try:
            with app.app_context():
                if time.monotonic() >= due["log"]:
                    end = events.last_event_id()
                    if end != delivered:  # readers need waking only when the log has grown
                        hub.deliver({"kind": "log", "last_id": end})
                        delivered = end
                if presence_due:
                    for user_id in board.lapse():
                        signals.announce_presence(user_id, online=False)
                if time.monotonic() >= due["access"]:
                    access.sweep(app)
                if time.monotonic() >= due["prune"]:
                    events.prune(app.config["HUBBUB_EVENT_RETENTION"])
                db.session.remove()
        except Exception:  # the watcher must outlive a database restart
            log.exception("watcher: could not read the end of the log")
        now = time.monotonic()
        for job, at in due.items():
            if at <= now:
                due[job] = now + every[job]
        if hub.recheck.wait(max(0.0, min(due.values()) - time.monotonic())):
            hub.recheck.clear()
            due["log"] = 0.0
