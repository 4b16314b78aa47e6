"""PostgreSQL stopped and started again under load: 503s while it is down, then it heals itself.

Two gunicorn processes, A and B (one gevent worker each), share a PostgreSQL server of the
test's own and a Redis bus. Ana sends through A, bob through B, cara reads through both and
holds a stream on A. Mid-way the database is stopped as `pg_ctl stop -m fast` stops it, and
later started again; the Hubbub servers are never restarted.

Just before, A's worker is frozen (SIGSTOP) while bob's messages commit through B, and thawed
once the database is down: so cara's stream on A is woken for events committed before the
outage. The wake-ups carry them, so the stream may deliver them without the database; if it
has to read the log instead, it must end cleanly and be refused (503) until the database is
back. New streams are refused (503) either way.

While the database is down every request answers 503 {"error": {"code": "unavailable"}} with
Retry-After: none hangs, none answers 500 (nor logs an unhandled error, streams included).
Senders retry with the same client_id. Once it is back every request succeeds again, every
acknowledged message is in the history exactly once with its one event, and cara's stream
delivers every message once, in order. Redis is then stopped and bob sends a last message
through B: only A's watcher, which reads the end of the log every second, can tell cara's
stream about it, so its arrival shows the watcher outlived the outage.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psutil
import pytest
import websocket

from tests.support.brokers import redis_bus
from tests.support.faults import (
    RETRY_PAUSE,
    Fetch,
    ResumingStream,
    Sent,
    assert_history_exact,
    assert_log_whole,
    assert_stream_exact,
    history,
    send_until_acknowledged,
)
from tests.support.fixtures import ServerSettings
from tests.support.postgres import PrivatePostgres, private_postgres_fixture
from tests.support.processes import (
    API,
    CHEAP_HASHING,
    Account,
    Answer,
    Processes,
    bus_subscribers,
    create_group,
    fetch,
    free_port,
    migrate,
    open_stream,
    register,
    start_hubbub,
    start_redis,
    wait_until,
)

UP, FROZEN, STOPPING, DOWN, STARTING, BACK = "up", "frozen", "stopping", "down", "starting", "back"
RETRIED = frozenset({503})
# Messages each sender gets acknowledged before the outage and after it; answers each client
# gets while the database is down.
SENDS_BEFORE = SENDS_AFTER = 5
ANSWERS_DURING = 3
# Hang guards only: nothing here measures how fast anything happens. A request that takes
# longer than ANSWER_GUARD fails the test: the outage must be answered, not waited out.
GUARD = 120.0
ANSWER_GUARD = 20.0
DELIVERY_GUARD = 60.0


@pytest.fixture
def private_postgres(processes: Processes) -> Iterator[PrivatePostgres]:
    yield from private_postgres_fixture(processes)


class Gate:
    """Holds a sender between two sends while it is closed."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()
        self._waiting = threading.Event()

    def close(self) -> None:
        """Close, and return once the sender waits at the gate (its last send answered)."""
        self._open.clear()
        assert self._waiting.wait(GUARD), "hang guard: the sender never came to the gate"

    def open(self) -> None:
        self._waiting.clear()
        self._open.set()

    def pass_through(self) -> None:
        if not self._open.is_set():
            self._waiting.set()
            assert self._open.wait(GUARD), "hang guard: the gate never opened"


@dataclass
class Seen:
    """One request and how it ended, with the phases of the outage it began and ended in."""

    who: str
    server: str
    method: str
    path: str
    began: str
    ended: str
    status: int | None = None
    code: str | None = None
    retry_after: str | None = None
    error: str | None = None


class Outage:
    """The phase the database is in, and every request the clients made across it."""

    def __init__(self, servers: dict[str, str]) -> None:
        self.phase = UP
        self.seen: list[Seen] = []
        self._names = servers
        self._lock = threading.Lock()

    def fetcher(self, who: str) -> Fetch:
        def via(
            base: str, method: str, path: str, body: Any, token: str | None, guard: float
        ) -> Answer:
            began = self.phase
            seen = Seen(who, self._names[base], method, path, began, began)
            try:
                answer = fetch(base, method, path, body, token, guard)
            except (OSError, http.client.HTTPException) as error:
                seen.error = f"{type(error).__name__}: {error}"
                raise
            finally:
                seen.ended = self.phase
                with self._lock:
                    self.seen.append(seen)
            seen.status = answer.status
            seen.retry_after = answer.headers.get("retry-after")
            if isinstance(answer.body, dict) and isinstance(answer.body.get("error"), dict):
                seen.code = answer.body["error"].get("code")
            return answer

        return via

    def count(self, match: Callable[[Seen], bool]) -> int:
        with self._lock:
            return sum(1 for s in self.seen if match(s))


def test_a_database_outage_answers_503_and_heals_itself(
    private_postgres: PrivatePostgres, processes: Processes, server_settings: ServerSettings
) -> None:
    database_url = private_postgres.create_database("hubbub")
    redis_port = free_port()
    redis_process = start_redis(processes, redis_port)
    settings = server_settings(database_url, redis_bus(redis_port), **CHEAP_HASHING)
    migrate(settings)
    a = start_hubbub(processes, "hubbub-a", settings)
    b = start_hubbub(processes, "hubbub-b", settings)
    servers = [p for p in processes.started if p.name.startswith("hubbub")]
    (worker_a,) = psutil.Process(servers[0].pid).children()
    ana, bob, cara = (register(a, name) for name in ("ana", "bob", "cara"))
    conversation_id = create_group(a, ana, "outage", [bob, cara])

    deadline = time.monotonic() + GUARD
    outage = Outage({a: "A", b: "B"})
    stop = threading.Event()
    futures: list[Future[Any]] = []
    stream = ResumingStream(a, cara.token, "cara", deadline)

    # Ana's sends hold locks on A; A must not be frozen in the middle of one (bob's would wait).
    ana_gate = Gate()

    def sender(account: Account, base: str, gate: Gate) -> list[Sent]:
        sends = []
        via = outage.fetcher(account.username)
        for n in range(10_000):  # bounded by stop, and by the deadline inside each send
            gate.pass_through()
            if stop.is_set():
                break
            body = f"{account.username} says {n}"
            sent = Sent(account.username, conversation_id, body, f"{account.username}-{n}")
            sends.append(sent)
            send_until_acknowledged(base, account.token, sent, deadline, RETRIED, ANSWER_GUARD, via)
        return sends

    def reader() -> None:
        via = outage.fetcher(cara.username)
        reads = [
            (a, f"{API}/conversations/{conversation_id}/messages?limit=20"),
            (b, f"{API}/conversations/{conversation_id}/messages?limit=20"),
            (a, f"{API}/events?after=0&timeout=0.5"),
            (b, f"{API}/conversations"),
        ]
        for n in range(100_000):  # bounded by stop and the deadline
            if stop.is_set() or time.monotonic() > deadline:
                break
            base, path = reads[n % len(reads)]
            answer = via(base, "GET", path, None, cara.token, ANSWER_GUARD)
            assert answer.status in (200, 503), f"GET {path}: HTTP {answer.status} {answer.body}"
            time.sleep(RETRY_PAUSE)

    def acknowledged(who: str, phase: str) -> Callable[[Seen], bool]:
        return lambda s: s.who == who and s.began == phase and s.status in (200, 201)

    def answered_while_down(who: str) -> Callable[[Seen], bool]:
        return lambda s: s.who == who and s.began == s.ended == DOWN

    def wait_for(what: str, check: Callable[[], bool]) -> None:
        wait_until(what, lambda: check() or stop.is_set(), GUARD, processes.tails)
        for future in futures:
            if future.done() and future.exception() is not None:
                raise AssertionError(f"a client failed before: {what}") from future.exception()

    try:
        assert stream.ready.wait(GUARD) and stream.error is None, stream.error
        # A listens on the bus (its first stream started the listener), so that what B
        # publishes while A is frozen waits for A on its Redis connection.
        wait_for("A subscribes to the bus", lambda: bus_subscribers(redis_port) >= 1)
        with ThreadPoolExecutor(3) as pool:
            futures += [pool.submit(sender, ana, a, ana_gate), pool.submit(sender, bob, b, Gate())]
            futures.append(pool.submit(reader))
            for future in futures:
                future.add_done_callback(lambda _: stop.set())
            try:
                wait_for(
                    "both senders are heard before the outage",
                    lambda: all(
                        outage.count(acknowledged(who, UP)) >= SENDS_BEFORE
                        for who in ("ana", "bob")
                    ),
                )
                ana_gate.close()
                outage.phase = FROZEN
                worker_a.suspend()
                try:
                    wait_for(
                        "bob's message through B commits while A is frozen",
                        lambda: outage.count(acknowledged("bob", FROZEN)) >= 1,
                    )
                    outage.phase = STOPPING
                    private_postgres.stop()
                finally:
                    worker_a.resume()
                    ana_gate.open()
                outage.phase = DOWN
                wait_for(
                    "every client is answered while the database is down, cara's stream too",
                    lambda: all(
                        outage.count(answered_while_down(who)) >= ANSWERS_DURING
                        for who in ("ana", "bob", "cara")
                    ),
                )
                with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                    open_stream(b, bob.token, timeout=ANSWER_GUARD)
                assert refused.value.status_code == 503
                outage.phase = STARTING
                private_postgres.start("postgres-restarted")
                outage.phase = BACK
                wait_for(
                    "both senders are heard after the outage",
                    lambda: all(
                        outage.count(acknowledged(who, BACK)) >= SENDS_AFTER
                        for who in ("ana", "bob")
                    ),
                )
            finally:
                stop.set()
                ana_gate.open()
            sends = futures[0].result() + futures[1].result()
            futures[2].result()

        # Nothing else writes now, and with Redis gone only A's watcher can tell cara's stream
        # on A about this one.
        redis_process.kill()
        last = Sent("bob", conversation_id, "the last word", "bob-last")
        send_until_acknowledged(b, bob.token, last, deadline, guard=ANSWER_GUARD)
        sends.append(last)
        messages = history(a, cara.token, conversation_id)
        assert_history_exact(sends, {conversation_id: messages})
        stream.wait_for({m["id"] for m in messages}, DELIVERY_GUARD)
    finally:
        stream.close()

    assert_stream_exact(stream, {conversation_id: messages})
    assert_log_whole(database_url)
    seen = outage.seen
    unanswered = [s for s in seen if s.error is not None]
    assert not unanswered, f"requests that got no answer: {unanswered[:5]}"
    assert all(s.status in (200, 201, 503) for s in seen), [
        s for s in seen if s.status not in (200, 201, 503)
    ][:5]
    unavailable = [s for s in seen if s.status == 503]
    for s in unavailable:
        assert s.code == "unavailable" and s.retry_after and s.retry_after.isdigit(), s
    # The stream woken during the outage either delivered what the bus carried, or ended and
    # was refused until the database was back.
    assert len(stream.breaks) == stream.connections - 1, (stream.breaks, stream.connections)
    if stream.breaks:
        assert "HTTP 503" in stream.refusals, (stream.breaks, stream.refusals)
    for process in servers:
        log = process.log.read_text(errors="replace")
        assert "unhandled error" not in log, f"{process.name} answered 500:\n{process.tail(80)}"
    while_down = [s for s in seen if s.began == s.ended == DOWN]
    assert while_down and all(s.status == 503 for s in while_down), [
        s for s in while_down if s.status != 503
    ][:5]
    assert {s.server for s in while_down} == {"A", "B"}
    after = [s for s in seen if s.began == BACK]
    failed_after = [s for s in after if s.status not in (200, 201)]
    assert not failed_after, f"failed once the database was back: {failed_after[:5]}"
    # Healed without a restart of either server.
    assert all(p.running for p in servers)
    assert [p.name for p in processes.started if p.name.startswith("hubbub")] == [
        "hubbub-a",
        "hubbub-b",
    ]
    print(
        f"{len(sends)} messages; {len(unavailable)} answers were 503"
        f" ({len(while_down)} while the database was down); cara's stream broke"
        f" {len(stream.breaks)} times {stream.breaks}, was refused {len(stream.refusals)} times"
    )
