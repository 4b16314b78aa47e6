"""One thread per process that notices a grown log even when no wake-up arrived, and prunes it."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from hubbub.models import db
from hubbub.realtime.bus import bus_of
from hubbub.services import events

log = logging.getLogger(__name__)
PRUNE_EVERY = 3600.0


def ensure_started(app: Flask) -> None:
    if app.extensions.get("hubbub.watcher") is not None:
        return
    with _lock:
        if app.extensions.get("hubbub.watcher") is not None:
            return
        thread = threading.Thread(target=_watch, args=(app,), name="hubbub-watcher", daemon=True)
        app.extensions["hubbub.watcher"] = thread
        bus_of(app).start()
        thread.start()


_lock = threading.Lock()


def _watch(app: Flask) -> None:
    hub = bus_of(app)
    interval = float(app.config["HUBBUB_LOG_POLL_SECONDS"])
    next_prune = 0.0
    while True:
        try:
            with app.app_context():
                hub.deliver({"kind": "log", "last_id": events.last_event_id()})
                if time.monotonic() >= next_prune:
                    events.prune(app.config["HUBBUB_EVENT_RETENTION"])
                    next_prune = time.monotonic() + PRUNE_EVERY
                db.session.remove()
        except Exception:  # the watcher must outlive a database restart
            log.exception("watcher: could not read the end of the log")
        time.sleep(interval)
