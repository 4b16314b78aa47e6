"""Conversations, their members and read markers."""

from __future__ import annotations

from typing import Annotated, Literal

from flask.typing import ResponseReturnValue
from pydantic import Field, RootModel

from hubbub.api import bp
from hubbub.api.caller import caller
from hubbub.api.docs import endpoint
from hubbub.api.validation import Body, Cursor, Id, Query, stated, trimmed
from hubbub.services import activity, conversations, members, reads
from hubbub.wire import schemas
from hubbub.wire import serialize as out

Title = Annotated[
    str,
    stated(pattern=trimmed(conversations.TITLE_MAX)),
    Field(
        description=f"1 to {conversations.TITLE_MAX} characters once surrounding whitespace is "
        "trimmed, without control characters (line breaks included)."
    ),
]
ACTIVE = "an active account (422 for an id that names no one, or someone deactivated)"


class NewDirect(Body):
    kind: Literal["direct"]
    user_id: Id = Field(description=f"Someone with {ACTIVE}; your own id makes a notes-to-self.")


class NewGroup(Body):
    kind: Literal["group"]
    title: Title
    member_ids: list[Id] = Field(
        [],
        description=f"People with {ACTIVE}. Repeats and your own id are ignored; a group holds "
        f"at most {conversations.GROUP_MAX_MEMBERS} people, you included (422).",
    )


class NewConversation(RootModel[Annotated[NewDirect | NewGroup, Field(discriminator="kind")]]):
    """A direct conversation with one person, or a group; `kind` says which."""


class Rename(Body):
    """A group's owners and admins may rename it (403 for others); a direct conversation has
    no title (422)."""

    title: Title


class NewMember(Body):
    """A group's owners and admins may add people (403 for others; 422 in a direct one)."""

    user_id: Id = Field(description=f"Someone with {ACTIVE} who is not a member yet (409).")


class RoleChange(Body):
    """Owners give any role; admins make members admins and back (403 otherwise). A group
    keeps at least one owner (409)."""

    role: Literal["owner", "admin", "member"]


class ReadUpTo(Body):
    message_id: Id = Field(
        description="A message of this conversation: one of another, or none, is refused with "
        "422. The read marker only moves forward."
    )


class ActivityQuery(Query):
    """Which part of the history to fetch the activity of, by the messages it follows."""

    from_message: Cursor = Field(
        0, description="Entries placed after this message or a later one (0: from the start)."
    )
    before_message: Cursor | None = Field(
        None, description="Entries placed after messages older than this one only."
    )
    before: Cursor | None = Field(None, description="The next page: entries older than this id.")
    limit: Annotated[int, Field(ge=1, le=activity.PAGE_MAX)] = 50


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
    wanted = body.root
    if isinstance(wanted, NewDirect):
        conversation, created = conversations.open_direct(user, wanted.user_id)
    else:
        conversation = conversations.create_group(user, wanted.title, wanted.member_ids)
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


@bp.get("/conversations/<int:conversation_id>/activity")
@endpoint(tags=["conversations"], query=ActivityQuery, ok={200: schemas.ActivityPage})
def list_activity(conversation_id: int, params: ActivityQuery) -> ResponseReturnValue:
    """Renames, joins, removals and leaves, newest first, each with the message it follows so
    that a client can draw it in its place in the history."""
    entries, has_more = conversations.list_activity(
        caller(),
        conversation_id,
        from_message=params.from_message,
        before_message=params.before_message,
        before=params.before,
        limit=params.limit,
    )
    return out.dump(
        schemas.ActivityPage(activity=[out.activity(e) for e in entries], has_more=has_more)
    )


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


@bp.put("/conversations/<int:conversation_id>/mute")
@endpoint(tags=["conversations"], ok={200: schemas.ConversationEnvelope})
def mute(conversation_id: int) -> ResponseReturnValue:
    return _conversation(reads.set_muted(caller(), conversation_id, True))


@bp.delete("/conversations/<int:conversation_id>/mute")
@endpoint(tags=["conversations"], ok={200: schemas.ConversationEnvelope})
def unmute(conversation_id: int) -> ResponseReturnValue:
    return _conversation(reads.set_muted(caller(), conversation_id, False))
