"""Registering through the API, and who the caller is."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from hubbub.api import bp
from hubbub.api.auth import caller, require_user
from hubbub.api.serialize import user_json
from hubbub.api.validation import Body, parse_body
from hubbub.limits import register_per_ip
from hubbub.services import accounts


class NewAccount(Body):
    username: str
    email: str
    password: str


@bp.post("/accounts")
@register_per_ip
def create_account() -> ResponseReturnValue:
    body = parse_body(NewAccount)
    user = accounts.register_user(body.username, body.email, body.password)
    return {"user": user_json(user, private=True)}, 201


@bp.get("/me")
@require_user
def me() -> ResponseReturnValue:
    return {"user": user_json(caller(), private=True)}
