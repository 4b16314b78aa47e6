"""Counting deliveries: every message carries a unique id, so losses and copies are counted.

A message sent to a conversation is expected once on every stream listening to it (the sender's
own streams included). A stream that receives it a second time counts a doubled delivery; an
expected delivery that never arrives counts a lost one.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.stats import summary_ms

BODY_PREFIX = "bench "


@dataclass
class Sent:
    started: float
    conversation_id: int
    audience: frozenset[int]


@dataclass
class Deliveries:
    """What was sent and what each stream received; shared by all streams of one workload.

    `audience` maps a conversation to the indexes of the streams listening to it.
    """

    audience: dict[int, set[int]] = field(default_factory=dict)
    sent: dict[str, Sent] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    send_errors: list[str] = field(default_factory=list)
    dropped_streams: list[str] = field(default_factory=list)
    expected: int = 0
    delivered: int = 0
    doubled: int = 0
    strays: int = 0
    foreign: int = 0
    _seen: Counter[tuple[int, str]] = field(default_factory=Counter)
    _first: dict[tuple[int, str], float] = field(default_factory=dict)
    _waiters: dict[tuple[int, str], asyncio.Future[float]] = field(default_factory=dict)
    _complete: asyncio.Event = field(default_factory=asyncio.Event)

    def listen(self, conversation_id: int, stream_index: int) -> None:
        self.audience.setdefault(conversation_id, set()).add(stream_index)

    def will_send(self, uid: str, conversation_id: int) -> float:
        """Note a send about to start; its start time."""
        audience = frozenset(self.audience.get(conversation_id, ()))
        started = time.perf_counter()
        self.sent[uid] = Sent(started, conversation_id, audience)
        self.expected += len(audience)
        self._complete.clear()
        return started

    def send_failed(self, uid: str, error: BaseException) -> None:
        """A send that got no 201 expects no deliveries; any that come anyway are strays."""
        sent = self.sent.pop(uid)
        self.expected -= len(sent.audience)
        self.send_errors.append(f"{type(error).__name__}: {error}"[:300])
        self._check_complete()

    def stream_dropped(self, index: int, reason: str) -> None:
        self.dropped_streams.append(f"stream {index}: {reason}"[:300])

    def received(self, stream_index: int, event: dict[str, Any], now: float) -> None:
        body = (event.get("data") or {}).get("message", {}).get("body") or ""
        if not body.startswith(BODY_PREFIX):
            self.foreign += 1
            return
        uid = body[len(BODY_PREFIX) :]
        sent = self.sent.get(uid)
        if sent is None:
            self.foreign += 1
            return
        key = (stream_index, uid)
        self._seen[key] += 1
        if self._seen[key] > 1:
            self.doubled += 1
            return
        if stream_index not in sent.audience:
            self.strays += 1
            return
        latency = now - sent.started
        self.latencies.append(latency)
        self._first[key] = latency
        self.delivered += 1
        waiter = self._waiters.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(latency)
        self._check_complete()

    def _check_complete(self) -> None:
        if self.delivered >= self.expected:
            self._complete.set()

    @property
    def lost(self) -> int:
        return self.expected - self.delivered

    async def wait_for(self, stream_index: int, uid: str, guard: float) -> float | None:
        """Wait until that stream received that message; its latency, or None at the guard."""
        key = (stream_index, uid)
        if key in self._first:
            return self._first[key]
        waiter = self._waiters[key] = asyncio.get_running_loop().create_future()
        try:
            return await asyncio.wait_for(waiter, guard)
        except TimeoutError:
            return None
        finally:
            self._waiters.pop(key, None)

    async def drain(self, guard: float) -> bool:
        """Wait until every expected delivery arrived; False if the guard ran out first."""
        self._check_complete()
        try:
            await asyncio.wait_for(self._complete.wait(), guard)
        except TimeoutError:
            return False
        return True

    def report(self) -> dict[str, Any]:
        return {
            "sent": len(self.sent),
            "send_errors": len(self.send_errors),
            "expected_deliveries": self.expected,
            "delivered": self.delivered,
            "lost": self.lost,
            "doubled": self.doubled,
            "strays": self.strays,
            "foreign_frames": self.foreign,
            "dropped_streams": len(self.dropped_streams),
            "delivery_latency": summary_ms(self.latencies),
            "first_errors": (self.send_errors + self.dropped_streams)[:5],
        }
