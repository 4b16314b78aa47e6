"""Personal API token services: creation, storage as a hash, revocation and lookup."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select, update

from hubbub.models import ApiToken, User, db
from hubbub.services import tokens
from hubbub.services.errors import Invalid, NotFound
from tests.support import count

MakeUser = Callable[..., User]
URLSAFE = re.compile(r"[A-Za-z0-9_-]+")


def new_token(app: Flask, user: User, name: str | None = "laptop") -> tuple[int, str]:
    with app.app_context():
        token, secret = tokens.create_token(user, name)
        return token.id, secret


def user_id_for(app: Flask, secret: str) -> int | None:
    with app.app_context():
        user = tokens.user_for_token(secret)
        return user.id if user is not None else None


def test_secret_carries_at_least_128_random_bits(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    _, secret = new_token(app, ana)
    assert secret.startswith("hbb_")
    random_part = secret.removeprefix("hbb_")
    assert URLSAFE.fullmatch(random_part)
    # 22 urlsafe base64 characters carry 132 bits.
    assert len(random_part) >= 22


def test_two_tokens_have_different_secrets(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    first, second = new_token(app, ana), new_token(app, ana)
    assert first[1] != second[1]
    assert first[0] != second[0]


def test_database_keeps_only_the_sha256_of_the_secret(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    token_id, secret = new_token(app, ana)
    with app.app_context():
        row = db.session.execute(
            select(ApiToken.__table__).where(ApiToken.__table__.c.id == token_id)
        ).one()
    stored = [str(value) for value in row]
    random_part = secret.removeprefix("hbb_")
    assert not any(random_part in value for value in stored)
    assert hashlib.sha256(secret.encode()).hexdigest() in stored


def test_created_token_belongs_to_its_user_and_keeps_its_name(
    app: Flask, make_user: MakeUser
) -> None:
    ana = make_user("ana")
    token_id, _ = new_token(app, ana, "  build server  ")
    with app.app_context():
        token = db.session.get(ApiToken, token_id)
        assert token is not None
        assert (token.user_id, token.name, token.last_used_at) == (ana.id, "build server", None)


@pytest.mark.parametrize("name", [None, "", "   "])
def test_token_name_defaults_when_missing_or_blank(
    app: Flask, make_user: MakeUser, name: str | None
) -> None:
    ana = make_user("ana")
    with app.app_context():
        token, _ = tokens.create_token(ana, name)
        assert token.name == "API token"


def test_token_name_of_64_characters_is_accepted(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    with app.app_context():
        token, _ = tokens.create_token(ana, "n" * 64)
        assert token.name == "n" * 64
    assert count(app, ApiToken) == 1


def test_token_name_of_65_characters_is_refused(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    with app.app_context(), pytest.raises(Invalid) as caught:
        tokens.create_token(ana, "n" * 65)
    assert set(caught.value.fields) == {"name"}
    assert count(app, ApiToken) == 0


def test_list_tokens_shows_only_the_users_own(app: Flask, make_user: MakeUser) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    first, _ = new_token(app, ana, "one")
    second, _ = new_token(app, ana, "two")
    new_token(app, bob, "bobs")
    with app.app_context():
        listed = [(t.id, t.name) for t in tokens.list_tokens(ana)]
    assert listed == [(first, "one"), (second, "two")]


def test_revoke_token_deletes_it(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    token_id, secret = new_token(app, ana)
    with app.app_context():
        tokens.revoke_token(ana, token_id)
    assert count(app, ApiToken) == 0
    assert user_id_for(app, secret) is None


def test_revoking_another_users_token_is_not_found(app: Flask, make_user: MakeUser) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    token_id, secret = new_token(app, ana)
    with app.app_context(), pytest.raises(NotFound) as caught:
        tokens.revoke_token(bob, token_id)
    assert count(app, ApiToken) == 1
    assert user_id_for(app, secret) == ana.id
    with app.app_context(), pytest.raises(NotFound) as missing:
        tokens.revoke_token(bob, token_id + 1000)
    # Someone else's token and no token at all look alike.
    assert (caught.value.message, caught.value.code) == (missing.value.message, missing.value.code)


def test_user_for_token_finds_the_owner(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    make_user("bob")
    _, secret = new_token(app, ana)
    assert user_id_for(app, secret) == ana.id


def test_user_for_token_notes_when_it_was_used(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    token_id, secret = new_token(app, ana)
    user_id_for(app, secret)
    with app.app_context():
        token = db.session.get(ApiToken, token_id)
        assert token is not None
        assert token.last_used_at is not None


@pytest.mark.parametrize(
    "secret", ["", "hbb_", "hbb_not-a-real-token", "not even a token"], ids=repr
)
def test_user_for_token_is_none_for_unknown_secret(
    app: Flask, make_user: MakeUser, secret: str
) -> None:
    ana = make_user("ana")
    new_token(app, ana)
    assert user_id_for(app, secret) is None


def test_user_for_token_is_none_for_the_stored_hash(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    _, secret = new_token(app, ana)
    # A leaked copy of the table must not work as a credential.
    assert user_id_for(app, hashlib.sha256(secret.encode()).hexdigest()) is None


def test_user_for_token_is_none_after_revocation(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    token_id, secret = new_token(app, ana)
    _, kept = new_token(app, ana)
    with app.app_context():
        tokens.revoke_token(ana, token_id)
    assert user_id_for(app, secret) is None
    assert user_id_for(app, kept) == ana.id


def test_user_for_token_is_none_for_a_deactivated_user(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    _, secret = new_token(app, ana)
    with app.app_context():
        db.session.execute(update(User).where(User.id == ana.id).values(is_active=False))
        db.session.commit()
    assert user_id_for(app, secret) is None
