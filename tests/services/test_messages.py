"""Message services: sending with retries, editing, deleting to a tombstone and history pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, inspect, select

from hubbub.models import Conversation, Message, MessageRevision, User, db
from hubbub.models.conversation import ADMIN, OWNER
from hubbub.services import conversations, messages, reads
from hubbub.services.errors import Conflict, Forbidden, Invalid, NotFound
from tests.support import count
from tests.support.chat import (
    message_body,
    new_direct,
    new_group,
    post,
    race,
    race_each,
    rows,
    set_role,
)
from tests.support.people import as_user, people

MakeUser = Callable[..., User]
PAGE_INDEX = "ix_messages_conversation_id_id"


def revisions_of(app: Flask, message_id: int) -> int:
    return rows(app, MessageRevision, MessageRevision.message_id == message_id)


# Sending


def test_send_trims_the_body_and_stores_one_message(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    with app.app_context():
        message, created = messages.send_message(as_user(ana), group, "  hello\nthere \n")
        assert created
        assert (message.body, message.sender_id, message.conversation_id) == (
            "hello\nthere",
            ana,
            group,
        )
        assert message.edited_at is None
        assert message.deleted_at is None
    assert count(app, Message) == 1


@pytest.mark.parametrize("body", ["x", "x" * 4000, " \n" + "x" * 4000 + "\t "])
def test_send_accepts_1_to_4000_characters(app: Flask, make_user: MakeUser, body: str) -> None:
    (ana,) = people(make_user, "ana")
    group = new_group(app, ana, [])
    with app.app_context():
        message, _ = messages.send_message(as_user(ana), group, body)
        assert message.body == body.strip()
    assert count(app, Message) == 1


@pytest.mark.parametrize(
    "body",
    ["", "  \n\t  ", "x" * 4001, "nul\x00byte", "escape\x1b[31m"],
    ids=["empty", "whitespace", "4001-chars", "nul", "escape"],
)
def test_send_refuses_a_bad_body_and_writes_nothing(
    app: Flask, make_user: MakeUser, body: str
) -> None:
    (ana,) = people(make_user, "ana")
    group = new_group(app, ana, [])
    with app.app_context(), pytest.raises(Invalid) as caught:
        messages.send_message(as_user(ana), group, body, client_id="c-1")
    assert set(caught.value.fields) == {"body"}
    assert caught.value.message
    assert count(app, Message) == 0
    with app.app_context():
        conversation = db.session.get(Conversation, group)
        assert conversation is not None
        assert conversation.last_message_id is None


def test_an_outsider_cannot_post(app: Flask, make_user: MakeUser) -> None:
    ana, ben, eve = people(make_user, "ana", "ben", "eve")
    direct = new_direct(app, ana, ben)
    with app.app_context(), pytest.raises(NotFound):
        messages.send_message(as_user(eve), direct, "let me in")
    assert count(app, Message) == 0


def test_a_retry_with_the_same_client_id_returns_the_first_message(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    with app.app_context():
        first, created = messages.send_message(as_user(ana), direct, "once", client_id="tx-1")
        first_id = first.id
        assert created
    with app.app_context():
        again, created_again = messages.send_message(
            as_user(ana), direct, "once, retried", client_id="tx-1"
        )
        assert (again.id, created_again, again.body) == (first_id, False, "once")
    assert count(app, Message) == 1


def test_client_ids_belong_to_their_sender(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    with app.app_context():
        mine, _ = messages.send_message(as_user(ana), direct, "mine", client_id="tx-1")
        theirs, created = messages.send_message(as_user(ben), direct, "theirs", client_id="tx-1")
        assert created
        assert theirs.id != mine.id
    assert count(app, Message) == 2


def test_a_client_id_reused_in_another_conversation_is_a_conflict(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    group = new_group(app, ana, [ben])
    with app.app_context():
        messages.send_message(as_user(ana), direct, "here", client_id="tx-1")
    with app.app_context(), pytest.raises(Conflict) as caught:
        messages.send_message(as_user(ana), group, "and there", client_id="tx-1")
    assert set(caught.value.fields) == {"client_id"}
    assert count(app, Message) == 1
    assert rows(app, Message, Message.conversation_id == group) == 0


def test_concurrent_retries_store_one_message(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])

    def send(user: User) -> tuple[int, bool]:
        message, created = messages.send_message(user, group, "only once", client_id="retry-1")
        return message.id, created

    results = race(app, 10, ana, send)

    assert count(app, Message) == 1
    with app.app_context():
        stored = db.session.scalar(select(Message.id))
    assert {message_id for message_id, _ in results} == {stored}
    assert sum(created for _, created in results) == 1


# Access


def test_an_outsider_is_told_the_message_does_not_exist(app: Flask, make_user: MakeUser) -> None:
    ana, ben, eve = people(make_user, "ana", "ben", "eve")
    direct = new_direct(app, ana, ben)
    message = post(app, ana, direct, "private")
    with app.app_context():
        outsider = as_user(eve)
        with pytest.raises(NotFound) as missing:
            conversations.access_message(outsider, message + 1000)
        with pytest.raises(NotFound) as hidden:
            conversations.access_message(outsider, message)
        assert hidden.value.message == missing.value.message
        assert hidden.value.code == missing.value.code
        for action in (
            lambda: messages.edit_message(outsider, message, "mine now"),
            lambda: messages.delete_message(outsider, message),
            lambda: messages.list_revisions(outsider, message),
        ):
            with pytest.raises(NotFound) as also_hidden:
                action()
            assert also_hidden.value.message == missing.value.message
    assert message_body(app, message) == "private"


def test_members_reach_a_message_with_its_conversation(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    message_id = post(app, ana, group, "hi")
    with app.app_context():
        message, conversation, membership = conversations.access_message(as_user(ben), message_id)
        assert (message.id, conversation.id, membership.user_id) == (message_id, group, ben)


# Editing


def test_editing_keeps_earlier_bodies_oldest_first(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    message_id = post(app, ana, group, "first")
    with app.app_context():
        edited = messages.edit_message(as_user(ana), message_id, " second ")
        assert edited.body == "second"
        assert edited.edited_at is not None
    with app.app_context():
        messages.edit_message(as_user(ana), message_id, "third")
    with app.app_context():
        # Any member may see what was there before.
        history = messages.list_revisions(as_user(ben), message_id)
        assert [r.body for r in history] == ["first", "second"]
        assert history[1].created_at == history[0].replaced_at
    assert message_body(app, message_id) == "third"
    assert revisions_of(app, message_id) == 2


@pytest.mark.parametrize("same", ["unchanged", "  unchanged \n"])
def test_editing_to_the_same_body_writes_no_revision(
    app: Flask, make_user: MakeUser, same: str
) -> None:
    (ana,) = people(make_user, "ana")
    group = new_group(app, ana, [])
    message_id = post(app, ana, group, "unchanged")
    with app.app_context():
        message = messages.edit_message(as_user(ana), message_id, same)
        assert message.edited_at is None
    assert revisions_of(app, message_id) == 0


@pytest.mark.parametrize("role", [OWNER, ADMIN, "member"])
def test_only_the_author_may_edit(app: Flask, make_user: MakeUser, role: str) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    set_role(app, group, ana, "member")
    set_role(app, group, ben, role)
    message_id = post(app, ana, group, "as written")
    with app.app_context(), pytest.raises(Forbidden):
        messages.edit_message(as_user(ben), message_id, "as rewritten")
    assert message_body(app, message_id) == "as written"
    assert revisions_of(app, message_id) == 0


def test_a_deleted_message_cannot_be_edited(app: Flask, make_user: MakeUser) -> None:
    (ana,) = people(make_user, "ana")
    group = new_group(app, ana, [])
    message_id = post(app, ana, group, "gone soon")
    with app.app_context():
        messages.delete_message(as_user(ana), message_id)
    with app.app_context(), pytest.raises(Conflict):
        messages.edit_message(as_user(ana), message_id, "back again")
    assert message_body(app, message_id) is None
    assert revisions_of(app, message_id) == 0


@pytest.mark.parametrize("body", ["", "   ", "x" * 4001, "nul\x00"])
def test_an_edit_to_a_bad_body_is_refused(app: Flask, make_user: MakeUser, body: str) -> None:
    (ana,) = people(make_user, "ana")
    group = new_group(app, ana, [])
    message_id = post(app, ana, group, "fine")
    with app.app_context(), pytest.raises(Invalid) as caught:
        messages.edit_message(as_user(ana), message_id, body)
    assert set(caught.value.fields) == {"body"}
    assert message_body(app, message_id) == "fine"
    assert revisions_of(app, message_id) == 0


# Deleting


def test_the_author_deletes_to_a_tombstone_and_revisions_are_erased(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    doomed = post(app, ben, group, "draft one")
    kept = post(app, ben, group, "keep one")
    with app.app_context():
        messages.edit_message(as_user(ben), doomed, "draft two")
        messages.edit_message(as_user(ben), kept, "keep two")
    assert revisions_of(app, doomed) == 1

    with app.app_context():
        tombstone = messages.delete_message(as_user(ben), doomed)
        assert tombstone.body is None
        assert tombstone.deleted_at is not None

    assert count(app, Message) == 2
    assert revisions_of(app, doomed) == 0
    assert revisions_of(app, kept) == 1
    with app.app_context():
        stored = db.session.get(Message, doomed)
        assert stored is not None
        assert (stored.body, stored.deleted_at is not None) == (None, True)
        # The tombstone stays in place in the history for everyone.
        page, _ = messages.list_messages(as_user(ana), group)
        assert [(m.id, m.body) for m in page] == [(kept, "keep two"), (doomed, None)]
        assert messages.list_revisions(as_user(ana), doomed) == []


def test_deleting_again_changes_nothing(app: Flask, make_user: MakeUser) -> None:
    (ana,) = people(make_user, "ana")
    group = new_group(app, ana, [])
    message_id = post(app, ana, group, "bye")
    with app.app_context():
        first = messages.delete_message(as_user(ana), message_id).deleted_at
    with app.app_context():
        again = messages.delete_message(as_user(ana), message_id)
        assert again.deleted_at == first
        assert again.body is None
    assert count(app, Message) == 1


@pytest.mark.parametrize("role", [OWNER, ADMIN])
def test_group_owners_and_admins_delete_others_messages(
    app: Flask, make_user: MakeUser, role: str
) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    set_role(app, group, ben, role)
    set_role(app, group, ana, ADMIN if role == OWNER else OWNER)
    message_id = post(app, cyd, group, "rude")
    with app.app_context():
        messages.edit_message(as_user(cyd), message_id, "ruder")
    with app.app_context():
        messages.delete_message(as_user(ben), message_id)
    assert message_body(app, message_id) is None
    assert revisions_of(app, message_id) == 0


def test_a_member_cannot_delete_someone_elses_message(app: Flask, make_user: MakeUser) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    message_id = post(app, cyd, group, "mine")
    with app.app_context():
        messages.edit_message(as_user(cyd), message_id, "still mine")
    with app.app_context(), pytest.raises(Forbidden):
        messages.delete_message(as_user(ben), message_id)
    assert message_body(app, message_id) == "still mine"
    assert revisions_of(app, message_id) == 1


def test_in_a_direct_conversation_only_the_author_deletes(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    message_id = post(app, ana, direct, "mine")
    with app.app_context(), pytest.raises(Forbidden):
        messages.delete_message(as_user(ben), message_id)
    assert message_body(app, message_id) == "mine"


# History


def fill(app: Flask, sender: int, conversation_id: int, other_id: int, how_many: int) -> list[int]:
    """Post how_many messages, with one in another conversation after every seventh or so."""
    sent: list[int] = []
    with app.app_context():
        user = as_user(sender)
        for n in range(how_many):
            sent.append(messages.send_message(user, conversation_id, f"message {n}")[0].id)
            if n % 7 == 3:
                messages.send_message(user, other_id, f"elsewhere {n}")
    return sent


def test_paging_back_with_before_covers_every_message_once(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    other = new_direct(app, ana, ben)
    sent = fill(app, ana, group, other, 250)

    seen: list[int] = []
    flags: list[bool] = []
    with app.app_context():
        reader = as_user(ben)
        before: int | None = None
        while True:
            page, has_more = messages.list_messages(reader, group, before=before, limit=100)
            seen.extend(m.id for m in page)
            flags.append(has_more)
            if not has_more:
                break
            before = page[-1].id

    assert seen == sorted(sent, reverse=True)
    assert flags == [True, True, False]


def test_paging_forward_with_after_gives_oldest_first(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    other = new_direct(app, ana, ben)
    sent = fill(app, ana, group, other, 25)

    with app.app_context():
        reader = as_user(ben)
        first, more = messages.list_messages(reader, group, after=sent[4], limit=10)
        assert [m.id for m in first] == sent[5:15]
        assert more
        last, more_after = messages.list_messages(reader, group, after=sent[14], limit=10)
        assert [m.id for m in last] == sent[15:25]
        assert not more_after
        nothing, none_more = messages.list_messages(reader, group, after=sent[-1])
        assert (nothing, none_more) == ([], False)


def test_has_more_is_false_when_a_page_is_exactly_full(app: Flask, make_user: MakeUser) -> None:
    (ana,) = people(make_user, "ana")
    group = new_group(app, ana, [])
    sent = [post(app, ana, group, f"m{n}") for n in range(3)]
    with app.app_context():
        page, more = messages.list_messages(as_user(ana), group, limit=3)
        assert ([m.id for m in page], more) == (sent[::-1], False)
        page, more = messages.list_messages(as_user(ana), group, limit=2)
        assert ([m.id for m in page], more) == (sent[:0:-1], True)


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_a_page_size_outside_1_to_100_is_invalid(
    app: Flask, make_user: MakeUser, limit: int
) -> None:
    (ana,) = people(make_user, "ana")
    group = new_group(app, ana, [])
    post(app, ana, group)
    with app.app_context(), pytest.raises(Invalid) as caught:
        messages.list_messages(as_user(ana), group, limit=limit)
    assert set(caught.value.fields) == {"limit"}


def test_a_history_page_walks_the_conversation_id_index(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    other = new_direct(app, ana, ben)
    sent = fill(app, ana, group, other, 30)

    with app.app_context():
        statement, parameters = page_query(as_user(ana), group, before=sent[20])
        connection = db.session.connection()
        if connection.dialect.name == "sqlite":
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            details = " ".join(str(row[-1]) for row in plan)
        else:
            indexes = {
                ix["name"]: ix["column_names"] for ix in inspect(connection).get_indexes("messages")
            }
            assert indexes.get(PAGE_INDEX) == ["conversation_id", "id"]
            # Planned from real statistics, with most rows in another conversation as in any
            # install, so that walking the primary key and filtering is no tie with the index;
            # a sequential scan of a table this small is forbidden so that an index shows.
            connection.exec_driver_sql(
                "INSERT INTO messages (conversation_id, sender_id, body, created_at)"
                " SELECT conversation_id, sender_id, body, created_at"
                " FROM messages, generate_series(1, 200) WHERE conversation_id = %s",
                (other,),
            )
            connection.exec_driver_sql("ANALYZE messages")
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            details = " ".join(str(row[0]) for row in plan)
        db.session.rollback()
    assert PAGE_INDEX in details, details


def page_query(user: User, conversation_id: int, before: int) -> tuple[str, Any]:
    """The SQL and parameters list_messages runs for a page, as sent to the database."""
    seen: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        seen.append((args[2], args[3]))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        messages.list_messages(user, conversation_id, before=before, limit=10)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    pages = [(sql, params) for sql, params in seen if "FROM messages" in sql and "LIMIT" in sql]
    assert len(pages) == 1, seen
    return pages[0]


def test_sending_and_marking_read_at_once_never_deadlock(app: Flask, make_user: MakeUser) -> None:
    """A send holds the conversation's row until commit, a read marker takes the event counter
    first and then needs the same row for its event's foreign key: the two must not deadlock."""
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    first = post(app, ana, direct, "start")
    rounds = 60

    def act(user: User) -> int:
        done = 0
        for i in range(rounds):
            if user.id == ana:
                messages.send_message(user, direct, f"message {i}")
            else:
                # Up to the newest message, so that the marker moves and writes an event.
                newest = db.session.scalar(select(func.max(Message.id)))
                reads.mark_read(user, direct, newest or first)
            done += 1
        return done

    results = race_each(app, [ana, ben], act)

    assert results == [rounds, rounds]
    assert count(app, Message) == rounds + 1


# The rendering


def test_send_and_edit_store_the_rendering_and_delete_erases_it(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, eve = people(make_user, "ana", "ben", "eve")
    group = new_group(app, ana, [ben])
    sent = post(app, ana, group, "**plan** for @ben and @eve, see example.com")
    with app.app_context():
        stored = db.session.get(Message, sent)
        assert stored is not None and stored.html is not None
        assert stored.html.startswith("<p><strong>plan</strong> for ")
        # A member is named; someone outside the group is not.
        assert f'<span class="mention" data-user-id="{ben}">@ben</span>' in stored.html
        assert "and @eve," in stored.html
        assert '<a href="http://example.com" target="_blank"' in stored.html
        edited = messages.edit_message(as_user(ana), sent, "now `code`")
        assert edited.html == "<p>now <code>code</code></p>"
        assert messages.delete_message(as_user(ana), sent).html is None
    with app.app_context():
        stored = db.session.get(Message, sent)
        assert stored is not None and (stored.body, stored.html) == (None, None)
