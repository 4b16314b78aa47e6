"""Personal API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated

from flask import g
from flask.typing import ResponseReturnValue
from pydantic import Field

from hubbub.api import bp
from hubbub.api.caller import caller
from hubbub.api.docs import SESSION, endpoint
from hubbub.api.validation import Body, stated, trimmed
from hubbub.limits import login_per_account, login_per_ip, mark_login_failed
from hubbub.services import accounts, tokens
from hubbub.services.errors import Forbidden, Unauthenticated
from hubbub.wire import schemas
from hubbub.wire import serialize as out

TokenName = Annotated[str, stated(pattern=trimmed(tokens.NAME_MAX, blank=True))]


class NewToken(Body):
    """Give login and password together; or neither, from a signed-in browser session."""

    login: str | None = Field(
        None, description="A username or an email address, in any case. A wrong one is a 401."
    )
    password: str | None = Field(
        None, description="The account's password. A wrong one is a 401, as for a wrong login."
    )
    name: TokenName | None = Field(
        None,
        description=f"What the token is for: at most {tokens.NAME_MAX} characters once "
        "surrounding whitespace is trimmed, without control characters; 'API token' when "
        "absent or blank.",
    )


@bp.post("/tokens")
@login_per_account
@login_per_ip
@endpoint(tags=["tokens"], body=NewToken, ok={201: schemas.NewTokenOut}, security=[{}, SESSION])
def create_token(body: NewToken) -> ResponseReturnValue:
    if body.login is not None or body.password is not None:
        try:
            user = accounts.authenticate(body.login or "", body.password or "")
        except Unauthenticated:
            mark_login_failed()
            raise
    elif g.auth == "session":
        user = caller()
    elif g.auth == "token":
        raise Forbidden("A token cannot create tokens; give login and password.")
    else:
        raise Unauthenticated("Give login and password, or call from a logged-in session.")
    token, secret = tokens.create_token(user, body.name)
    return out.dump(schemas.NewTokenOut(**out.token(token).model_dump(), token=secret)), 201


@bp.get("/tokens")
@endpoint(tags=["tokens"], ok={200: schemas.TokenList})
def list_tokens() -> ResponseReturnValue:
    return out.dump(schemas.TokenList(tokens=[out.token(t) for t in tokens.list_tokens(caller())]))


@bp.delete("/tokens/<int:token_id>")
@endpoint(tags=["tokens"], ok={204: None})
def revoke_token(token_id: int) -> ResponseReturnValue:
    tokens.revoke_token(caller(), token_id)
    return "", 204
