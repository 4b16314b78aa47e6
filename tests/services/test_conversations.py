"""Conversation services: one direct conversation per pair, groups, access and the listing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from hubbub.models import Conversation, Membership, User, db
from hubbub.models.conversation import DIRECT, MEMBER, OWNER
from hubbub.services import conversations
from hubbub.services.conversations import Summary
from hubbub.services.errors import Forbidden, Invalid, NotFound
from tests.support import count
from tests.support.chat import (
    deactivate,
    new_direct,
    new_group,
    post,
    race,
    rows,
    set_last_activity,
    set_role,
)
from tests.support.people import as_user, people

MakeUser = Callable[..., User]


# Direct conversations


def test_open_direct_gives_one_conversation_per_pair_from_either_side(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    with app.app_context():
        first, created_first = conversations.open_direct(as_user(ana), ben)
        again, created_again = conversations.open_direct(as_user(ben), ana)
        assert (created_first, created_again) == (True, False)
        assert again.id == first.id
        assert first.kind == DIRECT
        assert first.title is None
        assert sorted(m.user_id for m in first.memberships) == [ana, ben]
        assert {m.role for m in first.memberships} == {MEMBER}
    assert count(app, Conversation) == 1
    assert count(app, Membership) == 2


def test_the_database_itself_refuses_a_second_conversation_for_a_pair(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    with app.app_context():
        key = conversations.open_direct(as_user(ana), ben)[0].direct_key
        assert key is not None
        db.session.add(Conversation(kind=DIRECT, direct_key=key))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    assert count(app, Conversation) == 1


def test_a_conversation_with_yourself_has_one_membership(app: Flask, make_user: MakeUser) -> None:
    (ana,) = people(make_user, "ana")
    with app.app_context():
        notes, created = conversations.open_direct(as_user(ana), ana)
        assert created
        assert [m.user_id for m in notes.memberships] == [ana]
        again, created_again = conversations.open_direct(as_user(ana), ana)
        assert (again.id, created_again) == (notes.id, False)
    assert count(app, Conversation) == 1
    assert count(app, Membership) == 1


@pytest.mark.parametrize("who", ["unknown", "deactivated"])
def test_open_direct_refuses_someone_who_cannot_be_reached(
    app: Flask, make_user: MakeUser, who: str
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    other = ben + 1000 if who == "unknown" else ben
    if who == "deactivated":
        deactivate(app, ben)
    with app.app_context(), pytest.raises(Invalid) as caught:
        conversations.open_direct(as_user(ana), other)
    assert set(caught.value.fields) == {"user_id"}
    assert count(app, Conversation) == 0
    assert count(app, Membership) == 0


def test_concurrent_first_opens_end_with_one_conversation(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")

    def open_it(user: User) -> tuple[int, bool]:
        conversation, created = conversations.open_direct(user, ben)
        return conversation.id, created

    results = race(app, 8, ana, open_it)

    assert count(app, Conversation) == 1
    assert count(app, Membership) == 2
    with app.app_context():
        only = db.session.scalar(select(Conversation.id))
    assert {conversation_id for conversation_id, _ in results} == {only}
    assert sum(created for _, created in results) == 1


# Groups


def test_create_group_trims_the_title_and_makes_the_creator_owner(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    with app.app_context():
        group = conversations.create_group(as_user(ana), "  Book club  ", [ben, cyd, ben, ana])
        assert group.title == "Book club"
        assert group.direct_key is None
        roles = {m.user_id: m.role for m in group.memberships}
    assert roles == {ana: OWNER, ben: MEMBER, cyd: MEMBER}
    assert count(app, Conversation) == 1
    assert count(app, Membership) == 3


def test_a_group_may_start_with_only_its_creator(app: Flask, make_user: MakeUser) -> None:
    (ana,) = people(make_user, "ana")
    group = new_group(app, ana, [])
    assert rows(app, Membership, Membership.conversation_id == group) == 1


@pytest.mark.parametrize("title", ["x" * 80, "  " + "x" * 80 + "  ", "é"])
def test_create_group_accepts_titles_of_1_to_80_characters(
    app: Flask, make_user: MakeUser, title: str
) -> None:
    (ana,) = people(make_user, "ana")
    with app.app_context():
        group = conversations.create_group(as_user(ana), title, [])
        assert group.title == title.strip()
    assert count(app, Conversation) == 1


@pytest.mark.parametrize(
    "title",
    ["", "   \t ", "x" * 81, "nul\x00title", "new\nline", "tab\there", "bell\x07"],
    ids=["empty", "whitespace", "81-chars", "nul", "newline", "tab", "bell"],
)
def test_create_group_refuses_a_bad_title_and_writes_nothing(
    app: Flask, make_user: MakeUser, title: str
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    with app.app_context(), pytest.raises(Invalid) as caught:
        conversations.create_group(as_user(ana), title, [ben])
    assert set(caught.value.fields) == {"title"}
    assert count(app, Conversation) == 0
    assert count(app, Membership) == 0


@pytest.mark.parametrize("who", ["unknown", "deactivated"])
def test_create_group_refuses_members_who_cannot_be_added(
    app: Flask, make_user: MakeUser, who: str
) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    if who == "deactivated":
        deactivate(app, cyd)
    missing = cyd + 1000 if who == "unknown" else cyd
    with app.app_context(), pytest.raises(Invalid) as caught:
        conversations.create_group(as_user(ana), "Team", [ben, missing])
    assert set(caught.value.fields) == {"member_ids"}
    assert str(missing) in caught.value.fields["member_ids"]
    assert count(app, Conversation) == 0
    assert count(app, Membership) == 0


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_rename_a_group(app: Flask, make_user: MakeUser, role: str) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben], title="Old")
    set_role(app, group, ben, role)
    with app.app_context():
        renamed = conversations.rename_group(as_user(ben), group, "  New name ")
        assert renamed.title == "New name"
    assert title_of(app, group) == "New name"


def test_a_member_cannot_rename_a_group(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben], title="Old")
    with app.app_context(), pytest.raises(Forbidden):
        conversations.rename_group(as_user(ben), group, "New")
    assert title_of(app, group) == "Old"


def test_a_direct_conversation_cannot_be_renamed(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    with app.app_context(), pytest.raises(Invalid):
        conversations.rename_group(as_user(ana), direct, "Us")
    assert title_of(app, direct) is None


@pytest.mark.parametrize("title", ["", "x" * 81, "bad\x00"], ids=["empty", "81-chars", "nul"])
def test_rename_refuses_a_bad_title_and_keeps_the_old_one(
    app: Flask, make_user: MakeUser, title: str
) -> None:
    (ana,) = people(make_user, "ana")
    group = new_group(app, ana, [], title="Old")
    with app.app_context(), pytest.raises(Invalid) as caught:
        conversations.rename_group(as_user(ana), group, title)
    assert set(caught.value.fields) == {"title"}
    assert title_of(app, group) == "Old"


def test_an_outsider_cannot_rename_a_group(app: Flask, make_user: MakeUser) -> None:
    ana, eve = people(make_user, "ana", "eve")
    group = new_group(app, ana, [], title="Old")
    with app.app_context(), pytest.raises(NotFound):
        conversations.rename_group(as_user(eve), group, "Mine now")
    assert title_of(app, group) == "Old"


def title_of(app: Flask, conversation_id: int) -> str | None:
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.title


# Access


def test_an_outsider_is_told_the_conversation_does_not_exist(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, eve = people(make_user, "ana", "ben", "eve")
    direct = new_direct(app, ana, ben)
    group = new_group(app, ana, [ben])
    with app.app_context():
        eve_user = as_user(eve)
        with pytest.raises(NotFound) as missing:
            conversations.access_conversation(eve_user, group + direct + 1000)
        for existing in (direct, group):
            with pytest.raises(NotFound) as hidden:
                conversations.access_conversation(eve_user, existing)
            assert hidden.value.message == missing.value.message
            assert hidden.value.code == missing.value.code
            with pytest.raises(NotFound) as hidden_summary:
                conversations.get_conversation(eve_user, existing)
            assert hidden_summary.value.message == missing.value.message


def test_members_get_the_conversation_and_their_membership(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    with app.app_context():
        conversation, membership = conversations.access_conversation(as_user(ben), group)
        assert conversation.id == group
        assert (membership.user_id, membership.role) == (ben, MEMBER)


def test_get_conversation_summarises_members_and_last_message(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    post(app, ana, group, "first")
    last = post(app, ben, group, "second")
    with app.app_context():
        summary = conversations.get_conversation(as_user(ana), group)
        assert summary.conversation.id == group
        assert summary.membership.user_id == ana
        assert sorted(m.user_id for m in summary.members) == [ana, ben, cyd]
        assert summary.last_message is not None
        assert (summary.last_message.id, summary.last_message.body) == (last, "second")
        assert summary.unread_count == 1


# The conversation list


def test_list_conversations_puts_the_latest_activity_first(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    oldest = new_group(app, ana, [ben], title="Oldest")
    middle = new_direct(app, ana, ben)
    newest = new_group(app, ana, [ben], title="Newest")
    for day, conversation_id in enumerate((oldest, middle, newest), start=1):
        set_last_activity(app, conversation_id, datetime(2020, 1, day, tzinfo=UTC))
    assert listed(app, ana) == [newest, middle, oldest]

    message = post(app, ben, oldest, "wake up")

    assert listed(app, ana) == [oldest, newest, middle]
    assert listed(app, ben) == [oldest, newest, middle]
    with app.app_context():
        top = conversations.list_conversations(as_user(ana))[0]
        assert top.last_message is not None
        assert (top.last_message.id, top.last_message.body) == (message, "wake up")
        assert top.last_message.sender.username == "ben"


def test_list_conversations_shows_only_the_callers_own(app: Flask, make_user: MakeUser) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    mine = new_group(app, ana, [ben])
    new_group(app, ben, [cyd])
    new_direct(app, ben, cyd)
    assert listed(app, ana) == [mine]
    with app.app_context():
        assert conversations.list_conversations(as_user(ana))[0].last_message is None


def test_list_conversations_costs_the_same_queries_for_2_or_12_conversations(
    app: Flask, make_user: MakeUser
) -> None:
    ana, *others = people(make_user, "ana", *(f"friend{n:02d}" for n in range(14)))

    def busy_conversation(index: int) -> None:
        # Each conversation brings in someone new, so per-person loading would show up too.
        friends = others[index : index + 3]
        group = new_group(app, ana, friends, title=f"Group {index}")
        post(app, friends[0], group, f"hello {index}")
        post(app, friends[-1], group, f"reply {index}")

    for index in range(2):
        busy_conversation(index)
    few, few_listed = queries_to_list(app, ana)
    for index in range(2, 12):
        busy_conversation(index)
    many, many_listed = queries_to_list(app, ana)

    assert (few_listed, many_listed) == (2, 12)
    assert many == few


def queries_to_list(app: Flask, user_id: int) -> tuple[int, int]:
    """SQL statements run to list and read out a user's conversations, and how many were listed."""
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    with app.app_context():
        user = as_user(user_id)
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            summaries = conversations.list_conversations(user)
            for summary in summaries:
                read_out(summary)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    return len(statements), len(summaries)


def read_out(summary: Summary) -> None:
    """Touch everything a client is shown about a conversation, as the API does."""
    assert summary.conversation.title
    assert summary.membership.role
    assert all(m.user.username and m.role and m.joined_at for m in summary.members)
    assert summary.unread_count >= 0
    last = summary.last_message
    assert last is not None
    assert last.body and last.sender.username and last.created_at


def listed(app: Flask, user_id: int) -> list[int]:
    with app.app_context():
        return [s.conversation.id for s in conversations.list_conversations(as_user(user_id))]
