"""Personal API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from flask import g
from flask.typing import ResponseReturnValue

from hubbub.api import bp
from hubbub.api.auth import caller, require_user
from hubbub.api.serialize import token_json
from hubbub.api.validation import Body, parse_body
from hubbub.limits import login_per_account, login_per_ip, mark_login_failed
from hubbub.services import accounts, tokens
from hubbub.services.errors import Forbidden, Unauthenticated


class NewToken(Body):
    login: str | None = None
    password: str | None = None
    name: str | None = None


@bp.post("/tokens")
@login_per_account
@login_per_ip
def create_token() -> ResponseReturnValue:
    body = parse_body(NewToken)
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
    return {**token_json(token), "token": secret}, 201


@bp.get("/tokens")
@require_user
def list_tokens() -> ResponseReturnValue:
    return {"tokens": [token_json(token) for token in tokens.list_tokens(caller())]}


@bp.delete("/tokens/<int:token_id>")
@require_user
def revoke_token(token_id: int) -> ResponseReturnValue:
    tokens.revoke_token(caller(), token_id)
    return "", 204
