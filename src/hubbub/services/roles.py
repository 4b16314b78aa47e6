"""Who may do what in a conversation, by its kind and the caller's role: the rules written once,
enforced by the services and reported in every conversation answer, so that clients show only
what the server will allow."""

from __future__ import annotations

from dataclasses import dataclass

from hubbub.models.conversation import ADMIN, GROUP, MEMBER, OWNER, ROLES

NOBODY: tuple[str, ...] = ()


@dataclass(frozen=True)
class Permissions:
    manage: bool  # rename the group, add members
    delete_any_message: bool
    assign: dict[str, tuple[str, ...]]  # a member's role -> the roles I may give them
    remove: tuple[str, ...]  # the roles of the members I may remove


def permissions(kind: str, role: str) -> Permissions:
    """Owners do anything; admins manage members and admins but never owners; members, and
    everyone in a direct conversation, manage nothing."""
    if kind != GROUP or role not in (OWNER, ADMIN):
        return Permissions(False, False, dict.fromkeys(ROLES, NOBODY), NOBODY)
    if role == OWNER:
        return Permissions(True, True, dict.fromkeys(ROLES, ROLES), ROLES)
    lesser = (ADMIN, MEMBER)
    return Permissions(True, True, {OWNER: NOBODY, ADMIN: lesser, MEMBER: lesser}, (MEMBER,))
