"""The event log's read side: who sees which events, through a feed or from the tail.

A user's feed replays, after a cursor, what they may see: from the process's shared tail, or
from the log itself. The tail takes the events the bus carries, in the log's order, and reads
from the log only what it was not carried.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable

import pytest
from flask import Flask, has_app_context

from hubbub.events import log as event_log
from hubbub.events.bus import Message, bus_of
from hubbub.events.feed import Delivery, Feed, Tail
from hubbub.models import User
from hubbub.models.conversation import ADMIN
from hubbub.realtime.live import live_of
from hubbub.services import conversations, members, messages, reads
from tests.support.chat import HANG_GUARD_SECONDS, new_direct, new_group, post
from tests.support.events import WAKE_UPS, Logged, appended, counter, ids, log
from tests.support.people import Person, as_user, people

MakeUser = Callable[..., User]
FEED_KEYS = ("id", "type", "conversation_id", "data")

# Every wake-up the app publishes is heard from the start (tests/support/fixtures.py).
pytestmark = pytest.mark.usefixtures("wake_ups")


# Reading the feeds


def seen(app: Flask, user_id: int, after: int = 0) -> list[Logged]:
    """What a user's feed replays after a cursor, as a reconnecting client receives it.

    All three ways events reach a feed: through the process's shared tail, through the log
    for this user alone (a cursor older than the tail), and through a tail that took nothing
    but the events the bus carried (another process's); they must agree.
    """
    found = read_by_feeds(app, user_id, after)
    end = counter(app)
    tail = tail_from(app, 0, app.extensions[WAKE_UPS])
    holds_the_log(tail, end)
    assert visible(tail, user_id, after, end) == found
    return found


def read_by_feeds(app: Flask, user_id: int, after: int) -> list[Logged]:
    """seen() without the carried way, for writes that were too large to carry."""
    with app.app_context():
        through_tail = replay(live_of(app).feed(user_id, after), Feed.poll)
        alone = replay(live_of(app).feed(user_id, after), Feed.read_log)
    assert through_tail == alone
    return through_tail


def replay(feed: Feed, read: Callable[[Feed], list[Delivery]]) -> list[Logged]:
    try:
        found: list[Logged] = []
        while feed.behind:
            for delivery in read(feed):
                assert json.loads(delivery.frame) == delivery.event
                found.append(delivery.event)
        return found
    finally:
        feed.close()


# The events the bus carries


def tail_from(app: Flask, start: int, wake_ups: Iterable[Message]) -> Tail:
    """A tail of its own that holds the log up to start, then hears only the given wake-ups."""
    tail = Tail()
    with app.app_context():
        # A new tail begins where its first read ends; a read up to start reads no events.
        assert tail.between(start, start) == ([], start)
    for message in wake_ups:
        tail.offer(message)
    return tail


def holds_the_log(tail: Tail, end: int) -> None:
    """The tail reaches the log's end, so reading from it needs no query: outside an app
    context, as here, one would fail."""
    assert not has_app_context()
    assert tail._through == end, "the carried events did not bring the tail to the log's end"


def visible(tail: Tail, user_id: int, after: int, end: int) -> list[Logged]:
    """What the tail hands one user in (after, end], chosen as Feed.poll chooses."""
    read = tail.between(after, end)
    assert read is not None
    entries, reached = read
    assert reached == end
    found: list[Logged] = []
    for entry in entries:
        if user_id in entry.viewers:
            assert json.loads(entry.delivery.frame) == entry.delivery.event
            found.append(entry.delivery.event)
    return found


def wake_ups_after(heard: list[Message], mark: int, expected: int) -> list[Message]:
    """The wake-ups of the transactions that committed after mark, in commit order."""
    found = sorted((m for m in heard if m["last_id"] > mark), key=lambda m: m["last_id"])
    assert len(found) == expected
    return found


def as_feeds_show(found: list[Logged]) -> list[Logged]:
    return [{k: e[k] for k in FEED_KEYS} for e in found]


# Who sees what


def test_members_see_their_conversations_events_and_nobody_elses(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben])
    ana_cyd = new_direct(app, ana, cyd)
    ben_cyd = new_direct(app, ben, cyd)
    for sender, conversation in [(ana, group), (cyd, ana_cyd), (ben, ben_cyd), (ben, group)]:
        post(app, sender, conversation, f"from {sender}")

    everything = log(app)
    belongs = {ana: {group, ana_cyd}, ben: {group, ben_cyd}, cyd: {ana_cyd, ben_cyd}}
    sizes = {ana: 5, ben: 5, cyd: 4}
    for user, mine in belongs.items():
        expected = [e for e in everything if e["conversation_id"] in mine]
        assert len(expected) == sizes[user]
        assert seen(app, user) == [
            {k: e[k] for k in ("id", "type", "conversation_id", "data")} for e in expected
        ]


def test_a_removed_member_sees_their_removal_and_then_nothing_more(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    post(app, ben, group, "before")
    with app.app_context():
        members.remove_member(as_user(ana), group, ben)
    removal = counter(app)
    post(app, ana, group, "after one")
    post(app, cyd, group, "after two")
    with app.app_context():
        conversations.rename_group(as_user(ana), group, "Without ben")
        members.change_role(as_user(ana), group, cyd, ADMIN)
        members.remove_member(as_user(ana), group, cyd)
    assert counter(app) == removal + 5

    bens = seen(app, ben)
    assert [e["type"] for e in bens] == [
        "conversation.created",
        "message.created",
        "member.removed",
    ]
    assert bens[-1]["id"] == removal
    assert bens[-1]["data"] == {"user_id": ben, "by": ana, "reason": "removed"}
    assert seen(app, ben, after=removal) == []
    # Those still there saw all of it.
    assert ids(seen(app, ana)) == list(range(1, removal + 6))


def test_a_member_added_back_sees_events_again_from_member_added(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben])
    with app.app_context():
        members.remove_member(as_user(ben), group, ben)
    left = counter(app)
    post(app, ana, group, "while ben was away")
    with app.app_context():
        members.add_member(as_user(ana), group, ben)
        members.add_member(as_user(ana), group, cyd)
    back = left + 2
    post(app, ana, group, "welcome back")

    bens = seen(app, ben)
    assert ids(bens) == [1, left, back, back + 1, back + 2]
    assert [e["type"] for e in bens] == [
        "conversation.created",
        "member.removed",
        "member.added",
        "member.added",
        "message.created",
    ]
    assert bens[2]["data"]["member"]["user"]["id"] == ben
    assert "while ben was away" not in json.dumps(bens)
    # Someone added late sees nothing from before they were added.
    assert ids(seen(app, cyd)) == [back + 1, back + 2]


def test_read_updated_reaches_only_its_user(app: Flask, make_user: MakeUser) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    message = post(app, ana, group, "read me")
    mark = counter(app)
    with app.app_context():
        reads.mark_read(as_user(ben), group, message)
    [read] = appended(app, mark)

    assert [e["id"] for e in seen(app, ben, after=mark)] == [read["id"]]
    assert seen(app, ana, after=mark) == []
    assert seen(app, cyd, after=mark) == []


def test_an_owner_who_leaves_does_not_see_the_hand_over(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    mark = counter(app)
    with app.app_context():
        members.remove_member(as_user(ana), group, ana)
    assert [e["type"] for e in seen(app, ana, after=mark)] == ["member.removed"]
    assert [e["type"] for e in seen(app, ben, after=mark)] == ["member.removed", "member.updated"]


def test_a_deleted_message_leaves_no_trace_in_a_replay(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    """Also once the process's tail has read the message's events before the deletion."""
    ana, ben, _ = trio
    direct = new_direct(app, ana.id, ben.id)
    mark = counter(app)
    message_id = post(app, ana.id, direct, "regrettable")
    with app.app_context():
        messages.edit_message(as_user(ana.id), message_id, "still regrettable")
    assert "regrettable" in json.dumps(seen(app, ben.id, mark))
    with app.app_context():
        messages.delete_message(as_user(ana.id), message_id)

    replayed = seen(app, ben.id, mark)
    assert [e["type"] for e in replayed] == ["message.created", "message.edited", "message.deleted"]
    assert "regrettable" not in json.dumps(replayed)
    assert {e["data"]["message"]["body"] for e in replayed} == {None}


# What the bus carries to other processes


def three_messages(app: Flask, make_user: MakeUser) -> tuple[int, int, int]:
    """ana writes ben three messages, each in a transaction of its own; returns ana, ben and
    the id of the last event before them."""
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    mark = counter(app)
    for n in range(3):
        post(app, ana, direct, f"message {n}")
    return ana, ben, mark


def bodies(found: list[Logged]) -> list[str]:
    return [e["data"]["message"]["body"] for e in found]


def test_wake_ups_that_come_early_wait_for_the_gap_to_close(
    app: Flask, make_user: MakeUser, wake_ups: list[Message]
) -> None:
    ana, ben, mark = three_messages(app, make_user)
    first, second, third = wake_ups_after(wake_ups, mark, 3)
    assert [m["first_id"] for m in (first, second, third)] == [mark + 1, mark + 2, mark + 3]

    tail = tail_from(app, mark, [third, second])
    assert tail._through == mark  # neither follows on from what the tail holds
    tail.offer(first)
    holds_the_log(tail, mark + 3)
    for user in (ana, ben):
        found = visible(tail, user, mark, mark + 3)
        assert ids(found) == [mark + 1, mark + 2, mark + 3]
        assert bodies(found) == ["message 0", "message 1", "message 2"]
        assert found == seen(app, user, mark)


def test_a_wake_up_after_a_gap_that_never_closes_is_read_from_the_log(
    app: Flask, make_user: MakeUser, wake_ups: list[Message], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, ben, mark = three_messages(app, make_user)
    _lost, second, third = wake_ups_after(wake_ups, mark, 3)
    tail = tail_from(app, mark, [second, third])
    assert tail._through == mark
    loads: list[int] = []
    load = tail._load

    def counted_load(upto: int) -> None:
        loads.append(upto)
        load(upto)

    monkeypatch.setattr(tail, "_load", counted_load)

    with app.app_context():
        found = visible(tail, ben, mark, mark + 3)
    assert loads == [mark + 3]
    assert ids(found) == [mark + 1, mark + 2, mark + 3]
    assert bodies(found) == ["message 0", "message 1", "message 2"]
    assert found == seen(app, ben, mark)
    # Heard again (a slow bus), they change nothing: each event still once.
    tail.offer(second)
    tail.offer(third)
    holds_the_log(tail, mark + 3)
    assert visible(tail, ben, mark, mark + 3) == found


def test_a_log_read_that_closes_the_gap_lets_the_early_wake_ups_in(
    app: Flask, make_user: MakeUser, wake_ups: list[Message]
) -> None:
    _, ben, mark = three_messages(app, make_user)
    _lost, second, third = wake_ups_after(wake_ups, mark, 3)
    tail = tail_from(app, mark, [third, second])
    with app.app_context():
        [first] = visible(tail, ben, mark, mark + 1)
    assert first["id"] == mark + 1
    # The two that came early follow on from the event read: no further read is needed.
    holds_the_log(tail, mark + 3)
    found = visible(tail, ben, mark, mark + 3)
    assert bodies(found) == ["message 0", "message 1", "message 2"]
    assert found == seen(app, ben, mark)


def test_a_transaction_too_large_to_carry_wakes_readers_without_its_events(
    app: Flask, make_user: MakeUser, wake_ups: list[Message], monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    mark = counter(app)
    small = post(app, ana, direct, "small")
    monkeypatch.setattr(event_log, "CARRY_LIMIT", 1000)
    large = post(app, ana, direct, "large " * 200)

    carried, bare = wake_ups_after(wake_ups, mark, 2)
    assert [e["id"] for e in carried["events"]] == [mark + 1]
    assert bare["last_id"] == mark + 2
    assert not {"events", "first_id"} & set(bare)
    tail = tail_from(app, mark, [carried, bare])
    assert tail._through == mark + 1  # the tail cannot take what was not carried
    with app.app_context():
        found = visible(tail, ben, mark, mark + 2)
    assert [e["data"]["message"]["id"] for e in found] == [small, large]
    assert found == read_by_feeds(app, ben, mark)
    assert found == as_feeds_show(log(app, mark))


def test_a_carried_message_deleted_later_is_erased_from_the_tails_copy(
    app: Flask, make_user: MakeUser, wake_ups: list[Message]
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    mark = counter(app)
    message_id = post(app, ana, direct, "regrettable")
    tail = tail_from(app, mark, wake_ups_after(wake_ups, mark, 1))
    holds_the_log(tail, mark + 1)
    [created] = visible(tail, ben, mark, mark + 1)
    assert created["data"]["message"]["body"] == "regrettable"

    with app.app_context():
        messages.delete_message(as_user(ana), message_id)
    [deleted] = wake_ups_after(wake_ups, mark + 1, 1)
    tail.offer(deleted)
    holds_the_log(tail, mark + 2)
    for user in (ana, ben):
        copy = visible(tail, user, mark, mark + 2)
        assert copy == as_feeds_show(log(app, mark))
        assert [e["type"] for e in copy] == ["message.created", "message.deleted"]
        assert {e["data"]["message"]["body"] for e in copy} == {None}
    read = tail.between(mark, mark + 2)
    assert read is not None
    frames = [entry.delivery.frame for entry in read[0]]
    assert frames and not any("regrettable" in frame for frame in frames)


@pytest.mark.parametrize("read", [Feed.poll, Feed.read_log], ids=["tail", "own-reading"])
def test_a_wake_up_naming_ids_not_yet_written_makes_no_feed_skip_them(
    app: Flask, trio: tuple[Person, Person, Person], read: Callable[[Feed], list[Delivery]]
) -> None:
    """The bus only wakes readers; another deployment on the same Redis, or a stray message,
    may name an end the log has not reached. Readers go no further than the log's counter."""
    ana, ben, _ = trio
    direct = new_direct(app, ana.id, ben.id)
    with app.app_context():
        feed = live_of(app).feed(ben.id, None)
        try:
            end = feed.cursor
            bus_of(app).deliver({"kind": "log", "last_id": end + 50})
            feed.wait(0)
            assert read(feed) == []
            assert feed.cursor == end and not feed.behind
            message_id = post(app, ana.id, direct, "after the stray wake-up")
            bus_of(app).deliver({"kind": "log", "last_id": end + 1})
            feed.wait(0)
            found = [delivery.event for delivery in read(feed)]
        finally:
            feed.close()
    assert [(e["type"], e["data"]["message"]["id"]) for e in found] == [
        ("message.created", message_id)
    ]


def test_a_wake_up_offered_while_a_reader_holds_the_tail_never_waits(
    app: Flask, make_user: MakeUser, wake_ups: list[Message], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer offers its events just after its commit, still holding its connection; a reader
    may hold the tail's lock while it waits for a connection of the same pool. Were the writer
    to wait for the lock, the two would wait for each other once the pool ran dry."""
    _, ben, mark = three_messages(app, make_user)
    first, second, third = wake_ups_after(wake_ups, mark, 3)
    tail = tail_from(app, mark, [])
    offered = threading.Event()

    def writer() -> None:
        for message in (first, second, third):
            tail.offer(message)
        offered.set()

    with tail._lock:  # a reader in the middle of its read
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        assert offered.wait(HANG_GUARD_SECONDS), "offer() waited for the reader's lock"
    thread.join(HANG_GUARD_SECONDS)

    # The next holder of the lock takes what was offered meanwhile, without reading the log.
    monkeypatch.setattr(tail, "_load", lambda upto: pytest.fail(f"read the log up to {upto}"))
    found = visible(tail, ben, mark, mark + 3)
    assert ids(found) == [mark + 1, mark + 2, mark + 3]
    assert found == seen(app, ben, mark)
