"""Reactions: one of each emoji per person per message, twenty kinds at most, none on
tombstones, for members only; and the events each change emits."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from hubbub.models import Event, Reaction, User
from hubbub.services import messages, reactions
from hubbub.services.errors import Conflict, Invalid, NotFound
from hubbub.wire import serialize
from tests.support.chat import new_direct, new_group, post, race, rows
from tests.support.people import as_user, people
from tests.support.streams import logged_events

MakeUser = Callable[..., User]
# Twenty-one different emoji.
MANY = list("😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙🥲😚🙂🤗")


def shown(app: Flask, user: int, message_id: int, emoji: str, *, add: bool = True) -> list:
    with app.app_context():
        act = reactions.add_reaction if add else reactions.remove_reaction
        message = act(as_user(user), message_id, emoji)
        return serialize.reactions(message.reactions)


def as_tuples(entries: list) -> list[tuple[str, int, list[int]]]:
    return [(e.emoji, e.count, e.user_ids) for e in entries]


def test_reactions_count_per_emoji_in_the_order_first_used_and_emit_one_event_each(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cara = people(make_user, "ana", "ben", "cara")
    group = new_group(app, ana, [ben, cara])
    sent = post(app, ana, group, "pizza?")
    start = logged_events(app)[-1]["id"]
    shown(app, ben, sent, "👍")
    shown(app, cara, sent, "🍕")
    after = shown(app, ana, sent, "👍")
    assert as_tuples(after) == [("👍", 2, [ben, ana]), ("🍕", 1, [cara])]
    events = [
        (e["type"], e["conversation_id"], e["user_id"], e["data"])
        for e in logged_events(app, start)
    ]
    assert events == [
        ("reaction.added", group, None, {"message_id": sent, "emoji": "👍", "user_id": ben}),
        ("reaction.added", group, None, {"message_id": sent, "emoji": "🍕", "user_id": cara}),
        ("reaction.added", group, None, {"message_id": sent, "emoji": "👍", "user_id": ana}),
    ]


def test_adding_twice_or_removing_what_is_not_there_changes_nothing(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    sent = post(app, ana, direct)
    shown(app, ben, sent, "👍")
    start = logged_events(app)[-1]["id"]
    assert as_tuples(shown(app, ben, sent, "👍")) == [("👍", 1, [ben])]
    assert as_tuples(shown(app, ana, sent, "👍", add=False)) == [("👍", 1, [ben])]
    assert logged_events(app, start) == []
    assert as_tuples(shown(app, ben, sent, "👍", add=False)) == []
    removed = logged_events(app, start)
    assert [(e["type"], e["data"]) for e in removed] == [
        ("reaction.removed", {"message_id": sent, "emoji": "👍", "user_id": ben})
    ]
    assert rows(app, Reaction) == 0


def test_an_unqualified_emoji_is_the_same_reaction_as_its_qualified_spelling(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    sent = post(app, ana, direct)
    shown(app, ana, sent, "\u2764")  # ❤ without its variation selector
    after = shown(app, ben, sent, "\u2764\ufe0f")
    assert as_tuples(after) == [("\u2764\ufe0f", 2, [ana, ben])]
    assert as_tuples(shown(app, ana, sent, "👍🏽")) == [
        ("\u2764\ufe0f", 2, [ana, ben]),
        ("👍🏽", 1, [ana]),
    ]


@pytest.mark.parametrize(
    "emoji", ["a", "👍👍", "👍 ", ":thumbs_up:", "🏽", "\u200d", "1", "", "x" * 70, "<script>"]
)
def test_what_is_not_one_emoji_is_refused_and_writes_nothing(
    app: Flask, make_user: MakeUser, emoji: str
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    sent = post(app, ana, direct)
    before = (rows(app, Reaction), rows(app, Event))
    with app.app_context(), pytest.raises(Invalid) as refused:
        reactions.add_reaction(as_user(ben), sent, emoji)
    assert set(refused.value.fields) == {"emoji"}
    assert (rows(app, Reaction), rows(app, Event)) == before


def test_the_twenty_first_different_emoji_is_refused_but_more_of_the_same_are_not(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    sent = post(app, ana, direct)
    for emoji in MANY[:20]:
        shown(app, ana, sent, emoji)
    before = (rows(app, Reaction), rows(app, Event))
    with app.app_context(), pytest.raises(Conflict):
        reactions.add_reaction(as_user(ben), sent, MANY[20])
    assert (rows(app, Reaction), rows(app, Event)) == before
    assert len(shown(app, ben, sent, MANY[0])) == 20
    assert rows(app, Reaction) == 21


def test_no_reactions_on_a_tombstone_and_deleting_a_message_removes_its_reactions(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    sent = post(app, ana, direct)
    shown(app, ben, sent, "👍")
    with app.app_context():
        tombstone = messages.delete_message(as_user(ana), sent)
        assert serialize.message(tombstone).reactions == []
    assert rows(app, Reaction) == 0
    before = rows(app, Event)
    with app.app_context(), pytest.raises(Conflict):
        reactions.add_reaction(as_user(ben), sent, "👍")
    assert (rows(app, Reaction), rows(app, Event)) == (0, before)


def test_outsiders_and_people_who_left_cannot_react(app: Flask, make_user: MakeUser) -> None:
    ana, ben, eve = people(make_user, "ana", "ben", "eve")
    direct = new_direct(app, ana, ben)
    sent = post(app, ana, direct)
    shown(app, ben, sent, "👍")
    before = (rows(app, Reaction), rows(app, Event))
    for act in (reactions.add_reaction, reactions.remove_reaction):
        with app.app_context(), pytest.raises(NotFound):
            act(as_user(eve), sent, "👍")
        with app.app_context(), pytest.raises(NotFound):
            act(as_user(eve), 10**6, "👍")
    assert (rows(app, Reaction), rows(app, Event)) == before


def test_the_same_reaction_sent_at_once_is_stored_once(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    sent = post(app, ana, direct)
    start = logged_events(app)[-1]["id"]

    def react(user: User) -> int:
        return len(reactions.add_reaction(user, sent, "🎉").reactions)

    results = race(app, 8, ben, react)
    assert results == [1] * 8
    assert rows(app, Reaction) == 1
    assert [e["type"] for e in logged_events(app, start)] == ["reaction.added"]
