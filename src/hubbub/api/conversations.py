"""Conversations, their members and read markers."""

from __future__ import annotations

from typing import Annotated, Literal

from flask.typing import ResponseReturnValue
from pydantic import Field

from hubbub.api import bp
from hubbub.api.auth import caller
from hubbub.api.docs import endpoint
from hubbub.api.validation import Body, validate
from hubbub.services import conversations, members, reads
from hubbub.wire import schemas
from hubbub.wire import serialize as out

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class NewDirect(Body):
    kind: Literal["direct"]
    user_id: Id


class NewGroup(Body):
    kind: Literal["group"]
    title: str
    member_ids: list[Id] = []


class NewConversation(Body):
    # A tagged union would be tidier, but strict pydantic reports its errors by tag, which
    # reads worse; the view picks the variant instead.
    kind: Literal["direct", "group"]
    user_id: Id | None = None
    title: str | None = None
    member_ids: list[Id] | None = None


class Rename(Body):
    title: str


class NewMember(Body):
    user_id: Id


class RoleChange(Body):
    role: Literal["owner", "admin", "member"]


class ReadUpTo(Body):
    message_id: Id


def _conversation(summary: conversations.Summary) -> dict[str, object]:
    return out.dump(schemas.ConversationEnvelope(conversation=out.conversation(summary)))


@bp.get("/conversations")
@endpoint(tags=["conversations"], ok={200: schemas.ConversationList})
def list_conversations() -> ResponseReturnValue:
    summaries = conversations.list_conversations(caller())
    return out.dump(
        schemas.ConversationList(conversations=[out.conversation(s) for s in summaries])
    )


@bp.post("/conversations")
@endpoint(
    tags=["conversations"],
    body=NewConversation,
    ok={200: schemas.ConversationEnvelope, 201: schemas.ConversationEnvelope},
)
def create_conversation(body: NewConversation) -> ResponseReturnValue:
    user = caller()
    if body.kind == "direct":
        direct = validate(NewDirect, body.model_dump(exclude_none=True))
        conversation, created = conversations.open_direct(user, direct.user_id)
    else:
        group = validate(NewGroup, body.model_dump(exclude_none=True))
        conversation = conversations.create_group(user, group.title, group.member_ids)
        created = True
    summary = conversations.get_conversation(user, conversation.id)
    return _conversation(summary), 201 if created else 200


@bp.get("/conversations/<int:conversation_id>")
@endpoint(tags=["conversations"], ok={200: schemas.ConversationEnvelope})
def get_conversation(conversation_id: int) -> ResponseReturnValue:
    return _conversation(conversations.get_conversation(caller(), conversation_id))


@bp.patch("/conversations/<int:conversation_id>")
@endpoint(tags=["conversations"], body=Rename, ok={200: schemas.ConversationEnvelope})
def rename_conversation(conversation_id: int, body: Rename) -> ResponseReturnValue:
    user = caller()
    conversations.rename_group(user, conversation_id, body.title)
    return _conversation(conversations.get_conversation(user, conversation_id))


@bp.post("/conversations/<int:conversation_id>/members")
@endpoint(tags=["members"], body=NewMember, ok={201: schemas.MemberEnvelope})
def add_member(conversation_id: int, body: NewMember) -> ResponseReturnValue:
    membership = members.add_member(caller(), conversation_id, body.user_id)
    return out.dump(schemas.MemberEnvelope(member=out.member(membership))), 201


@bp.patch("/conversations/<int:conversation_id>/members/<int:user_id>")
@endpoint(tags=["members"], body=RoleChange, ok={200: schemas.MemberEnvelope})
def change_role(conversation_id: int, user_id: int, body: RoleChange) -> ResponseReturnValue:
    membership = members.change_role(caller(), conversation_id, user_id, body.role)
    return out.dump(schemas.MemberEnvelope(member=out.member(membership)))


@bp.delete("/conversations/<int:conversation_id>/members/<int:user_id>")
@endpoint(tags=["members"], ok={204: None})
def remove_member(conversation_id: int, user_id: int) -> ResponseReturnValue:
    members.remove_member(caller(), conversation_id, user_id)
    return "", 204


@bp.post("/conversations/<int:conversation_id>/read")
@endpoint(tags=["conversations"], body=ReadUpTo, ok={200: schemas.ConversationEnvelope})
def mark_read(conversation_id: int, body: ReadUpTo) -> ResponseReturnValue:
    return _conversation(reads.mark_read(caller(), conversation_id, body.message_id))
