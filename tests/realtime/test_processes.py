"""Two gunicorn processes share one log and one Redis bus; a Redis crash loses no message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.realtime.processes import (
    Frame,
    Process,
    Processes,
    StreamReader,
    bus_subscribers,
    free_port,
    open_direct,
    open_stream,
    register,
    request,
    send,
    start_hubbub,
    start_redis,
    wait_until,
)

API = "/api/v1"
# Hang guards only.
DELIVERY_GUARD = 60.0
BEFORE_CRASH = 10
DURING_OUTAGE = 4
AFTER_RESTART = 10


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("tiers 1 and 2 share one log between processes, which needs PostgreSQL")
    return database_url


def wait_for_subscriber(port: int, group: Processes) -> None:
    """B's bus listener is subscribed (after a start or a Redis restart), so no wake-up is lost
    on the way to a listener that is not there yet."""
    wait_until(
        "process B subscribes to the Redis bus",
        lambda: bus_subscribers(port) >= 1,
        DELIVERY_GUARD,
        group.tails,
    )


def created_ids(frames: list[Frame]) -> list[int]:
    return [f["data"]["message"]["id"] for f in frames if f.get("type") == "message.created"]


@pytest.mark.parametrize(
    "log_poll_seconds",
    [
        pytest.param(None, id="watcher-default"),
        # With the watcher asleep for the whole test, only Redis wakes process B: this proves
        # the bus carries wake-ups between processes, also after Redis comes back.
        pytest.param("3600", id="redis-only"),
    ],
)
def test_a_stream_on_another_process_gets_every_message_across_a_redis_crash(
    postgres_url: str, processes: Processes, tmp_path: Path, log_poll_seconds: str | None
) -> None:
    redis_port = free_port()
    redis_process: Process = start_redis(processes, redis_port)
    settings = {
        "HUBBUB_DATABASE_URL": postgres_url,
        "HUBBUB_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "HUBBUB_SECRET_KEY": "processes-test-secret",
        "HUBBUB_RATELIMIT_ENABLED": "0",
        "HUBBUB_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    if log_poll_seconds is not None:
        settings["HUBBUB_LOG_POLL_SECONDS"] = log_poll_seconds
    a = start_hubbub(processes, "hubbub-a", settings)
    b = start_hubbub(processes, "hubbub-b", settings)

    ana = register(a, "ana")
    bob = register(a, "bob")
    conversation_id = open_direct(a, ana, bob)

    ws, ready = open_stream(b, bob.token)
    reader = StreamReader(ws)
    sent: list[int] = []
    try:
        wait_for_subscriber(redis_port, processes)

        def received_through(message_id: int) -> None:
            wait_until(
                f"B's client receives message {message_id}",
                lambda: message_id in created_ids(reader.frames),
                DELIVERY_GUARD,
                lambda: f"received {created_ids(reader.frames)}\n{processes.tails()}",
            )

        for n in range(BEFORE_CRASH):
            sent.append(send(a, ana, conversation_id, f"before the crash {n}")["id"])
        received_through(sent[-1])

        redis_process.kill()
        for n in range(DURING_OUTAGE):
            # The bus failing must not fail a send: the message is in the log.
            sent.append(send(a, ana, conversation_id, f"while Redis is down {n}")["id"])
        if log_poll_seconds is None:
            # The watcher on B notices the grown log without any wake-up.
            received_through(sent[-1])

        start_redis(processes, redis_port, name="redis-restarted")
        wait_for_subscriber(redis_port, processes)
        for n in range(AFTER_RESTART):
            sent.append(send(a, ana, conversation_id, f"after the restart {n}")["id"])
        received_through(sent[-1])

        # A fence: bob's own read marker comes after every message in the log, so once it is
        # here, anything sent would have been streamed before it.
        status, body = request(
            b,
            "POST",
            f"{API}/conversations/{conversation_id}/read",
            {"message_id": sent[-1]},
            bob.token,
        )
        assert status == 200, body
        reader.wait_for(
            "B's client receives bob's read marker",
            lambda frames: any(
                f.get("type") == "read.updated" and f["data"]["last_read_message_id"] == sent[-1]
                for f in frames
            ),
            DELIVERY_GUARD,
        )
    finally:
        reader.close()

    assert reader.error is None, reader.error
    assert created_ids(reader.frames) == sent
    events = reader.events()
    ids = [e["id"] for e in events]
    assert ids == sorted(set(ids)), "event ids must arrive once each, in increasing order"
    assert all(e["id"] > ready["last_id"] for e in events)
    assert all(e["conversation_id"] == conversation_id for e in events)
