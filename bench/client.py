"""Talking to Hubbub as scripts do: sign-ups, tokens, conversations, sends and WebSocket streams."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp

from bench.deliveries import Deliveries

API = "/api/v1"
# Hang guards only: a request or a handshake that takes this long counts as an error.
REQUEST_GUARD = 60.0
HANDSHAKE_GUARD = 60.0
CLOSE_GUARD = 5.0
# Passes the server's strength check; sign-ups are cheap because the bench servers hash cheaply.
PASSWORD = "bench wide open river stones"  # noqa: S105 - throwaway bench accounts
BODY_PREFIX = "bench "
T = TypeVar("T")


class ApiError(Exception):
    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path}: HTTP {status}: {body[:300]}")
        self.status = status


# Everything a send or a handshake can fail with, as counted by the bench rather than raised.
FAILURES = (ApiError, aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    token: str
    server: int = 0  # which of the deployment's servers this user talks to, HTTP and stream


async def bounded(jobs: Iterable[Callable[[], Awaitable[T]]], concurrency: int) -> list[T]:
    """Run the jobs with at most `concurrency` in flight; results in the order given."""
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


class Client:
    """One aiohttp session for a whole workload: a pool of keep-alive HTTP connections.

    With several servers (tier 2) the n-th user signed up talks to server n % servers, so
    that members of one conversation sit on different servers and deliveries cross the bus.
    """

    def __init__(self, bases: Sequence[str], tag: str, connections: int = 64) -> None:
        if isinstance(bases, str) or not bases:
            raise TypeError("bases: a list of the servers' base URLs")
        self.bases = list(bases)
        self.tag = tag
        # Idle connections are dropped before gunicorn's 2 s keep-alive would close them, so a
        # send never races a server-side close and fails for the bench's own reasons.
        connector = aiohttp.TCPConnector(limit=connections, keepalive_timeout=1.0)
        self.session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=REQUEST_GUARD),
            json_serialize=json.dumps,
        )
        # An open WebSocket holds its connector slot for as long as it lives: the streams get a
        # session of their own, without a limit, so that they never starve the sends.
        # No total timeout: a stream lives for the whole workload; connect() guards the handshake.
        self.stream_session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=HANDSHAKE_GUARD),
        )
        self._names = itertools.count()
        self._uids = itertools.count()
        self._streams = itertools.count()

    async def close(self) -> None:
        await self.session.close()
        await self.stream_session.close()

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        ok: tuple[int, ...] = (200, 201),
        server: int = 0,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with self.session.request(
            method, self.bases[server] + API + path, json=body, headers=headers
        ) as answer:
            raw = await answer.read()
            if answer.status not in ok:
                raise ApiError(method, path, answer.status, raw.decode(errors="replace"))
            return json.loads(raw) if raw else None

    # -- accounts and conversations ------------------------------------------------------------

    async def sign_up(self) -> User:
        """A new account through POST /accounts, then a token through POST /tokens."""
        n = next(self._names)
        server = n % len(self.bases)
        username = f"{self.tag}{n}"
        account = {"username": username, "email": f"{username}@bench.example", "password": PASSWORD}
        user = (await self.request("POST", "/accounts", account, ok=(201,), server=server))["user"]
        return await self.sign_in(user["id"], username, server)

    async def sign_in(self, user_id: int, username: str, server: int = 0) -> User:
        """A token for an existing account through POST /tokens."""
        login = {"login": username, "password": PASSWORD, "name": "bench"}
        answer = await self.request("POST", "/tokens", login, ok=(201,), server=server)
        return User(id=user_id, username=username, token=answer["token"], server=server)

    async def sign_up_many(self, count: int, concurrency: int = 8) -> list[User]:
        return await bounded((self.sign_up for _ in range(count)), concurrency)

    async def create_group(self, owner: User, members: list[User], title: str) -> int:
        body = {"kind": "group", "title": title, "member_ids": [m.id for m in members]}
        answer = await self.request(
            "POST", "/conversations", body, owner.token, ok=(201,), server=owner.server
        )
        conversation_id: int = answer["conversation"]["id"]
        return conversation_id

    async def open_direct(self, user: User, other: User) -> int:
        body = {"kind": "direct", "user_id": other.id}
        answer = await self.request("POST", "/conversations", body, user.token, server=user.server)
        conversation_id: int = answer["conversation"]["id"]
        return conversation_id

    # -- messages ------------------------------------------------------------------------------

    def new_uid(self) -> str:
        return f"{self.tag}.{next(self._uids)}"

    async def send(
        self, user: User, conversation_id: int, deliveries: Deliveries
    ) -> tuple[str, float | None]:
        """Send one message carrying a new unique id; the id, and the answer time in seconds.

        A failed send is counted in `deliveries` and answers None, rather than raising.
        """
        uid = self.new_uid()
        started = deliveries.will_send(uid, conversation_id)
        body = {"body": BODY_PREFIX + uid, "client_id": uid}
        path = f"/conversations/{conversation_id}/messages"
        try:
            await self.request("POST", path, body, user.token, ok=(201,), server=user.server)
        except FAILURES as error:
            deliveries.send_failed(uid, error)
            return uid, None
        return uid, time.perf_counter() - started

    async def history_page(
        self, user: User, conversation_id: int, before: int | None, limit: int
    ) -> tuple[float, int]:
        """GET one history page; seconds taken and how many messages it held."""
        query = f"?limit={limit}" + ("" if before is None else f"&before={before}")
        started = time.perf_counter()
        answer = await self.request(
            "GET",
            f"/conversations/{conversation_id}/messages{query}",
            token=user.token,
            ok=(200,),
            server=user.server,
        )
        return time.perf_counter() - started, len(answer["messages"])

    async def search(
        self, user: User, q: str, before: int | None, limit: int
    ) -> tuple[float, int, int | None]:
        """GET one page of search results; seconds taken, how many results, next_before."""
        params = {"q": q, "limit": str(limit)}
        if before is not None:
            params["before"] = str(before)
        started = time.perf_counter()
        answer = await self.request(
            "GET", "/search?" + urlencode(params), token=user.token, ok=(200,), server=user.server
        )
        return time.perf_counter() - started, len(answer["results"]), answer["next_before"]

    # -- streams -------------------------------------------------------------------------------

    def stream_url(self, server: int = 0) -> str:
        return "ws" + self.bases[server].removeprefix("http") + API + "/stream"

    async def connect(self, user: User, deliveries: Deliveries) -> Stream:
        """Open a stream and wait for its ready frame."""
        ws = await asyncio.wait_for(
            self.stream_session.ws_connect(
                self.stream_url(user.server),
                headers={"Authorization": f"Bearer {user.token}"},
                timeout=aiohttp.ClientWSTimeout(ws_close=CLOSE_GUARD),
                autoping=True,
                heartbeat=None,
            ),
            HANDSHAKE_GUARD,
        )
        try:
            first = await ws.receive(timeout=HANDSHAKE_GUARD)
            if first.type != aiohttp.WSMsgType.TEXT:
                raise ValueError(f"the stream answered {first.type!r} instead of a ready frame")
            ready = json.loads(first.data)
            if ready.get("type") != "ready":
                raise ValueError(f"the first frame was not ready: {ready}")
        except BaseException:
            await ws.close()
            raise
        return Stream(next(self._streams), user, ws, deliveries, int(ready["last_id"]))


class Stream:
    """One open WebSocket stream; a task reads every frame and hands messages to `deliveries`."""

    def __init__(
        self,
        index: int,
        user: User,
        ws: aiohttp.ClientWebSocketResponse,
        deliveries: Deliveries,
        ready_id: int,
    ) -> None:
        self.index = index
        self.user = user
        self.ws = ws
        self.deliveries = deliveries
        self.ready_id = ready_id
        self.opened_at = time.perf_counter()
        self.pings = 0
        self.frames = 0
        self.error: str | None = None
        self.ended = False
        self._closing = False
        self.task = asyncio.create_task(self._read(), name=f"stream-{index}")

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    if frame.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                        break
                    continue
                now = time.perf_counter()
                self.frames += 1
                event = json.loads(frame.data)
                kind = event.get("type")
                if kind == "message.created":
                    self.deliveries.received(self.index, event, now)
                elif kind == "ping":
                    self.pings += 1
                elif kind == "resync":
                    self.error = "resync"
        except (aiohttp.ClientError, OSError, ValueError) as error:
            self.error = repr(error)
        finally:
            self.ended = True
            if not self._closing:
                self.error = self.error or f"closed by the server ({self.ws.close_code})"
                self.deliveries.stream_dropped(self.index, self.error)

    async def close(self) -> None:
        self._closing = True
        with contextlib.suppress(TimeoutError, aiohttp.ClientError, OSError):
            await asyncio.wait_for(self.ws.close(), CLOSE_GUARD)
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def close_all(streams: Iterable[Stream], concurrency: int = 200) -> None:
    await bounded((stream.close for stream in streams), concurrency)
