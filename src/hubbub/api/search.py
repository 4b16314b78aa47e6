"""Search: messages I may read that hold what I look for, newest first."""

from __future__ import annotations

from typing import Annotated

from flask.typing import ResponseReturnValue
from pydantic import Field

from hubbub.api import bp
from hubbub.api.caller import caller
from hubbub.api.docs import endpoint
from hubbub.api.validation import Cursor, Query, stated
from hubbub.services import search
from hubbub.wire import schemas
from hubbub.wire import serialize as out


class Search(Query):
    q: Annotated[str, stated(minLength=1, maxLength=search.QUERY_MAX)] = Field(
        description=f"Words or pieces of words ({search.TERM_MIN} characters or more each, any "
        'case, found inside words and links too), all of which a message must hold; "a quoted '
        'phrase" is one term, spaces and all. Filters: from:username, in:ID (a conversation id), '
        "has:file, has:link, before:YYYY-MM-DD (sent before that UTC day) and "
        "after:YYYY-MM-DD (on that day or later); filters alone are a search too. A shorter "
        "term, a bad filter value, or nothing to look for is refused with 422."
    )
    before: Cursor | None = Field(None, description="Only messages older than this message id.")
    limit: Annotated[int, Field(ge=1, le=search.PAGE_MAX)] = search.PAGE_DEFAULT


@bp.get("/search")
@endpoint(tags=["search"], query=Search, ok={200: schemas.SearchPage})
def search_messages(params: Search) -> ResponseReturnValue:
    found, next_before = search.search(caller(), params.q, params.before, params.limit)
    results = [
        schemas.SearchResult(
            message=out.message(message),
            conversation=schemas.ConversationRef(
                id=conversation.id,
                kind=conversation.kind,  # type: ignore[arg-type]
                title=conversation.title,
            ),
        )
        for message, conversation in found
    ]
    return out.dump(schemas.SearchPage(results=results, next_before=next_before))
