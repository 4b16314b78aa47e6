"""One thread per process: notices a grown log without a wake-up, ends revoked streams, tells
the other processes who holds a stream here, prunes the log and forgotten uploads."""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import TYPE_CHECKING

from hubbub.events.feed import last_event_id
from hubbub.events.log import prune
from hubbub.models import db
from hubbub.services import files, signals

if TYPE_CHECKING:
    from hubbub.realtime.live import Live

log = logging.getLogger(__name__)
PRUNE_EVERY = 3600.0


def watch(live: Live, stopping: threading.Event) -> None:
    """The watcher's loop, until stopping is set."""
    app, hub, board = live.app, live.bus, live.board
    every = {
        "log": float(app.config["HUBBUB_LOG_POLL_SECONDS"]),
        "access": float(app.config["HUBBUB_ACCESS_CHECK_SECONDS"]),
        "prune": PRUNE_EVERY,
    }
    if hub.shared:
        every["presence"] = board.interval
    due = dict.fromkeys(every, 0.0)
    # Each reader replays the log when it starts, so the first look at its end waits a turn;
    # a listener that joins the bus asks for one at once (hub.recheck).
    due["log"] = time.monotonic() + every["log"]
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
                    end = last_event_id()
                    if end != delivered:  # readers need waking only when the log has grown
                        hub.deliver({"kind": "log", "last_id": end})
                        delivered = end
                if presence_due:
                    for user_id in board.lapse():
                        signals.announce_presence(user_id, online=False)
                if time.monotonic() >= due["access"]:
                    live.holds.sweep()
                if time.monotonic() >= due["prune"]:
                    prune(app.config["HUBBUB_EVENT_RETENTION"])
                    files.sweep()
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
