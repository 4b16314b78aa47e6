"""Ending access through one gunicorn process ends the streams another process holds open.

Two servers on one PostgreSQL database with a private Redis, both with the shipped
HUBBUB_ACCESS_CHECK_SECONDS. Streams opened on B, one by a session cookie and one by a bearer
token, close with 1008 after the session is logged out, or the token revoked, through A. Only
hang guards bound the waits; the seconds from the revoking answer to the close are printed
(run with -s, or -rP, to see them).
"""

from __future__ import annotations

import http.client
import json
import struct
import time
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

import websocket

from tests.support import CSRF_INPUT, PASSWORD
from tests.support.brokers import bus_settings
from tests.support.fixtures import ServerSettings
from tests.support.processes import (
    REQUEST_GUARD,
    Account,
    Processes,
    create_group,
    expect,
    register,
    request,
    send,
    start_hubbub,
    stream_url,
)

API = "/api/v1"
COOKIE = "hubbub_session"
POLICY_VIOLATION = 1008
ENDED = "Your session has ended; log in again."
# A hang guard only: nothing here asserts how fast a stream closes.
CLOSE_GUARD = 60.0
Frame = dict[str, Any]


# ---- a browser, over plain HTTP --------------------------------------------------------------


class Browser:
    """Keeps the session cookie as a browser would, and sends the forms a person sends."""

    def __init__(self) -> None:
        self.cookie: str | None = None

    def fetch(
        self, base: str, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        parts = urlsplit(base)
        assert parts.hostname is not None and parts.port is not None
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_GUARD)
        headers = {}
        body = None
        if self.cookie is not None:
            headers["Cookie"] = f"{COOKIE}={self.cookie}"
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            for value in response.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie(value)
                if COOKIE in jar:
                    self.cookie = jar[COOKIE].value or None
            return response.status, dict(response.headers), text
        finally:
            connection.close()

    def csrf(self, base: str, path: str) -> str:
        status, _, page = self.fetch(base, "GET", path)
        assert status == 200, f"GET {path}: HTTP {status}"
        match = CSRF_INPUT.search(page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def log_in(self, base: str, username: str) -> None:
        form = {"csrf_token": self.csrf(base, "/login"), "login": username, "password": PASSWORD}
        status, headers, page = self.fetch(base, "POST", "/login", form)
        assert status == 302 and headers["Location"] == "/dashboard", (status, page[:500])
        assert self.cookie is not None

    def log_out(self, base: str) -> None:
        form = {"csrf_token": self.csrf(base, "/dashboard")}
        status, _, page = self.fetch(base, "POST", "/logout", form)
        assert status == 302, (status, page[:500])


# ---- streams ---------------------------------------------------------------------------------


def open_stream(base: str, headers: list[str]) -> websocket.WebSocket:
    ws = websocket.create_connection(
        stream_url(base), header=headers, timeout=REQUEST_GUARD, suppress_origin=True
    )
    first = json.loads(ws.recv())
    assert first.get("type") == "ready", first
    return ws


def by_cookie(base: str, cookie: str) -> websocket.WebSocket:
    return open_stream(base, [f"Cookie: {COOKIE}={cookie}", f"Origin: {base}"])


def by_token(base: str, token: str) -> websocket.WebSocket:
    return open_stream(base, [f"Authorization: Bearer {token}"])


def closing(ws: websocket.WebSocket, guard: float = CLOSE_GUARD) -> tuple[int | None, str]:
    """Read on until the server closes; its close code and reason (or fail at the guard)."""
    deadline = time.monotonic() + guard
    while (remaining := deadline - time.monotonic()) > 0:
        ws.settimeout(remaining)
        try:
            opcode, frame = ws.recv_data_frame(control_frame=True)
        except websocket.WebSocketTimeoutException:
            break
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raw = bytes(frame.data)
            code = struct.unpack("!H", raw[:2])[0] if len(raw) >= 2 else None
            return code, raw[2:].decode()
    raise AssertionError(f"hang guard ({guard:.0f} s): the stream on B is still open")


def receives(ws: websocket.WebSocket, message_id: int, guard: float = CLOSE_GUARD) -> None:
    """The stream delivers message_id (fails if it closes first, or at the guard)."""
    deadline = time.monotonic() + guard
    while (remaining := deadline - time.monotonic()) > 0:
        ws.settimeout(remaining)
        opcode, frame = ws.recv_data_frame(control_frame=True)
        assert opcode != websocket.ABNF.OPCODE_CLOSE, f"the stream closed: {bytes(frame.data)!r}"
        if opcode == websocket.ABNF.OPCODE_TEXT:
            event = json.loads(frame.data)
            created = event.get("type") == "message.created"
            if created and event["data"]["message"]["id"] == message_id:
                return
    raise AssertionError(f"hang guard ({guard:.0f} s): message {message_id} did not arrive")


def refused(base: str, headers: list[str]) -> int:
    """The status of a handshake that must be refused."""
    try:
        ws = websocket.create_connection(
            stream_url(base), header=headers, timeout=REQUEST_GUARD, suppress_origin=True
        )
    except websocket.WebSocketBadStatusException as error:
        return error.status_code
    ws.shutdown()
    raise AssertionError("the handshake was accepted")


def token_id(base: str, who: Account) -> int:
    listed = expect(request(base, "GET", f"{API}/tokens", token=who.token), 200)["tokens"]
    assert len(listed) == 1, listed
    found: int = listed[0]["id"]
    return found


def test_default_streams_on_one_process_end_when_access_ends_through_another(
    postgres_url: str, processes: Processes, server_settings: ServerSettings
) -> None:
    # No HUBBUB_ACCESS_CHECK_SECONDS: the shipped setting.
    settings = server_settings(postgres_url, bus_settings("redis", processes))
    a = start_hubbub(processes, "hubbub-a", settings)
    b = start_hubbub(processes, "hubbub-b", settings)

    ana = register(a, "ana")
    ben = register(a, "ben")
    group = create_group(a, ben, "Plans", [ana])
    browser = Browser()
    browser.log_in(a, "ana")
    assert browser.cookie is not None
    cookie = browser.cookie
    ana_token_id = token_id(a, ana)

    opened: list[websocket.WebSocket] = []
    try:
        page = by_cookie(b, cookie)
        opened.append(page)
        script = by_token(b, ana.token)
        opened.append(script)
        bystander = by_token(b, ben.token)
        opened.append(bystander)

        # The session, logged out through A.
        browser.log_out(a)
        answered = time.monotonic()
        code, reason = closing(page)
        print(
            f"\nrevoke-to-close [session, logout on A, stream on B]: "
            f"{time.monotonic() - answered:.2f} s"
        )
        assert (code, reason) == (POLICY_VIOLATION, ENDED)

        # The token stays good, and its stream open, until it is revoked through A.
        message = send(a, ben, group, "after ana logged out")
        receives(script, message["id"])
        status, body = request(a, "DELETE", f"{API}/tokens/{ana_token_id}", token=ana.token)
        answered = time.monotonic()
        assert status == 204, body
        code, reason = closing(script)
        print(
            f"\nrevoke-to-close [token, DELETE on A, stream on B]: "
            f"{time.monotonic() - answered:.2f} s"
        )
        assert (code, reason) == (POLICY_VIOLATION, ENDED)

        # Someone else's stream on B hears what comes next; the ended ones cannot come back.
        message = send(a, ben, group, "after ana's token went")
        receives(bystander, message["id"])
        assert refused(b, [f"Cookie: {COOKIE}={cookie}", f"Origin: {b}"]) == 401
        assert refused(b, [f"Authorization: Bearer {ana.token}"]) == 401
    finally:
        for ws in opened:
            ws.shutdown()
