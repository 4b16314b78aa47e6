"""The event log's write side: exactly which events each write appends, and their ids.

Each write appends its events in its own transaction, with the next ids of the one counter, in
the order of commits; a refused or repeated write appends nothing. What a feed shows of them is
tests/events/test_feed.py's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from hubbub.models import MemberSpan, User
from hubbub.models.conversation import ADMIN, OWNER
from hubbub.services import conversations, members, messages, reads
from hubbub.services.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from tests.support import count
from tests.support.api import conversation_url, messages_url, ok
from tests.support.chat import HANG_GUARD_SECONDS, new_direct, new_group, post, race, set_role
from tests.support.events import Logged, appended, counter, ids, log
from tests.support.people import Person, as_user, people

MakeUser = Callable[..., User]
INFO_KEYS = ("id", "kind", "title", "created_at", "members")

# Every wake-up the app publishes is heard from the start (tests/support/fixtures.py).
pytestmark = pytest.mark.usefixtures("wake_ups")


def kinds(found: list[Logged]) -> list[tuple[str, int]]:
    return [(e["type"], e["conversation_id"]) for e in found]


# What the API shows, to compare payloads with


def conversation_as_api(who: Person, conversation_id: int) -> dict[str, Any]:
    shown = ok(who.get(conversation_url(conversation_id)))["conversation"]
    return {key: shown[key] for key in INFO_KEYS}


def member_as_api(who: Person, conversation_id: int, user_id: int) -> dict[str, Any]:
    shown = conversation_as_api(who, conversation_id)["members"]
    found: dict[str, Any] = next(m for m in shown if m["user"]["id"] == user_id)
    return found


def message_as_api(who: Person, conversation_id: int, message_id: int) -> dict[str, Any]:
    page = ok(who.get(messages_url(conversation_id)))["messages"]
    found: dict[str, Any] = next(m for m in page if m["id"] == message_id)
    return found


def by_user(conversation: dict[str, Any]) -> dict[str, Any]:
    """The conversation with its members in user id order, so listings compare as sets."""
    return {**conversation, "members": sorted(conversation["members"], key=_user_id)}


def _user_id(member: dict[str, Any]) -> int:
    return int(member["user"]["id"])


def roles(conversation: dict[str, Any]) -> dict[int, str]:
    return {_user_id(m): m["role"] for m in conversation["members"]}


# Exactly which events each write appends


def test_opening_a_new_direct_conversation_appends_conversation_created(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    mark = counter(app)
    direct = new_direct(app, ana.id, ben.id)

    [created] = appended(app, mark)
    assert (created["type"], created["conversation_id"], created["user_id"]) == (
        "conversation.created",
        direct,
        None,
    )
    assert set(created["data"]) == {"conversation"}
    shown = by_user(created["data"]["conversation"])
    assert shown == by_user(conversation_as_api(ana, direct))
    assert (shown["kind"], shown["title"]) == ("direct", None)
    assert roles(shown) == {ana.id: "member", ben.id: "member"}


def test_opening_an_existing_direct_conversation_appends_nothing(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    direct = new_direct(app, ana.id, ben.id)
    mark = counter(app)
    assert new_direct(app, ben.id, ana.id) == direct
    assert new_direct(app, ana.id, ben.id) == direct
    assert appended(app, mark) == []


def test_notes_to_self_are_created_with_one_member(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, _, _ = trio
    mark = counter(app)
    notes = new_direct(app, ana.id, ana.id)
    [created] = appended(app, mark)
    assert kinds([created]) == [("conversation.created", notes)]
    assert roles(created["data"]["conversation"]) == {ana.id: "member"}


def test_creating_a_group_appends_conversation_created_with_its_members(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, cyd = trio
    mark = counter(app)
    group = new_group(app, ana.id, [ben.id, cyd.id], title="Team")

    [created] = appended(app, mark)
    assert (created["type"], created["conversation_id"], created["user_id"]) == (
        "conversation.created",
        group,
        None,
    )
    shown = by_user(created["data"]["conversation"])
    assert shown == by_user(conversation_as_api(cyd, group))
    assert (shown["kind"], shown["title"]) == ("group", "Team")
    assert roles(shown) == {ana.id: "owner", ben.id: "member", cyd.id: "member"}


def test_renaming_a_group_appends_conversation_updated(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    group = new_group(app, ana.id, [ben.id], title="Team")
    mark = counter(app)
    with app.app_context():
        conversations.rename_group(as_user(ana.id), group, "Crew")

    [updated] = appended(app, mark)
    assert kinds([updated]) == [("conversation.updated", group)]
    assert updated["user_id"] is None
    assert set(updated["data"]) == {"conversation"}
    shown = by_user(updated["data"]["conversation"])
    assert shown["title"] == "Crew"
    assert shown == by_user(conversation_as_api(ben, group))


def test_adding_a_member_appends_member_added_with_the_member_and_conversation(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, cyd = trio
    group = new_group(app, ana.id, [ben.id])
    mark = counter(app)
    with app.app_context():
        members.add_member(as_user(ana.id), group, cyd.id)

    [added] = appended(app, mark)
    assert kinds([added]) == [("member.added", group)]
    assert added["user_id"] is None
    assert set(added["data"]) == {"member", "conversation"}
    assert added["data"]["member"] == member_as_api(cyd, group, cyd.id)
    assert added["data"]["member"]["role"] == "member"
    shown = by_user(added["data"]["conversation"])
    assert shown == by_user(conversation_as_api(cyd, group))
    assert roles(shown) == {ana.id: "owner", ben.id: "member", cyd.id: "member"}


def test_removing_a_member_appends_member_removed(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    group = new_group(app, ana.id, [ben.id])
    mark = counter(app)
    with app.app_context():
        members.remove_member(as_user(ana.id), group, ben.id)

    [removed] = appended(app, mark)
    assert kinds([removed]) == [("member.removed", group)]
    assert removed["user_id"] is None
    assert removed["data"] == {"user_id": ben.id, "by": ana.id, "reason": "removed"}


def test_leaving_appends_member_removed_by_the_leaver(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    group = new_group(app, ana.id, [ben.id])
    mark = counter(app)
    with app.app_context():
        members.remove_member(as_user(ben.id), group, ben.id)

    [removed] = appended(app, mark)
    assert kinds([removed]) == [("member.removed", group)]
    assert removed["data"] == {"user_id": ben.id, "by": ben.id, "reason": "left"}


def test_the_last_owner_leaving_appends_removed_then_the_heirs_new_role(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, cyd = trio
    group = new_group(app, ana.id, [ben.id, cyd.id])
    set_role(app, group, cyd.id, ADMIN)
    mark = counter(app)
    with app.app_context():
        members.remove_member(as_user(ana.id), group, ana.id)

    removed, updated = appended(app, mark)
    assert kinds([removed, updated]) == [("member.removed", group), ("member.updated", group)]
    assert removed["data"] == {"user_id": ana.id, "by": ana.id, "reason": "left"}
    assert set(updated["data"]) == {"member"}
    assert updated["data"]["member"] == member_as_api(ben, group, cyd.id)
    assert updated["data"]["member"]["role"] == OWNER


def test_an_owner_leaving_beside_another_owner_hands_nothing_on(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    group = new_group(app, ana.id, [ben.id])
    set_role(app, group, ben.id, OWNER)
    mark = counter(app)
    with app.app_context():
        members.remove_member(as_user(ana.id), group, ana.id)
    assert kinds(appended(app, mark)) == [("member.removed", group)]


def test_changing_a_role_appends_member_updated_with_the_new_role(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    group = new_group(app, ana.id, [ben.id])
    mark = counter(app)
    with app.app_context():
        members.change_role(as_user(ana.id), group, ben.id, ADMIN)

    [updated] = appended(app, mark)
    assert kinds([updated]) == [("member.updated", group)]
    assert updated["data"] == {"member": member_as_api(ana, group, ben.id)}
    assert updated["data"]["member"]["user"]["id"] == ben.id
    assert updated["data"]["member"]["role"] == ADMIN


def test_sending_appends_message_created_with_the_message_as_the_api_shows_it(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    group = new_group(app, ana.id, [ben.id])
    mark = counter(app)
    with app.app_context():
        message_id = messages.send_message(as_user(ben.id), group, "hello there")[0].id

    [created] = appended(app, mark)
    assert kinds([created]) == [("message.created", group)]
    assert created["user_id"] is None
    assert created["data"] == {"message": message_as_api(ana, group, message_id)}
    shown = created["data"]["message"]
    assert (shown["id"], shown["body"], shown["sender"]) == (
        message_id,
        "hello there",
        {"id": ben.id, "username": "ben", "display_name": None},
    )
    assert (shown["edited_at"], shown["deleted_at"], shown["client_id"]) == (None, None, None)


def test_a_retried_send_with_the_same_client_id_appends_nothing_more(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    direct = new_direct(app, ana.id, ben.id)
    mark = counter(app)
    with app.app_context():
        first, created = messages.send_message(as_user(ana.id), direct, "once", client_id="c-1")
        first_id = first.id
        assert created
    [event] = appended(app, mark)
    assert event["data"]["message"]["client_id"] == "c-1"
    assert event["data"] == {"message": message_as_api(ben, direct, first_id)}

    mark = counter(app)
    with app.app_context():
        again, created = messages.send_message(as_user(ana.id), direct, "once", client_id="c-1")
        assert (again.id, created) == (first_id, False)
    assert appended(app, mark) == []


def test_editing_appends_message_edited_with_the_new_body(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    direct = new_direct(app, ana.id, ben.id)
    message_id = post(app, ana.id, direct, "first")
    mark = counter(app)
    with app.app_context():
        messages.edit_message(as_user(ana.id), message_id, "second")

    [edited] = appended(app, mark)
    assert kinds([edited]) == [("message.edited", direct)]
    assert edited["data"] == {"message": message_as_api(ben, direct, message_id)}
    assert edited["data"]["message"]["body"] == "second"
    assert edited["data"]["message"]["edited_at"] is not None


def test_an_edit_that_changes_nothing_appends_nothing(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    direct = new_direct(app, ana.id, ben.id)
    message_id = post(app, ana.id, direct, "same")
    mark = counter(app)
    with app.app_context():
        messages.edit_message(as_user(ana.id), message_id, "same")
    assert appended(app, mark) == []


def test_deleting_appends_message_deleted_with_the_tombstone(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    group = new_group(app, ana.id, [ben.id])
    message_id = post(app, ben.id, group, "regrettable")
    mark = counter(app)
    with app.app_context():
        # A group owner deleting someone else's message.
        messages.delete_message(as_user(ana.id), message_id)

    [deleted] = appended(app, mark)
    assert kinds([deleted]) == [("message.deleted", group)]
    assert deleted["data"] == {"message": message_as_api(ben, group, message_id)}
    tombstone = deleted["data"]["message"]
    assert (tombstone["id"], tombstone["body"]) == (message_id, None)
    assert tombstone["deleted_at"] is not None
    assert tombstone["sender"]["id"] == ben.id


def test_deleting_a_tombstone_again_appends_nothing(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    direct = new_direct(app, ana.id, ben.id)
    message_id = post(app, ana.id, direct, "gone")
    with app.app_context():
        messages.delete_message(as_user(ana.id), message_id)
    mark = counter(app)
    with app.app_context():
        messages.delete_message(as_user(ana.id), message_id)
    assert appended(app, mark) == []


def test_marking_read_forward_appends_read_updated_for_that_user_only(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, _ = trio
    direct = new_direct(app, ana.id, ben.id)
    first = post(app, ana.id, direct, "one")
    second = post(app, ana.id, direct, "two")
    mark = counter(app)
    with app.app_context():
        reads.mark_read(as_user(ben.id), direct, second)

    [read] = appended(app, mark)
    assert (read["type"], read["conversation_id"], read["user_id"]) == (
        "read.updated",
        direct,
        ben.id,
    )
    assert read["data"] == {"user_id": ben.id, "last_read_message_id": second}

    # Backwards, or to where the marker already is, moves nothing and says nothing.
    mark = counter(app)
    with app.app_context():
        reads.mark_read(as_user(ben.id), direct, first)
        reads.mark_read(as_user(ben.id), direct, second)
    assert appended(app, mark) == []


Setup = dict[str, int]
Refusal = Callable[[Setup], object]


def _refusals() -> list[tuple[str, type[ServiceError], Refusal]]:
    def as_(name: str) -> Callable[[Setup], User]:
        return lambda s: as_user(s[name])

    ana, ben, cyd = as_("ana"), as_("ben"), as_("cyd")
    return [
        ("open direct with nobody", Invalid, lambda s: conversations.open_direct(ana(s), 10**6)),
        ("group with nobody", Invalid, lambda s: conversations.create_group(ana(s), "X", [10**6])),
        ("group without title", Invalid, lambda s: conversations.create_group(ana(s), " ", [])),
        (
            "member renames",
            Forbidden,
            lambda s: conversations.rename_group(ben(s), s["group"], "Y"),
        ),
        (
            "outsider renames",
            NotFound,
            lambda s: conversations.rename_group(cyd(s), s["group"], "Y"),
        ),
        ("rename direct", Invalid, lambda s: conversations.rename_group(ana(s), s["direct"], "Y")),
        ("member adds", Forbidden, lambda s: members.add_member(ben(s), s["group"], s["cyd"])),
        ("add twice", Conflict, lambda s: members.add_member(ana(s), s["group"], s["ben"])),
        (
            "member removes",
            Forbidden,
            lambda s: members.remove_member(ben(s), s["group"], s["ana"]),
        ),
        (
            "remove outsider",
            NotFound,
            lambda s: members.remove_member(ana(s), s["group"], s["cyd"]),
        ),
        ("leave direct", Invalid, lambda s: members.remove_member(ana(s), s["direct"], s["ana"])),
        (
            "member promotes",
            Forbidden,
            lambda s: members.change_role(ben(s), s["group"], s["ben"], ADMIN),
        ),
        (
            "last owner steps down",
            Conflict,
            lambda s: members.change_role(ana(s), s["group"], s["ana"], "member"),
        ),
        (
            "unknown role",
            Invalid,
            lambda s: members.change_role(ana(s), s["group"], s["ben"], "king"),
        ),
        ("outsider sends", NotFound, lambda s: messages.send_message(cyd(s), s["group"], "hi")),
        ("empty message", Invalid, lambda s: messages.send_message(ben(s), s["group"], "  ")),
        (
            "client id reused elsewhere",
            Conflict,
            lambda s: messages.send_message(ana(s), s["direct"], "hi", "c-1"),
        ),
        (
            "edit another's message",
            Forbidden,
            lambda s: messages.edit_message(ben(s), s["message"], "no"),
        ),
        ("outsider edits", NotFound, lambda s: messages.edit_message(cyd(s), s["message"], "no")),
        (
            "edit a tombstone",
            Conflict,
            lambda s: messages.edit_message(ana(s), s["deleted"], "back"),
        ),
        (
            "member deletes another's",
            Forbidden,
            lambda s: messages.delete_message(ben(s), s["message"]),
        ),
        ("outsider deletes", NotFound, lambda s: messages.delete_message(cyd(s), s["message"])),
        (
            "read a foreign message",
            Invalid,
            lambda s: reads.mark_read(ben(s), s["direct"], s["message"]),
        ),
        ("outsider reads", NotFound, lambda s: reads.mark_read(cyd(s), s["group"], s["message"])),
    ]


REFUSALS = _refusals()


@pytest.mark.parametrize(
    ("error", "act"), [(e, a) for _, e, a in REFUSALS], ids=[n for n, _, _ in REFUSALS]
)
def test_a_refused_write_appends_nothing(
    app: Flask, make_user: MakeUser, error: type[ServiceError], act: Refusal
) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben])
    direct = new_direct(app, ana, ben)
    with app.app_context():
        message = messages.send_message(as_user(ana), group, "mine", client_id="c-1")[0].id
    deleted = post(app, ana, group, "soon gone")
    with app.app_context():
        messages.delete_message(as_user(ana), deleted)
    setup = {
        "ana": ana,
        "ben": ben,
        "cyd": cyd,
        "group": group,
        "direct": direct,
        "message": message,
        "deleted": deleted,
    }
    before, spans = log(app), count(app, MemberSpan)

    with app.app_context():
        with pytest.raises(error):
            act(setup)
        # Nothing the refused write queued may ride along with the next commit either.
        after_refusal = messages.send_message(as_user(ben), group, "next")[0].id

    assert log(app)[: len(before)] == before
    [created] = appended(app, before[-1]["id"])
    assert kinds([created]) == [("message.created", group)]
    assert created["data"]["message"]["id"] == after_refusal
    assert count(app, MemberSpan) == spans


def test_racing_first_opens_of_a_direct_conversation_append_one_event(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")

    def open_it(user: User) -> int:
        return conversations.open_direct(user, ben)[0].id

    [direct] = set(race(app, 8, ana, open_it))
    # The losers rolled back: none of their queued events or spans survived.
    assert kinds(appended(app, 0)) == [("conversation.created", direct)]
    assert count(app, MemberSpan) == 2


def test_racing_retries_with_one_client_id_append_one_event(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    mark = counter(app)

    def send(user: User) -> int:
        return messages.send_message(user, direct, "only once", client_id="retry-1")[0].id

    [message_id] = set(race(app, 8, ana, send))
    [created] = appended(app, mark)
    assert kinds([created]) == [("message.created", direct)]
    assert created["data"]["message"]["id"] == message_id


def test_ids_follow_the_order_of_commits_without_gaps(
    app: Flask, trio: tuple[Person, Person, Person]
) -> None:
    ana, ben, cyd = trio
    assert counter(app) == 0
    group = new_group(app, ana.id, [ben.id])
    direct = new_direct(app, ben.id, cyd.id)
    first = post(app, ana.id, group, "one")
    post(app, cyd.id, direct, "two")
    with app.app_context():
        members.add_member(as_user(ana.id), group, cyd.id)
        messages.edit_message(as_user(ana.id), first, "one, again")
        reads.mark_read(as_user(ben.id), group, first)
        members.remove_member(as_user(ana.id), group, ana.id)  # hands ownership on
        messages.delete_message(as_user(ben.id), first)  # ben moderates as the new owner
    found = log(app)
    assert kinds(found) == [
        ("conversation.created", group),
        ("conversation.created", direct),
        ("message.created", group),
        ("message.created", direct),
        ("member.added", group),
        ("message.edited", group),
        ("read.updated", group),
        ("member.removed", group),
        ("member.updated", group),
        ("message.deleted", group),
    ]
    assert ids(found) == list(range(1, len(found) + 1))
    assert counter(app) == len(found)


# Commit order under concurrent writers


def test_concurrent_writers_never_let_a_reader_skip_an_id(
    make_app: Callable[..., Flask], make_user: MakeUser, database_url: str
) -> None:
    """A reader that follows the log by id never finds a gap filled in behind its cursor.

    With ids from a sequence, PostgreSQL could commit id 11 before id 10, and a reader that
    moved its cursor to 11 would never see 10. SQLite serialises writers anyway, so it runs a
    smaller version of the same race.
    """
    on_postgres = not database_url.startswith("sqlite")
    writers, each = (16, 100) if on_postgres else (4, 25)
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": writers + 2})
    users = people(make_user, *(f"writer{n}" for n in range(writers)))
    # One conversation per writer, so that nothing but the event counter orders their commits.
    groups = [new_group(app, user, [], title=f"Room {user}") for user in users]
    start = counter(app)

    reader = create_engine(database_url, isolation_level="AUTOCOMMIT")
    polls: list[tuple[int, list[int]]] = []
    writing_done = threading.Event()
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers + 1)

    def follow() -> None:
        cursor = start
        try:
            with reader.connect() as conn:
                barrier.wait(timeout=HANG_GUARD_SECONDS)
                while True:
                    last_round = writing_done.is_set()
                    found = list(
                        conn.scalars(
                            text("SELECT id FROM events WHERE id > :cursor ORDER BY id"),
                            {"cursor": cursor},
                        )
                    )
                    polls.append((cursor, found))
                    if found:
                        cursor = max(found)
                    if last_round:
                        return
                    time.sleep(0.003)
        except BaseException as error:  # re-raised in the test's thread
            barrier.abort()
            errors.append(error)

    def write(user_id: int, group: int) -> None:
        try:
            with app.app_context():
                user = as_user(user_id)
                barrier.wait(timeout=HANG_GUARD_SECONDS)
                for n in range(each):
                    messages.send_message(user, group, f"{user_id}: {n}")
        except BaseException as error:  # re-raised in the test's thread
            barrier.abort()
            errors.append(error)

    following = threading.Thread(target=follow, name="log-reader")
    writing = [
        threading.Thread(target=write, args=(user, group), name=f"writer-{user}")
        for user, group in zip(users, groups, strict=True)
    ]
    try:
        following.start()
        for thread in writing:
            thread.start()
        for thread in writing:
            thread.join(timeout=HANG_GUARD_SECONDS * 4)
        assert not any(t.is_alive() for t in writing), "a writer is stuck"
        writing_done.set()
        following.join(timeout=HANG_GUARD_SECONDS)
        assert not following.is_alive(), "the reader is stuck"
    finally:
        writing_done.set()
        reader.dispose()
    if errors:
        raise errors[0]

    total = writers * each
    end = start + total
    # Every poll found exactly the ids right after its cursor: nothing was missing that
    # would have turned up later.
    for cursor, found in polls:
        assert found == list(range(cursor + 1, cursor + 1 + len(found))), (cursor, found)
    observed = [event_id for _, found in polls for event_id in found]
    # The reader followed the log while the writers wrote, not only once they were done.
    assert any(found for _, found in polls[:-1])
    assert observed == list(range(start + 1, end + 1))
    assert ids(log(app, start)) == observed
    assert counter(app) == end
