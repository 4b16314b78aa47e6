"""Membership services: adding, removing, leaving, handing on ownership and changing roles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask

from hubbub.models import Membership, Message, User, db
from hubbub.models.conversation import ADMIN, MEMBER, OWNER
from hubbub.services import conversations, members, messages
from hubbub.services.errors import Conflict, Forbidden, Invalid, NotFound
from tests.support import count
from tests.support.chat import (
    deactivate,
    new_direct,
    new_group,
    post,
    role_of,
    rows,
    set_joined_at,
    set_role,
)
from tests.support.people import as_user, people

MakeUser = Callable[..., User]
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return datetime(2021, 1, n, tzinfo=UTC)


# Adding


@pytest.mark.parametrize("role", [OWNER, ADMIN])
def test_owners_and_admins_add_members(app: Flask, make_user: MakeUser, role: str) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben])
    set_role(app, group, ben, role)
    with app.app_context():
        added = members.add_member(as_user(ben), group, cyd)
        assert (added.user_id, added.role, added.left_at) == (cyd, MEMBER, None)
    assert role_of(app, group, cyd) == MEMBER
    assert count(app, Membership) == 3


def test_a_member_cannot_add_anyone(app: Flask, make_user: MakeUser) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben])
    with app.app_context(), pytest.raises(Forbidden):
        members.add_member(as_user(ben), group, cyd)
    assert count(app, Membership) == 2


def test_adding_someone_already_in_the_group_is_a_conflict(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    set_role(app, group, ben, ADMIN)
    with app.app_context(), pytest.raises(Conflict) as caught:
        members.add_member(as_user(ana), group, ben)
    assert set(caught.value.fields) == {"user_id"}
    assert count(app, Membership) == 2
    assert role_of(app, group, ben) == ADMIN


@pytest.mark.parametrize("who", ["unknown", "deactivated"])
def test_adding_someone_who_cannot_be_reached_is_invalid(
    app: Flask, make_user: MakeUser, who: str
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [])
    if who == "deactivated":
        deactivate(app, ben)
    target = ben + 1000 if who == "unknown" else ben
    with app.app_context(), pytest.raises(Invalid) as caught:
        members.add_member(as_user(ana), group, target)
    assert set(caught.value.fields) == {"user_id"}
    assert count(app, Membership) == 1


def test_nobody_can_be_added_to_a_direct_conversation(app: Flask, make_user: MakeUser) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    direct = new_direct(app, ana, ben)
    with app.app_context(), pytest.raises(Invalid):
        members.add_member(as_user(ana), direct, cyd)
    assert count(app, Membership) == 2


def test_a_removed_member_comes_back_with_a_fresh_join_time(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    set_role(app, group, ben, ADMIN)
    set_joined_at(app, group, ben, LONG_AGO)
    with app.app_context():
        members.remove_member(as_user(ana), group, ben)
    assert role_of(app, group, ben) is None

    with app.app_context():
        members.add_member(as_user(ana), group, ben)
    with app.app_context():
        back = db.session.get(Membership, (group, ben))
        assert back is not None
        assert back.left_at is None
        assert back.joined_at > LONG_AGO
        # Coming back does not restore the powers held before.
        assert back.role == MEMBER
    assert count(app, Membership) == 2


# Removing


@pytest.mark.parametrize("target_role", [MEMBER, ADMIN, OWNER])
def test_an_owner_removes_anyone(app: Flask, make_user: MakeUser, target_role: str) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    set_role(app, group, ben, target_role)
    with app.app_context():
        members.remove_member(as_user(ana), group, ben)
    assert role_of(app, group, ben) is None
    assert role_of(app, group, ana) == OWNER


def test_an_admin_removes_a_member(app: Flask, make_user: MakeUser) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    set_role(app, group, ben, ADMIN)
    with app.app_context():
        members.remove_member(as_user(ben), group, cyd)
    assert role_of(app, group, cyd) is None


@pytest.mark.parametrize("target_role", [ADMIN, OWNER])
def test_an_admin_cannot_remove_admins_or_owners(
    app: Flask, make_user: MakeUser, target_role: str
) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    set_role(app, group, ben, ADMIN)
    set_role(app, group, cyd, target_role)
    with app.app_context(), pytest.raises(Forbidden):
        members.remove_member(as_user(ben), group, cyd)
    assert role_of(app, group, cyd) == target_role


def test_a_member_cannot_remove_anyone(app: Flask, make_user: MakeUser) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    with app.app_context(), pytest.raises(Forbidden):
        members.remove_member(as_user(ben), group, cyd)
    assert role_of(app, group, cyd) == MEMBER


def test_removing_someone_not_in_the_group_is_not_found(app: Flask, make_user: MakeUser) -> None:
    ana, cyd = people(make_user, "ana", "cyd")
    group = new_group(app, ana, [])
    with app.app_context(), pytest.raises(NotFound):
        members.remove_member(as_user(ana), group, cyd)
    assert count(app, Membership) == 1


# Leaving


@pytest.mark.parametrize("role", [MEMBER, ADMIN])
def test_anyone_may_leave_a_group(app: Flask, make_user: MakeUser, role: str) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    set_role(app, group, ben, role)
    with app.app_context():
        members.remove_member(as_user(ben), group, ben)
    assert role_of(app, group, ben) is None
    assert role_of(app, group, ana) == OWNER


def test_nobody_can_leave_a_direct_conversation(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    with app.app_context(), pytest.raises(Invalid):
        members.remove_member(as_user(ana), direct, ana)
    assert role_of(app, direct, ana) == MEMBER


def test_the_last_owner_leaving_hands_on_to_the_longest_standing_admin(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cyd, dee, eli = people(make_user, "ana", "ben", "cyd", "dee", "eli")
    group = new_group(app, ana, [ben, cyd, dee, eli])
    # The longest-standing person is a member, and the longer-standing admin has the higher id,
    # so neither "first joined" nor "lowest id" gives the right answer by accident.
    set_joined_at(app, group, ana, day(1))
    set_joined_at(app, group, ben, day(2))
    set_role(app, group, cyd, ADMIN)
    set_joined_at(app, group, cyd, day(5))
    set_role(app, group, dee, ADMIN)
    set_joined_at(app, group, dee, day(4))
    set_joined_at(app, group, eli, day(3))

    with app.app_context():
        members.remove_member(as_user(ana), group, ana)

    assert role_of(app, group, ana) is None
    assert [role_of(app, group, u) for u in (ben, cyd, dee, eli)] == [MEMBER, ADMIN, OWNER, MEMBER]


def test_without_admins_the_longest_standing_member_becomes_owner(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cyd, dee = people(make_user, "ana", "ben", "cyd", "dee")
    group = new_group(app, ana, [ben, cyd, dee])
    set_joined_at(app, group, ana, day(1))
    set_joined_at(app, group, ben, day(4))
    set_joined_at(app, group, cyd, day(2))
    set_joined_at(app, group, dee, day(3))

    with app.app_context():
        members.remove_member(as_user(ana), group, ana)

    assert [role_of(app, group, u) for u in (ben, cyd, dee)] == [MEMBER, OWNER, MEMBER]


def test_people_who_left_are_not_handed_ownership(app: Flask, make_user: MakeUser) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    set_joined_at(app, group, ben, day(1))
    set_joined_at(app, group, cyd, day(2))
    with app.app_context():
        members.remove_member(as_user(ben), group, ben)
        members.remove_member(as_user(ana), group, ana)
    assert [role_of(app, group, u) for u in (ana, ben, cyd)] == [None, None, OWNER]


def test_an_owner_leaving_while_another_owner_stays_changes_no_roles(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    set_role(app, group, ben, ADMIN)
    set_role(app, group, cyd, OWNER)
    with app.app_context():
        members.remove_member(as_user(ana), group, ana)
    assert [role_of(app, group, u) for u in (ana, ben, cyd)] == [None, ADMIN, OWNER]


def test_the_only_person_may_leave_their_group(app: Flask, make_user: MakeUser) -> None:
    (ana,) = people(make_user, "ana")
    group = new_group(app, ana, [])
    with app.app_context():
        members.remove_member(as_user(ana), group, ana)
    assert role_of(app, group, ana) is None
    assert rows(app, Membership, Membership.left_at.is_(None)) == 0


# Roles


@pytest.mark.parametrize(
    ("start", "to"),
    [(MEMBER, OWNER), (ADMIN, OWNER), (MEMBER, ADMIN), (ADMIN, MEMBER), (OWNER, ADMIN)],
)
def test_an_owner_sets_any_role(app: Flask, make_user: MakeUser, start: str, to: str) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    set_role(app, group, ben, start)
    with app.app_context():
        assert members.change_role(as_user(ana), group, ben, to).role == to
    assert role_of(app, group, ben) == to


@pytest.mark.parametrize(("start", "to"), [(MEMBER, ADMIN), (ADMIN, MEMBER)])
def test_an_admin_switches_members_and_admins(
    app: Flask, make_user: MakeUser, start: str, to: str
) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    set_role(app, group, ben, ADMIN)
    set_role(app, group, cyd, start)
    with app.app_context():
        members.change_role(as_user(ben), group, cyd, to)
    assert role_of(app, group, cyd) == to


@pytest.mark.parametrize(
    ("start", "to"), [(MEMBER, OWNER), (ADMIN, OWNER), (OWNER, ADMIN), (OWNER, MEMBER)]
)
def test_only_owners_make_or_unmake_owners(
    app: Flask, make_user: MakeUser, start: str, to: str
) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    set_role(app, group, ben, ADMIN)
    set_role(app, group, cyd, start)
    with app.app_context(), pytest.raises(Forbidden):
        members.change_role(as_user(ben), group, cyd, to)
    assert role_of(app, group, cyd) == start


def test_an_admin_cannot_make_themself_owner(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    set_role(app, group, ben, ADMIN)
    with app.app_context(), pytest.raises(Forbidden):
        members.change_role(as_user(ben), group, ben, OWNER)
    assert role_of(app, group, ben) == ADMIN


def test_a_member_cannot_change_roles(app: Flask, make_user: MakeUser) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    with app.app_context(), pytest.raises(Forbidden):
        members.change_role(as_user(ben), group, cyd, ADMIN)
    with app.app_context(), pytest.raises(Forbidden):
        members.change_role(as_user(ben), group, ben, ADMIN)
    assert [role_of(app, group, u) for u in (ben, cyd)] == [MEMBER, MEMBER]


@pytest.mark.parametrize("to", [ADMIN, MEMBER])
def test_the_last_owner_cannot_step_down(app: Flask, make_user: MakeUser, to: str) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    with app.app_context(), pytest.raises(Conflict):
        members.change_role(as_user(ana), group, ana, to)
    assert role_of(app, group, ana) == OWNER


def test_an_owner_may_step_down_while_another_owner_remains(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    set_role(app, group, ben, OWNER)
    with app.app_context():
        members.change_role(as_user(ana), group, ana, ADMIN)
    assert [role_of(app, group, u) for u in (ana, ben)] == [ADMIN, OWNER]


@pytest.mark.parametrize("role", ["superuser", "", "Owner"])
def test_an_unknown_role_is_invalid(app: Flask, make_user: MakeUser, role: str) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    with app.app_context(), pytest.raises(Invalid) as caught:
        members.change_role(as_user(ana), group, ben, role)
    assert set(caught.value.fields) == {"role"}
    assert role_of(app, group, ben) == MEMBER


def test_roles_cannot_be_set_in_a_direct_conversation(app: Flask, make_user: MakeUser) -> None:
    ana, ben = people(make_user, "ana", "ben")
    direct = new_direct(app, ana, ben)
    with app.app_context(), pytest.raises(Invalid):
        members.change_role(as_user(ana), direct, ben, ADMIN)
    assert role_of(app, direct, ben) == MEMBER


def test_roles_of_people_not_in_the_group_cannot_be_set(app: Flask, make_user: MakeUser) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben])
    with app.app_context():
        members.remove_member(as_user(ben), group, ben)
    for outsider in (ben, cyd):
        with app.app_context(), pytest.raises(NotFound):
            members.change_role(as_user(ana), group, outsider, ADMIN)
    assert role_of(app, group, ben) is None
    assert count(app, Membership) == 2


# Former members


@pytest.mark.parametrize("how", ["left", "removed"])
def test_a_former_member_can_neither_read_nor_post(
    app: Flask, make_user: MakeUser, how: str
) -> None:
    ana, ben = people(make_user, "ana", "ben")
    group = new_group(app, ana, [ben])
    message = post(app, ana, group, "before they went")
    with app.app_context():
        remover = ben if how == "left" else ana
        members.remove_member(as_user(remover), group, ben)

    with app.app_context():
        former = as_user(ben)
        with pytest.raises(NotFound):
            messages.list_messages(former, group)
        with pytest.raises(NotFound):
            conversations.get_conversation(former, group)
        with pytest.raises(NotFound):
            conversations.access_message(former, message)
        with pytest.raises(NotFound):
            messages.list_revisions(former, message)
        with pytest.raises(NotFound):
            messages.send_message(former, group, "still here?")
        assert conversations.list_conversations(former) == []
    assert count(app, Message) == 1


def test_a_former_member_cannot_manage_the_group(app: Flask, make_user: MakeUser) -> None:
    ana, ben, cyd = people(make_user, "ana", "ben", "cyd")
    group = new_group(app, ana, [ben, cyd])
    set_role(app, group, ben, OWNER)
    with app.app_context():
        members.remove_member(as_user(ben), group, ben)
    with app.app_context():
        former = as_user(ben)
        with pytest.raises(NotFound):
            members.remove_member(former, group, cyd)
        with pytest.raises(NotFound):
            members.change_role(former, group, cyd, ADMIN)
    assert role_of(app, group, cyd) == MEMBER
