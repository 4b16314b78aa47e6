"""POST /api/v1/conversations/<id>/typing: a signal for the other members only, never logged."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from hubbub.models import User
from tests.support.api import assert_error, create_group, open_direct, typing_url
from tests.support.people import person
from tests.support.streams import Streams, event_count, typing_by

MakeUser = Callable[..., User]


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
