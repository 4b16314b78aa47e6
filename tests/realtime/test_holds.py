"""Ending access ends open streams: logout, password change, token revocation and deactivation.

The streams are real WebSockets to an in-process server. Only hang guards bound the waits; the
seconds from the revoking request to the close are printed (run with -s to see them), never
asserted.
"""

from __future__ import annotations

import json
import struct
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import websocket
from flask import Flask
from flask.testing import FlaskClient

from hubbub.models import User, WebSession, db
from hubbub.realtime.holds import Holds
from hubbub.realtime.live import live_of
from hubbub.services.credentials import SESSION, TOKEN, Credential
from hubbub.sessions import token_hash
from tests.support import PASSWORD, bearer, csrf_token, login, logout
from tests.support.api import API, create_group, ok, send
from tests.support.people import Person
from tests.support.streams import (
    GUARD,
    StreamClient,
    Streams,
    logged_events,
    refusal,
    refusal_error,
    wait_for_request_threads,
)

MakeUser = Callable[..., User]
Serve = Callable[[Flask], str]
COOKIE = "hubbub_session"
POLICY_VIOLATION = 1008
ENDED = "Your session has ended; log in again."
NEW_PASSWORD = "another calm and quiet lake"  # noqa: S105  (a test account)
# Checked more often than the default in most tests, only to make them quicker; the tests named
# "default" below run with the shipped setting.
QUICK = {"HUBBUB_ACCESS_CHECK_SECONDS": 0.5}


# ---- people, browsers and tokens -------------------------------------------------------------


@dataclass
class Browser:
    """A browser logged in through the form: its client and the cookie its streams carry."""

    client: FlaskClient
    user_id: int

    @property
    def cookie(self) -> str:
        stored = self.client.get_cookie(COOKIE)
        assert stored is not None, "this browser has no session cookie"
        return stored.value

    @property
    def credential(self) -> Credential:
        return Credential(SESSION, token_hash(self.cookie), self.user_id)


def browser(app: Flask, user: User, password: str = PASSWORD, same_device: bool = True) -> Browser:
    """Log in through the form.

    websocket-client and the long-polls below send no User-Agent. With same_device the test
    client sends none either, so Flask-Login sees the streams come from the browser that logged
    in; otherwise they come from another device, and it marks the session not fresh (a write
    to the session) during the stream's own request.
    """
    client = app.test_client()
    if same_device:
        client.environ_base.pop("HTTP_USER_AGENT", None)
    response = login(client, user.username, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return Browser(client, user.id)


def take_token(app: Flask, user: User, name: str = "script") -> tuple[int, str]:
    """POST /tokens with login and password, as a script does; the token's id and secret."""
    response = app.test_client().post(
        f"{API}/tokens", json={"login": user.username, "password": PASSWORD, "name": name}
    )
    body = ok(response, 201)
    return body["id"], body["token"]


def as_person(app: Flask, user: User, secret: str) -> Person:
    return Person(user=user, token=secret, client=app.test_client())


def change_password(client: FlaskClient, current: str = PASSWORD, new: str = NEW_PASSWORD) -> Any:
    token = csrf_token(client, "/settings/password")
    data = {"csrf_token": token, "current_password": current, "new_password": new, "confirm": new}
    return client.post("/settings/password", data=data)


# ---- streams ---------------------------------------------------------------------------------


def by_cookie(streams: Streams, base: str, who: Browser) -> StreamClient:
    stream = streams.open(base, cookie=who.cookie, origin=base)
    assert stream.ready["type"] == "ready"
    return stream


def by_token(streams: Streams, base: str, secret: str) -> StreamClient:
    stream = streams.open(base, secret)
    assert stream.ready["type"] == "ready"
    return stream


def closing(stream: StreamClient, guard: float = GUARD) -> tuple[int | None, str]:
    """Read on until the server closes the stream; its close code and reason.

    Fails if the stream is still open when the hang guard runs out, or if the connection
    drops without a close frame.
    """
    deadline = time.monotonic() + guard
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"hang guard ({guard:.0f} s): the stream is still open")
        stream.ws.settimeout(remaining)
        try:
            opcode, frame = stream.ws.recv_data_frame(control_frame=True)
        except websocket.WebSocketTimeoutException:
            raise AssertionError(f"hang guard ({guard:.0f} s): the stream is still open") from None
        except websocket.WebSocketConnectionClosedException:
            raise AssertionError("the connection dropped without a close frame") from None
        data = frame.data if hasattr(frame, "data") else frame
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            stream.ws.shutdown()
            raw = data.encode() if isinstance(data, str) else bytes(data)
            code = struct.unpack("!H", raw[:2])[0] if len(raw) >= 2 else None
            return code, raw[2:].decode()
        if opcode == websocket.ABNF.OPCODE_TEXT:
            stream.frames.append(json.loads(data))


def ends_for_revocation(stream: StreamClient, revoked_at: float, label: str) -> None:
    """The stream closes with 1008 and the reason a page shows; prints how long it took."""
    code, reason = closing(stream)
    took = time.monotonic() - revoked_at
    print(f"\nrevoke-to-close [{label}]: {took:.2f} s")
    assert (code, reason) == (POLICY_VIOLATION, ENDED)
    # The server is done with it, its request finished to the last write.
    assert stream.server_thread is not None, "could not tell which server thread is the stream's"
    stream.server_thread.join(GUARD)
    assert not stream.server_thread.is_alive(), "the server kept the stream after closing it"


class Sweeps:
    """Counts the access sweeps the watchers finish, so a test can let a few more go by."""

    def __init__(self) -> None:
        self.done = 0
        self._changed = threading.Condition()

    def wrap(self, sweep: Callable[[Holds], int]) -> Callable[[Holds], int]:
        def counted(holds: Holds) -> int:
            try:
                return sweep(holds)
            finally:
                with self._changed:
                    self.done += 1
                    self._changed.notify_all()

        return counted

    def let_pass(self, how_many: int = 2) -> None:
        with self._changed:
            target = self.done + how_many
            assert self._changed.wait_for(lambda: self.done >= target, timeout=GUARD), (
                f"hang guard: no {how_many} access sweeps within {GUARD:.0f} s"
            )


@pytest.fixture
def sweeps(monkeypatch: pytest.MonkeyPatch) -> Sweeps:
    counter = Sweeps()
    monkeypatch.setattr(Holds, "sweep", counter.wrap(Holds.sweep))
    return counter


def ended_holds(app: Flask) -> list[Credential]:
    return [h.credential for h in live_of(app).holds if h.ended.is_set()]


def stay_open_and_live(
    app: Flask,
    sweeps: Sweeps,
    sender: Person,
    conversation_id: int,
    survivors: list[StreamClient],
) -> None:
    """After more sweeps have gone by, every survivor still gets what is sent next."""
    sweeps.let_pass(2)
    assert ended_holds(app) == []
    message = send(sender, conversation_id, f"still there? {time.monotonic()}")
    event = logged_events(app)[-1]
    assert event["data"]["message"]["id"] == message["id"]
    for stream in survivors:
        received = stream.through(event["id"])
        assert received[-1]["id"] == event["id"]


def refused_again(base: str, **credential: str) -> dict[str, Any]:
    """Opening a new stream with the same credential is refused at the handshake with 401."""
    if "cookie" in credential:
        credential = {**credential, "origin": base}
    refused = refusal(base, **credential)
    assert refused.status_code == 401, refused.resp_body
    return refusal_error(refused)


# ---- browser sessions ------------------------------------------------------------------------


def test_default_logging_out_ends_that_sessions_stream_and_no_other(
    app: Flask, make_user: MakeUser, serve: Serve, streams: Streams, sweeps: Sweeps
) -> None:
    assert app.config["HUBBUB_ACCESS_CHECK_SECONDS"] == 2.0  # the shipped setting
    base = serve(app)
    ana, ben = make_user("ana"), make_user("ben")
    phone, laptop, bens = browser(app, ana), browser(app, ana), browser(app, ben)
    ana_token = take_token(app, ana)[1]
    ben_token = take_token(app, ben)[1]
    group = create_group(as_person(app, ana, ana_token), "Plans", as_person(app, ben, ben_token))
    phone_cookie = phone.cookie

    on_phone = by_cookie(streams, base, phone)
    on_laptop = by_cookie(streams, base, laptop)
    ana_script = by_token(streams, base, ana_token)
    bens_stream = by_cookie(streams, base, bens)

    assert logout(phone.client).status_code == 302
    ends_for_revocation(on_phone, time.monotonic(), "logout, default check interval")

    error = refused_again(base, cookie=phone_cookie)
    assert error["code"] == "unauthenticated"
    stay_open_and_live(
        app,
        sweeps,
        as_person(app, ben, ben_token),
        group["id"],
        [on_laptop, ana_script, bens_stream],
    )
    # The laptop's session still works for everything else, too.
    assert laptop.client.get("/dashboard").status_code == 200


def test_changing_the_password_ends_every_stream_of_that_user_the_changing_browsers_too(
    make_app: Callable[..., Flask],
    make_user: MakeUser,
    serve: Serve,
    streams: Streams,
    sweeps: Sweeps,
) -> None:
    """The change ends every session and token of the user, the changing browser's session as
    well: that browser is logged in anew with a fresh cookie, and its old stream closes too."""
    app = make_app(**QUICK)
    base = serve(app)
    ana, ben = make_user("ana"), make_user("ben")
    phone, laptop, bens = browser(app, ana), browser(app, ana), browser(app, ben)
    token_id, ana_token = take_token(app, ana)
    ben_token = take_token(app, ben)[1]
    group = create_group(as_person(app, ben, ben_token), "Plans", as_person(app, ana, ana_token))
    old_cookies = {"phone": phone.cookie, "laptop": laptop.cookie}

    on_phone = by_cookie(streams, base, phone)
    on_laptop = by_cookie(streams, base, laptop)
    ana_script = by_token(streams, base, ana_token)
    bens_stream = by_cookie(streams, base, bens)

    answer = change_password(laptop.client)
    changed_at = time.monotonic()
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert answer.headers["Location"] == "/dashboard"
    assert laptop.cookie != old_cookies["laptop"]

    ends_for_revocation(on_phone, changed_at, "password change: another session")
    ends_for_revocation(on_laptop, changed_at, "password change: the changing browser's stream")
    ends_for_revocation(ana_script, changed_at, "password change: token stream")

    for cookie in old_cookies.values():
        assert refused_again(base, cookie=cookie)["code"] == "unauthenticated"
    assert refused_again(base, token=ana_token)["code"] == "invalid_token"
    assert phone.client.get("/dashboard").status_code == 302

    # The changing browser's new session opens a stream that stays, like ben's.
    renewed = by_cookie(streams, base, laptop)
    stay_open_and_live(
        app, sweeps, as_person(app, ben, ben_token), group["id"], [renewed, bens_stream]
    )
    # The revoked token's id names nothing any more.
    assert token_id not in {t["id"] for t in ok(laptop.client.get(f"{API}/tokens"))["tokens"]}


def test_deactivating_a_user_from_the_command_line_ends_their_streams(
    make_app: Callable[..., Flask],
    make_user: MakeUser,
    serve: Serve,
    streams: Streams,
    sweeps: Sweeps,
) -> None:
    app = make_app(**QUICK)
    base = serve(app)
    ana, ben = make_user("ana"), make_user("ben")
    anas, bens = browser(app, ana), browser(app, ben)
    ana_token = take_token(app, ana)[1]
    ben_token = take_token(app, ben)[1]
    group = create_group(as_person(app, ben, ben_token), "Plans", as_person(app, ana, ana_token))
    ana_cookie = anas.cookie

    ana_page = by_cookie(streams, base, anas)
    ana_script = by_token(streams, base, ana_token)
    ben_page = by_cookie(streams, base, bens)
    ben_script = by_token(streams, base, ben_token)

    result = app.test_cli_runner().invoke(args=["users", "deactivate", "ana"])
    deactivated_at = time.monotonic()
    assert result.exit_code == 0, result.output

    ends_for_revocation(ana_page, deactivated_at, "deactivation: session stream")
    ends_for_revocation(ana_script, deactivated_at, "deactivation: token stream")
    assert refused_again(base, cookie=ana_cookie)["code"] == "unauthenticated"
    assert refused_again(base, token=ana_token)["code"] == "invalid_token"
    stay_open_and_live(
        app, sweeps, as_person(app, ben, ben_token), group["id"], [ben_page, ben_script]
    )

    # Let back in, ana logs in anew and her new stream stays.
    result = app.test_cli_runner().invoke(args=["users", "activate", "ana"])
    assert result.exit_code == 0, result.output
    again = by_cookie(streams, base, browser(app, ana))
    stay_open_and_live(app, sweeps, as_person(app, ben, ben_token), group["id"], [again])


# ---- API tokens ------------------------------------------------------------------------------


def test_revoking_a_token_ends_its_stream_and_not_the_users_others(
    make_app: Callable[..., Flask],
    make_user: MakeUser,
    serve: Serve,
    streams: Streams,
    sweeps: Sweeps,
) -> None:
    app = make_app(**QUICK)
    base = serve(app)
    ana, ben = make_user("ana"), make_user("ben")
    bot_id, bot = take_token(app, ana, "bot")
    _, laptop = take_token(app, ana, "laptop")
    ben_token = take_token(app, ben)[1]
    anas = browser(app, ana)
    group = create_group(as_person(app, ben, ben_token), "Plans", as_person(app, ana, laptop))

    bot_stream = by_token(streams, base, bot)
    laptop_stream = by_token(streams, base, laptop)
    page_stream = by_cookie(streams, base, anas)
    ben_stream = by_token(streams, base, ben_token)

    answer = app.test_client().delete(f"{API}/tokens/{bot_id}", headers=bearer(laptop))
    revoked_at = time.monotonic()
    assert answer.status_code == 204, answer.get_data(as_text=True)

    ends_for_revocation(bot_stream, revoked_at, "DELETE /tokens/<id>")
    assert refused_again(base, token=bot)["code"] == "invalid_token"
    stay_open_and_live(
        app,
        sweeps,
        as_person(app, ben, ben_token),
        group["id"],
        [laptop_stream, page_stream, ben_stream],
    )


def test_a_token_stream_ends_when_its_owner_changes_the_password_in_a_browser(
    make_app: Callable[..., Flask],
    make_user: MakeUser,
    serve: Serve,
    streams: Streams,
    sweeps: Sweeps,
) -> None:
    app = make_app(**QUICK)
    base = serve(app)
    ana, ben = make_user("ana"), make_user("ben")
    _, ana_token = take_token(app, ana)
    ben_token = take_token(app, ben)[1]
    group = create_group(as_person(app, ben, ben_token), "Plans", as_person(app, ana, ana_token))
    script = by_token(streams, base, ana_token)
    ben_stream = by_token(streams, base, ben_token)

    answer = change_password(browser(app, ana).client)
    changed_at = time.monotonic()
    assert answer.status_code == 302, answer.get_data(as_text=True)

    ends_for_revocation(script, changed_at, "password change: token stream")
    assert refused_again(base, token=ana_token)["code"] == "invalid_token"
    stay_open_and_live(app, sweeps, as_person(app, ben, ben_token), group["id"], [ben_stream])


def test_default_a_revoked_tokens_stream_ends_though_a_new_token_is_taken_at_once(
    app: Flask, make_user: MakeUser, serve: Serve, streams: Streams
) -> None:
    """A script whose token the password change revoked logs in again right away.

    Its old stream must still end. (On SQLite the new token is given the deleted token's id.)
    """
    base = serve(app)
    ana = make_user("ana")
    old_id, old_token = take_token(app, ana)
    script = by_token(streams, base, old_token)

    answer = change_password(browser(app, ana).client)
    changed_at = time.monotonic()
    assert answer.status_code == 302, answer.get_data(as_text=True)
    fresh = app.test_client().post(f"{API}/tokens", json={"login": "ana", "password": NEW_PASSWORD})
    new_id = ok(fresh, 201)["id"]
    print(f"\nold token id {old_id}, new token id {new_id}")

    ends_for_revocation(script, changed_at, "password change, then a new token at once")


# ---- the long-poll ---------------------------------------------------------------------------


class LongPoll:
    """GET /events?after=..&timeout=.. over real HTTP, in its own thread."""

    def __init__(self, base: str, after: int, headers: dict[str, str]) -> None:
        url = f"{base}{API}/events?after={after}&timeout=30"
        self.request = urllib.request.Request(url, headers=headers)  # noqa: S310 - local http
        self.status: int | None = None
        self.body: Any = None
        self.error: BaseException | None = None
        self.answered_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="long-poll", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        opener = urllib.request.build_opener()
        opener.addheaders = []  # no User-Agent, as from the browser that logged in (see browser)
        try:
            with opener.open(self.request, timeout=GUARD * 3) as response:
                self.status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            self.status, raw = error.code, error.read()
        except BaseException as error:  # handed to the test's thread
            self.error = error
            return
        finally:
            self.answered_at = time.monotonic()
        self.body = json.loads(raw)

    def answer(self) -> tuple[int | None, Any]:
        self._thread.join(GUARD * 3)
        assert not self._thread.is_alive(), "hang guard: the long-poll never answered"
        if self.error is not None:
            raise self.error
        return self.status, self.body


def wait_for_hold(app: Flask, credential: Credential) -> None:
    """The long-poll has come in and is waiting, holding this credential."""
    deadline = time.monotonic() + GUARD
    while credential not in {h.credential for h in live_of(app).holds}:
        assert time.monotonic() < deadline, f"hang guard: no request holds {credential}"
        time.sleep(0.02)


@pytest.mark.parametrize("kind", ["token", "session"])
def test_a_waiting_long_poll_answers_401_session_ended_once_its_credential_is_revoked(
    make_app: Callable[..., Flask], make_user: MakeUser, serve: Serve, kind: str
) -> None:
    app = make_app(**QUICK)
    base = serve(app)
    ana, ben = make_user("ana"), make_user("ben")
    ana_token_id, ana_token = take_token(app, ana)
    ben_token = take_token(app, ben)[1]
    anas = browser(app, ana)
    ben_person = as_person(app, ben, ben_token)
    group = create_group(ben_person, "Plans", as_person(app, ana, ana_token))
    end = ok(ben_person.get(f"{API}/events"))["last_id"]

    if kind == "token":
        ana_poll = LongPoll(base, end, bearer(ana_token))
        held = Credential(TOKEN, token_hash(ana_token), ana.id)
    else:
        ana_poll = LongPoll(base, end, {"Cookie": f"{COOKIE}={anas.cookie}"})
        held = anas.credential
    ben_poll = LongPoll(base, end, bearer(ben_token))
    wait_for_hold(app, held)
    wait_for_hold(app, Credential(TOKEN, token_hash(ben_token), ben.id))

    if kind == "token":
        answer = app.test_client().delete(f"{API}/tokens/{ana_token_id}", headers=bearer(ana_token))
        assert answer.status_code == 204, answer.get_data(as_text=True)
    else:
        assert logout(anas.client).status_code == 302
    revoked_at = time.monotonic()

    status, body = ana_poll.answer()
    assert ana_poll.answered_at is not None
    print(f"\nrevoke-to-answer [long-poll, {kind}]: {ana_poll.answered_at - revoked_at:.2f} s")
    assert status == 401, body
    assert body == {"error": {"code": "session_ended", "message": ENDED}}

    # ben's long-poll, waiting all along, is answered by the next message, not by an error.
    message = send(ben_person, group["id"], "for whoever still listens")
    status, body = ben_poll.answer()
    assert status == 200, body
    assert [e["data"]["message"]["id"] for e in body["events"]] == [message["id"]]


# ---- a session held open from another device -------------------------------------------------


@pytest.mark.parametrize("ending", ["logout", "password-change"])
@pytest.mark.parametrize("connection", ["stream", "long-poll"])
def test_a_session_ended_while_another_device_held_it_open_stays_ended(
    make_app: Callable[..., Flask],
    make_user: MakeUser,
    serve: Serve,
    streams: Streams,
    connection: str,
    ending: str,
) -> None:
    """The cookie is used from another device (a phone that changed networks, or a copied
    cookie): Flask-Login marks the session not fresh during the stream's own request. When
    that request finally ends, after the revocation closed it, the session must stay ended:
    its row must not be written back, and the cookie must not let anyone in again."""
    app = make_app(**QUICK)
    base = serve(app)
    ana = make_user("ana")
    laptop = browser(app, ana, same_device=False)
    desk = browser(app, ana)
    cookie = laptop.cookie
    held = laptop.credential

    poll = None
    if connection == "stream":
        stream = by_cookie(streams, base, laptop)
    else:
        end = ok(desk.client.get(f"{API}/events"))["last_id"]
        poll = LongPoll(base, end, {"Cookie": f"{COOKIE}={cookie}"})
        wait_for_hold(app, held)

    if ending == "logout":
        assert logout(laptop.client).status_code == 302
    else:
        assert change_password(desk.client).status_code == 302
    revoked_at = time.monotonic()

    if poll is None:
        ends_for_revocation(stream, revoked_at, f"{ending}, stream from another device")
    else:
        status, body = poll.answer()
        assert (status, body["error"]["code"]) == (401, "session_ended"), body
    wait_for_request_threads()

    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    assert thief.get("/dashboard").status_code == 302, "the ended session lets its cookie in again"
    assert thief.get(f"{API}/me").status_code == 401
    assert refused_again(base, cookie=cookie)["code"] == "unauthenticated"
    with app.app_context():
        assert db.session.get(WebSession, held.key) is None, "the ended session's row is back"
        db.session.remove()
