"""Servers run as processes (gunicorn, redis-server), and talking to them as clients do."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
import websocket

from hubbub.events.redis_bus import channel_for
from tests.support import PASSWORD, unavailable

API = "/api/v1"
STREAM = f"{API}/stream"
# Hang guards only: nothing here measures how fast anything happens.
START_GUARD = 30.0
REQUEST_GUARD = 60.0
STOP_GRACE = 5.0
# Sign-ups in these tests only need to work, not to resist cracking: keep argon2id cheap.
CHEAP_HASHING = {
    "HUBBUB_ARGON2_TIME_COST": "1",
    "HUBBUB_ARGON2_MEMORY_KIB": "256",
    "HUBBUB_ARGON2_PARALLELISM": "1",
}

Frame = dict[str, Any]


def free_port() -> int:
    """A TCP port nobody listens on right now, on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(
    what: str, check: Callable[[], bool], guard: float, details: Callable[[], str]
) -> None:
    """Poll check() until it holds; fail with details() when the hang guard runs out."""
    deadline = time.monotonic() + guard
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"hang guard ({guard:.0f} s): {what}\n{details()}")
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------
# Processes


@dataclass
class Process:
    """One child process, its output captured in a file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    # Run as this OS user (the tests may run as root, which PostgreSQL refuses).
    user: str | None = None

    def start(self) -> None:
        as_user: dict[str, Any] = {}
        if self.user is not None:
            as_user = {"user": self.user, "group": self.user, "extra_groups": []}
        with self.log.open("ab") as out:
            out.write(f"--- start: {' '.join(self.args)}\n".encode())
            out.flush()
            self.popen = subprocess.Popen(  # noqa: S603 - our own fixed command lines
                self.args, env=self.env, stdout=out, stderr=subprocess.STDOUT, **as_user
            )

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash would; waits until it is gone."""
        assert self.popen is not None
        self.popen.kill()
        self.popen.wait(timeout=STOP_GRACE)

    def stop(self) -> None:
        """Terminate, then kill after a grace period; only this process, by its id."""
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=STOP_GRACE)

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return f"[{self.name}: no output]"
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        status = "running" if self.running else f"exited {self.popen and self.popen.returncode}"
        return f"--- {self.name} ({status}), last {len(text)} lines of {self.log}:\n" + "\n".join(
            text
        )


@dataclass
class Processes:
    """Every process one test started; a fixture stops them all, by PID, at teardown."""

    folder: Path
    started: list[Process] = field(default_factory=list)

    def spawn(
        self, name: str, args: list[str], env: Mapping[str, str], user: str | None = None
    ) -> Process:
        process = Process(name, args, dict(env), self.folder / f"{name}.log", user=user)
        self.started.append(process)
        process.start()
        return process

    def tails(self) -> str:
        return "\n".join(process.tail() for process in self.started)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()


def processes_fixture(folder: Path) -> Iterator[Processes]:
    """The body of a fixture: yields a Processes, then stops them and prints their logs.

    pytest shows what teardown prints only for a test that failed, so the tails of the logs
    come with every failure and stay out of the way otherwise.
    """
    folder.mkdir(parents=True, exist_ok=True)
    group = Processes(folder)
    try:
        yield group
    finally:
        group.stop_all()
        print(group.tails())


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        unavailable("redis-server", "not on PATH")
        raise AssertionError("unreachable")
    return found


def start_redis(group: Processes, port: int, name: str = "redis") -> Process:
    """A throwaway redis-server on the loopback, with nothing kept on disk."""
    args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1"]
    args += ["--save", "", "--appendonly", "no", "--dir", str(group.folder)]
    process = group.spawn(name, args, os.environ)
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)

    def answers() -> bool:
        assert process.running, process.tail()
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    try:
        wait_until(f"{name} answers PING", answers, START_GUARD, process.tail)
    finally:
        client.close()
    return process


def bus_subscribers(port: int) -> int:
    """How many processes listen on the bus channel of the Redis on this port (-1: no answer)."""
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    channel = channel_for(client)
    try:
        counts: dict[bytes, int] = dict(client.pubsub_numsub(channel))  # type: ignore[arg-type]
    except redis.RedisError:
        return -1
    finally:
        client.close()
    return int(counts.get(channel.encode(), 0))


def gunicorn_binary() -> str:
    path = Path(sys.executable).parent / "gunicorn"
    if not path.exists():
        unavailable("gunicorn", f"not found next to {sys.executable}")
    return str(path)


def hubbub_env(settings: Mapping[str, str]) -> dict[str, str]:
    """Our environment without HUBBUB_* variables (the tests set some in their own process)
    or FLASK_* ones (FLASK_DEBUG would put a reloader between a test and its server), then
    the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBBUB_", "FLASK_"))}
    env.update(settings)
    return env


def flask_command(*args: str) -> list[str]:
    """The `flask --app hubbub` command line of the make targets, from this virtualenv."""
    return [str(Path(sys.executable).parent / "flask"), "--app", "hubbub", *args]


def migrate(settings: Mapping[str, str], guard: float = 2 * START_GUARD) -> None:
    """`make migrate`: `flask db upgrade` on the database the settings name."""
    done = subprocess.run(  # noqa: S603 - our own fixed command line
        flask_command("db", "upgrade"),
        env=hubbub_env(settings),
        capture_output=True,
        text=True,
        timeout=guard,
        check=False,
    )
    assert done.returncode == 0, f"flask db upgrade failed:\n{done.stdout}{done.stderr}"


def serve_args(port: int, workers: int = 1) -> list[str]:
    """`make serve`'s command line (hubbub/gunicorn_config.py), but for the port, the workers
    and a shorter wait for a stopping worker's requests."""
    args = [gunicorn_binary(), "--config", "python:hubbub.gunicorn_config"]
    return [
        *args,
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--graceful-timeout",
        "2",
    ]


def start_hubbub(group: Processes, name: str, settings: Mapping[str, str], workers: int = 1) -> str:
    """`make serve`'s command line with gevent workers; returns its base URL once it answers.

    The child sees no HUBBUB_* variable of ours, only the ones given in settings (hubbub_env).
    """
    port = free_port()
    env = hubbub_env(settings)
    process = group.spawn(name, serve_args(port, workers), env)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert process.running, process.tail()
        try:
            status, _ = request(base, "GET", f"{API}/openapi.json", guard=2.0)
        except OSError:
            return False
        return status == 200

    wait_until(f"{name} answers GET {API}/openapi.json", answers, START_GUARD, process.tail)
    return base


# ---------------------------------------------------------------------------------------------
# HTTP, as a script would use it


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def fetch(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    guard: float = REQUEST_GUARD,
) -> Answer:
    """One request on a fresh connection, with the answer's headers (names in lower case).

    Raises OSError or http.client.HTTPException when no answer came; TimeoutError (an OSError)
    when the hang guard ran out.
    """
    parts = urlsplit(base)
    assert parts.hostname is not None and parts.port is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=guard)
    headers = {"Accept": "application/json"}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        status = response.status
    finally:
        connection.close()
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw.decode(errors="replace")
    return Answer(status, answer_headers, decoded)


def request(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    guard: float = REQUEST_GUARD,
) -> tuple[int, Any]:
    """One HTTP request on a fresh connection; the status and the decoded JSON answer."""
    answer = fetch(base, method, path, body, token, guard)
    return answer.status, answer.body


def expect(answer: tuple[int, Any], *statuses: int) -> Any:
    status, body = answer
    assert status in statuses, f"HTTP {status}: {body}"
    return body


@dataclass
class Account:
    """A registered user with a personal API token."""

    id: int
    username: str
    token: str


def register(base: str, username: str) -> Account:
    """Register through POST /accounts and take a token through POST /tokens, as a bot would."""
    email = f"{username}@example.com"
    body = {"username": username, "email": email, "password": PASSWORD}
    user = expect(request(base, "POST", f"{API}/accounts", body), 201)["user"]
    login = {"login": username, "password": PASSWORD}
    token = expect(request(base, "POST", f"{API}/tokens", login), 201)["token"]
    return Account(id=user["id"], username=username, token=token)


def open_direct(base: str, who: Account, other: Account) -> int:
    body = {"kind": "direct", "user_id": other.id}
    answer = expect(request(base, "POST", f"{API}/conversations", body, who.token), 200, 201)
    conversation_id: int = answer["conversation"]["id"]
    return conversation_id


def create_group(base: str, owner: Account, title: str, members: list[Account]) -> int:
    body = {"kind": "group", "title": title, "member_ids": [m.id for m in members]}
    answer = expect(request(base, "POST", f"{API}/conversations", body, owner.token), 201)
    conversation_id: int = answer["conversation"]["id"]
    return conversation_id


def send(base: str, who: Account, conversation_id: int, text: str) -> dict[str, Any]:
    """Send and wait for the answer; the message as the API returned it."""
    path = f"{API}/conversations/{conversation_id}/messages"
    answer = expect(request(base, "POST", path, {"body": text}, who.token), 201)
    message: dict[str, Any] = answer["message"]
    assert message["body"] == text and message["conversation_id"] == conversation_id, message
    return message


# ---------------------------------------------------------------------------------------------
# The WebSocket stream


def stream_url(base: str, after: int | None = None) -> str:
    url = "ws" + base.removeprefix("http") + STREAM
    return url if after is None else f"{url}?after={after}"


def open_stream(
    base: str, token: str, after: int | None = None, timeout: float = REQUEST_GUARD
) -> tuple[websocket.WebSocket, Frame]:
    """Open the stream with a bearer token; the socket and its first frame, which must be ready."""
    ws = websocket.create_connection(
        stream_url(base, after),
        header=[f"Authorization: Bearer {token}"],
        timeout=timeout,
        suppress_origin=True,
    )
    try:
        first = ws.recv()
    except websocket.WebSocketException as error:
        ws.shutdown()
        raise AssertionError(
            f"the stream sent no ready frame after the upgrade: {error!r}"
        ) from error
    try:
        ready = json.loads(first)
        assert ready.get("type") == "ready", ready
    except BaseException:
        ws.shutdown()
        raise
    if after is not None:
        assert ready["last_id"] == after, ready
    return ws, ready


class StreamReader:
    """A background thread that reads every frame of one open stream until it is shut down."""

    def __init__(self, ws: websocket.WebSocket) -> None:
        self.ws = ws
        self.frames: list[Frame] = []
        self.error: BaseException | None = None
        self._changed = threading.Condition()
        self._closing = False
        ws.settimeout(None)
        self._thread = threading.Thread(target=self._read, name="stream-reader", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while True:
                text = self.ws.recv()
                if not text:
                    break
                frame = json.loads(text)
                with self._changed:
                    self.frames.append(frame)
                    self._changed.notify_all()
        except (websocket.WebSocketException, OSError) as error:
            if not self._closing:
                self.error = error
        except BaseException as error:  # kept for the test to raise, never lost in a thread
            self.error = error
        finally:
            with self._changed:
                self._closing = True
                self._changed.notify_all()

    def events(self, kind: str | None = None) -> list[Frame]:
        with self._changed:
            return [f for f in self.frames if "id" in f and (kind is None or f["type"] == kind)]

    def wait_for(self, what: str, check: Callable[[list[Frame]], bool], guard: float) -> None:
        """Wait until check(frames so far) holds; fail if the stream ends or the guard runs out."""
        deadline = time.monotonic() + guard
        with self._changed:
            while not check(self.frames):
                remaining = deadline - time.monotonic()
                if self._closing:
                    raise AssertionError(f"the stream ended ({self.error!r}) before: {what}")
                if remaining <= 0:
                    raise AssertionError(f"hang guard ({guard:.0f} s): {what}")
                self._changed.wait(remaining)

    def close(self) -> None:
        with self._changed:
            self._closing = True
        # Wakes the reader blocked in recv(); the WebSocket itself is not safe across threads.
        if self.ws.sock is not None:
            with contextlib.suppress(OSError):
                self.ws.sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=REQUEST_GUARD)
        self.ws.shutdown()
