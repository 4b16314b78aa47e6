"""Read state services: unread counts from each membership's marker, which only moves forward."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from hubbub.models import Membership, User, db
from hubbub.services import conversations, messages, reads
from hubbub.services.errors import Invalid, NotFound
from tests.support.chat import new_direct, new_group, post
from tests.support.people import as_user, people

MakeUser = Callable[..., User]


def marker(app: Flask, conversation_id: int, user_id: int) -> int | None:
    with app.app_context():
        membership = db.session.get(Membership, (conversation_id, user_id))
        assert membership is not None
        return membership.last_read_message_id


def unread(app: Flask, conversation_id: int, user_id: int) -> int:
    with app.app_context():
        return conversations.get_conversation(as_user(user_id), conversation_id).unread_count


def forget_reading(app: Flask, conversation_id: int, user_id: int) -> None:
    with app.app_context():
        membership = db.session.get(Membership, (conversation_id, user_id))
        assert membership is not None
        membership.last_read_message_id = None
        db.session.commit()


def test_unread_counts_others_live_messages_after_the_marker(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    first = post(app, ben, group, "one")
    post(app, ana, group, "mine")
    third = post(app, ben, group, "three")
    post(app, cyd, group, "four")
    retracted = post(app, cyd, group, "oops")
    with app.app_context():
        messages.delete_message(as_user(cyd), retracted)
    forget_reading(app, group, ana)

    # ben's two and cyd's live one; not ana's own, not the deleted one.
    assert unread(app, group, ana) == 3
    with app.app_context():
        reads.mark_read(as_user(ana), group, first)
    assert unread(app, group, ana) == 2
    with app.app_context():
        summary = reads.mark_read(as_user(ana), group, third)
        assert summary.unread_count == 1
        assert summary.membership.last_read_message_id == third


def test_the_listing_and_a_single_conversation_agree_on_unread(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    direct = new_direct(app, ana, ben)
    for n in range(3):
        post(app, ben, group, f"g{n}")
    post(app, ben, direct, "d")
    with app.app_context():
        listed = {
            s.conversation.id: s.unread_count
            for s in conversations.list_conversations(as_user(ana))
        }
    assert listed == {group: 3, direct: 1}
    assert (unread(app, group, ana), unread(app, direct, ana)) == (3, 1)


def test_sending_marks_the_message_read_for_the_sender(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    post(app, ben, group, "from ben")
    assert unread(app, group, ana) == 1
    mine = post(app, ana, group, "from ana")
    assert marker(app, group, ana) == mine
    assert unread(app, group, ana) == 0
    assert marker(app, group, ben) != mine
    assert unread(app, group, ben) == 1


def test_the_marker_only_moves_forward(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    older, newer, newest = (post(app, ben, group, f"m{n}") for n in range(3))
    with app.app_context():
        reads.mark_read(as_user(ana), group, newer)
    with app.app_context():
        summary = reads.mark_read(as_user(ana), group, older)
        assert summary.membership.last_read_message_id == newer
        assert summary.unread_count == 1
    assert marker(app, group, ana) == newer
    with app.app_context():
        reads.mark_read(as_user(ana), group, newest)
    assert marker(app, group, ana) == newest
    assert unread(app, group, ana) == 0


def test_a_message_from_another_conversation_cannot_be_marked(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    direct = new_direct(app, ana, ben)
    here = post(app, ben, group, "here")
    elsewhere = post(app, ben, direct, "elsewhere")
    with app.app_context():
        reads.mark_read(as_user(ana), group, here)
    for wrong in (elsewhere, elsewhere + 1000):
        with app.app_context(), pytest.raises(Invalid) as caught:
            reads.mark_read(as_user(ana), group, wrong)
        assert set(caught.value.fields) == {"message_id"}
    assert marker(app, group, ana) == here
    assert marker(app, direct, ana) is None


def test_an_outsider_cannot_mark_anything_read(app: Flask, make_user: MakeUser) -> None:
    ana, ben, eve = people(make_user, "ana", "ben", "eve")
    direct = new_direct(app, ana, ben)
    message = post(app, ana, direct, "private")
    with app.app_context(), pytest.raises(NotFound):
        reads.mark_read(as_user(eve), direct, message)
    assert marker(app, direct, ben) is None
