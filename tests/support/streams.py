"""Helpers for the WebSocket tests: open a stream, read frames under a hang guard, gather events."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

import websocket
from flask import Flask
from sqlalchemy import func, select

from hubbub.models import Event, User, db

STREAM = "/api/v1/stream"
# Only a guard against a test hanging forever; no test measures how fast a frame comes.
GUARD = 15.0
PING = {"type": "ping"}

Frame = dict[str, Any]
Match = Callable[[Frame], bool]


def stream_url(base: str, after: int | None = None) -> str:
    """The ws:// address of the stream on a server whose base is http://host:port."""
    url = "ws" + base.removeprefix("http") + STREAM
    return url if after is None else f"{url}?after={after}"


def handshake_headers(
    token: str | None = None, cookie: str | None = None, origin: str | None = None
) -> list[str]:
    headers = []
    if token is not None:
        headers.append(f"Authorization: Bearer {token}")
    if cookie is not None:
        headers.append(f"Cookie: hubbub_session={cookie}")
    if origin is not None:
        headers.append(f"Origin: {origin}")
    return headers


def connect(
    base: str,
    *,
    token: str | None = None,
    cookie: str | None = None,
    origin: str | None = None,
    after: int | None = None,
) -> websocket.WebSocket:
    """Open the stream; websocket-client sends no Origin of its own, only the one given."""
    return websocket.create_connection(
        stream_url(base, after),
        header=handshake_headers(token, cookie, origin),
        timeout=GUARD,
        suppress_origin=True,
    )


def refusal(base: str, **kwargs: Any) -> websocket.WebSocketBadStatusException:
    """The answer to a handshake that must be refused; fails the test if it upgrades instead."""
    try:
        ws = connect(base, **kwargs)
    except websocket.WebSocketBadStatusException as error:
        return error
    ws.close()
    raise AssertionError("the handshake was accepted and upgraded to a WebSocket")


def refusal_error(error: websocket.WebSocketBadStatusException) -> dict[str, Any]:
    """The JSON error object in a refused handshake's body."""
    body = json.loads(error.resp_body or b"{}")
    assert set(body) == {"error"}, body
    found: dict[str, Any] = body["error"]
    return found


class StreamClient:
    """One open stream: every frame it has read so far, and ways to read on until a match."""

    def __init__(self, base: str, **kwargs: Any) -> None:
        running = set(request_threads())
        self.ws = connect(base, **kwargs)
        self.frames: list[Frame] = []
        self.first = self.read()
        # The test server's thread that serves this stream: the one that was not there before.
        started = [t for t in request_threads() if t not in running]
        self.server_thread = started[0] if len(started) == 1 else None

    @property
    def ready(self) -> Frame:
        assert self.first["type"] == "ready", self.first
        return self.first

    def read(self) -> Frame:
        """The next frame, pings included; fails instead of hanging when none comes."""
        try:
            text = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            raise AssertionError(f"no frame within {GUARD}s; read so far: {self.frames}") from None
        assert isinstance(text, str) and text, f"not a JSON text frame: {text!r}"
        frame: Frame = json.loads(text)
        self.frames.append(frame)
        return frame

    def until(self, match: Match) -> list[Frame]:
        """Frames read up to and including the first that matches, pings left out."""
        seen = []
        while True:
            frame = self.read()
            if frame == PING:
                continue
            seen.append(frame)
            if match(frame):
                return seen

    def through(self, event_id: int) -> list[Frame]:
        """Frames read up to and including the logged event event_id, pings left out."""
        return self.until(lambda frame: frame.get("id", 0) >= event_id)

    def next(self, match: Match) -> Frame:
        return self.until(match)[-1]

    def closed_by_server(self) -> bool:
        """True when the server ends the stream before sending another frame."""
        try:
            data = self.ws.recv()
        except websocket.WebSocketConnectionClosedException:
            return True
        except websocket.WebSocketTimeoutException:
            return False
        return data in ("", b"") and not self.ws.connected

    def close(self) -> None:
        """Close politely when still open, then release the socket in any case."""
        self.ws.close()
        self.ws.shutdown()

    def close_and_wait(self) -> None:
        """Close, then wait until the server has finished with this stream, its goodbyes sent."""
        assert self.server_thread is not None, "could not tell which server thread is this stream's"
        self.close()
        self.server_thread.join(GUARD)
        assert not self.server_thread.is_alive(), "the server kept the stream after its client left"

    def __enter__(self) -> StreamClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class Streams:
    """Every stream a test opens, so that all of them are closed when it ends."""

    def __init__(self) -> None:
        self.opened: list[StreamClient] = []

    def open(self, base: str, token: str | None = None, **kwargs: Any) -> StreamClient:
        client = StreamClient(base, token=token, **kwargs)
        self.opened.append(client)
        return client

    def close_all(self) -> None:
        """Close every stream, then wait until the server has finished with each of them."""
        for client in self.opened:
            client.close()
        wait_for_request_threads()


def wait_for_request_threads() -> None:
    """Join the test server's request threads, streams still winding down among them.

    A stream's last database writes (last seen, on close) happen after its client has gone;
    the app and its database must outlive them, or their connections leak into later tests.
    """
    for thread in request_threads():
        if thread is not threading.current_thread():
            thread.join(GUARD)
            assert not thread.is_alive(), "a request thread did not end after its client left"


def request_threads() -> list[threading.Thread]:
    """The live threads in which the test servers (werkzeug, threaded) handle requests."""
    return [t for t in threading.enumerate() if "process_request_thread" in t.name]


def matching(frame_type: str, **data: Any) -> Match:
    """Matches a frame of that type whose data holds these items."""

    def match(frame: Frame) -> bool:
        found = frame.get("data") or {}
        return frame.get("type") == frame_type and all(found.get(k) == v for k, v in data.items())

    return match


def typing_by(user_id: int, conversation_id: int) -> Match:
    def match(frame: Frame) -> bool:
        return (
            frame.get("type") == "typing"
            and frame.get("conversation_id") == conversation_id
            and frame["data"]["user"]["id"] == user_id
        )

    return match


def logged_events(app: Flask, after: int = 0) -> list[Frame]:
    """Every event row after an id, shaped as the stream sends it, read fresh from the database."""
    with app.app_context():
        rows = db.session.execute(
            select(Event.id, Event.type, Event.conversation_id, Event.user_id, Event.data)
            .where(Event.id > after)
            .order_by(Event.id)
        ).all()
        db.session.remove()
    return [
        {
            "id": r.id,
            "type": r.type,
            "conversation_id": r.conversation_id,
            "user_id": r.user_id,
            "data": json.loads(r.data),
        }
        for r in rows
    ]


def as_sent(event: Frame) -> Frame:
    """An event row without the column the wire leaves out."""
    return {k: v for k, v in event.items() if k != "user_id"}


def event_count(app: Flask) -> int:
    with app.app_context():
        value = db.session.scalar(select(func.count()).select_from(Event))
        db.session.remove()
    return int(value or 0)


def last_seen_at(app: Flask, user_id: int) -> Any:
    with app.app_context():
        value = db.session.scalar(select(User.last_seen_at).where(User.id == user_id))
        db.session.remove()
    return value
