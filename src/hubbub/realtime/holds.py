"""The credentials that this process's open streams hold, and ending those that were revoked.

Logging out, changing a password, revoking a token or deactivating a user changes only the
database. The watcher of each process asks, every HUBBUB_ACCESS_CHECK_SECONDS, which of the
credentials its streams hold no longer let anyone in, and ends those streams; so a stream
ends within that time plus one wake-up, in every worker, without any message having to arrive.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from hubbub.services import credentials
from hubbub.services.credentials import Credential


@dataclass(eq=False)
class Hold:
    """One open stream's credential; `ended` is set once it no longer lets anyone in, and
    `wake` too, so that a stream waiting on it notices at once."""

    credential: Credential
    wake: threading.Event | None = None
    ended: threading.Event = field(default_factory=threading.Event)


class Holds:
    """The credentials this process's open streams hold."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds: set[Hold] = set()

    def hold(self, credential: Credential, wake: threading.Event | None = None) -> Hold:
        held = Hold(credential, wake)
        with self._lock:
            self._holds.add(held)
        return held

    def __iter__(self) -> Iterator[Hold]:
        with self._lock:
            return iter(list(self._holds))

    def release(self, held: Hold) -> None:
        with self._lock:
            self._holds.discard(held)

    def sweep(self) -> int:
        """End the holds whose credentials were revoked; how many. Needs an app context."""
        with self._lock:
            holds = list(self._holds)
        if not holds:
            return 0
        revoked = credentials.revoked_among(h.credential for h in holds)
        ended = 0
        for held in holds:
            if held.credential in revoked and not held.ended.is_set():
                held.ended.set()
                if held.wake is not None:
                    held.wake.set()
                ended += 1
        return ended
