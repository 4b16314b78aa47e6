"""Who holds a live stream: counted in this process, and heard from every other over the bus.

Each process tells the others which users hold a stream on it, when that changes and every
HUBBUB_PRESENCE_SECONDS; what a process said lapses after three of those intervals, so a
server that crashed does not keep its people online for ever. A person is online while any of
their streams on any server is open.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from flask import Flask

from hubbub.realtime.bus import Hub, Message, listener_of

LAPSES_AFTER = 3  # intervals


class Board:
    def __init__(self, hub: Hub, interval: float) -> None:
        self._hub = hub
        self.interval = interval
        self._lock = threading.Lock()
        self._here: Counter[int] = Counter()
        # What each other process said last: its users, and when that lapses (monotonic).
        self._elsewhere: dict[str, tuple[frozenset[int], float]] = {}

    def opened(self, user_id: int) -> bool:
        """Count a stream; True when it is the user's first here (say they are online: they
        may be online elsewhere already, and saying it twice does no harm)."""
        with self._lock:
            self._here[user_id] += 1
            first = self._here[user_id] == 1
        if first:
            self.tell_others()
        return first

    def closed(self, user_id: int) -> bool:
        """Forget a stream; True when it was the user's last anywhere (say they went offline)."""
        with self._lock:
            self._here[user_id] -= 1
            if self._here[user_id] > 0:
                return False
            del self._here[user_id]
        self.tell_others()
        return user_id not in self.online()

    def online(self) -> set[int]:
        now = time.monotonic()
        with self._lock:
            users = set(self._here)
            for others, lapses in self._elsewhere.values():
                if lapses > now:
                    users |= others
        return users

    def tell_others(self) -> None:
        """Publish who holds a stream here (only where there are other processes to hear)."""
        if self._hub.shared:
            with self._lock:
                users = sorted(self._here)
            self._hub.publish({"kind": "streams", "users": users})

    def heard(self, message: Message) -> None:
        origin = message.get("origin")
        if origin is None or origin == getattr(self._hub, "origin", None):
            return
        lapses = time.monotonic() + LAPSES_AFTER * self.interval
        with self._lock:
            self._elsewhere[origin] = (frozenset(message.get("users") or ()), lapses)

    def lapse(self) -> set[int]:
        """Forget what processes that fell silent said; the users who are now online nowhere."""
        now = time.monotonic()
        with self._lock:
            gone = [origin for origin, (_, lapses) in self._elsewhere.items() if lapses <= now]
            dropped: set[int] = set()
            for origin in gone:
                dropped |= self._elsewhere.pop(origin)[0]
        return dropped - self.online() if dropped else set()


def board_of(app: Flask) -> Board:
    def listening_board(hub: Hub) -> Board:
        board = Board(hub, float(app.config["HUBBUB_PRESENCE_SECONDS"]))
        hub.observe("streams", board.heard)
        return board

    return listener_of(app, "hubbub.presence", listening_board)
