"""Typing and presence: ephemeral signals for the right people only, never written to the log."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from hubbub.models import User
from tests.api.chat import (
    assert_error,
    conversation_url,
    create_group,
    open_direct,
    parse_time,
    person,
)
from tests.realtime.live import (
    Frame,
    Streams,
    event_count,
    last_seen_at,
    matching,
    typing_by,
)

MakeUser = Callable[..., User]


@pytest.fixture
def streams() -> Iterator[Streams]:
    opened = Streams()
    yield opened
    opened.close_all()


def typing_url(conversation_id: int) -> str:
    return f"{conversation_url(conversation_id)}/typing"


def presence_of(frames: list[Frame], user_id: int) -> list[Frame]:
    return [f for f in frames if f["type"] == "presence" and f["data"]["user_id"] == user_id]


# Typing


def test_typing_reaches_the_other_members_only_and_is_not_logged(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str], streams: Streams
) -> None:
    base = serve(app)
    ana, ben, cyd = (person(app, make_user, name) for name in ("ana", "ben", "cyd"))
    group = create_group(ana, "Plans", ben)
    aside = open_direct(ben, cyd)  # cyd is not in the group
    ana_stream = streams.open(base, ana.token)
    ben_stream = streams.open(base, ben.token)
    cyd_stream = streams.open(base, cyd.token)
    before = event_count(app)

    response = ana.post(typing_url(group["id"]))
    assert response.status_code == 204
    assert response.get_data() == b""

    heard = ben_stream.next(typing_by(ana.id, group["id"]))
    assert set(heard) == {"type", "conversation_id", "data"}  # a signal has no event id
    assert heard["data"]["expires_in"] == 6
    assert heard["data"]["user"]["id"] == ana.id
    assert heard["data"]["user"]["username"] == "ana"

    # Signals reach each stream in the order they were sent: what ana and cyd would have been
    # told of ana's typing comes before ben's typing, which they do hear.
    assert ben.post(typing_url(group["id"])).status_code == 204
    assert ben.post(typing_url(aside["id"])).status_code == 204
    ana_frames = ana_stream.until(typing_by(ben.id, group["id"]))
    cyd_frames = cyd_stream.until(typing_by(ben.id, aside["id"]))
    assert [f for f in ana_frames if f["type"] == "typing"] == [ana_frames[-1]]
    assert [f for f in cyd_frames if f["type"] == "typing"] == [cyd_frames[-1]]
    assert [f for f in cyd_frames if f.get("conversation_id") == group["id"]] == []

    assert event_count(app) == before


def test_typing_in_a_conversation_you_are_not_in_is_404(
    app: Flask, make_user: MakeUser, serve: Callable[[Flask], str], streams: Streams
) -> None:
    base = serve(app)
    ana, ben, cyd = (person(app, make_user, name) for name in ("ana", "ben", "cyd"))
    group = create_group(ana, "Plans", ben)
    ben_stream = streams.open(base, ben.token)
    before = event_count(app)

    assert_error(cyd.post(typing_url(group["id"])), 404, "not_found")
    assert_error(cyd.post(typing_url(group["id"] + 1000)), 404, "not_found")

    assert ana.post(typing_url(group["id"])).status_code == 204
    frames = ben_stream.until(typing_by(ana.id, group["id"]))
    assert [f for f in frames if f["type"] == "typing"] == [frames[-1]]
    assert event_count(app) == before


# Presence


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
