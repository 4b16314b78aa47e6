"""Clients that ride out crashes as real ones do, and the checks made once the dust settles.

A sender retries a send that got no answer with the same client_id until it is acknowledged;
a stream reconnects with ?after=<the last event id it saw>. Afterwards, the history, the
streams and the event log are compared with what was acknowledged.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import websocket
from sqlalchemy import create_engine, func, select

from hubbub.models import Event, EventCounter, Message
from tests.support.processes import (
    API,
    REQUEST_GUARD,
    Answer,
    Frame,
    expect,
    fetch,
    request,
    stream_url,
    wait_until,
)

# A pause between retries, so that a client waiting for a server does not spin.
RETRY_PAUSE = 0.1
# What a client sees when the guard on a stream's socket runs out.
HANGS = (TimeoutError, websocket.WebSocketTimeoutException)


@dataclass
class Sent:
    """A message a client means to send, and what each attempt to send it got back."""

    sender: str
    conversation_id: int
    body: str
    client_id: str
    attempts: list[str] = field(default_factory=list)
    message: dict[str, Any] | None = None

    @property
    def acknowledged(self) -> bool:
        return self.message is not None

    @property
    def unanswered(self) -> bool:
        """Some attempt got no answer at all (the connection broke, or nobody listened)."""
        return any(not attempt.isdigit() for attempt in self.attempts)


Fetch = Callable[[str, str, str, Any, str | None, float], Answer]


def send_until_acknowledged(
    base: str,
    token: str,
    sent: Sent,
    deadline: float,
    retry_statuses: frozenset[int] = frozenset(),
    guard: float = REQUEST_GUARD,
    via: Fetch = fetch,
) -> Answer:
    """Send, and send again with the same client_id after no answer, until 201 or 200.

    A status in retry_statuses is retried too; any other status fails the test, and so does a
    request that hangs for the whole guard or a deadline that passes. `via` makes each
    request (a test may wrap fetch to watch every answer).
    """
    path = f"{API}/conversations/{sent.conversation_id}/messages"
    body = {"body": sent.body, "client_id": sent.client_id}
    while time.monotonic() <= deadline:
        try:
            answer = via(base, "POST", path, body, token, guard)
        except TimeoutError as error:
            raise AssertionError(f"send {sent.client_id} hung for {guard:.0f} s") from error
        except (OSError, http.client.HTTPException) as error:
            sent.attempts.append(f"no answer: {type(error).__name__}")
            time.sleep(RETRY_PAUSE)
            continue
        sent.attempts.append(str(answer.status))
        if answer.status in (200, 201):
            message = answer.body["message"]
            assert message["body"] == sent.body, (sent, message)
            assert message["conversation_id"] == sent.conversation_id, (sent, message)
            assert message["client_id"] == sent.client_id, (sent, message)
            # 200: an earlier attempt with this client_id was stored. There must have been one.
            assert answer.status == 201 or len(sent.attempts) > 1, sent
            sent.message = message
            return answer
        if answer.status not in retry_statuses:
            raise AssertionError(f"send {sent.client_id}: HTTP {answer.status} {answer.body}")
        time.sleep(RETRY_PAUSE)
    raise AssertionError(f"hang guard: {sent.client_id} unacknowledged: {sent.attempts}")


class Progress:
    """How many sends the clients have had acknowledged. The test waits on it, and a client
    that fails wakes the test at once with its error."""

    def __init__(self) -> None:
        self.acknowledged = 0
        self._changed = threading.Condition()
        self._clients: list[Future[Any]] = []

    def run(self, pool: Executor, client: Callable[..., Any], *args: Any) -> Future[Any]:
        future = pool.submit(client, *args)
        self._clients.append(future)
        future.add_done_callback(lambda _: self._wake())
        return future

    def count(self) -> None:
        with self._changed:
            self.acknowledged += 1
            self._changed.notify_all()

    def wait_for(self, what: str, check: Callable[[], bool], guard: float) -> None:
        with self._changed:
            self._changed.wait_for(lambda: check() or bool(self._failed()), guard)
        for future in self._failed():
            future.result()  # the client's own error, raised in the test
        assert check(), f"hang guard ({guard:.0f} s): {what}"

    def _failed(self) -> list[Future[Any]]:
        return [f for f in self._clients if f.done() and f.exception() is not None]

    def _wake(self) -> None:
        with self._changed:
            self._changed.notify_all()


def send_and_hang_up(base: str, token: str, sent: Sent, guard: float) -> None:
    """Send, then drop the connection before the answer, as a phone losing its signal would;
    return once the message is in the history, so that a retry must find it stored."""
    parts = urlsplit(base)
    assert parts.hostname is not None and parts.port is not None
    path = f"{API}/conversations/{sent.conversation_id}/messages"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=guard)
    body = json.dumps({"body": sent.body, "client_id": sent.client_id}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    try:
        connection.request("POST", path, body=body, headers=headers)
    finally:
        connection.close()
    sent.attempts.append("no answer: hung up")
    newest = f"{path}?limit=100"
    wait_until(
        f"{sent.client_id}, sent without waiting for the answer, is stored",
        lambda: any(
            m["client_id"] == sent.client_id
            for m in expect(request(base, "GET", newest, token=token, guard=guard), 200)["messages"]
        ),
        guard,
        lambda: f"attempts: {sent.attempts}",
    )


def history(base: str, token: str, conversation_id: int, guard: float = REQUEST_GUARD) -> list[Any]:
    """Every message of a conversation, oldest first, paged with ?after= as a client pages."""
    found: list[Any] = []
    after = 0
    for _ in range(10_000):  # far more pages than any test writes
        path = f"{API}/conversations/{conversation_id}/messages?after={after}&limit=100"
        page = expect(request(base, "GET", path, token=token, guard=guard), 200)
        found += page["messages"]
        if not page["has_more"]:
            return found
        after = page["messages"][-1]["id"]
    raise AssertionError("history never ended")


class ResumingStream:
    """One client's WebSocket stream, reopened with ?after=<last event id> whenever it breaks.

    The frames with an id are kept in arrival order across every connection. A reconnect
    that fails (the server is restarting, the database is down) is tried again until the
    deadline. Whatever goes wrong for good is kept in `error` for the test to raise.
    """

    def __init__(self, base: str, token: str, name: str, deadline: float) -> None:
        self.base = base
        self.token = token
        self.name = name
        self.deadline = deadline
        self.events: list[Frame] = []
        self.last_id: int | None = None
        self.connections = 0
        self.breaks: list[str] = []
        self.refusals: list[str] = []
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._ws: websocket.WebSocket | None = None
        self._thread = threading.Thread(target=self._run, name=f"stream-{name}", daemon=True)
        self._thread.start()

    @property
    def local_address(self) -> tuple[str, int] | None:
        """The client end of the current connection (which worker serves it is found by it)."""
        ws = self._ws
        if ws is None or ws.sock is None:
            return None
        with contextlib.suppress(OSError):
            address: tuple[str, int] = ws.sock.getsockname()
            return address
        return None

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                if time.monotonic() > self.deadline:
                    raise AssertionError(f"hang guard: stream of {self.name} still running")
                ws = self._connect()
                if ws is None:
                    continue
                if self._stopping.is_set():  # close() came while this one was opening
                    ws.shutdown()
                    break
                self._read(ws)
        except BaseException as error:  # raised again by the test, never lost in a thread
            self.error = error
        finally:
            self.ready.set()
            with self._changed:
                self._changed.notify_all()

    def _connect(self) -> websocket.WebSocket | None:
        """Open the stream after the last id seen; None when this attempt got no ready frame."""
        try:
            ws = websocket.create_connection(
                stream_url(self.base, self.last_id),
                header=[f"Authorization: Bearer {self.token}"],
                timeout=REQUEST_GUARD,
                suppress_origin=True,
            )
        except websocket.WebSocketBadStatusException as error:
            self.refusals.append(f"HTTP {error.status_code}")
            time.sleep(RETRY_PAUSE)
            return None
        except (websocket.WebSocketException, OSError) as error:
            if isinstance(error, HANGS):
                raise AssertionError(f"opening the stream of {self.name} hung") from error
            self.refusals.append(type(error).__name__)
            time.sleep(RETRY_PAUSE)
            return None
        try:
            ready = json.loads(ws.recv())
        except (websocket.WebSocketException, OSError, ValueError) as error:
            # Upgraded, then lost before the first frame: as good as refused, try again.
            ws.shutdown()
            if isinstance(error, HANGS):
                raise AssertionError(f"the stream of {self.name} sent no ready frame") from error
            self.refusals.append(f"no ready frame: {type(error).__name__}")
            time.sleep(RETRY_PAUSE)
            return None
        assert ready.get("type") == "ready", f"{self.name}: {ready}"
        if self.last_id is not None:
            assert ready["last_id"] == self.last_id, f"{self.name} resumed elsewhere: {ready}"
        ws.settimeout(None)
        self._ws = ws
        self.connections += 1
        if self.last_id is None:
            # The first stream starts at the end of the log; what follows is what it must see.
            self.last_id = int(ready["last_id"])
        self.ready.set()
        return ws

    def _read(self, ws: websocket.WebSocket) -> None:
        try:
            while True:
                text = ws.recv()
                if not text:
                    raise websocket.WebSocketConnectionClosedException("closed")
                frame = json.loads(text)
                assert frame.get("type") != "resync", f"{self.name} was told to resync: {frame}"
                if "id" in frame:
                    with self._changed:
                        self.events.append(frame)
                        self.last_id = int(frame["id"])
                        self._changed.notify_all()
        except (websocket.WebSocketException, OSError) as error:
            if not self._stopping.is_set():
                self.breaks.append(f"{type(error).__name__}: {error}")
        finally:
            self._ws = None
            with contextlib.suppress(OSError, websocket.WebSocketException):
                ws.shutdown()

    def wait_for(self, message_ids: set[int], guard: float) -> None:
        """Wait until every one of these messages has arrived; fail if the stream died."""
        deadline = time.monotonic() + guard
        with self._changed:
            while not message_ids <= set(created_ids(self.events)):
                remaining = deadline - time.monotonic()
                if self.error is not None or not self._thread.is_alive():
                    raise AssertionError(f"stream of {self.name} ended: {self.error!r}")
                if remaining <= 0:
                    missing = sorted(message_ids - set(created_ids(self.events)))
                    raise AssertionError(
                        f"hang guard ({guard:.0f} s): {self.name} never received {missing}"
                        f" (breaks: {self.breaks}, refusals: {self.refusals})"
                    )
                self._changed.wait(min(remaining, 1.0))

    def close(self) -> None:
        self._stopping.set()
        ws = self._ws
        # Wakes the reader blocked in recv(); the WebSocket itself is not safe across threads.
        if ws is not None and ws.sock is not None:
            with contextlib.suppress(OSError):
                ws.sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=REQUEST_GUARD)
        assert not self._thread.is_alive(), f"stream of {self.name} did not stop"


def created_ids(frames: list[Frame]) -> list[int]:
    return [int(f["data"]["message"]["id"]) for f in frames if f.get("type") == "message.created"]


def assert_stream_exact(stream: ResumingStream, conversations: dict[int, list[Any]]) -> None:
    """The stream saw every message of these conversations once each, in order, and no
    event twice: what the design promises a client that resumes from its last event id."""
    assert stream.error is None, f"{stream.name}: {stream.error!r}"
    ids = [int(e["id"]) for e in stream.events]
    repeated = [i for i, n in Counter(ids).items() if n > 1]
    assert not repeated, f"{stream.name} received events {repeated} more than once"
    assert ids == sorted(ids), f"{stream.name} received events out of order: {ids}"
    for conversation_id, messages in conversations.items():
        seen = [
            int(e["data"]["message"]["id"])
            for e in stream.events
            if e["type"] == "message.created" and e["conversation_id"] == conversation_id
        ]
        assert seen == [m["id"] for m in messages], (
            f"{stream.name}, conversation {conversation_id}: streamed {seen},"
            f" history {[m['id'] for m in messages]}"
        )


def assert_history_exact(sends: list[Sent], histories: dict[int, list[Any]]) -> None:
    """Every acknowledged message is in the history once, as it was acknowledged, and the
    history holds nothing that was not sent."""
    assert all(s.acknowledged for s in sends), [s for s in sends if not s.acknowledged][:5]
    stored = [m for messages in histories.values() for m in messages]
    by_id = Counter(m["id"] for m in stored)
    assert all(n == 1 for n in by_id.values()), "a message appears twice in the history"
    by_client_id = Counter((m["sender"]["username"], m["client_id"]) for m in stored)
    twice = [key for key, n in by_client_id.items() if n > 1]
    assert not twice, f"stored more than once: {twice}"
    kept = {m["id"]: m for m in stored}
    for sent in sends:
        assert sent.message is not None
        found = kept.get(sent.message["id"])
        assert found is not None, f"acknowledged but missing from the history: {sent}"
        assert (found["body"], found["client_id"]) == (sent.body, sent.client_id), (sent, found)
        assert found["conversation_id"] == sent.conversation_id, (sent, found)
        assert found["sender"]["username"] == sent.sender, (sent, found)
    assert len(stored) == len(sends), (
        f"the history holds {len(stored)} messages; {len(sends)} were sent"
    )


def assert_log_whole(database_url: str) -> None:
    """Read straight from the database: the log's ids run 1..counter without a gap, and every
    message has exactly one message.created event (nothing half-written by a crash)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            last_id = conn.scalar(select(EventCounter.last_id))
            event_ids = list(conn.scalars(select(Event.id).order_by(Event.id)))
            message_ids = set(conn.scalars(select(Message.id)))
            created = dict(
                conn.execute(
                    select(Event.message_id, func.count())
                    .where(Event.type == "message.created")
                    .group_by(Event.message_id)
                ).all()
            )
    finally:
        engine.dispose()
    assert event_ids == list(range(1, (last_id or 0) + 1)), (
        f"the event log has gaps or ids past its counter ({last_id})"
    )
    assert created == dict.fromkeys(message_ids, 1), (
        "messages without their message.created event, or events without their message: "
        f"{sorted(set(created) ^ message_ids, key=lambda i: i or 0)[:20]}"
    )
