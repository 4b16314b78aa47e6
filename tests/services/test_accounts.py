"""Account services: registration rules, authentication and password changes, called directly."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import argon2
import pytest
from flask import Flask
from sqlalchemy import func, select, update

from hubbub.models import User, WebSession, db
from hubbub.services import accounts
from hubbub.services.errors import Conflict, Invalid, Unauthenticated
from tests.support import PASSWORD, count, login

MakeUser = Callable[..., User]
NEW_PASSWORD = "another long and winding road"  # noqa: S105  (a test account)


def passphrase(length: int) -> str:
    """An uncommon password of exactly `length` characters."""
    return ("tangerine moss under the viaduct " * 5)[:length]


def stored_hash(app: Flask, user_id: int) -> str:
    with app.app_context():
        value = db.session.scalar(select(User.password_hash).where(User.id == user_id))
        assert value is not None
        return value


def sessions_of(app: Flask, user_id: int) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                select(func.count()).select_from(WebSession).where(WebSession.user_id == user_id)
            )
            or 0
        )


def deactivate(app: Flask, user_id: int) -> None:
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(is_active=False))
        db.session.commit()


# Registration


def test_register_stores_username_and_email_lower_cased(app: Flask) -> None:
    with app.app_context():
        user = accounts.register_user("Ana.B_1-x", "Ana@Example.COM", PASSWORD)
        assert (user.username, user.email) == ("ana.b_1-x", "ana@example.com")
        assert user.is_active
    assert count(app, User) == 1


def test_register_hashes_the_password_with_argon2id(app: Flask) -> None:
    with app.app_context():
        user = accounts.register_user("ana", "ana@example.com", PASSWORD)
        assert PASSWORD not in user.password_hash
        assert argon2.extract_parameters(user.password_hash).type is argon2.Type.ID


@pytest.mark.parametrize("username", ["abc", "a" * 32, "a.b", "a_b", "a-b", "007"])
def test_register_accepts_usernames_within_the_rule(app: Flask, username: str) -> None:
    with app.app_context():
        user = accounts.register_user(username, "someone@example.com", PASSWORD)
        assert user.username == username
    assert count(app, User) == 1


@pytest.mark.parametrize(
    "username",
    ["ab", "a" * 33, "an a", "anä", "a/b", "ana@home", "", "   "],
    ids=["2-chars", "33-chars", "space", "umlaut", "slash", "at-sign", "empty", "blank"],
)
def test_register_refuses_invalid_username(app: Flask, username: str) -> None:
    with app.app_context(), pytest.raises(Invalid) as caught:
        accounts.register_user(username, "someone@example.com", PASSWORD)
    assert set(caught.value.fields) == {"username"}
    assert caught.value.fields["username"]
    assert count(app, User) == 0


def test_username_uniqueness_ignores_case(app: Flask, make_user: MakeUser) -> None:
    make_user("ana")
    with app.app_context(), pytest.raises(Conflict) as caught:
        accounts.register_user("Ana", "other@example.com", PASSWORD)
    assert set(caught.value.fields) == {"username"}
    assert count(app, User) == 1


@pytest.mark.parametrize("email", ["not-an-email", "ana@", "@example.com", "ana @example.com", ""])
def test_register_refuses_invalid_email(app: Flask, email: str) -> None:
    with app.app_context(), pytest.raises(Invalid) as caught:
        accounts.register_user("ana", email, PASSWORD)
    assert set(caught.value.fields) == {"email"}
    assert count(app, User) == 0


def test_email_uniqueness_ignores_case(app: Flask, make_user: MakeUser) -> None:
    make_user("ana", email="ana@example.com")
    with app.app_context(), pytest.raises(Conflict) as caught:
        accounts.register_user("bob", "ANA@Example.com", PASSWORD)
    assert set(caught.value.fields) == {"email"}
    assert count(app, User) == 1


def test_taken_username_and_email_are_both_reported(app: Flask, make_user: MakeUser) -> None:
    make_user("ana", email="ana@example.com")
    with app.app_context(), pytest.raises(Conflict) as caught:
        accounts.register_user("ANA", "ana@EXAMPLE.com", PASSWORD)
    assert set(caught.value.fields) == {"username", "email"}
    assert count(app, User) == 1


def test_every_invalid_field_is_reported_at_once(app: Flask) -> None:
    with app.app_context(), pytest.raises(Invalid) as caught:
        accounts.register_user("a", "nope", "short")
    assert set(caught.value.fields) == {"username", "email", "password"}
    assert count(app, User) == 0


@pytest.mark.parametrize("length", [11, 129])
def test_register_refuses_password_outside_length_limits(app: Flask, length: int) -> None:
    with app.app_context(), pytest.raises(Invalid) as caught:
        accounts.register_user("ana", "ana@example.com", passphrase(length))
    assert set(caught.value.fields) == {"password"}
    assert count(app, User) == 0


@pytest.mark.parametrize("length", [12, 128])
def test_register_accepts_password_at_length_limits(app: Flask, length: int) -> None:
    password = passphrase(length)
    with app.app_context():
        accounts.register_user("ana", "ana@example.com", password)
        assert accounts.authenticate("ana", password).username == "ana"
    assert count(app, User) == 1


@pytest.mark.parametrize(
    "password",
    [
        "🦊🌲🦊🌲🦊🌲🦊🌲🦊🌲🦊🌲",
        "пароль для тихой реки",
        "静かな川の長いパスワード",
        "ça déborde, l'été",
    ],
    ids=["emoji", "cyrillic", "japanese", "accents"],
)
def test_register_accepts_any_unicode_password(app: Flask, password: str) -> None:
    with app.app_context():
        accounts.register_user("ana", "ana@example.com", password)
        assert accounts.authenticate("ana", password).username == "ana"
    assert count(app, User) == 1


@pytest.mark.parametrize("password", ["qwerty123456", "QWERTY123456", "1qaz2wsx3edc"])
def test_register_refuses_common_password(app: Flask, password: str) -> None:
    with app.app_context(), pytest.raises(Invalid) as caught:
        accounts.register_user("ana", "ana@example.com", password)
    assert set(caught.value.fields) == {"password"}
    assert count(app, User) == 0


# Authentication


@pytest.mark.parametrize("login_as", ["ana", "ANA", "ana@example.com", "Ana@Example.COM"])
def test_authenticate_by_username_or_email_in_any_case(
    app: Flask, make_user: MakeUser, login_as: str
) -> None:
    ana = make_user("ana", email="ana@example.com")
    with app.app_context():
        assert accounts.authenticate(login_as, PASSWORD).id == ana.id


def test_wrong_password_and_unknown_user_get_the_same_answer(
    app: Flask, make_user: MakeUser
) -> None:
    make_user("ana")
    with app.app_context():
        with pytest.raises(Unauthenticated) as wrong_password:
            accounts.authenticate("ana", "not the password at all")
        with pytest.raises(Unauthenticated) as unknown_user:
            accounts.authenticate("nobody", PASSWORD)
        with pytest.raises(Unauthenticated) as unknown_email:
            accounts.authenticate("nobody@example.com", PASSWORD)
    refusals = (wrong_password, unknown_user, unknown_email)
    answers = {(e.value.message, e.value.code, e.value.status) for e in refusals}
    assert len(answers) == 1
    assert wrong_password.value.fields == {}


def test_deactivated_user_cannot_authenticate(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    deactivate(app, ana.id)
    with app.app_context():
        with pytest.raises(Unauthenticated) as deactivated:
            accounts.authenticate("ana", PASSWORD)
        with pytest.raises(Unauthenticated) as unknown:
            accounts.authenticate("nobody", PASSWORD)
    assert (deactivated.value.message, deactivated.value.code) == (
        unknown.value.message,
        unknown.value.code,
    )


def test_login_containing_a_nul_character_is_simply_unknown(
    app: Flask, make_user: MakeUser
) -> None:
    make_user("ana")
    with app.app_context(), pytest.raises(Unauthenticated):
        accounts.authenticate("ana\x00", PASSWORD)


@pytest.fixture
def verify_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every argon2 verification while still performing it."""
    calls: list[str] = []
    real_verify = argon2.PasswordHasher.verify

    def counting_verify(
        self: argon2.PasswordHasher, hash: str | bytes, password: str | bytes
    ) -> bool:
        calls.append(str(hash))
        return real_verify(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting_verify)
    return calls


@pytest.mark.parametrize("login_as", ["nobody", "nobody@example.com"])
def test_unknown_login_costs_one_argon2_verification(
    app: Flask, make_user: MakeUser, verify_calls: list[str], login_as: str
) -> None:
    make_user("ana")
    with app.app_context(), pytest.raises(Unauthenticated):
        accounts.authenticate(login_as, PASSWORD)
    assert len(verify_calls) == 1
    assert argon2.extract_parameters(verify_calls[0]).type is argon2.Type.ID


def test_unknown_login_verifies_against_a_hash_of_the_current_cost(
    app: Flask, make_user: MakeUser, verify_calls: list[str]
) -> None:
    ana = make_user("ana")
    with app.app_context(), pytest.raises(Unauthenticated):
        accounts.authenticate("nobody", PASSWORD)
    real = argon2.extract_parameters(stored_hash(app, ana.id))
    dummy = argon2.extract_parameters(verify_calls[0])
    assert (dummy.time_cost, dummy.memory_cost, dummy.parallelism) == (
        real.time_cost,
        real.memory_cost,
        real.parallelism,
    )


@pytest.mark.parametrize("password", [PASSWORD, "not the password at all"])
def test_known_login_costs_one_argon2_verification(
    app: Flask, make_user: MakeUser, verify_calls: list[str], password: str
) -> None:
    make_user("ana")
    with app.app_context(), contextlib.suppress(Unauthenticated):
        accounts.authenticate("ana", password)
    assert len(verify_calls) == 1


def test_deactivated_user_costs_one_argon2_verification(
    app: Flask, make_user: MakeUser, verify_calls: list[str]
) -> None:
    ana = make_user("ana")
    deactivate(app, ana.id)
    with app.app_context(), pytest.raises(Unauthenticated):
        accounts.authenticate("ana", PASSWORD)
    assert len(verify_calls) == 1


def test_hash_is_upgraded_when_the_cost_settings_change(
    app: Flask, make_app: Callable[..., Flask], make_user: MakeUser
) -> None:
    ana = make_user("ana")
    assert argon2.extract_parameters(stored_hash(app, ana.id)).time_cost == 1
    stronger = make_app(ARGON2_TIME_COST=2)
    with stronger.app_context():
        accounts.authenticate("ana", PASSWORD)
    upgraded = stored_hash(stronger, ana.id)
    assert argon2.extract_parameters(upgraded).time_cost == 2
    with stronger.app_context():
        assert accounts.authenticate("ana", PASSWORD).id == ana.id


def test_hash_is_not_upgraded_by_a_wrong_password(
    app: Flask, make_app: Callable[..., Flask], make_user: MakeUser
) -> None:
    ana = make_user("ana")
    before = stored_hash(app, ana.id)
    stronger = make_app(ARGON2_TIME_COST=2)
    with stronger.app_context(), pytest.raises(Unauthenticated):
        accounts.authenticate("ana", "not the password at all")
    assert stored_hash(stronger, ana.id) == before


def test_hash_is_kept_when_the_cost_settings_are_unchanged(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    before = stored_hash(app, ana.id)
    with app.app_context():
        accounts.authenticate("ana", PASSWORD)
    assert stored_hash(app, ana.id) == before


# Password changes


def test_change_password_refuses_a_wrong_current_password(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    before = stored_hash(app, ana.id)
    with app.app_context(), pytest.raises(Invalid) as caught:
        user = db.session.get(User, ana.id)
        assert user is not None
        accounts.change_password(user, "not the password at all", NEW_PASSWORD)
    assert set(caught.value.fields) == {"current_password"}
    assert stored_hash(app, ana.id) == before


@pytest.mark.parametrize("new_password", [passphrase(11), passphrase(129), "qwerty123456"])
def test_change_password_refuses_a_bad_new_password(
    app: Flask, make_user: MakeUser, new_password: str
) -> None:
    ana = make_user("ana")
    before = stored_hash(app, ana.id)
    with app.app_context(), pytest.raises(Invalid) as caught:
        user = db.session.get(User, ana.id)
        assert user is not None
        accounts.change_password(user, PASSWORD, new_password)
    assert set(caught.value.fields) == {"new_password"}
    assert stored_hash(app, ana.id) == before


def test_change_password_replaces_the_password(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    with app.app_context():
        user = db.session.get(User, ana.id)
        assert user is not None
        accounts.change_password(user, PASSWORD, NEW_PASSWORD)
    with app.app_context():
        assert accounts.authenticate("ana", NEW_PASSWORD).id == ana.id
        with pytest.raises(Unauthenticated):
            accounts.authenticate("ana", PASSWORD)


def test_change_password_ends_every_session_of_that_user_only(
    app: Flask, make_user: MakeUser
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    laptop, phone, bobs = app.test_client(), app.test_client(), app.test_client()
    assert login(laptop, "ana").status_code == 302
    assert login(phone, "ana").status_code == 302
    assert login(bobs, "bob").status_code == 302
    assert sessions_of(app, ana.id) == 2
    assert sessions_of(app, bob.id) == 1

    with app.app_context():
        user = db.session.get(User, ana.id)
        assert user is not None
        accounts.change_password(user, PASSWORD, NEW_PASSWORD)

    assert sessions_of(app, ana.id) == 0
    assert sessions_of(app, bob.id) == 1
    assert laptop.get("/dashboard").status_code == 302
    assert bobs.get("/dashboard").status_code == 200


def test_failed_password_change_keeps_the_sessions(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    assert login(app.test_client(), "ana").status_code == 302
    with app.app_context(), pytest.raises(Invalid):
        user = db.session.get(User, ana.id)
        assert user is not None
        accounts.change_password(user, "not the password at all", NEW_PASSWORD)
    assert sessions_of(app, ana.id) == 1
