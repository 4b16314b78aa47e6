"""This process's real-time machinery, in one object: the tail its readers share, who holds a
stream here and elsewhere, the credentials its streams hold, and the watcher thread.

It is made with the app and started when the first reader arrives; the bus it listens to is
the log's (events/bus.py), since services publish on it too.
"""

from __future__ import annotations

import threading

from flask import Flask

from hubbub.events.bus import Hub, bus_of
from hubbub.events.feed import Feed, Tail
from hubbub.realtime import watcher
from hubbub.realtime.holds import Holds
from hubbub.realtime.presence import Board

KEY = "hubbub.live"


class Live:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.bus: Hub = bus_of(app)
        self.tail = Tail()
        self.board = Board(self.bus, float(app.config["HUBBUB_PRESENCE_SECONDS"]))
        self.holds = Holds()
        # Listening before the bus starts: the tail takes in the events a wake-up carries
        # before its readers wake, and the board hears other processes' streams.
        self.bus.observe("log", self.tail.offer)
        self.bus.observe("streams", self.board.heard)
        self._lock = threading.Lock()
        self._watcher: tuple[threading.Thread, threading.Event] | None = None

    def feed(self, user_id: int, after: int | None, wake: threading.Event | None = None) -> Feed:
        """A reader for user_id after the cursor (see Feed); starts this process's watcher
        and bus listener on first use. Raises Resync for a cursor the log cannot continue."""
        self.start()
        return Feed(self.tail, self.bus, user_id, after, wake)

    def start(self) -> None:
        """Start the watcher and the bus listener, once."""
        with self._lock:
            if self._watcher is not None:
                return
            stopping = threading.Event()
            thread = threading.Thread(
                target=watcher.watch, args=(self, stopping), name="hubbub-watcher", daemon=True
            )
            self._watcher = (thread, stopping)
            self.bus.start()
            thread.start()

    def stop(self) -> None:
        """Stop the watcher and the bus listener (an app being thrown away, as in tests)."""
        with self._lock:
            started, self._watcher = self._watcher, None
        if started is not None:
            thread, stopping = started
            stopping.set()
            self.bus.recheck.set()  # wakes the watcher, which then sees it must stop
            thread.join(timeout=5)
        self.bus.stop()


def init_app(app: Flask) -> None:
    app.extensions[KEY] = Live(app)


def live_of(app: Flask) -> Live:
    live: Live = app.extensions[KEY]
    return live
