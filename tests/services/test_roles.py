"""The role rules are written once (services/roles.py): what a conversation answer says I may
do is exactly what the services let me do, for every role against every role."""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

import pytest
from flask import Flask

from hubbub.models import User
from hubbub.models.conversation import ADMIN, MEMBER, OWNER, ROLES
from hubbub.services import conversations, members, messages
from hubbub.services.errors import Forbidden, Invalid
from hubbub.services.roles import permissions
from hubbub.wire import serialize
from tests.support.chat import new_direct, new_group, post, role_of, set_role
from tests.support.people import as_user, people


def reported(app: Flask, user_id: int, conversation_id: int) -> dict[str, object]:
    """The permissions in the caller's conversation answer, as the API sends them."""
    with app.app_context():
        summary = conversations.get_conversation(as_user(user_id), conversation_id)
        answer: dict[str, object] = serialize.dump(serialize.conversation(summary))["permissions"]
        return answer


def test_the_answer_reports_each_roles_permissions(
    app: Flask, make_user: Callable[..., User]
) -> None:
    ana, bob, cyd = people(make_user, "ana", "bob", "cyd")
    group = new_group(app, ana, [bob, cyd])
    set_role(app, group, bob, ADMIN)
    direct = new_direct(app, ana, bob)

    assert reported(app, ana, group) == {
        "manage": True,
        "delete_any_message": True,
        "assign": {OWNER: list(ROLES), ADMIN: list(ROLES), MEMBER: list(ROLES)},
        "remove": list(ROLES),
    }
    assert reported(app, bob, group) == {
        "manage": True,
        "delete_any_message": True,
        "assign": {OWNER: [], ADMIN: [ADMIN, MEMBER], MEMBER: [ADMIN, MEMBER]},
        "remove": [MEMBER],
    }
    nothing = {
        "manage": False,
        "delete_any_message": False,
        "assign": {OWNER: [], ADMIN: [], MEMBER: []},
        "remove": [],
    }
    assert reported(app, cyd, group) == nothing
    assert reported(app, ana, direct) == nothing


def arranged(
    app: Flask, make_user: Callable[..., User], mine: str, theirs: str
) -> tuple[int, int, int]:
    """A group where `me` has role mine and `them` role theirs, and a third person owns it
    too, so that no change is refused for leaving the group without an owner."""
    owner, me, them = people(make_user, "owen", "mia", "theo")
    group = new_group(app, owner, [me, them])
    set_role(app, group, me, mine)
    set_role(app, group, them, theirs)
    return group, me, them


@pytest.mark.parametrize(("mine", "theirs"), list(product(ROLES, ROLES)))
def test_role_changes_are_allowed_exactly_as_reported(
    app: Flask, make_user: Callable[..., User], mine: str, theirs: str
) -> None:
    group, me, them = arranged(app, make_user, mine, theirs)
    allowed = permissions("group", mine).assign[theirs]
    for role in ROLES:
        set_role(app, group, them, theirs)
        with app.app_context():
            try:
                members.change_role(as_user(me), group, them, role)
                done = True
            except Forbidden:
                done = False
        assert done == (role in allowed), (mine, theirs, role)
        assert role_of(app, group, them) == (role if done else theirs)


@pytest.mark.parametrize(("mine", "theirs"), list(product(ROLES, ROLES)))
def test_removals_and_deletions_are_allowed_exactly_as_reported(
    app: Flask, make_user: Callable[..., User], mine: str, theirs: str
) -> None:
    group, me, them = arranged(app, make_user, mine, theirs)
    rules = permissions("group", mine)
    message = post(app, them, group, "theirs")
    with app.app_context():
        try:
            messages.delete_message(as_user(me), message)
            deleted = True
        except Forbidden:
            deleted = False
    assert deleted == rules.delete_any_message
    with app.app_context():
        try:
            members.remove_member(as_user(me), group, them)
            removed = True
        except Forbidden:
            removed = False
    assert removed == (theirs in rules.remove)
    assert role_of(app, group, them) == (None if removed else theirs)


def test_nobody_manages_a_direct_conversation(app: Flask, make_user: Callable[..., User]) -> None:
    ana, bob = people(make_user, "ana", "bob")
    direct = new_direct(app, ana, bob)
    assert not permissions("direct", OWNER).manage
    with app.app_context(), pytest.raises(Invalid):
        conversations.rename_group(as_user(ana), direct, "No")
    message = post(app, bob, direct, "mine")
    with app.app_context(), pytest.raises(Forbidden):
        messages.delete_message(as_user(ana), message)
