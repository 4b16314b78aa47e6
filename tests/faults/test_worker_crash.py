"""Tiers 1 and 2: one of three gunicorn workers is killed (SIGKILL) in the middle of a burst of
sends, with the bus between them on Redis or on Kafka.

Twenty clients, each with its own token, send over HTTP into their group and their direct
conversation and read everything over the WebSocket stream. When half of the sends have been
acknowledged, the worker serving the most streams is killed while it holds requests too.
Clients do what the API tells them to: a send that got no answer is sent again with the same
client_id, a stream that broke is reopened with ?after=<the last event id it saw>. Each
client's first send hangs up before its answer, so every run also retries a send that is
known to be stored. Afterwards every acknowledged message is in the history exactly once, and
every stream has seen every message of its conversations exactly once, in order.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from tests.support.brokers import bus_settings
from tests.support.faults import (
    Progress,
    ResumingStream,
    Sent,
    assert_history_exact,
    assert_log_whole,
    assert_stream_exact,
    history,
    send_and_hang_up,
    send_until_acknowledged,
)
from tests.support.fixtures import ServerSettings
from tests.support.processes import (
    CHEAP_HASHING,
    Account,
    Processes,
    create_group,
    open_direct,
    register,
    start_hubbub,
    wait_until,
)

WORKERS = 3
CLIENTS = 20
GROUPS = [range(0, 5), range(5, 10), range(10, 15), range(15, 20)]
DIRECT = [(i, i + 10) for i in range(10)]
SENDS_PER_CLIENT = 12
KILL_AT = CLIENTS * SENDS_PER_CLIENT // 2
# Hang guards only: nothing here measures how fast anything happens.
GUARD = 180.0
DELIVERY_GUARD = 60.0
IN_FLIGHT_GUARD = 10.0


def served_by(master: psutil.Process, port: int) -> dict[tuple[str, int], int]:
    """Which worker (by PID) holds each client connection to the server, by the client's end."""
    found = {}
    for worker in master.children():
        try:
            connections = worker.net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        for c in connections:
            if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port and c.raddr:
                found[(c.raddr.ip, c.raddr.port)] = worker.pid
    return found


@pytest.mark.parametrize("bus_kind", ["redis", "kafka"])
def test_a_killed_worker_loses_and_doubles_nothing(
    postgres_url: str, processes: Processes, server_settings: ServerSettings, bus_kind: str
) -> None:
    settings = server_settings(postgres_url, bus_settings(bus_kind, processes), **CHEAP_HASHING)
    base = start_hubbub(processes, "hubbub", settings, workers=WORKERS)
    port = int(base.rsplit(":", 1)[1])
    master = psutil.Process(next(p for p in processes.started if p.name == "hubbub").pid)
    wait_until(
        f"gunicorn runs {WORKERS} workers",
        lambda: len(master.children()) == WORKERS,
        GUARD,
        processes.tails,
    )

    with ThreadPoolExecutor(4) as pool:
        accounts: list[Account] = list(
            pool.map(lambda i: register(base, f"user{i:02}"), range(CLIENTS))
        )
    mine: dict[int, list[int]] = {i: [] for i in range(CLIENTS)}
    for n, members in enumerate(GROUPS):
        owner, *others = (accounts[i] for i in members)
        conversation_id = create_group(base, owner, f"group {n}", others)
        for i in members:
            mine[i].append(conversation_id)
    for a, b in DIRECT:
        conversation_id = open_direct(base, accounts[a], accounts[b])
        mine[a].append(conversation_id)
        mine[b].append(conversation_id)

    def plan_for(i: int, name: str) -> list[Sent]:
        """Round the client's conversations, each message with a client_id of its own."""
        return [
            Sent(name, mine[i][n % len(mine[i])], f"{name} says {n}", f"{name}-{n}")
            for n in range(SENDS_PER_CLIENT)
        ]

    plans = [plan_for(i, a.username) for i, a in enumerate(accounts)]
    sends = [sent for plan in plans for sent in plan]
    deadline = time.monotonic() + GUARD
    streams = [ResumingStream(base, a.token, a.username, deadline) for a in accounts]
    progress = Progress()

    def client(index: int) -> None:
        token = accounts[index].token
        for n, sent in enumerate(plans[index]):
            if n == 0:
                # Stored for sure, its answer lost for sure: the retry must find it.
                send_and_hang_up(base, token, sent, DELIVERY_GUARD)
            send_until_acknowledged(base, token, sent, deadline)
            progress.count()

    try:
        for stream in streams:
            assert stream.ready.wait(GUARD), f"stream of {stream.name} never opened"
            assert stream.error is None, stream.error
        workers = served_by(master, port)
        worker_of: dict[str, int] = {}
        for stream in streams:
            address = stream.local_address
            assert address in workers, f"no worker serves the stream of {stream.name}"
            worker_of[stream.name] = workers[address]
        victim = Counter(worker_of.values()).most_common(1)[0][0]
        on_victim = {name for name, pid in worker_of.items() if pid == victim}
        stream_ends = {s.local_address for s in streams}

        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [progress.run(pool, client, i) for i in range(CLIENTS)]
            progress.wait_for(
                f"{KILL_AT} sends acknowledged, each client's first among them",
                lambda: progress.acknowledged >= KILL_AT and all(p[0].acknowledged for p in plans),
                GUARD,
            )
            # Kill while the victim holds a request too, not only idle streams.
            wait_until(
                f"worker {victim} holds a request",
                lambda: any(
                    end not in stream_ends and pid == victim
                    for end, pid in served_by(master, port).items()
                ),
                IN_FLIGHT_GUARD,
                processes.tails,
            )
            os.kill(victim, signal.SIGKILL)
            for future in futures:
                future.result()

        member = {c: accounts[i] for i, conversations in mine.items() for c in conversations}
        histories = {c: history(base, a.token, c) for c, a in member.items()}
        assert_history_exact(sends, histories)
        for i, stream in enumerate(streams):
            expected = {m["id"] for c in mine[i] for m in histories[c]}
            stream.wait_for(expected, DELIVERY_GUARD)
    finally:
        for stream in streams:
            stream.close()

    for i, stream in enumerate(streams):
        assert_stream_exact(stream, {c: histories[c] for c in mine[i]})
    assert_log_whole(postgres_url)
    # What the crash did, so the test cannot pass without crossing it.
    assert master.is_running() and victim not in {w.pid for w in master.children()}
    broken = {s.name for s in streams if s.breaks}
    assert on_victim <= broken, f"streams on the killed worker that never broke: {on_victim}"
    assert all(s.connections >= 2 for s in streams if s.name in on_victim)
    hung_up = [plan[0] for plan in plans]
    assert all(s.attempts == ["no answer: hung up", "200"] for s in hung_up), hung_up
    interrupted = [s for plan in plans for s in plan[1:] if s.unanswered]
    assert interrupted, "no send was in flight on the killed worker"
    stored_anyway = [s for s in interrupted if s.attempts[-1] == "200"]
    print(
        f"killed worker {victim} with {len(on_victim)} streams; {len(interrupted)} sends got no"
        f" answer and were retried, {len(stored_anyway)} of them had been stored already"
    )
