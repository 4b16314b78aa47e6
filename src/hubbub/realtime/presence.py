"""Who holds a live stream in this process."""

from __future__ import annotations

import threading
from collections import Counter

from flask import Flask

_lock = threading.Lock()


def _streams(app: Flask) -> Counter[int]:
    counts: Counter[int] = app.extensions.setdefault("hubbub.streams", Counter())
    return counts


def opened(app: Flask, user_id: int) -> bool:
    """Count a stream; True when it is the user's first here."""
    with _lock:
        counts = _streams(app)
        counts[user_id] += 1
        return counts[user_id] == 1


def closed(app: Flask, user_id: int) -> bool:
    """Forget a stream; True when it was the user's last here."""
    with _lock:
        counts = _streams(app)
        counts[user_id] -= 1
        if counts[user_id] <= 0:
            del counts[user_id]
            return True
        return False


def online(app: Flask) -> set[int]:
    with _lock:
        return set(_streams(app))
