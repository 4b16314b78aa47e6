"""Presence through the streams: online and offline for those who share a conversation, unlogged."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from hubbub.models import User
from tests.support.api import create_group, open_direct, parse_time, typing_url
from tests.support.people import person
from tests.support.streams import Frame, Streams, event_count, last_seen_at, matching, typing_by

MakeUser = Callable[..., User]


def presence_of(frames: list[Frame], user_id: int) -> list[Frame]:
    return [f for f in frames if f["type"] == "presence" and f["data"]["user_id"] == user_id]


def test_opening_a_stream_tells_only_those_who_share_a_conversation(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str], streams: Streams
) -> None:
    base = serve(app)
    ana, ben, cyd = (person(app, make_user, name) for name in ("ana", "ben", "cyd"))
    create_group(ana, "Plans", ben)
    aside = open_direct(ana, cyd)  # cyd shares nothing with ben
    ana_stream = streams.open(base, ana.token)
    cyd_stream = streams.open(base, cyd.token)
    before = event_count(app)

    assert streams.open(base, ben.token).ready["type"] == "ready"
    online = ana_stream.next(matching("presence", user_id=ben.id))
    assert online["type"] == "presence"
    assert online["data"] == {"user_id": ben.id, "status": "online"}
    assert "id" not in online

    # ben came online before ana types to cyd, so cyd would have heard of ben first.
    assert ana.post(typing_url(aside["id"])).status_code == 204
    assert presence_of(cyd_stream.until(typing_by(ana.id, aside["id"])), ben.id) == []
    assert event_count(app) == before


def test_closing_the_last_stream_tells_them_offline_and_keeps_last_seen(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str], streams: Streams
) -> None:
    base = serve(app)
    ana, ben, cyd = (person(app, make_user, name) for name in ("ana", "ben", "cyd"))
    create_group(ana, "Plans", ben)
    aside = open_direct(ana, cyd)  # cyd shares nothing with ben
    ana_stream = streams.open(base, ana.token)
    cyd_stream = streams.open(base, cyd.token)
    assert last_seen_at(app, ben.id) is None
    before = event_count(app)

    laptop, phone = streams.open(base, ben.token), streams.open(base, ben.token)
    ana_stream.next(matching("presence", user_id=ben.id, status="online"))
    laptop.close_and_wait()
    # ben is still online on his phone: what ana hears next is cyd typing, not ben leaving.
    assert cyd.post(typing_url(aside["id"])).status_code == 204
    assert presence_of(ana_stream.until(typing_by(cyd.id, aside["id"])), ben.id) == []
    assert last_seen_at(app, ben.id) is None
    phone.close()

    offline = ana_stream.next(matching("presence", user_id=ben.id, status="offline"))
    assert set(offline["data"]) == {"user_id", "status", "last_seen_at"}
    seen = parse_time(offline["data"]["last_seen_at"])
    assert last_seen_at(app, ben.id) == seen

    # Then signals ana and cyd do hear: anything more about ben would have come before them.
    assert cyd.post(typing_url(aside["id"])).status_code == 204
    assert ana.post(typing_url(aside["id"])).status_code == 204
    ana_stream.until(typing_by(cyd.id, aside["id"]))
    told = [f["data"]["status"] for f in presence_of(ana_stream.frames, ben.id)]
    assert told == ["online", "offline"], "ben's second stream opening was announced too"
    assert presence_of(cyd_stream.until(typing_by(ana.id, aside["id"])), ben.id) == []
    assert event_count(app) == before


def test_the_ready_frame_lists_online_only_people_who_share_a_conversation(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str], streams: Streams
) -> None:
    base = serve(app)
    ana, ben, cyd = (person(app, make_user, name) for name in ("ana", "ben", "cyd"))
    create_group(ana, "Plans", ben)
    open_direct(ana, cyd)  # cyd shares nothing with ben
    streams.open(base, ben.token)

    assert ben.id in streams.open(base, ana.token).ready["online"]
    assert ben.id not in streams.open(base, cyd.token).ready["online"]
