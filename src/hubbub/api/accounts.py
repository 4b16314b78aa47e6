"""Registering through the API, who the caller is, and the user directory."""

from __future__ import annotations

import re
from typing import Annotated

from flask.typing import ResponseReturnValue
from pydantic import Field

from hubbub import passwords
from hubbub.api import bp
from hubbub.api.caller import caller
from hubbub.api.docs import endpoint
from hubbub.api.validation import (
    Body,
    Query,
    bmp,
    char_class,
    display_name_pattern,
    stated,
    surrounded,
)
from hubbub.limits import register_per_ip
from hubbub.services import accounts, text, users
from hubbub.wire import schemas
from hubbub.wire import serialize as out


def username_pattern() -> str:
    """accounts.USERNAME_PATTERN as the service applies it: to the name trimmed and lower-cased,
    so capitals pass too (and U+212A KELVIN SIGN, which lower-cases to k)."""
    shape = re.fullmatch(r"(\[[^\]]+\])(\{\d+,\d+\})", accounts.USERNAME_PATTERN.pattern)
    if shape is None:
        raise RuntimeError("USERNAME_PATTERN is no longer one class and one length range")
    allowed = re.compile(shape[1])
    letters = [c for c in bmp() if allowed.fullmatch(accounts.normalise_username(c))]
    return surrounded(char_class(letters) + shape[2])


Username = Annotated[str, stated(pattern=username_pattern())]
Email = Annotated[str, stated(format="idn-email")]
Password = Annotated[str, stated(minLength=passwords.MIN_LENGTH, maxLength=passwords.MAX_LENGTH)]


class NewAccount(Body):
    username: Username = Field(
        description=f"{accounts.USERNAME_RULE} Capitals are lower-cased and surrounding "
        "whitespace is ignored. A name already taken is refused with 409."
    )
    email: Email = Field(
        description="Checked by email-validator, which beyond the format refuses a quoted "
        "local part, an IP address or a name without a dot after the @, and special-use "
        "domains such as .test and .local (422). Surrounding whitespace is ignored; it is "
        "stored lower-cased. An address already in use is refused with 409."
    )
    password: Password = Field(
        description="Also refused (422): one of the 30,000 most common passwords that zxcvbn "
        "lists, in any case."
    )


DisplayName = Annotated[
    Annotated[str, stated(pattern=display_name_pattern(text.DISPLAY_NAME_MAX))] | None,
    Field(
        description=f"1 to {text.DISPLAY_NAME_MAX} characters (code points, once surrounding "
        "whitespace is trimmed, and again once normalised to NFC: a name that NFC makes longer "
        "is refused with 422), in any script, emoji included; no control characters, line "
        "separators or bidi and other invisible format characters (zero-width joiners only "
        "inside). Null, empty or blank clears it."
    ),
]


class ProfileChange(Body):
    """What you show others beside your username."""

    display_name: DisplayName


class UserSearch(Query):
    q: str = Field(
        "",
        description="The start of a username, in any case; surrounding whitespace is ignored "
        f"and empty lists everyone. At most {users.DIRECTORY_LIMIT} people, by name.",
    )


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


@bp.patch("/me")
@endpoint(tags=["accounts"], body=ProfileChange, ok={200: schemas.UserEnvelope})
def update_me(body: ProfileChange) -> ResponseReturnValue:
    user = accounts.update_profile(caller(), body.display_name)
    return out.dump(schemas.UserEnvelope(user=out.user(user, private=True)))


@bp.get("/users")
@endpoint(tags=["accounts"], query=UserSearch, ok={200: schemas.UserList})
def search_users(params: UserSearch) -> ResponseReturnValue:
    found = users.search_users(params.q)
    return out.dump(schemas.UserList(users=[out.public_user(u) for u in found]))
