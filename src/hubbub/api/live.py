"""The live endpoints: long-poll for scripts, WebSocket for browsers, and typing signals."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
from typing import Annotated, Any
from urllib.parse import urlsplit

from flask import current_app, g, request
from flask.typing import ResponseReturnValue
from flask_sock import Sock
from pydantic import Field
from simple_websocket import ConnectionClosed
from sqlalchemy.exc import SQLAlchemyError
from wsproto.utilities import LocalProtocolError

from hubbub.api import bp
from hubbub.api.caller import caller, credential, require_user
from hubbub.api.docs import endpoint
from hubbub.api.validation import Query
from hubbub.events.feed import Resync, last_event_id
from hubbub.events.types import EventBatch, ResyncOut
from hubbub.models import db
from hubbub.realtime.live import live_of
from hubbub.services import signals
from hubbub.services.errors import Forbidden, Invalid, Unauthenticated

log = logging.getLogger(__name__)
sock = Sock()
LONG_POLL_MAX = 60
# A stream whose session or token was revoked closes with this code (RFC 6455: policy).
POLICY_VIOLATION = 1008
ENDED = "Your session has ended; log in again."
CLOSE_ANSWER_WAIT = 2.0  # seconds a closing stream waits for the client's close frame


class EventsQuery(Query):
    after: Annotated[int, Field(ge=0)] | None = None
    timeout: Annotated[float, Field(ge=0, le=LONG_POLL_MAX)] = 30


def _resync(last_id: int) -> dict[str, Any]:
    return {
        "type": "resync",
        "last_id": last_id,
        "error": {
            "code": "resync",
            "message": "Events after that id are no longer kept; reload, then follow from last_id.",
        },
    }


@bp.get("/events")
@endpoint(tags=["events"], query=EventsQuery, ok={200: EventBatch, 410: ResyncOut})
def long_poll(params: EventsQuery) -> ResponseReturnValue:
    """Events after `after`, as soon as there are any, or none after `timeout` seconds."""
    live = live_of(current_app)
    user = caller()
    if params.after is None:
        return {"events": [], "last_id": last_event_id()}
    try:
        feed = live.feed(user.id, params.after)
    except Resync:
        return _resync(last_event_id()), 410
    held = live.holds.hold(credential())
    try:
        deadline = time.monotonic() + params.timeout
        batch = [delivery.event for delivery in feed.poll()]
        while not batch and (remaining := deadline - time.monotonic()) > 0:
            if held.ended.is_set():
                raise Unauthenticated(ENDED, code="session_ended")
            batch = feed.wait(min(remaining, 1.0))
            batch += [delivery.event for delivery in feed.poll()]
        return {"events": batch, "last_id": feed.cursor}
    finally:
        live.holds.release(held)
        feed.close()


@bp.post("/conversations/<int:conversation_id>/typing")
@endpoint(tags=["events"], ok={204: None})
def typing(conversation_id: int) -> ResponseReturnValue:
    """Tell the other members you are typing; it lapses after 6 seconds."""
    signals.announce_typing(caller(), conversation_id)
    return "", 204


def _check_stream_handshake() -> None:
    """Before the upgrade: who is it, and may this page open a stream with its cookie?"""
    if request.endpoint != "api.stream":
        return
    require_user()
    after = request.args.get("after")
    if after is not None and not after.isdigit():
        raise Invalid("Bad cursor.", fields={"after": "Give the id of the last event you saw."})
    if g.auth == "session":
        # A cookie rides along from any site; only our own pages may use it.
        origin = request.headers.get("Origin")
        if origin is None or urlsplit(origin).netloc != request.host:
            raise Forbidden("This stream may only be opened from Hubbub's own pages.")
    # Decline permessage-deflate: its compressor holds about 170 KB per connection, over four
    # times what an idle stream costs otherwise, for frames of a few hundred bytes.
    request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)


bp.before_request(_check_stream_handshake)


def _close(ws: Any, code: int, reason: str) -> None:
    """Close with a code the client can act on.

    Under the development server flask-sock writes an HTTP answer onto the socket once the
    view returns, and the browser, still reading frames, reports a garbled one and 1006
    instead of our code (flask-sock issues 20 and 77).
    """
    ws.close(reason=code, message=reason)
    ws.thread.join(CLOSE_ANSWER_WAIT)
    if ws.mode == "werkzeug":
        # Our close frame and the client's answer have crossed: end the connection before
        # the development server writes its HTTP answer onto it.
        with contextlib.suppress(OSError):
            ws.sock.shutdown(socket.SHUT_RDWR)


@sock.route("/stream", bp=bp)
def stream(ws: Any) -> None:
    live = live_of(current_app)
    user_id = caller().id
    after = request.args.get("after", type=int)
    try:
        # One event wakes the loop below for anything: an event or signal on the bus, the
        # client going away (simple-websocket sets it), or the credential being revoked.
        feed = live.feed(user_id, after, wake=ws.event)
    except Resync:
        ws.send(json.dumps(_resync(last_event_id())))
        ws.close()
        return
    heartbeat = float(live.app.config["HUBBUB_HEARTBEAT_SECONDS"])
    held = live.holds.hold(credential(), wake=ws.event)
    board = live.board
    try:
        # Counted first thing inside the try, so the finally always uncounts it.
        if board.opened(user_id):
            signals.announce_presence(user_id, online=True)
        online = signals.online_among_contacts(user_id, board.is_online)
        # An idle stream must not hold a database connection.
        db.session.remove()
        ws.send(json.dumps({"type": "ready", "last_id": feed.cursor, "online": online}))
        next_ping = time.monotonic() + heartbeat
        while ws.connected:
            if held.ended.is_set():
                _close(ws, POLICY_VIOLATION, ENDED)
                break
            for delivery in feed.poll():
                ws.send(delivery.frame)
            if feed.behind:
                continue
            for signal in feed.wait(max(0.0, next_ping - time.monotonic())):
                ws.send(json.dumps(signal))
            if time.monotonic() >= next_ping:
                ws.send(json.dumps({"type": "ping"}))
                next_ping = time.monotonic() + heartbeat
    except (ConnectionClosed, ConnectionError, LocalProtocolError):
        pass  # the client went away, cleanly or not (or was closing as we sent)
    except Exception:
        # The socket is upgraded: an error page would only garble it. Say "server error".
        log.exception("stream for user %s failed", user_id)
        ws.close(reason=1011)
    finally:
        live.holds.release(held)
        feed.close()
        if board.closed(user_id):
            _announce_offline(user_id)
        db.session.remove()


def _announce_offline(user_id: int) -> None:
    """Tell the user's contacts that their last stream here ended, if the database lets us.

    A stream may end because the database went away: the failed query leaves the session to
    be rolled back first, and a failure here must not escape the view, whose socket is
    upgraded and can carry no error answer.
    """
    try:
        db.session.rollback()
        signals.announce_presence(user_id, online=False)
    except SQLAlchemyError as error:
        # The class name only: the text of a database error quotes the SQL and its parameters.
        log.warning(
            "stream for user %s ended; offline not announced (%s)", user_id, type(error).__name__
        )
