"""revoked_among: which credentials held by open connections no longer let anyone in."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, insert, select, update

from hubbub.models import ApiToken, User, WebSession, db, utcnow
from hubbub.services import accounts, credentials, tokens
from hubbub.services.credentials import SESSION, TOKEN, Credential
from hubbub.services.errors import Invalid
from hubbub.sessions import token_hash
from tests.support import PASSWORD, count, login, logout

MakeUser = Callable[..., User]
NEW_PASSWORD = "another calm and quiet lake"  # noqa: S105  (a test account)
COOKIE = "hubbub_session"


def browser_session(
    app: Flask, username: str, password: str = PASSWORD
) -> tuple[FlaskClient, Credential]:
    """Log in through the form as a browser does; its client and the credential a stream holds."""
    client = app.test_client()
    response = login(client, username, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    with app.app_context():
        user = accounts.find_user_by_login(username)
        assert user is not None
        user_id = user.id
    return client, Credential(SESSION, token_hash(cookie.value), user_id)


def api_token(app: Flask, user: User) -> Credential:
    with app.app_context():
        token, _ = tokens.create_token(user, "laptop")
        return Credential(TOKEN, token.token_hash, user.id)


def token_id(credential: Credential) -> int:
    """The id of a token credential's row (inside an app context)."""
    found = db.session.scalar(select(ApiToken.id).where(ApiToken.token_hash == credential.key))
    assert found is not None
    return int(found)


def revoked(app: Flask, *held: Credential) -> set[Credential]:
    with app.app_context():
        found = credentials.revoked_among(held)
        db.session.remove()
    return found


def set_active(app: Flask, username: str, active: bool) -> None:
    with app.app_context():
        accounts.set_active(username, active)


@pytest.fixture
def people(app: Flask, make_user: MakeUser) -> tuple[User, User]:
    return make_user("ana"), make_user("ben")


# ---- what still holds ------------------------------------------------------------------------


def test_a_live_session_and_a_live_token_are_not_revoked(
    app: Flask, people: tuple[User, User]
) -> None:
    ana, _ = people
    _, session = browser_session(app, "ana")
    token = api_token(app, ana)
    assert revoked(app, session, token) == set()


def test_nothing_asked_is_nothing_revoked(app: Flask, people: tuple[User, User]) -> None:
    assert revoked(app) == set()


def test_asking_writes_nothing(app: Flask, people: tuple[User, User]) -> None:
    ana, _ = people
    _, session = browser_session(app, "ana")
    token = api_token(app, ana)
    set_active(app, "ben", False)
    before = {model: count(app, model) for model in (User, WebSession, ApiToken)}
    gone = Credential(SESSION, "0" * 64, ana.id)
    assert revoked(app, session, token, gone) == {gone}
    assert {model: count(app, model) for model in (User, WebSession, ApiToken)} == before


# ---- what ends a credential ------------------------------------------------------------------


def test_logging_out_revokes_that_session_only(app: Flask, people: tuple[User, User]) -> None:
    ana, _ = people
    phone, on_phone = browser_session(app, "ana")
    _, on_laptop = browser_session(app, "ana")
    token = api_token(app, ana)
    assert on_phone != on_laptop

    assert logout(phone).status_code == 302

    assert revoked(app, on_phone, on_laptop, token) == {on_phone}


def test_an_expired_session_is_revoked_though_its_row_is_still_there(
    app: Flask, people: tuple[User, User]
) -> None:
    _, stale = browser_session(app, "ana")
    _, fresh = browser_session(app, "ana")
    with app.app_context():
        db.session.execute(
            update(WebSession)
            .where(WebSession.id == stale.key)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    sessions_before = count(app, WebSession)

    assert revoked(app, stale, fresh) == {stale}
    assert count(app, WebSession) == sessions_before


def test_a_revoked_token_is_revoked_and_the_others_are_not(
    app: Flask, people: tuple[User, User]
) -> None:
    ana, _ = people
    first, second = api_token(app, ana), api_token(app, ana)
    _, session = browser_session(app, "ana")
    with app.app_context():
        tokens.revoke_token(ana, token_id(first))

    assert revoked(app, first, second, session) == {first}


def test_deactivating_a_user_revokes_all_their_sessions_and_tokens(
    app: Flask, people: tuple[User, User]
) -> None:
    ana, ben = people
    _, ana_session = browser_session(app, "ana")
    _, ana_other_session = browser_session(app, "ana")
    ana_token = api_token(app, ana)
    _, ben_session = browser_session(app, "ben")
    ben_token = api_token(app, ben)

    set_active(app, "ana", False)

    assert revoked(app, ana_session, ana_other_session, ana_token, ben_session, ben_token) == {
        ana_session,
        ana_other_session,
        ana_token,
    }


def test_an_inactive_users_credentials_are_revoked_even_while_their_rows_remain(
    app: Flask, people: tuple[User, User]
) -> None:
    """The user's flag alone is enough, whoever turned it off and whatever rows are left."""
    ana, ben = people
    _, ana_session = browser_session(app, "ana")
    ana_token = api_token(app, ana)
    ben_token = api_token(app, ben)
    with app.app_context():
        db.session.execute(update(User).where(User.id == ana.id).values(is_active=False))
        db.session.commit()
    assert count(app, ApiToken) == 2

    assert revoked(app, ana_session, ana_token, ben_token) == {ana_session, ana_token}


def test_activating_again_does_not_bring_back_what_deactivation_ended(
    app: Flask, people: tuple[User, User]
) -> None:
    ana, _ = people
    _, old_session = browser_session(app, "ana")
    old_token = api_token(app, ana)
    set_active(app, "ana", False)
    set_active(app, "ana", True)
    _, new_session = browser_session(app, "ana")

    assert revoked(app, old_session, old_token, new_session) == {old_session, old_token}


def test_a_revoked_tokens_id_given_to_someone_elses_new_token_stays_revoked(
    app: Flask, people: tuple[User, User]
) -> None:
    """SQLite hands the highest id of a deleted row to the next insert (no AUTOINCREMENT).

    A stream holding the revoked token must not come back to life because ben, a moment later,
    takes a token of his own that happens to get the same id.
    """
    ana, ben = people
    ana_token = api_token(app, ana)
    with app.app_context():
        tokens.revoke_token(ana, token_id(ana_token))
    ben_token = api_token(app, ben)

    assert revoked(app, ana_token, ben_token) == {ana_token}


def test_a_token_ended_by_a_password_change_stays_revoked_after_a_new_token_is_taken(
    app: Flask, people: tuple[User, User]
) -> None:
    """A script whose token the password change revoked logs in again for a new one; the old
    token's streams must still end, whatever id the new token gets."""
    ana, _ = people
    old_token = api_token(app, ana)
    with app.app_context():
        user = db.session.get(User, ana.id)
        assert user is not None
        accounts.change_password(user, PASSWORD, NEW_PASSWORD)
    new_token = api_token(app, ana)

    assert revoked(app, old_token, new_token) == {old_token}


def test_changing_the_password_revokes_every_session_and_token_of_that_user(
    app: Flask, people: tuple[User, User]
) -> None:
    ana, ben = people
    _, ana_phone = browser_session(app, "ana")
    _, ana_laptop = browser_session(app, "ana")
    ana_tokens = [api_token(app, ana), api_token(app, ana)]
    _, ben_session = browser_session(app, "ben")
    ben_token = api_token(app, ben)

    with app.app_context():
        user = db.session.get(User, ana.id)
        assert user is not None
        accounts.change_password(user, PASSWORD, NEW_PASSWORD)

    assert revoked(app, ana_phone, ana_laptop, *ana_tokens, ben_session, ben_token) == {
        ana_phone,
        ana_laptop,
        *ana_tokens,
    }
    # What the new password makes is good again.
    _, after = browser_session(app, "ana", NEW_PASSWORD)
    assert revoked(app, after) == set()


def test_a_failed_password_change_revokes_nothing(app: Flask, people: tuple[User, User]) -> None:
    ana, _ = people
    _, session = browser_session(app, "ana")
    token = api_token(app, ana)
    with app.app_context():
        user = db.session.get(User, ana.id)
        assert user is not None
        with pytest.raises(Invalid):
            accounts.change_password(user, "not the right password", NEW_PASSWORD)
    assert revoked(app, session, token) == set()


def test_a_session_key_is_not_taken_for_a_token_id_nor_the_reverse(
    app: Flask, people: tuple[User, User]
) -> None:
    ana, _ = people
    _, session = browser_session(app, "ana")
    token = api_token(app, ana)
    crossed_session = Credential(SESSION, token.key, ana.id)
    crossed_token_ok = Credential(TOKEN, token.key, ana.id)
    assert revoked(app, crossed_session, crossed_token_ok, session) == {crossed_session}


# ---- many at once ----------------------------------------------------------------------------


@pytest.fixture
def statements(app: Flask) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement the app's engine runs while the test goes on."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_many_credentials_across_the_chunks_are_answered_in_one_call(
    app: Flask, people: tuple[User, User], statements: list[tuple[str, Any]]
) -> None:
    """More than one IN list's worth of each kind, alive and revoked mixed through every chunk."""
    ana, ben = people
    many = credentials.CHUNK * 2 + 1
    now = utcnow()
    alive: set[Credential] = set()
    ended: set[Credential] = set()
    session_rows, token_rows = [], []
    for n in range(many):
        owner = ana if n % 3 else ben  # ben is deactivated below
        key = f"{n:064x}"
        credential = Credential(SESSION, key, owner.id)
        if n % 5 == 1:
            ended.add(credential)  # never stored, or logged out long ago
        elif n % 5 == 2:
            session_rows.append(
                {"id": key, "user_id": owner.id, "data": "{}", "expires_at": now - timedelta(1)}
            )
            ended.add(credential)
        else:
            session_rows.append(
                {"id": key, "user_id": owner.id, "data": "{}", "expires_at": now + timedelta(1)}
            )
            (alive if owner is ana else ended).add(credential)
        token_id = n + 1
        token = Credential(TOKEN, key, owner.id)
        if n % 7 == 3:
            ended.add(token)  # revoked: no row
        else:
            token_rows.append(
                {"id": token_id, "user_id": owner.id, "name": "bot", "token_hash": key}
            )
            (alive if owner is ana else ended).add(token)
    with app.app_context():
        db.session.execute(insert(WebSession), session_rows)
        db.session.execute(insert(ApiToken), token_rows)
        db.session.execute(update(User).where(User.id == ben.id).values(is_active=False))
        db.session.commit()
    assert len(alive) > credentials.CHUNK and len(ended) > credentials.CHUNK
    statements.clear()

    # A generator, as the sweep passes: read once.
    with app.app_context():
        found = credentials.revoked_among(c for c in [*alive, *ended])
        db.session.remove()

    assert found == ended
    queries = [(s, p) for s, p in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) == 2 * math.ceil(many / credentials.CHUNK), [s for s, _ in queries]
    for _, parameters in queries:
        assert len(parameters) <= credentials.CHUNK + 2, "an IN list longer than one chunk"


def test_other_users_credentials_are_unaffected_by_everything_done_to_one(
    app: Flask, make_user: MakeUser
) -> None:
    ana, ben, cyd = make_user("ana"), make_user("ben"), make_user("cyd")
    ana_client, ana_session = browser_session(app, "ana")
    ana_token = api_token(app, ana)
    _, ben_session = browser_session(app, "ben")
    ben_token = api_token(app, ben)
    _, cyd_session = browser_session(app, "cyd")
    cyd_token = api_token(app, cyd)
    bystanders = {ben_session, ben_token, cyd_session, cyd_token}

    logout(ana_client)
    with app.app_context():
        tokens.revoke_token(ana, token_id(ana_token))
    assert revoked(app, ana_session, ana_token, *bystanders) == {ana_session, ana_token}

    with app.app_context():
        user = db.session.get(User, ana.id)
        assert user is not None
        accounts.change_password(user, PASSWORD, NEW_PASSWORD)
    set_active(app, "ana", False)
    assert revoked(app, *bystanders) == set()
