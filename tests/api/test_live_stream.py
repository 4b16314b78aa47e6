"""The WebSocket stream: handshake, ready frame, replay then live, resume, heartbeat and resync."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from unittest.mock import ANY
from urllib.parse import urlsplit

import pytest
import websocket
from flask import Flask

from hubbub.events.feed import pruned_through
from hubbub.events.log import prune
from hubbub.models import User
from tests.support import login
from tests.support.api import (
    conversation_url,
    create_group,
    members_url,
    message_url,
    ok,
    open_direct,
    send,
)
from tests.support.people import person
from tests.support.streams import (
    GUARD,
    PING,
    Frame,
    Streams,
    as_sent,
    logged_events,
    matching,
    refusal,
    refusal_error,
    stream_url,
)

MakeUser = Callable[..., User]


def visible_to(app: Flask, user_id: int, conversation_ids: set[int], after: int = 0) -> list[Frame]:
    """The logged events after an id in those conversations that user_id may see, as sent."""
    return [
        as_sent(event)
        for event in logged_events(app, after)
        if event["conversation_id"] in conversation_ids and event["user_id"] in (None, user_id)
    ]


def end_of_log(app: Flask) -> int:
    rows = logged_events(app)
    return rows[-1]["id"] if rows else 0


def session_cookie(app: Flask, make_user: MakeUser, username: str) -> tuple[User, str]:
    """Register and log in through the form as a browser does; the user and the session cookie."""
    user = make_user(username)
    client = app.test_client()
    response = login(client, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    cookie = client.get_cookie("hubbub_session")
    assert cookie is not None
    return user, cookie.value


# The first frame, and where the stream starts


def test_without_after_the_stream_starts_at_the_end_of_the_log(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str], streams: Streams
) -> None:
    base = serve(app)
    ana, ben = person(app, make_user, "ana"), person(app, make_user, "ben")
    group = create_group(ana, "Plans", ben)
    send(ana, group["id"], "before the stream")
    end = end_of_log(app)
    assert end > 0

    stream = streams.open(base, ben.token)
    assert stream.ready["last_id"] == end
    assert ben.id in stream.ready["online"]

    send(ana, group["id"], "after the stream opened")
    live = logged_events(app, after=end)
    assert len(live) == 1
    assert stream.through(live[0]["id"]) == [as_sent(live[0])]


def test_with_after_0_the_stream_replays_what_the_user_may_see_then_goes_live(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str], streams: Streams
) -> None:
    base = serve(app)
    ana, ben, cyd = (person(app, make_user, name) for name in ("ana", "ben", "cyd"))
    group = create_group(ana, "Plans", ben)
    first = send(ana, group["id"], "one")
    second = send(ben, group["id"], "two")
    ok(ana.post(f"{conversation_url(group['id'])}/read", json={"message_id": second["id"]}))
    third = send(ana, group["id"], "three")
    ok(ben.post(f"{conversation_url(group['id'])}/read", json={"message_id": third["id"]}))
    elsewhere = open_direct(ana, cyd)
    send(ana, elsewhere["id"], "not for ben")

    replay = visible_to(app, ben.id, {group["id"]})
    # What ben may not see is in the log too: ana's read marker and the other conversation.
    assert len(replay) < len(logged_events(app))
    assert [e["type"] for e in replay] == [
        "conversation.created",
        "message.created",
        "message.created",
        "message.created",
        "read.updated",
    ]

    stream = streams.open(base, ben.token, after=0)
    assert stream.ready["type"] == "ready"
    assert 0 <= stream.ready["last_id"] <= end_of_log(app)
    assert stream.through(replay[-1]["id"]) == replay

    mark = end_of_log(app)
    message = send(ana, group["id"], "live")
    ok(ana.patch(message_url(message["id"]), json={"body": "live, edited"}))
    send(ana, elsewhere["id"], "still not for ben")
    # An earlier message: deleting one erases its body from its events, this one's too.
    ok(ana.delete(message_url(first["id"])))
    ok(ana.post(members_url(group["id"]), json={"user_id": cyd.id}), 201)
    assert ana.delete(members_url(group["id"], cyd.id)).status_code == 204
    ok(ana.patch(conversation_url(group["id"]), json={"title": "New plans"}))
    send(ana, group["id"], "last")

    live = visible_to(app, ben.id, {group["id"]}, after=mark)
    assert [e["type"] for e in live] == [
        "message.created",
        "message.edited",
        "message.deleted",
        "member.added",
        "member.removed",
        "conversation.updated",
        "message.created",
    ]
    received = stream.through(live[-1]["id"])
    assert received == live
    ids = [frame["id"] for frame in stream.frames if "id" in frame]
    assert ids == sorted(set(ids)), "an event came twice or out of order"


def test_a_removed_member_hears_of_it_and_then_nothing_more_from_that_conversation(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str], streams: Streams
) -> None:
    base = serve(app)
    ana, ben, cyd = (person(app, make_user, name) for name in ("ana", "ben", "cyd"))
    group = create_group(ana, "Plans", ben, cyd)
    direct = open_direct(ana, ben)
    stream = streams.open(base, ben.token)

    assert ana.delete(members_url(group["id"], ben.id)).status_code == 204
    removed = stream.until(matching("member.removed"))
    assert len(removed) == 1
    assert removed[0]["conversation_id"] == group["id"]
    assert removed[0]["data"]["user_id"] == ben.id
    assert removed[0] == as_sent(logged_events(app)[-1])

    send(ana, group["id"], "after ben left")
    ok(ana.patch(conversation_url(group["id"]), json={"title": "Without ben"}))
    assert cyd.post(f"{conversation_url(group['id'])}/typing").status_code == 204
    # Then something ben does see, in another conversation: everything above came before it.
    assert ana.post(f"{conversation_url(direct['id'])}/typing").status_code == 204
    send(ana, direct["id"], "still talking to ben here")
    sentinel = logged_events(app)[-1]
    after = stream.through(sentinel["id"])

    assert [f for f in after if f.get("conversation_id") == group["id"]] == []
    assert [f["type"] for f in after] == ["typing", "message.created"]
    assert after[-1] == as_sent(sentinel)


def test_replay_leaves_out_what_happened_while_the_user_was_not_a_member(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str], streams: Streams
) -> None:
    base = serve(app)
    ana, ben = person(app, make_user, "ana"), person(app, make_user, "ben")
    group = create_group(ana, "Plans", ben)
    send(ana, group["id"], "ben is here")
    assert ana.delete(members_url(group["id"], ben.id)).status_code == 204
    gap_start = end_of_log(app)
    send(ana, group["id"], "ben is away")
    ok(ana.patch(conversation_url(group["id"]), json={"title": "Without ben"}))
    gap_end = end_of_log(app)
    ok(ana.post(members_url(group["id"]), json={"user_id": ben.id}), 201)
    send(ana, group["id"], "ben is back")

    stream = streams.open(base, ben.token, after=0)
    received = stream.through(end_of_log(app))
    assert [f["type"] for f in received] == [
        "conversation.created",
        "message.created",
        "member.removed",
        "member.added",
        "message.created",
    ]
    assert [f["id"] for f in received if gap_start < f["id"] <= gap_end] == []
    assert received[3]["data"]["conversation"]["title"] == "Without ben"


def test_resuming_after_a_disconnect_delivers_exactly_the_missed_events(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str], streams: Streams
) -> None:
    base = serve(app)
    ana, ben, cyd = (person(app, make_user, name) for name in ("ana", "ben", "cyd"))
    group = create_group(ana, "Plans", ben)
    for n in range(3):
        send(ana, group["id"], f"before {n}")

    first = streams.open(base, ben.token, after=0)
    seen = first.through(visible_to(app, ben.id, {group["id"]})[1]["id"])
    last_seen = seen[-1]["id"]
    first.close()  # whatever the server sent after last_seen is lost with the connection

    elsewhere = open_direct(ana, cyd)
    message = send(ana, group["id"], "while ben was away")
    ok(ana.patch(message_url(message["id"]), json={"body": "while ben was away, edited"}))
    send(ana, elsewhere["id"], "not for ben")
    send(ben, group["id"], "from ben's phone")

    resumed = streams.open(base, ben.token, after=last_seen)
    assert resumed.ready["type"] == "ready"
    send(ana, group["id"], "after ben came back")

    expected = visible_to(app, ben.id, {group["id"]}, after=last_seen)
    assert [e["type"] for e in expected] == ["message.created"] * 2 + [
        "message.created",
        "message.edited",
        "message.created",
        "message.created",
    ]
    assert resumed.through(expected[-1]["id"]) == expected


def test_an_idle_stream_gets_heartbeat_pings(
    make_app: Callable[..., Flask],
    make_user: MakeUser,
    serve: Callable[[Flask], str],
    streams: Streams,
) -> None:
    app = make_app(HUBBUB_HEARTBEAT_SECONDS=0.3)
    base = serve(app)
    ana = person(app, make_user, "ana")
    stream = streams.open(base, ana.token)
    assert stream.ready["type"] == "ready"
    assert stream.read() == PING
    assert stream.read() == PING


def test_the_stream_declines_compression(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str]
) -> None:
    """Browsers offer permessage-deflate; a compressor per open stream costs more memory than
    the rest of the stream, so the handshake answers without it and frames come plain."""
    base = serve(app)
    ana = person(app, make_user, "ana")
    offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"
    ws = websocket.create_connection(
        stream_url(base),
        header=[f"Authorization: Bearer {ana.token}", offer],
        timeout=GUARD,
        suppress_origin=True,
    )
    try:
        answer = {name.lower(): value for name, value in (ws.getheaders() or {}).items()}
        assert "sec-websocket-extensions" not in answer, answer
        assert json.loads(ws.recv())["type"] == "ready"
    finally:
        ws.close()


def test_idle_streams_hold_no_database_connection(
    make_app: Callable[..., Flask],
    make_user: MakeUser,
    serve: Callable[[Flask], str],
    streams: Streams,
) -> None:
    # Two connections in all; waiting for a third fails after the guard instead of hanging.
    pool = {"pool_size": 2, "max_overflow": 0, "pool_timeout": GUARD, "pool_pre_ping": True}
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=pool)
    base = serve(app)
    people = [person(app, make_user, name) for name in ("ana", "ben", "cyd", "dan")]
    for opened, someone in enumerate(people):
        try:
            stream = streams.open(base, someone.token)
        except websocket.WebSocketBadStatusException as error:
            pytest.fail(f"with {opened} idle streams open, the next got {error.status_code}")
        assert stream.ready["type"] == "ready"
    ok(people[0].get("/api/v1/me"))


def test_a_cursor_older_than_retention_gets_resync(
    make_app: Callable[..., Flask],
    make_user: MakeUser,
    serve: Callable[[Flask], str],
    streams: Streams,
) -> None:
    app = make_app(HUBBUB_EVENT_RETENTION=timedelta(0))
    base = serve(app)
    ana, ben = person(app, make_user, "ana"), person(app, make_user, "ben")
    group = create_group(ana, "Plans", ben)
    send(ana, group["id"], "soon forgotten")
    end = end_of_log(app)
    with app.app_context():
        prune(timedelta(0))
        assert pruned_through() == end

    old = streams.open(base, ben.token, after=0)
    assert old.first["type"] == "resync", old.first
    assert old.first["last_id"] == end
    assert old.closed_by_server()

    current = streams.open(base, ben.token, after=end)
    assert current.ready["type"] == "ready"
    send(ana, group["id"], "kept")
    live = logged_events(app, after=end)
    assert current.through(live[-1]["id"]) == [as_sent(live[-1])]


# Who may open a stream


@pytest.mark.usefixtures("streams")
def test_anonymous_handshake_is_refused_with_401(app: Flask, serve: Callable[[Flask], str]) -> None:
    refused = refusal(serve(app))
    assert refused.status_code == 401
    assert refusal_error(refused)["code"] == "unauthenticated"


@pytest.mark.usefixtures("streams")
def test_invalid_token_handshake_is_refused_with_401(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str]
) -> None:
    base = serve(app)
    ana = person(app, make_user, "ana")
    refused = refusal(base, token=ana.token + "x")
    assert refused.status_code == 401
    assert refusal_error(refused)["code"] == "invalid_token"


@pytest.mark.usefixtures("streams")
@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5"])
def test_a_malformed_cursor_is_refused_with_422(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str], cursor: str
) -> None:
    base = serve(app)
    ana = person(app, make_user, "ana")
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(
            f"{base.replace('http', 'ws', 1)}/api/v1/stream?after={cursor}",
            header=[f"Authorization: Bearer {ana.token}"],
            timeout=15,
        )
    assert refused.value.status_code == 422
    assert refusal_error(refused.value)["fields"] == {"after": ANY}


def test_cookie_session_from_the_same_origin_connects(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str], streams: Streams
) -> None:
    base = serve(app)
    ana, cookie = session_cookie(app, make_user, "ana")
    ben, cyd = person(app, make_user, "ben"), person(app, make_user, "cyd")

    stream = streams.open(base, cookie=cookie, origin=base)
    assert stream.ready["type"] == "ready"
    # It is ana's stream: a conversation with ana reaches it, one without her does not.
    body = {"kind": "direct", "user_id": ana.id}
    with_ana = ok(ben.post("/api/v1/conversations", json=body), 201)["conversation"]
    without_ana = open_direct(ben, cyd)
    send(ben, without_ana["id"], "not for ana")
    send(ben, with_ana["id"], "for ana")
    received = stream.through(logged_events(app)[-1]["id"])
    assert [f["type"] for f in received] == ["conversation.created", "message.created"]
    assert {f["conversation_id"] for f in received} == {with_ana["id"]}


@pytest.mark.usefixtures("streams")
@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "http://127.0.0.1.evil.example:{port}", "other port"]
)
def test_cookie_session_from_a_foreign_origin_is_refused_with_403(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str], origin: str
) -> None:
    base = serve(app)
    port = urlsplit(base).port
    assert port is not None
    if origin == "other port":
        origin = f"http://127.0.0.1:{port + 1 if port < 65535 else port - 1}"
    _, cookie = session_cookie(app, make_user, "ana")
    refused = refusal(base, cookie=cookie, origin=origin.format(port=port))
    assert refused.status_code == 403
    assert refusal_error(refused)["code"] == "forbidden"


@pytest.mark.usefixtures("streams")
def test_cookie_session_without_origin_is_refused_with_403(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str]
) -> None:
    base = serve(app)
    _, cookie = session_cookie(app, make_user, "ana")
    refused = refusal(base, cookie=cookie)
    assert refused.status_code == 403
    assert refusal_error(refused)["code"] == "forbidden"


def test_bearer_token_needs_no_origin_check(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str], streams: Streams
) -> None:
    base = serve(app)
    ana = person(app, make_user, "ana")
    stream = streams.open(base, ana.token, origin="http://evil.example")
    assert stream.ready["type"] == "ready"
