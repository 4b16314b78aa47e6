"""Messages: history pages, send, edit, delete, earlier versions."""

from __future__ import annotations

from typing import Annotated

from flask.typing import ResponseReturnValue
from pydantic import Field

from hubbub.api import bp
from hubbub.api.caller import caller
from hubbub.api.docs import endpoint
from hubbub.api.validation import Body, Cursor, Id, Query, stated, trimmed
from hubbub.models import Message
from hubbub.services import files, messages, reactions
from hubbub.services.errors import Invalid
from hubbub.wire import schemas
from hubbub.wire import serialize as out


class HistoryPage(Query):
    before: Cursor | None = None
    after: Cursor | None = None
    around: Cursor | None = Field(
        None,
        description="A page centred on this message id (or where it would be), newest first, "
        "with has_newer; not with before or after (422).",
    )
    limit: Annotated[int, Field(ge=1, le=messages.PAGE_MAX)] = 50


NewBody = Annotated[
    str,
    stated(pattern=trimmed(messages.BODY_MAX, blank=True, newlines=True)),
    Field(
        description=f"Up to {messages.BODY_MAX:,} characters once surrounding whitespace is "
        "trimmed, at least one unless the message carries files; tabs and line breaks are the "
        "only control characters allowed."
    ),
]
ClientId = Annotated[str, stated(pattern=trimmed(messages.CLIENT_ID_MAX))]


class NewMessage(Body):
    body: NewBody
    client_id: ClientId | None = Field(
        None,
        description=f"Your own key for this message, 1 to {messages.CLIENT_ID_MAX} characters "
        "once surrounding whitespace is trimmed, without control characters: sending it again "
        "answers 200 with the first message instead of a second copy. One already used for a "
        "message in another conversation is refused with 409.",
    )
    reply_to: Id | None = Field(
        None,
        description="The id of the message this one answers: one of this conversation's that "
        "is not deleted (422 otherwise).",
    )
    attachment_ids: list[Id] = Field(
        default_factory=list,
        # Stated, and held by the service: over the most is a 413, as the API says.
        json_schema_extra={"maxItems": files.PER_MESSAGE, "uniqueItems": True},
        description=f"Uploads of yours (POST /uploads) that no message carries yet, at most "
        f"{files.PER_MESSAGE} (413 over it), each once; shown in this order (422 for any other "
        "id, and nothing is sent).",
    )


class Edit(Body):
    """Only the author edits a message (403 for others); a deleted one cannot be (409)."""

    body: NewBody


def _message(message: Message) -> dict[str, object]:
    return out.dump(schemas.MessageEnvelope(message=out.message(message)))


@bp.get("/conversations/<int:conversation_id>/messages")
@endpoint(tags=["messages"], query=HistoryPage, ok={200: schemas.MessagePage})
def list_messages(conversation_id: int, params: HistoryPage) -> ResponseReturnValue:
    has_newer = None
    if params.around is None:
        page, has_more = messages.list_messages(
            caller(), conversation_id, before=params.before, after=params.after, limit=params.limit
        )
    elif params.before is not None or params.after is not None:
        raise Invalid(
            "A page around a message takes no other cursor.",
            fields={"around": "Give around alone, or before or after without it."},
        )
    else:
        page, has_more, has_newer = messages.messages_around(
            caller(), conversation_id, params.around, limit=params.limit
        )
    return out.dump(
        schemas.MessagePage(
            messages=[out.message(m) for m in page], has_more=has_more, has_newer=has_newer
        )
    )


@bp.post("/conversations/<int:conversation_id>/messages")
@endpoint(
    tags=["messages"],
    body=NewMessage,
    ok={200: schemas.MessageEnvelope, 201: schemas.MessageEnvelope},
)
def send_message(conversation_id: int, body: NewMessage) -> ResponseReturnValue:
    message, created = messages.send_message(
        caller(),
        conversation_id,
        body.body,
        body.client_id,
        reply_to=body.reply_to,
        attachment_ids=body.attachment_ids,
    )
    return _message(message), 201 if created else 200


@bp.patch("/messages/<int:message_id>")
@endpoint(tags=["messages"], body=Edit, ok={200: schemas.MessageEnvelope})
def edit_message(message_id: int, body: Edit) -> ResponseReturnValue:
    return _message(messages.edit_message(caller(), message_id, body.body))


@bp.delete("/messages/<int:message_id>")
@endpoint(tags=["messages"], ok={200: schemas.MessageEnvelope})
def delete_message(message_id: int) -> ResponseReturnValue:
    return _message(messages.delete_message(caller(), message_id))


@bp.get("/messages/<int:message_id>/revisions")
@endpoint(tags=["messages"], ok={200: schemas.RevisionList})
def list_revisions(message_id: int) -> ResponseReturnValue:
    revisions = messages.list_revisions(caller(), message_id)
    return out.dump(schemas.RevisionList(revisions=[out.revision(r) for r in revisions]))


@bp.put("/messages/<int:message_id>/reactions/<path:emoji>")
@endpoint(tags=["messages"], ok={200: schemas.MessageEnvelope})
def add_reaction(message_id: int, emoji: str) -> ResponseReturnValue:
    return _message(reactions.add_reaction(caller(), message_id, emoji))


@bp.delete("/messages/<int:message_id>/reactions/<path:emoji>")
@endpoint(tags=["messages"], ok={200: schemas.MessageEnvelope})
def remove_reaction(message_id: int, emoji: str) -> ResponseReturnValue:
    return _message(reactions.remove_reaction(caller(), message_id, emoji))
