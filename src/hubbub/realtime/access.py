"""The credentials that this process's open streams hold, and ending those that were revoked.

Logging out, changing a password, revoking a token or deactivating a user changes only the
database. The watcher of each process asks, every HUBBUB_ACCESS_CHECK_SECONDS, which of the
credentials its streams hold no longer let anyone in, and ends those streams; so a stream
ends within that time plus one wake-up, in every worker, without any message having to arrive.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import Flask

from hubbub.services import access
from hubbub.services.access import Credential

_lock = threading.Lock()


@dataclass(eq=False)
class Hold:
    """One open stream's credential; `ended` is set once it no longer lets anyone in, and
    `wake` too, so that a stream waiting on it notices at once."""

    credential: Credential
    wake: threading.Event | None = None
    ended: threading.Event = field(default_factory=threading.Event)


def _holds(app: Flask) -> set[Hold]:
    holds: set[Hold] = app.extensions.setdefault("hubbub.holds", set())
    return holds


def hold(app: Flask, credential: Credential, wake: threading.Event | None = None) -> Hold:
    with _lock:
        held = Hold(credential, wake)
        _holds(app).add(held)
        return held


def release(app: Flask, held: Hold) -> None:
    with _lock:
        _holds(app).discard(held)


def sweep(app: Flask) -> int:
    """End the holds whose credentials were revoked; how many. Needs an app context."""
    with _lock:
        holds = list(_holds(app))
    if not holds:
        return 0
    revoked = access.revoked_among(h.credential for h in holds)
    ended = 0
    for held in holds:
        if held.credential in revoked and not held.ended.is_set():
            held.ended.set()
            if held.wake is not None:
                held.wake.set()
            ended += 1
    return ended
