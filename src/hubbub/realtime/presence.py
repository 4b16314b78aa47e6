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

from hubbub.events.bus import Hub, Message

LAPSES_AFTER = 3  # intervals


class Board:
    """Streams counted here, and what every other process said of its own.

    A stream that is a user's first or last here is told at once, as that one change; every
    interval the whole list goes out, which also keeps this process from lapsing. Readers ask
    about one user at a time, so no question costs more than a look per process.
    """

    def __init__(self, hub: Hub, interval: float) -> None:
        self._hub = hub
        self.interval = interval
        self._lock = threading.Lock()
        self._here: Counter[int] = Counter()
        # What each other process said: its users, and when that lapses (monotonic).
        self._elsewhere: dict[str, tuple[set[int], float]] = {}

    def opened(self, user_id: int) -> bool:
        """Count a stream; True when it is the user's first here (say they are online: they
        may be online elsewhere already, and saying it twice does no harm)."""
        with self._lock:
            self._here[user_id] += 1
            first = self._here[user_id] == 1
        if first:
            self._tell({"opened": user_id})
        return first

    def closed(self, user_id: int) -> bool:
        """Forget a stream; True when it was the user's last anywhere (say they went offline)."""
        with self._lock:
            self._here[user_id] -= 1
            if self._here[user_id] > 0:
                return False
            del self._here[user_id]
        self._tell({"closed": user_id})
        return not self.is_online(user_id)

    def is_online(self, user_id: int) -> bool:
        now = time.monotonic()
        with self._lock:
            return user_id in self._here or any(
                user_id in users and lapses > now for users, lapses in self._elsewhere.values()
            )

    def tell_others(self) -> None:
        """Publish everyone who holds a stream here."""
        with self._lock:
            users = sorted(self._here)
        self._tell({"users": users})

    def _tell(self, news: Message) -> None:
        # Only where there are other processes to hear it.
        if self._hub.shared:
            self._hub.publish({"kind": "streams", **news})

    def heard(self, message: Message) -> None:
        origin = message.get("origin")
        if origin is None or origin == getattr(self._hub, "origin", None):
            return
        lapses = time.monotonic() + LAPSES_AFTER * self.interval
        with self._lock:
            users = self._elsewhere[origin][0] if origin in self._elsewhere else set()
            if "users" in message:
                users = set(message["users"])
            elif "opened" in message:
                users.add(message["opened"])
            elif "closed" in message:
                users.discard(message["closed"])
            self._elsewhere[origin] = (users, lapses)

    def lapse(self) -> set[int]:
        """Forget what processes that fell silent said; the users who are now online nowhere."""
        now = time.monotonic()
        with self._lock:
            gone = [origin for origin, (_, lapses) in self._elsewhere.items() if lapses <= now]
            dropped: set[int] = set()
            for origin in gone:
                dropped |= self._elsewhere.pop(origin)[0]
        return {user_id for user_id in dropped if not self.is_online(user_id)}
