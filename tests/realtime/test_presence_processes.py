"""Presence across servers: a person is online while any of their streams on any server is open.

Two gunicorn servers, A and B, on one PostgreSQL and one bus (Redis or Kafka). Bob watches from
B while ana opens and closes streams on both; then A's worker is killed while ana's stream is
on it, and B, no longer hearing from A, says she went offline.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import psutil
import pytest

from tests.support.brokers import bus_settings, wait_for_bus
from tests.support.fixtures import ServerSettings
from tests.support.processes import (
    Account,
    Frame,
    Processes,
    StreamReader,
    open_direct,
    open_stream,
    register,
    request,
    start_hubbub,
    wait_until,
)

API = "/api/v1"
PRESENCE_SECONDS = "0.5"
# Hang guards only.
GUARD = 30.0
# How long a wrong "offline" is given to show up; without cross-server presence it comes at
# once, when the stream closes.
QUIET = 2.0


def presence(frames: list[Frame], user: Account) -> list[str]:
    return [
        f["data"]["status"]
        for f in frames
        if f.get("type") == "presence" and f["data"]["user_id"] == user.id
    ]


def wait_for_status(reader: StreamReader, user: Account, status: str, count: int) -> None:
    reader.wait_for(
        f"{user.username} is announced {status} ({count} times)",
        lambda frames: presence(frames, user).count(status) >= count,
        GUARD,
    )


@pytest.mark.parametrize("bus_kind", ["redis", "kafka"])
def test_a_person_is_online_while_any_stream_on_any_server_is_open(
    postgres_url: str, processes: Processes, server_settings: ServerSettings, bus_kind: str
) -> None:
    settings = server_settings(
        postgres_url, bus_settings(bus_kind, processes), HUBBUB_PRESENCE_SECONDS=PRESENCE_SECONDS
    )
    a = start_hubbub(processes, "hubbub-a", settings)
    b = start_hubbub(processes, "hubbub-b", settings)
    ana, bob, cyd = (register(a, name) for name in ("ana", "bob", "cyd"))
    with_bob = open_direct(a, ana, bob)
    open_direct(a, ana, cyd)

    bob_ws, _ = open_stream(b, bob.token)
    bob_sees = StreamReader(bob_ws)
    opened: list[Any] = []
    try:
        wait_for_bus(a, ana, with_bob, bob_sees, GUARD)

        ana_on_a, _ = open_stream(a, ana.token)
        opened.append(ana_on_a)
        wait_for_status(bob_sees, ana, "online", 1)

        # A stream opened on B lists ana among the people online, though her stream is on A.
        def cyd_sees_ana_online() -> bool:
            ws, ready = open_stream(b, cyd.token)
            ws.close()
            return ana.id in ready["online"]

        wait_until("B's ready frame lists ana online", cyd_sees_ana_online, GUARD, processes.tails)

        # Her second stream, on B, closes: she is still online on A.
        ana_on_b, _ = open_stream(b, ana.token)
        ana_on_b.close()
        time.sleep(QUIET)
        path = f"{API}/conversations/{with_bob}/typing"
        typing_before = len([f for f in bob_sees.frames if f.get("type") == "typing"])
        assert request(b, "POST", path, None, ana.token)[0] == 204
        bob_sees.wait_for(
            "ana's typing through B reaches bob (a fence)",
            lambda frames: len([f for f in frames if f.get("type") == "typing"]) > typing_before,
            GUARD,
        )
        assert "offline" not in presence(bob_sees.frames, ana), presence(bob_sees.frames, ana)

        # Her last stream closes: now she is offline, wherever bob is.
        ana_on_a.close()
        wait_for_status(bob_sees, ana, "offline", 1)

        # A crash: A's worker dies with her stream; B stops counting what A said.
        ana_again, _ = open_stream(a, ana.token)
        opened.append(ana_again)
        wait_for_status(bob_sees, ana, "online", 2)
        master = psutil.Process(next(p for p in processes.started if p.name == "hubbub-a").pid)
        (worker,) = master.children()
        os.kill(worker.pid, signal.SIGKILL)
        wait_for_status(bob_sees, ana, "offline", 2)
    finally:
        for ws in opened:
            ws.shutdown()
        bob_sees.close()
    assert bob_sees.error is None, bob_sees.error
