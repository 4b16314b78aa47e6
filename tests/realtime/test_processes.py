"""Two gunicorn processes share one log and one bus (Redis or Kafka); a bus crash loses nothing."""

from __future__ import annotations

import pytest

from tests.support.brokers import CrashableBus, PrivateKafka, wait_for_bus
from tests.support.fixtures import ServerSettings
from tests.support.processes import (
    Frame,
    Processes,
    StreamReader,
    open_direct,
    open_stream,
    register,
    request,
    send,
    start_hubbub,
    wait_until,
)

API = "/api/v1"
# Hang guards only.
DELIVERY_GUARD = 60.0
BEFORE_CRASH = 10
DURING_OUTAGE = 4
AFTER_RESTART = 10


def created_ids(frames: list[Frame]) -> list[int]:
    return [f["data"]["message"]["id"] for f in frames if f.get("type") == "message.created"]


@pytest.mark.parametrize("bus_kind", ["redis", "kafka"])
@pytest.mark.parametrize(
    "log_poll_seconds",
    [
        pytest.param(None, id="watcher-default"),
        # With the watcher asleep for the whole test, only the bus wakes process B: this proves
        # the bus carries wake-ups between processes, also after it comes back.
        pytest.param("3600", id="bus-only"),
    ],
)
def test_a_stream_on_another_process_gets_every_message_across_a_bus_crash(
    postgres_url: str,
    processes: Processes,
    server_settings: ServerSettings,
    log_poll_seconds: str | None,
    bus_kind: str,
) -> None:
    bus = CrashableBus(bus_kind, processes)
    settings = server_settings(postgres_url, bus.settings)
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

    def details() -> str:
        return f"received {created_ids(reader.frames)}\n{processes.tails()}\n{bus.details()}"

    try:
        wait_for_bus(a, ana, conversation_id, reader, DELIVERY_GUARD)

        def received_through(message_id: int) -> None:
            wait_until(
                f"B's client receives message {message_id}",
                lambda: message_id in created_ids(reader.frames),
                DELIVERY_GUARD,
                details,
            )

        for n in range(BEFORE_CRASH):
            sent.append(send(a, ana, conversation_id, f"before the crash {n}")["id"])
        received_through(sent[-1])

        bus.crash()
        for n in range(DURING_OUTAGE):
            # The bus failing must not fail a send: the message is in the log.
            sent.append(send(a, ana, conversation_id, f"while the bus is down {n}")["id"])
        if log_poll_seconds is None:
            # The watcher on B notices the grown log without any wake-up.
            received_through(sent[-1])

        bus.restart()
        wait_for_bus(a, ana, conversation_id, reader, DELIVERY_GUARD)
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
        bus.close()

    assert reader.error is None, reader.error
    assert created_ids(reader.frames) == sent
    events = reader.events()
    ids = [e["id"] for e in events]
    assert ids == sorted(set(ids)), "event ids must arrive once each, in increasing order"
    assert all(e["id"] > ready["last_id"] for e in events)
    assert all(e["conversation_id"] == conversation_id for e in events)


def test_servers_started_while_kafka_is_down_serve_and_catch_up_once_it_is_back(
    postgres_url: str, processes: Processes, server_settings: ServerSettings
) -> None:
    """Kafka down at start stops nothing: sends succeed and are in the log. B's watcher sleeps
    through the test, so B's stream hears of them only once its listener reaches the broker,
    through the first wake-up it carries."""
    broker = PrivateKafka(processes.folder / "kafka")
    broker.start()  # formatted once, so that the broker comes back on the same data
    broker.stop()
    settings = server_settings(postgres_url, {"HUBBUB_KAFKA_URL": broker.url()})
    a = start_hubbub(processes, "hubbub-a", settings)
    b = start_hubbub(processes, "hubbub-b", {**settings, "HUBBUB_LOG_POLL_SECONDS": "3600"})
    ana = register(a, "ana")
    bob = register(b, "bob")
    conversation_id = open_direct(a, ana, bob)
    ws, _ = open_stream(b, bob.token)
    reader = StreamReader(ws)
    try:
        while_down = [
            send(a, ana, conversation_id, f"while Kafka is down {n}")["id"]
            for n in range(DURING_OUTAGE)
        ]
        assert created_ids(reader.frames) == []
        broker.start()
        wait_for_bus(a, ana, conversation_id, reader, DELIVERY_GUARD)
        after = [
            send(a, ana, conversation_id, f"once Kafka is back {n}")["id"]
            for n in range(AFTER_RESTART)
        ]
        wait_until(
            "B's client receives every message",
            lambda: created_ids(reader.frames) == while_down + after,
            DELIVERY_GUARD,
            lambda: f"received {created_ids(reader.frames)}\n{processes.tails()}\n{broker.log()}",
        )
    finally:
        reader.close()
        if broker.running:
            broker.stop()
    assert reader.error is None, reader.error
