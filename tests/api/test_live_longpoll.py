"""GET /api/v1/events: replay after a cursor, wait for what comes next, and resync when pruned."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from hubbub.events import feed
from hubbub.events.bus import Subscription, bus_of
from hubbub.events.feed import pruned_through as log_pruned_through
from hubbub.events.log import prune
from hubbub.models import User, db
from hubbub.realtime.live import live_of
from hubbub.services import messages
from tests.support import PASSWORD, bearer
from tests.support.api import (
    API,
    assert_error,
    conversation_url,
    create_group,
    members_url,
    messages_url,
    ok,
    open_direct,
    send,
)
from tests.support.people import Person, person

MakeUser = Callable[..., User]
EVENTS = f"{API}/events"
EVENT_KEYS = {"id", "type", "conversation_id", "data"}
# Only a guard against a hanging test; nothing here measures how fast an answer comes.
GUARD = 60.0


def poll(who: Person, **params: Any) -> TestResponse:
    return who.get(EVENTS, query_string=params)


def end_of_log(who: Person) -> int:
    """The current last_id, as a client learns it: a long-poll without `after`."""
    last_id: int = ok(poll(who))["last_id"]
    return last_id


def summary(answer: dict[str, Any]) -> list[tuple[str, int]]:
    return [(e["type"], e["conversation_id"]) for e in answer["events"]]


def mark_read(who: Person, conversation_id: int, message_id: int) -> None:
    ok(who.post(f"{conversation_url(conversation_id)}/read", json={"message_id": message_id}))


class Background:
    """A call running in its own thread; its result or error is handed to the test's thread."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self._call = call
        self._result: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = self._call()
        except BaseException as error:  # re-raised by result()
            self._error = error

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self) -> Any:
        self._thread.join(timeout=GUARD)
        assert not self._thread.is_alive(), "the call is stuck"
        if self._error is not None:
            raise self._error
        return self._result


def http(base: str, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
    """GET (or POST a JSON body) on a live server as a script would; the JSON answer."""
    headers = bearer(token)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data=data, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=GUARD) as response:  # noqa: S310
        return json.loads(response.read())


def subscriptions(app: Flask, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """An event that is set once a reader has subscribed to the app's bus."""
    hub = bus_of(app)
    original = hub.subscribe
    subscribed = threading.Event()

    def subscribe(ready: threading.Event | None = None) -> Subscription:
        subscription = original(ready)
        subscribed.set()
        return subscription

    monkeypatch.setattr(hub, "subscribe", subscribe)
    return subscribed


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + GUARD
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


@pytest.fixture
def duo(app: Flask, make_user: MakeUser) -> tuple[Person, Person]:
    return person(app, make_user, "ana"), person(app, make_user, "ben")


# Answers at once


def test_without_after_it_answers_at_once_with_the_end_of_the_log(
    duo: tuple[Person, Person],
) -> None:
    ana, ben = duo
    assert ok(poll(ana)) == {"events": [], "last_id": 0}
    direct = open_direct(ana, ben)["id"]
    send(ben, direct, "one")
    send(ben, direct, "two")
    # ana may see all three events, yet without a cursor she only learns where the log ends.
    assert ok(poll(ana)) == {"events": [], "last_id": 3}
    assert ok(poll(ana, timeout=60)) == {"events": [], "last_id": 3}


def test_with_after_it_replays_what_the_user_may_see_oldest_first(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cyd = (person(app, make_user, name) for name in ("ana", "ben", "cyd"))
    group = create_group(ana, "Team", ben)["id"]
    hello = send(ben, group, "hello")
    elsewhere = open_direct(ben, cyd)["id"]
    send(cyd, elsewhere, "not for ana")
    mark_read(ben, group, hello["id"])
    ok(ana.patch(conversation_url(group), json={"title": "Crew"}))
    mark_read(ana, group, hello["id"])
    reply = send(ana, group, "hi ben")
    end = end_of_log(ana)

    answer = ok(poll(ana, after=0, timeout=0))
    assert summary(answer) == [
        ("conversation.created", group),
        ("message.created", group),
        ("conversation.updated", group),
        ("read.updated", group),
        ("message.created", group),
    ]
    assert answer["last_id"] == end
    found = answer["events"]
    assert all(set(e) == EVENT_KEYS for e in found)
    assert [e["id"] for e in found] == sorted({e["id"] for e in found})
    assert found[1]["data"] == {"message": hello}
    assert found[2]["data"]["conversation"]["title"] == "Crew"
    assert found[3]["data"] == {"user_id": ana.id, "last_read_message_id": hello["id"]}
    assert found[4]["data"] == {"message": reply}

    # Resuming from any of those ids gives exactly the rest.
    for position, event in enumerate(found):
        rest = ok(poll(ana, after=event["id"], timeout=0))
        assert rest == {"events": found[position + 1 :], "last_id": end}


def test_with_nothing_to_say_it_answers_empty_after_the_timeout(
    duo: tuple[Person, Person],
) -> None:
    ana, ben = duo
    direct = open_direct(ana, ben)["id"]
    send(ben, direct, "old news")
    end = end_of_log(ana)
    assert ok(poll(ana, after=end, timeout=0.2)) == {"events": [], "last_id": end}


def test_events_a_user_may_not_see_move_last_id_but_are_not_sent(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cyd = (person(app, make_user, name) for name in ("ana", "ben", "cyd"))
    open_direct(ana, ben)
    mark = end_of_log(ana)
    elsewhere = open_direct(ben, cyd)["id"]
    send(cyd, elsewhere, "between ben and cyd")
    end = end_of_log(ana)
    assert end == mark + 2
    assert ok(poll(ana, after=mark, timeout=0.2)) == {"events": [], "last_id": end}
    assert summary(ok(poll(ben, after=mark, timeout=0))) == [
        ("conversation.created", elsewhere),
        ("message.created", elsewhere),
    ]


def test_a_member_who_left_stops_hearing_from_the_group(app: Flask, make_user: MakeUser) -> None:
    ana, ben, cyd = (person(app, make_user, name) for name in ("ana", "ben", "cyd"))
    group = create_group(ana, "Team", ben, cyd)["id"]
    mark = end_of_log(ben)
    assert ben.delete(members_url(group, ben.id)).status_code == 204
    send(ana, group, "now that ben is gone")
    send(cyd, group, "indeed")

    answer = ok(poll(ben, after=mark, timeout=0))
    assert summary(answer) == [("member.removed", group)]
    assert answer["events"][0]["data"] == {"user_id": ben.id, "by": ben.id, "reason": "left"}
    assert answer["last_id"] == mark + 3
    assert ok(poll(ben, after=answer["last_id"], timeout=0.2))["events"] == []


def test_a_long_replay_comes_in_batches_each_event_exactly_once(
    app: Flask, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed, "BATCH", 2)
    ana, ben, cyd = (person(app, make_user, name) for name in ("ana", "ben", "cyd"))
    direct = open_direct(ana, ben)["id"]
    elsewhere = open_direct(ben, cyd)["id"]
    for n in range(4):
        send(ben, direct, f"for ana {n}")
        send(cyd, elsewhere, f"not for ana {n}")
    end = end_of_log(ana)

    received: list[dict[str, Any]] = []
    cursor = 0
    for _ in range(end + 1):
        answer = ok(poll(ana, after=cursor, timeout=0))
        if not answer["events"]:
            break
        assert len(answer["events"]) <= 2
        assert answer["last_id"] > cursor
        received += answer["events"]
        cursor = answer["last_id"]
    assert (cursor, answer) == (end, {"events": [], "last_id": end})
    assert [e["type"] for e in received] == ["conversation.created"] + ["message.created"] * 4
    assert [e["data"]["message"]["body"] for e in received[1:]] == [
        f"for ana {n}" for n in range(4)
    ]
    assert [e["id"] for e in received] == sorted({e["id"] for e in received})


# Refused


@pytest.mark.parametrize(
    "query",
    [
        "after=0&timeout=61",
        "after=0&timeout=-1",
        "after=0&timeout=nan",
        "after=0&timeout=abc",
        "after=-1",
        "after=abc",
        "after=-1&timeout=0",
    ],
)
def test_bad_parameters_are_refused(duo: tuple[Person, Person], query: str) -> None:
    ana, _ = duo
    error = assert_error(ana.get(f"{EVENTS}?{query}"), 422, "invalid")
    assert set(error.get("fields", {})) <= {"after", "timeout"}


def test_anonymous_callers_are_refused(client: FlaskClient) -> None:
    assert_error(client.get(f"{EVENTS}?after=0&timeout=0"), 401, "unauthenticated")
    assert_error(client.get(EVENTS), 401, "unauthenticated")
    bad_token = client.get(f"{EVENTS}?after=0", headers=bearer("hbb_not-a-token"))
    assert_error(bad_token, 401)


# Retention


def test_a_cursor_older_than_retention_gets_resync(
    make_app: Callable[..., Flask], make_user: MakeUser
) -> None:
    app = make_app(HUBBUB_EVENT_RETENTION=timedelta(0))
    ana, ben = person(app, make_user, "ana"), person(app, make_user, "ben")
    direct = open_direct(ana, ben)["id"]
    send(ana, direct, "one")
    # The watcher prunes with this retention as soon as it starts; let that first prune be
    # over now, so that it cannot delete what this test writes next.
    live_of(app).start()
    wait_for(lambda: pruned_through(app) == 2, "the watcher's first prune")
    send(ana, direct, "two")
    send(ben, direct, "three")
    end = end_of_log(ana)
    assert end == 4

    with app.app_context():
        assert prune(app.config["HUBBUB_EVENT_RETENTION"]) == 2
        assert log_pruned_through() == end
        db.session.remove()

    for stale in (0, 2, end - 1):
        response = poll(ana, after=stale, timeout=0)
        assert response.status_code == 410, response.get_data(as_text=True)
        body = response.get_json()
        assert set(body) == {"type", "last_id", "error"}
        assert (body["type"], body["last_id"]) == ("resync", end)
        assert body["error"]["code"] == "resync"
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]

    # A cursor at the end of what was pruned is current: it waits, then gets what comes next.
    assert ok(poll(ana, after=end, timeout=0)) == {"events": [], "last_id": end}
    four = send(ben, direct, "four")
    answer = ok(poll(ana, after=end, timeout=0))
    assert answer == {"events": answer["events"], "last_id": end + 1}
    assert [e["data"]["message"] for e in answer["events"]] == [four]


def pruned_through(app: Flask) -> int:
    with app.app_context():
        value = log_pruned_through()
        db.session.remove()
    return value


# Waiting, live


def ana_waits(
    app: Flask,
    make_user: MakeUser,
    serve: Callable[[Flask], str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Person, Person, int, int, str, Background]:
    """ana and ben share a direct conversation on the app, served live; ana's long-poll waits
    after the end of the log. Returns both, the conversation, the end, the base URL and the
    poll running in the background."""
    ana, ben = person(app, make_user, "ana"), person(app, make_user, "ben")
    direct = open_direct(ana, ben)["id"]
    mark = end_of_log(ana)
    base = serve(app)
    subscribed = subscriptions(app, monkeypatch)
    waiting = Background(lambda: http(base, f"{EVENTS}?after={mark}&timeout=30", ana.token))
    assert subscribed.wait(GUARD), "the long-poll never started waiting"
    return ana, ben, direct, mark, base, waiting


def test_a_waiting_poll_returns_with_the_event_that_arrives(
    make_app: Callable[..., Flask],
    make_user: MakeUser,
    serve: Callable[[Flask], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The watcher does not look at the log on its own here, so the bus must end the wait.
    app = make_app(HUBBUB_LOG_POLL_SECONDS=3600.0)
    ana, ben, direct, mark, base, waiting = ana_waits(app, make_user, serve, monkeypatch)
    sending = Background(
        lambda: http(base, messages_url(direct), ben.token, {"body": "are you there?"})
    )
    message = sending.result()["message"]
    answer = waiting.result()

    assert summary(answer) == [("message.created", direct)]
    assert answer["events"][0]["data"] == {"message": message}
    assert answer["last_id"] == answer["events"][0]["id"] == mark + 1


def test_a_lost_wake_up_does_not_lose_the_event(
    make_app: Callable[..., Flask],
    make_user: MakeUser,
    serve: Callable[[Flask], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app(HUBBUB_LOG_POLL_SECONDS=0.2)
    ana, ben, direct, mark, base, waiting = ana_waits(app, make_user, serve, monkeypatch)
    # The bus drops every wake-up from now on; the log itself is untouched.
    dropped: list[dict[str, Any]] = []
    monkeypatch.setattr(bus_of(app), "publish", dropped.append)
    with app.app_context():
        sender = db.session.get(User, ben.id)
        assert sender is not None
        message_id = messages.send_message(sender, direct, "psst")[0].id
        db.session.remove()
    answer = waiting.result()

    assert [(m["kind"], m["last_id"], [e["id"] for e in m["events"]]) for m in dropped] == [
        ("log", mark + 1, [mark + 1])
    ]
    assert summary(answer) == [("message.created", direct)]
    assert answer["events"][0]["data"]["message"]["id"] == message_id
    assert answer["last_id"] == mark + 1


def test_a_bus_that_has_just_joined_has_the_watcher_look_at_the_log_at_once(
    make_app: Callable[..., Flask],
    make_user: MakeUser,
    serve: Callable[[Flask], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A listener that (re)joins the bus missed what was said before; the watcher, asleep for
    an hour here, looks at the log's end at once instead of at its next turn."""
    app = make_app(HUBBUB_LOG_POLL_SECONDS=3600)
    ana, ben, direct, mark, base, waiting = ana_waits(app, make_user, serve, monkeypatch)
    hub = bus_of(app)
    monkeypatch.setattr(hub, "publish", lambda message: None)  # said before the listener joined
    with app.app_context():
        sender = db.session.get(User, ben.id)
        assert sender is not None
        messages.send_message(sender, direct, "said while nobody listened")
        db.session.remove()
    time.sleep(0.5)
    assert not waiting.done(), "something other than the watcher woke the long-poll"
    hub.recheck.set()  # what a listener does when it joins
    answer = waiting.result()

    assert summary(answer) == [("message.created", direct)]
    assert answer["last_id"] == mark + 1


def test_a_cursor_past_the_end_of_the_log_asks_for_a_resync(
    app: Flask, make_user: Callable[..., User]
) -> None:
    make_user("ana")
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"login": "ana", "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    end = client.get("/api/v1/events", headers=headers).get_json()["last_id"]
    answer = client.get(f"/api/v1/events?after={end + 5}&timeout=0", headers=headers)
    assert answer.status_code == 410
    assert answer.get_json()["type"] == "resync"
    assert answer.get_json()["last_id"] == end
    assert client.get(f"/api/v1/events?after={end}&timeout=0", headers=headers).status_code == 200
