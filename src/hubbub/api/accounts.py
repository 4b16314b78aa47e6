"""Registering through the API, who the caller is, and the user directory."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from hubbub.api import bp
from hubbub.api.caller import caller
from hubbub.api.docs import endpoint
from hubbub.api.validation import Body, Query
from hubbub.limits import register_per_ip
from hubbub.services import accounts, users
from hubbub.wire import schemas
from hubbub.wire import serialize as out


class NewAccount(Body):
    username: str
    email: str
    password: str


class UserSearch(Query):
    q: str = ""


@bp.post("/accounts")
@register_per_ip
@endpoint(tags=["accounts"], body=NewAccount, ok={201: schemas.UserEnvelope}, security=[])
def create_account(body: NewAccount) -> ResponseReturnValue:
    user = accounts.register_user(body.username, body.email, body.password)
    return out.dump(schemas.UserEnvelope(user=out.user(user, private=True))), 201


@bp.get("/me")
@endpoint(tags=["accounts"], ok={200: schemas.UserEnvelope})
def me() -> ResponseReturnValue:
    return out.dump(schemas.UserEnvelope(user=out.user(caller(), private=True)))


@bp.get("/users")
@endpoint(tags=["accounts"], query=UserSearch, ok={200: schemas.UserList})
def search_users(params: UserSearch) -> ResponseReturnValue:
    found = users.search_users(params.q)
    return out.dump(schemas.UserList(users=[out.public_user(u) for u in found]))
