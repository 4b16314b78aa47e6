"""Mentions: who a message names, kept with the message through edits and gone with its body,
and how many unread messages name me in each conversation."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from hubbub.models import Mention, Message, User, db
from hubbub.services import conversations, members, messages, reads
from tests.support.chat import new_direct, new_group, post, rows
from tests.support.people import as_user, people
from tests.support.streams import logged_events

MakeUser = Callable[..., User]


def mentioned(app: Flask, message_id: int) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Mention.user_id)
                .where(Mention.message_id == message_id)
                .order_by(Mention.user_id)
            )
        )


def mention_counts(app: Flask, user_id: int) -> dict[int, int]:
    with app.app_context():
        listing = conversations.list_conversations(as_user(user_id))
        return {s.conversation.id: s.mention_count for s in listing}


def test_members_named_are_mentioned_and_others_are_not(app: Flask, make_user: MakeUser) -> None:
    ana, ben, cara, eve = people(make_user, "ana", "ben", "cara", "eve")
    group = new_group(app, ana, [ben, cara])
    sent = post(app, ana, group, "@ben @CARA and @eve (not here) and @ana (me) and `@ben` again")
    assert mentioned(app, sent) == [ben, cara]
    with app.app_context():
        message = db.session.get(Message, sent)
        assert message is not None
        assert [m.user_id for m in message.mentioned] == [ben, cara]
    # The event says so too.
    created = [e for e in logged_events(app) if e["type"] == "message.created"]
    assert created[-1]["data"]["message"]["mentions"] == [ben, cara]


def test_at_all_mentions_every_member_of_a_group_but_the_sender(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cara, dan = people(make_user, "ana", "ben", "cara", "dan")
    group = new_group(app, ana, [ben, cara, dan])
    with app.app_context():
        members.remove_member(as_user(ana), group, dan)
    assert mentioned(app, post(app, ana, group, "@all lunch?")) == [ben, cara]
    direct = new_direct(app, ana, ben)
    assert mentioned(app, post(app, ana, direct, "@all lunch?")) == []
    assert mentioned(app, post(app, ana, direct, "@ben lunch?")) == [ben]


def test_an_edit_changes_who_is_mentioned_and_a_delete_leaves_no_one(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cara = people(make_user, "ana", "ben", "cara")
    group = new_group(app, ana, [ben, cara])
    sent = post(app, ana, group, "@ben and @cara")
    with app.app_context():
        messages.edit_message(as_user(ana), sent, "just @cara")
    assert mentioned(app, sent) == [cara]
    with app.app_context():
        messages.edit_message(as_user(ana), sent, "@cara and @ben")
    assert mentioned(app, sent) == [ben, cara]
    with app.app_context():
        tombstone = messages.delete_message(as_user(ana), sent)
        assert tombstone.mentioned == []
    assert rows(app, Mention) == 0


def test_mention_count_is_the_unread_messages_that_name_me(app: Flask, make_user: MakeUser) -> None:
    ana, ben, cara = people(make_user, "ana", "ben", "cara")
    group = new_group(app, ana, [ben, cara])
    quiet = new_group(app, ana, [ben], title="Quiet")
    first = post(app, ana, group, "@ben one")
    post(app, cara, group, "no names")
    second = post(app, cara, group, "@all two")
    post(app, ana, quiet, "nothing for anyone")
    doomed = post(app, ana, group, "@ben three")
    with app.app_context():
        messages.delete_message(as_user(ana), doomed)
    assert mention_counts(app, ben) == {group: 2, quiet: 0}
    assert mention_counts(app, cara)[group] == 0  # her own @all does not name her
    with app.app_context():
        reads.mark_read(as_user(ben), group, first)
    assert mention_counts(app, ben)[group] == 1
    with app.app_context():
        reads.mark_read(as_user(ben), group, second)
        one = conversations.get_conversation(as_user(ben), group)
        assert one.mention_count == 0
    # Ana was named by the @all, but wrote after it: writing marks everything before it read.
    assert mention_counts(app, ana)[group] == 0
