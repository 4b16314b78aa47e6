"""Group membership: adding, removing, leaving and roles."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select

from hubbub.events.log import record
from hubbub.events.types import MemberAdded, MemberRemoved, MemberUpdated
from hubbub.models import Conversation, Membership, User, db, utcnow
from hubbub.models.activity import ADDED, LEFT, REMOVED
from hubbub.models.conversation import ADMIN, GROUP, MEMBER, OWNER, ROLES
from hubbub.services import activity
from hubbub.services.conversations import access_conversation, active_users, require_manager
from hubbub.services.errors import Conflict, Forbidden, Invalid, NotFound
from hubbub.services.roles import permissions
from hubbub.wire import serialize

NOT_A_MEMBER = "That person is not in this conversation."


def _membership(conversation_id: int, user_id: int) -> Membership | None:
    return db.session.get(Membership, (conversation_id, user_id))


def _active_member(conversation_id: int, user_id: int) -> Membership:
    membership = _membership(conversation_id, user_id)
    if membership is None or membership.left_at is not None:
        raise NotFound(NOT_A_MEMBER)
    return membership


def add_member(user: User, conversation_id: int, user_id: int) -> Membership:
    """Add someone to a group as a member; its owners and admins may.

    Someone who left or was removed before comes back with a fresh join time. Emits
    member.added, and notes the join in the group's activity.
    """
    conversation, mine = access_conversation(user, conversation_id, lock=True)
    require_manager(conversation, mine)
    newcomer = active_users([user_id], "user_id")[0]
    membership = _membership(conversation.id, newcomer.id)
    if membership is not None and membership.left_at is None:
        raise Conflict(
            "That person is already in this group.", fields={"user_id": "Already a member."}
        )
    if membership is None:
        membership = Membership(conversation_id=conversation.id, user_id=newcomer.id)
        db.session.add(membership)
    membership.role = MEMBER
    membership.joined_at = utcnow()
    membership.left_at = None
    activity.note(conversation, ADDED, user.id, subject_id=newcomer.id)
    db.session.flush()
    db.session.refresh(conversation)
    record(
        MemberAdded(
            member=serialize.member(membership),
            conversation=serialize.conversation_info(conversation),
        ),
        conversation.id,
        opens=[newcomer.id],
    )
    db.session.commit()
    return membership


def remove_member(user: User, conversation_id: int, user_id: int) -> None:
    """Remove someone from a group, or leave it when user_id is the caller.

    Owners remove anyone; admins remove members only. Whoever leaves last as owner hands
    ownership to the longest-standing admin, else the longest-standing member. Emits
    member.removed, then member.updated for the heir; the group's activity notes who went.
    """
    conversation, mine = access_conversation(user, conversation_id, lock=True)
    if user_id == user.id:
        if conversation.kind != GROUP:
            raise Invalid("You cannot leave a direct conversation.")
        _leave(conversation, mine)
        db.session.commit()
        return
    require_manager(conversation, mine)
    target = _active_member(conversation.id, user_id)
    if target.role not in permissions(conversation.kind, mine.role).remove:
        raise Forbidden("Only owners can remove owners and admins.")
    target.left_at = utcnow()
    _record_removed(conversation, target.user_id, by=user.id, reason="removed")
    db.session.commit()


def _record_removed(
    conversation: Conversation, user_id: int, by: int, reason: Literal["removed", "left"]
) -> None:
    activity.note(conversation, LEFT if reason == "left" else REMOVED, by, subject_id=user_id)
    record(MemberRemoved(user_id=user_id, by=by, reason=reason), conversation.id, closes=[user_id])


def _leave(conversation: Conversation, membership: Membership) -> None:
    membership.left_at = utcnow()
    _record_removed(conversation, membership.user_id, by=membership.user_id, reason="left")
    if membership.role != OWNER:
        return
    membership.role = MEMBER
    remaining = list(
        db.session.scalars(
            select(Membership)
            .where(
                Membership.conversation_id == conversation.id,
                Membership.left_at.is_(None),
                Membership.user_id != membership.user_id,
            )
            .order_by(Membership.joined_at, Membership.user_id)
        )
    )
    if not remaining or any(m.role == OWNER for m in remaining):
        return
    admins = [m for m in remaining if m.role == ADMIN]
    heir = (admins or remaining)[0]
    heir.role = OWNER
    record(MemberUpdated(member=serialize.member(heir)), conversation.id)


def change_role(user: User, conversation_id: int, user_id: int, role: str) -> Membership:
    """Set someone's role in a group.

    Owners set any role; admins may only turn members into admins and back. A group always
    keeps at least one owner. Emits member.updated.
    """
    if role not in ROLES:
        raise Invalid("Unknown role.", fields={"role": "Use owner, admin or member."})
    conversation, mine = access_conversation(user, conversation_id)
    require_manager(conversation, mine)
    target = _active_member(conversation.id, user_id)
    if role not in permissions(conversation.kind, mine.role).assign[target.role]:
        raise Forbidden("Only owners can make or unmake owners.")
    if target.role == OWNER and role != OWNER:
        owners = db.session.scalars(
            select(Membership.user_id).where(
                Membership.conversation_id == conversation.id,
                Membership.left_at.is_(None),
                Membership.role == OWNER,
            )
        ).all()
        if len(owners) == 1:
            raise Conflict("A group needs an owner; make someone else owner first.")
    target.role = role
    record(MemberUpdated(member=serialize.member(target)), conversation.id)
    db.session.commit()
    return target
