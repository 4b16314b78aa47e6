"""What one user may see of the log after a cursor, then live: shared by long-poll and WebSocket."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import and_, or_, select

from hubbub.models import Event, Membership, MemberSpan, db
from hubbub.realtime import watcher
from hubbub.realtime.bus import Message, bus_of
from hubbub.services import events

BATCH = 500
EPHEMERAL = {"typing", "presence"}


class Resync(Exception):
    """The cursor points outside what the log holds."""


class Feed:
    def __init__(self, app: Flask, user_id: int, after: int | None) -> None:
        watcher.ensure_started(app)
        self.user_id = user_id
        self._subscription = bus_of(app).subscribe()
        end = events.last_event_id()
        # Before what retention kept, or past the end (a log restored from an older backup):
        # either way the client's view cannot be continued from here.
        if after is not None and not events.pruned_through() <= after <= end:
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

    def poll(self) -> list[dict[str, Any]]:
        """The next events this user may see after the cursor, oldest first; moves the cursor."""
        if not self.behind:
            return []
        rows = db.session.execute(
            select(Event.id, Event.type, Event.conversation_id, Event.data)
            .join(
                MemberSpan,
                and_(
                    MemberSpan.conversation_id == Event.conversation_id,
                    MemberSpan.user_id == self.user_id,
                    Event.id >= MemberSpan.first_event_id,
                    or_(MemberSpan.last_event_id.is_(None), Event.id <= MemberSpan.last_event_id),
                ),
            )
            .where(
                Event.id > self.cursor,
                Event.id <= self._known_end,
                or_(Event.user_id.is_(None), Event.user_id == self.user_id),
            )
            .order_by(Event.id)
            .limit(BATCH)
        ).all()
        db.session.remove()
        if len(rows) < BATCH:
            self.cursor = self._known_end
        else:
            self.cursor = rows[-1].id
        found = [
            {
                "id": r.id,
                "type": r.type,
                "conversation_id": r.conversation_id,
                "data": json.loads(r.data),
            }
            for r in rows
        ]
        for event in found:
            self._follow_membership(event)
        return found

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
        if event["type"] in ("conversation.created", "member.added"):
            self._conversations.add(event["conversation_id"])
        elif event["type"] == "member.removed" and data.get("user_id") == self.user_id:
            self._conversations.discard(event["conversation_id"])
