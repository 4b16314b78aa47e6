"""The log's read side: who may see an event (the one rule, written once), and what one user
may see after a cursor, then live, shared by long-poll and WebSocket.

A process reads the newest part of the log once for all its readers (Tail): no query at all
when the bus brought the events just committed, one per wake-up otherwise, however many streams
are open, and each event turned into JSON once. A reader whose cursor lies before what the tail
holds (a client resuming after a while) reads its own way through the log first.
"""

from __future__ import annotations

import json
import threading
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from hubbub.events.bus import Hub, Message
from hubbub.events.types import JOINS, LEAVES, SIGNALS, MessageDeleted
from hubbub.models import Event, EventCounter, Membership, MemberSpan, db

COUNTER_ROW = 1
BATCH = 500
EPHEMERAL = {signal.TYPE for signal in SIGNALS}
# Events the tail keeps; a reader further behind than this reads the log itself.
TAIL_KEEP = 5000
# Carried batches that came before the ones they follow, kept until the gap closes.
HELD_MAX = 256


# Who may see an event: a member whose span of the conversation covers it, and, for an event
# meant for one member (`user_id`), that member alone. Every reader of the log joins on this.
VISIBLE = and_(
    MemberSpan.conversation_id == Event.conversation_id,
    Event.id >= MemberSpan.first_event_id,
    or_(MemberSpan.last_event_id.is_(None), Event.id <= MemberSpan.last_event_id),
    or_(Event.user_id.is_(None), Event.user_id == MemberSpan.user_id),
)


def _between(after: int, upto: int) -> ColumnElement[bool]:
    return and_(Event.id > after, Event.id <= upto)


def viewers_between(session: Session, after: int, upto: int) -> dict[int, set[int]]:
    """Event id -> who may see it, for the events in (after, upto]."""
    viewers: dict[int, set[int]] = {}
    for event_id, viewer in session.execute(
        select(Event.id, MemberSpan.user_id).join(MemberSpan, VISIBLE).where(_between(after, upto))
    ):
        viewers.setdefault(event_id, set()).add(viewer)
    return viewers


def last_event_id() -> int:
    """The id of the newest committed event (0 for an empty log)."""
    value = db.session.scalar(select(EventCounter.last_id).where(EventCounter.id == COUNTER_ROW))
    return int(value or 0)


def pruned_through() -> int:
    """Cursors below this id point into what retention has deleted."""
    value = db.session.scalar(
        select(EventCounter.pruned_through).where(EventCounter.id == COUNTER_ROW)
    )
    return int(value or 0)


@dataclass(frozen=True)
class Delivery:
    """One event for a client: as a dict (long-poll) and as the text of a frame (WebSocket)."""

    event: dict[str, Any]
    frame: str

    @classmethod
    def of(cls, event_id: int, type: str, conversation_id: int, data: str) -> Delivery:
        event = {
            "id": event_id,
            "type": type,
            "conversation_id": conversation_id,
            "data": json.loads(data),
        }
        return cls(event, json.dumps(event))


@dataclass(frozen=True)
class Entry:
    """An event in the tail, with everyone who may see it."""

    id: int
    message_id: int | None
    delivery: Delivery
    viewers: frozenset[int]


class Tail:
    """The newest events of the log, each with its viewers (VISIBLE), read once for every
    reader."""

    def __init__(self, keep: int = TAIL_KEEP) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self._ids: list[int] = []
        # The tail holds every event in (_start, _through]; -1: nothing read yet.
        self._start = self._through = -1
        # Batches the bus carried ahead of a gap, by their first id.
        self._held: dict[int, Message] = {}
        # Batches offered while another thread held the lock, for whoever holds it next.
        self._offered: deque[Message] = deque()

    def offer(self, message: Message) -> None:
        """Take in the events a wake-up carries (one committed transaction's), if they follow
        on from what the tail holds; a batch that comes early waits for the gap to close, and
        one that never follows on is read from the log when a reader asks for it.

        Never waits for the lock: a writer offers right after its commit, still holding its
        database connection, while a reader may hold the lock waiting for a connection from
        the same pool. What cannot be taken now is taken by the next holder of the lock."""
        if not message.get("events"):
            return
        self._offered.append(message)
        if self._lock.acquire(blocking=False):
            try:
                self._take_offered()
            finally:
                self._lock.release()

    def _take_offered(self) -> None:
        while self._offered:
            message = self._offered.popleft()
            first = int(message["first_id"])
            if self._through < 0 or first <= self._through:
                continue  # nothing to follow on from yet, or already read from the log
            if first > self._through + 1:
                if len(self._held) >= HELD_MAX:
                    self._held.pop(min(self._held))
                self._held[first] = message
                continue
            self._take(message)
            self._take_held()

    def _take(self, message: Message) -> None:
        for event in message["events"]:
            self._add(
                event["id"],
                event["type"],
                event["conversation_id"],
                event["message_id"],
                event["data"],
                event["viewers"],
            )
        self._through = int(message["last_id"])
        self._trim()

    def _take_held(self) -> None:
        for first in [first for first in self._held if first <= self._through]:
            del self._held[first]
        while (message := self._held.pop(self._through + 1, None)) is not None:
            self._take(message)

    def between(self, after: int, upto: int) -> tuple[list[Entry], int] | None:
        """Entries in (after, upto], oldest first, and how far they reach: no further than the
        log's committed end, whatever upto says. None if the tail no longer reaches back to
        `after`."""
        with self._lock:
            self._take_offered()
            if upto > self._through:
                # A wake-up names an end, but only the log's counter says what is committed:
                # reading past it would step over ids that are still to come.
                upto = min(upto, last_event_id())
                db.session.remove()
            if self._through < 0 or upto - self._through > self._keep:
                self._restart(max(after, upto - self._keep))
            if after < self._start:
                return None
            if upto > self._through:
                self._load(upto)
            reached = min(upto, self._through)
            found = self._entries[bisect_right(self._ids, after) : bisect_right(self._ids, reached)]
            return found, reached

    def _restart(self, at: int) -> None:
        self._entries, self._ids = [], []
        self._start = self._through = at

    def _load(self, upto: int) -> None:
        # Two queries rather than one join: the join would bring each event's data once for
        # every viewer, fifty times over for a group of fifty.
        viewers = viewers_between(db.session(), self._through, upto)
        rows = db.session.execute(
            select(Event.id, Event.type, Event.conversation_id, Event.message_id, Event.data)
            .where(_between(self._through, upto))
            .order_by(Event.id)
        ).all()
        db.session.remove()
        for row in rows:
            self._add(
                row.id, row.type, row.conversation_id, row.message_id, row.data, viewers.get(row.id)
            )
        self._through = upto
        self._trim()
        self._take_held()

    def _add(
        self,
        event_id: int,
        type: str,
        conversation_id: int,
        message_id: int | None,
        data: str,
        viewers: Iterable[int] | None,
    ) -> None:
        delivery = Delivery.of(event_id, type, conversation_id, data)
        if type == MessageDeleted.TYPE:
            self._erase(delivery.event["data"]["message"]["id"], delivery.event["data"])
        if viewers:
            self._entries.append(Entry(event_id, message_id, delivery, frozenset(viewers)))
            self._ids.append(event_id)

    def _trim(self) -> None:
        if len(self._entries) > self._keep:
            dropped = len(self._entries) - self._keep
            self._start = self._ids[dropped - 1]
            del self._entries[:dropped], self._ids[:dropped]

    def _erase(self, message_id: int, tombstone: dict[str, Any]) -> None:
        """What the log did when the message was deleted (log.erase_message_bodies)."""
        for index, entry in enumerate(self._entries):
            if entry.message_id == message_id:
                event = entry.delivery.event
                self._entries[index] = replace(
                    entry,
                    delivery=Delivery.of(
                        event["id"], event["type"], event["conversation_id"], json.dumps(tombstone)
                    ),
                )


class Resync(Exception):
    """The cursor points outside what the log holds."""


class Feed:
    """One reader: what user_id may see after a cursor, from the process's tail or, further
    back, from the log itself; then what the bus brings."""

    def __init__(
        self,
        tail: Tail,
        hub: Hub,
        user_id: int,
        after: int | None,
        wake: threading.Event | None = None,
    ) -> None:
        """`wake`, if given, is set whenever something arrives for this feed."""
        self._tail = tail
        self.user_id = user_id
        self._subscription = hub.subscribe(wake)
        end = last_event_id()
        # Before what retention kept, or past the end (a log restored from an older backup):
        # either way the client's view cannot be continued from here.
        if after is not None and not pruned_through() <= after <= end:
            self.close()
            raise Resync
        self.cursor = end if after is None else after
        self._known_end = end
        self._conversations = set(
            db.session.scalars(
                select(Membership.conversation_id).where(
                    Membership.user_id == user_id, Membership.left_at.is_(None)
                )
            )
        )
        db.session.remove()

    @property
    def behind(self) -> bool:
        return self._known_end > self.cursor

    def poll(self) -> list[Delivery]:
        """The next events this user may see after the cursor, oldest first; moves the cursor."""
        if not self.behind:
            return []
        tail = self._tail.between(self.cursor, self._known_end)
        if tail is None:
            found = self.read_log()
        else:
            entries, self._known_end = tail
            visible = [entry for entry in entries if self.user_id in entry.viewers]
            if len(visible) > BATCH:
                visible = visible[:BATCH]
                self.cursor = visible[-1].id
            else:
                self.cursor = self._known_end
            found = [entry.delivery for entry in visible]
        for delivery in found:
            self._follow_membership(delivery.event)
        return found

    def read_log(self) -> list[Delivery]:
        """The next batch after the cursor, read from the log for this user alone: what poll()
        does when the tail no longer reaches back to the cursor."""
        # No further than the log's committed end, whatever a wake-up said (as in the tail).
        self._known_end = min(self._known_end, last_event_id())
        rows = db.session.execute(
            select(Event.id, Event.type, Event.conversation_id, Event.data)
            .join(MemberSpan, and_(VISIBLE, MemberSpan.user_id == self.user_id))
            .where(_between(self.cursor, self._known_end))
            .order_by(Event.id)
            .limit(BATCH)
        ).all()
        db.session.remove()
        if len(rows) < BATCH:
            self.cursor = self._known_end
        else:
            self.cursor = rows[-1].id
        return [Delivery.of(r.id, r.type, r.conversation_id, r.data) for r in rows]

    def wait(self, timeout: float) -> list[dict[str, Any]]:
        """Wait for the bus; returns the ephemeral signals for this user that arrived."""
        signals = []
        for message in self._subscription.wait(timeout):
            if message.get("kind") == "log":
                self._known_end = max(self._known_end, int(message["last_id"]))
            elif message.get("kind") in EPHEMERAL and self._wants(message):
                signals.append(
                    {
                        "type": message["kind"],
                        "conversation_id": message.get("conversation_id"),
                        "data": message["data"],
                    }
                )
        return signals

    def close(self) -> None:
        self._subscription.close()

    def _wants(self, message: Message) -> bool:
        if message.get("user_id") == self.user_id:
            return False  # nobody needs to be told they are typing
        conversation_id = message.get("conversation_id")
        if conversation_id is not None:
            return conversation_id in self._conversations
        shared = set(message.get("conversation_ids") or ())
        return bool(shared & self._conversations)

    def _follow_membership(self, event: dict[str, Any]) -> None:
        data = event["data"]
        if event["type"] in JOINS:
            self._conversations.add(event["conversation_id"])
        elif event["type"] == LEAVES and data.get("user_id") == self.user_id:
            self._conversations.discard(event["conversation_id"])
