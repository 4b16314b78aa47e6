"""Twenty streams drop and resume at random while 1,000 messages arrive: none lost, none twice."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import websocket

from tests.support.brokers import CrashableBus
from tests.support.fixtures import ServerSettings
from tests.support.processes import (
    CHEAP_HASHING,
    Account,
    Frame,
    Processes,
    create_group,
    open_direct,
    open_stream,
    register,
    send,
    start_hubbub,
)
from tests.support.streams import wait_for_request_threads

SEED = 20240611
CLIENTS = 20
SENDERS = 4
MESSAGES = 1000
# Hang guards only: nothing here measures how fast anything happens.
GUARD = 300.0
CONNECT_GUARD = 30.0
FENCE = "fence"
BUS_DOWN = 2.0  # seconds

GROUPS = [range(0, 10), range(6, 16), [*range(12, 20), 0, 1, 2]]
DIRECT = [(0, 19), (3, 4), (5, 17), (8, 13), (10, 11), (16, 18), (1, 7), (2, 14), (9, 15)]


@dataclass
class Sent:
    id: int
    conversation_id: int
    body: str


@dataclass
class Client:
    """One user holding a stream that it drops and resumes at random moments."""

    index: int
    account: Account
    base: str
    rng: random.Random
    events: list[Frame] = field(default_factory=list)
    connections: int = 0
    error: BaseException | None = None
    connected: threading.Event = field(default_factory=threading.Event)

    def run(self, deadline: float, stop: threading.Event) -> None:
        try:
            self._run(deadline, stop)
        except BaseException as error:  # raised again by the test, never lost in a thread
            self.error = error
        finally:
            self.connected.set()

    def _run(self, deadline: float, stop: threading.Event) -> None:
        cursor: int | None = None
        while not stop.is_set():
            if time.monotonic() > deadline:
                raise AssertionError(f"hang guard: client {self.index} never saw its fence")
            ws, ready = open_stream(self.base, self.account.token, cursor, CONNECT_GUARD)
            self.connections += 1
            if cursor is None:
                # The first stream starts at the end of the log; every message comes after it.
                cursor = int(ready["last_id"])
                self.connected.set()
            # A random moment to drop: after some frames, or at a random quiet spell.
            budget = self.rng.randint(1, 40)
            ws.settimeout(self.rng.uniform(0.05, 1.5))
            fenced = False
            try:
                while budget > 0 and not fenced:
                    frame: Frame = json.loads(ws.recv())
                    budget -= 1
                    if "id" in frame:
                        self.events.append(frame)
                        cursor = int(frame["id"])
                        fenced = is_fence(frame)
            except websocket.WebSocketTimeoutException:
                pass
            self._drop(ws)
            if fenced:
                return
            if self.rng.random() < 0.3:
                time.sleep(self.rng.uniform(0.0, 0.2))  # away for a while, missing events

    def _drop(self, ws: websocket.WebSocket) -> None:
        """Half the time a clean close; otherwise the connection just vanishes."""
        if self.rng.random() < 0.5:
            try:
                ws.close(timeout=1)
                return
            except (websocket.WebSocketException, OSError):
                pass
        ws.shutdown()


def is_fence(frame: Frame) -> bool:
    return bool(
        frame["type"] == "conversation.created"
        and frame["data"]["conversation"].get("title") == FENCE
    )


def send_many(
    base: str,
    number: int,
    count: int,
    conversations: dict[int, list[Account]],
    sent: list[Sent],
    errors: list[BaseException],
) -> None:
    rng = random.Random(f"{SEED}-sender-{number}")  # noqa: S311 - a reproducible test schedule
    ids = sorted(conversations)
    try:
        for n in range(count):
            conversation_id = rng.choice(ids)
            who = rng.choice(conversations[conversation_id])
            body = f"message s{number}-n{n} in {conversation_id} from {who.username}"
            message = send(base, who, conversation_id, body)
            sent.append(Sent(message["id"], conversation_id, body))
    except BaseException as error:  # raised again by the test, never lost in a thread
        errors.append(error)


@dataclass
class World:
    """The users, and who belongs to which conversation."""

    accounts: list[Account]
    conversations: dict[int, list[Account]]

    def mine(self, account: Account) -> set[int]:
        return {cid for cid, members in self.conversations.items() if account in members}


def build_world(base: str) -> World:
    accounts = [register(base, f"user{i:02d}") for i in range(CLIENTS)]
    conversations: dict[int, list[Account]] = {}
    for number, members in enumerate(GROUPS):
        owner, *others = (accounts[i] for i in members)
        conversation_id = create_group(base, owner, f"group {number}", others)
        conversations[conversation_id] = [owner, *others]
    for one, other in DIRECT:
        conversation_id = open_direct(base, accounts[one], accounts[other])
        conversations[conversation_id] = [accounts[one], accounts[other]]
    world = World(accounts, conversations)
    assert all(world.mine(a) for a in accounts), "every client belongs to some conversation"
    return world


def test_twenty_clients_can_hold_their_streams_at_the_same_time(live_server: str) -> None:
    """Twenty open tabs on one server, all idle at once, then a message in every conversation."""
    base = live_server
    world = build_world(base)
    streams: list[websocket.WebSocket] = []
    try:
        for number, account in enumerate(world.accounts):
            try:
                ws, _ = open_stream(base, account.token)
            except (AssertionError, websocket.WebSocketException, OSError) as error:
                raise AssertionError(
                    f"stream {number + 1} could not open while {number} others are held open "
                    f"and idle: {error!r}"
                ) from error
            streams.append(ws)
        sent = [
            Sent(send(base, members[0], cid, f"hello {cid}")["id"], cid, f"hello {cid}")
            for cid, members in world.conversations.items()
        ]
        for account, ws in zip(world.accounts, streams, strict=True):
            expected = {s.id for s in sent if s.conversation_id in world.mine(account)}
            received: list[int] = []
            while set(received) != expected:
                frame: Frame = json.loads(ws.recv())  # the socket's timeout is the hang guard
                if frame.get("type") == "message.created":
                    received.append(frame["data"]["message"]["id"])
                assert set(received) <= expected, (account.username, received, expected)
            assert sorted(received) == sorted(expected), (account.username, received)
    finally:
        for ws in streams:
            ws.shutdown()
        wait_for_request_threads()


def test_messages_of_one_conversation_stream_in_the_order_of_their_ids(live_server: str) -> None:
    """Eight members send at once into one group; a member's stream gets them in id order.

    History pages by message id (`after=`): a message streamed after one with a higher id is
    one that a client following history with `after=` the newest id it has would never see.
    """
    base = live_server
    accounts = [register(base, f"member{i}") for i in range(8)]
    watcher = register(base, "watcher")
    conversation_id = create_group(base, accounts[0], "busy", [*accounts[1:], watcher])
    ws, _ = open_stream(base, watcher.token)
    sent: list[Sent] = []
    errors: list[BaseException] = []
    senders = [
        threading.Thread(
            target=send_many,
            args=(base, number, 50, {conversation_id: [account]}, sent, errors),
            name=f"sender-{number}",
            daemon=True,
        )
        for number, account in enumerate(accounts)
    ]
    try:
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join(GUARD)
            assert not thread.is_alive(), "hang guard: a sender never finished"
        assert not errors, errors
        streamed: list[tuple[int, int]] = []
        while len(streamed) < len(sent):
            frame: Frame = json.loads(ws.recv())  # the socket's timeout is the hang guard
            if frame.get("type") == "message.created":
                streamed.append((frame["id"], frame["data"]["message"]["id"]))
    finally:
        ws.shutdown()
        wait_for_request_threads()
    assert sorted(m for _, m in streamed) == sorted(s.id for s in sent)
    assert [e for e, _ in streamed] == sorted(e for e, _ in streamed)
    assert_message_ids_follow_the_log(f"the watcher, in conversation {conversation_id}", streamed)


def test_every_client_resuming_at_random_gets_each_message_once_in_order(live_server: str) -> None:
    """The guarantee: after any disconnect, resuming from the last event id seen delivers every
    missed event exactly once, in order within each conversation."""
    resume_at_random([live_server])


@pytest.mark.parametrize("bus_kind", ["redis", "kafka"])
def test_clients_resuming_at_random_across_two_servers_get_each_message_once_in_order(
    postgres_url: str, processes: Processes, server_settings: ServerSettings, bus_kind: str
) -> None:
    """The same guarantee across two gunicorn servers on one log, with the bus between them on
    Redis or Kafka: each client and sender uses one of the two, so most events cross. A third
    of the way through the messages the bus is taken away, and brought back a moment later:
    delivery goes on through the watchers, then through the bus again, by itself."""
    bus = CrashableBus(bus_kind, processes)
    settings = server_settings(postgres_url, bus.settings, **CHEAP_HASHING)
    bases = [start_hubbub(processes, f"hubbub-{n}", settings) for n in "ab"]

    def outage() -> None:
        bus.crash()
        time.sleep(BUS_DOWN)
        bus.restart()

    try:
        resume_at_random(bases, midway=outage)
    finally:
        bus.close()


def resume_at_random(bases: list[str], midway: Callable[[], None] | None = None) -> None:
    """Clients and senders spread over the servers at bases (by their number); midway, if
    given, runs once a third of the messages are sent, while the senders go on."""
    world = build_world(bases[0])
    deadline = time.monotonic() + GUARD
    stop = threading.Event()
    clients = [
        Client(i, account, bases[i % len(bases)], random.Random(f"{SEED}-client-{i}"))  # noqa: S311
        for i, account in enumerate(world.accounts)
    ]
    client_threads = [
        threading.Thread(target=c.run, args=(deadline, stop), name=f"client-{c.index}", daemon=True)
        for c in clients
    ]
    sent: list[Sent] = []
    errors: list[BaseException] = []
    senders = [
        threading.Thread(
            target=send_many,
            args=(
                bases[number % len(bases)],
                number,
                MESSAGES // SENDERS,
                world.conversations,
                sent,
                errors,
            ),
            name=f"sender-{number}",
            daemon=True,
        )
        for number in range(SENDERS)
    ]
    try:
        for thread in client_threads:
            thread.start()
        for client in clients:
            assert client.connected.wait(CONNECT_GUARD), f"client {client.index} never connected"
            assert client.error is None, client.error

        for thread in senders:
            thread.start()
        if midway is not None:
            while len(sent) < MESSAGES // 3 and any(t.is_alive() for t in senders):
                time.sleep(0.01)
            midway()
            # Otherwise what midway did was not in the middle of the load.
            assert len(sent) < MESSAGES, "the senders were done before midway was"
        for thread in senders:
            thread.join(max(0.0, deadline - time.monotonic()))
            assert not thread.is_alive(), "hang guard: a sender never finished"
        assert not errors, errors
        assert len(sent) == MESSAGES
        assert len({s.body for s in sent}) == MESSAGES

        # Fences: a group of one per client, created after every message. Once a client sees
        # its own, everything before it in the log has been streamed to that client.
        for client in clients:
            create_group(client.base, client.account, FENCE, [])
        for client, thread in zip(clients, client_threads, strict=True):
            thread.join(max(0.0, deadline - time.monotonic()))
            assert not thread.is_alive(), f"hang guard: client {client.index} is still running"
    finally:
        stop.set()
        for thread in [*client_threads, *senders]:
            if thread.ident is not None:
                thread.join(CONNECT_GUARD)
        wait_for_request_threads()

    for client in clients:
        assert client.error is None, f"client {client.index}: {client.error!r}"
    resumes = sum(c.connections - 1 for c in clients)
    assert resumes >= CLIENTS, f"only {resumes} resumes: the test did not exercise resuming"
    bodies = {s.id: s for s in sent}
    for client in clients:
        check_client(client, world.mine(client.account), sent, bodies)


def check_client(client: Client, mine: set[int], sent: list[Sent], bodies: dict[int, Sent]) -> None:
    """Every message of the client's conversations exactly once, in log order per conversation."""
    who = f"client {client.index} ({client.connections} connections)"
    expected = {s.id for s in sent if s.conversation_id in mine}

    repeated = [i for i, n in Counter(e["id"] for e in client.events).items() if n > 1]
    assert not repeated, f"{who}: events streamed more than once: {repeated[:20]}"

    created: list[dict[str, Any]] = [
        e["data"]["message"] for e in client.events if e["type"] == "message.created"
    ]
    received = Counter(m["id"] for m in created)
    assert not [i for i, n in received.items() if n > 1], f"{who}: messages received twice"
    missing = sorted(expected - set(received))
    extra = sorted(set(received) - expected)
    assert not missing, f"{who}: {len(missing)} messages never arrived: {missing[:20]}"
    assert not extra, f"{who}: messages from conversations it is not in: {extra[:20]}"
    for message in created:
        original = bodies[message["id"]]
        assert (message["conversation_id"], message["body"]) == (
            original.conversation_id,
            original.body,
        ), message

    per_conversation: dict[int, list[int]] = defaultdict(list)
    for event in client.events:
        if event["type"] == "message.created":
            per_conversation[event["conversation_id"]].append(event["id"])
    for conversation_id, ids in per_conversation.items():
        assert ids == sorted(ids), f"{who}: events of {conversation_id} out of order: {ids}"


def assert_message_ids_follow_the_log(who: str, pairs: list[tuple[int, int]]) -> None:
    """Within one conversation, messages arrive in the order of their own ids too."""
    inversions = [
        f"event {e1} carries message {m1}, then event {e2} message {m2}"
        for (e1, m1), (e2, m2) in zip(pairs, pairs[1:], strict=False)
        if m2 < m1
    ]
    assert not inversions, (
        f"{who}: {len(inversions)} messages streamed after one with a higher id, so message "
        f"ids do not follow commit order: {inversions[:5]}"
    )
