"""Replies: a message answers another of the same conversation, quoting it as it reads now."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from hubbub.models import Event, Message, User, db
from hubbub.services import messages
from hubbub.services.errors import Invalid
from hubbub.wire import serialize
from tests.support.chat import new_direct, new_group, post, rows
from tests.support.people import as_user, people
from tests.support.streams import logged_events

MakeUser = Callable[..., User]


def reply(app: Flask, sender: int, conversation: int, body: str, to: int) -> int:
    with app.app_context():
        return messages.send_message(as_user(sender), conversation, body, reply_to=to)[0].id


def quote_of(app: Flask, message_id: int) -> dict[str, object] | None:
    with app.app_context():
        message = db.session.get(Message, message_id)
        assert message is not None
        shown = serialize.message(message).model_dump(mode="json")["reply_to"]
        db.session.remove()
        return shown


def test_a_reply_quotes_the_sender_and_the_words_of_the_message_it_answers(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    first = post(app, ana, direct, "Lunch at **noon**?\n\n- pasta\n- soup")
    answer = reply(app, ben, direct, "yes", first)
    quote = quote_of(app, answer)
    assert quote == {
        "id": first,
        "sender": {"id": ana, "username": "ana", "display_name": None},
        "excerpt": "Lunch at noon? pasta soup",
    }
    created = [e for e in logged_events(app) if e["type"] == "message.created"]
    assert created[-1]["data"]["message"]["reply_to"] == quote


def test_the_excerpt_is_cut_with_an_ellipsis(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    first = post(app, ana, direct, "word " * 100)
    excerpt = quote_of(app, reply(app, ben, direct, "tl;dr", first))["excerpt"]  # type: ignore[index]
    assert len(excerpt) == serialize.EXCERPT_MAX
    assert excerpt.endswith("word…")


def test_the_excerpt_follows_edits_and_is_gone_with_the_deleted_message_even_from_the_log(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    first = post(app, ana, group, "the plan is secret")
    answer = reply(app, ben, group, "ok", first)
    with app.app_context():
        messages.edit_message(as_user(ana), first, "the plan is public")
    assert quote_of(app, answer)["excerpt"] == "the plan is public"  # type: ignore[index]
    with app.app_context():
        messages.delete_message(as_user(ana), first)
    assert quote_of(app, answer) == {
        "id": first,
        "sender": {"id": ana, "username": "ana", "display_name": None},
        "excerpt": None,
    }
    with app.app_context():
        logged = " ".join(db.session.scalars(db.select(Event.data)))
    assert "secret" not in logged and "public" not in logged
    # The reply itself is untouched.
    with app.app_context():
        kept = db.session.get(Message, answer)
        assert kept is not None and kept.body == "ok" and kept.reply_to_id == first


def test_a_tombstone_quotes_nothing(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    first = post(app, ana, direct, "question")
    answer = reply(app, ben, direct, "private answer", first)
    with app.app_context():
        messages.delete_message(as_user(ben), answer)
    assert quote_of(app, answer) is None
    deleted = [e for e in logged_events(app) if e["type"] == "message.deleted"]
    assert deleted[-1]["data"]["message"]["reply_to"] is None


@pytest.mark.parametrize("where", ["elsewhere", "deleted", "missing"])
def test_a_reply_to_a_message_elsewhere_deleted_or_missing_is_refused_and_writes_nothing(
    app: Flask, make_user: MakeUser, where: str
) -> None:
    ana, ben, cara = people(make_user, "ana", "ben", "cara")
    direct = new_direct(app, ana, ben)
    other = new_direct(app, ana, cara)
    target = {
        "elsewhere": lambda: post(app, ana, other, "not yours"),
        "deleted": lambda: _deleted(app, ana, direct),
        "missing": lambda: 10**6,
    }[where]()
    before = (rows(app, Message), rows(app, Event))
    with app.app_context(), pytest.raises(Invalid) as refused:
        messages.send_message(as_user(ben), direct, "re", reply_to=target)
    assert set(refused.value.fields) == {"reply_to"}
    assert (rows(app, Message), rows(app, Event)) == before


def _deleted(app: Flask, sender: int, conversation: int) -> int:
    sent = post(app, sender, conversation, "gone")
    with app.app_context():
        messages.delete_message(as_user(sender), sent)
    return sent


def test_a_retried_reply_returns_the_first_even_once_the_original_is_deleted(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    first = post(app, ana, direct, "q")
    with app.app_context():
        sent, created = messages.send_message(as_user(ben), direct, "a", "c1", reply_to=first)
        sent_id = sent.id
        assert created
        messages.delete_message(as_user(ana), first)
        again, created = messages.send_message(as_user(ben), direct, "a", "c1", reply_to=first)
        assert (again.id, created) == (sent_id, False)


def test_a_page_around_a_message_centres_it(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    sent = [post(app, ana, direct, f"m{i}") for i in range(30)]
    with app.app_context():
        reader = as_user(ben)
        page, older, newer = messages.messages_around(reader, direct, sent[10], limit=10)
        assert [m.id for m in page] == sent[15:5:-1]
        assert (older, newer) == (True, True)
        # Near the end, the older side takes the room the newer one leaves.
        page, older, newer = messages.messages_around(reader, direct, sent[28], limit=10)
        assert [m.id for m in page] == sent[29:19:-1]
        assert (older, newer) == (True, False)
        # Near the start, the other way round.
        page, older, newer = messages.messages_around(reader, direct, sent[1], limit=10)
        assert [m.id for m in page] == sent[9::-1]
        assert (older, newer) == (False, True)
        # Everything fits.
        page, older, newer = messages.messages_around(reader, direct, sent[3], limit=100)
        assert [m.id for m in page] == sent[::-1]
        assert (older, newer) == (False, False)
