"""The bus between processes: what a process sends, which messages it takes in, and whose.

Most tests need no network: a bus whose sending is recorded. The last ones run two buses of one
deployment over the real Redis and the real Kafka broker, as two processes would.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from flask import Flask

from hubbub.events.bus import Message, RemoteBus, Subscription, deployment_of
from hubbub.events.kafka_bus import KafkaBus
from hubbub.events.redis_bus import RedisBus
from tests.support import REDIS_URL, unavailable
from tests.support.brokers import OURS, Recording, shared_kafka_url

# Bounds on waits for the broker, so that a lost message fails the test instead of hanging it.
GUARD_SECONDS = 30.0


class Heard:
    """What reached one bus's observers of a kind and one of its subscribers."""

    def __init__(self, bus: RemoteBus, kind: str) -> None:
        self.observed: list[Message] = []
        bus.observe(kind, self.observed.append)
        self.subscription = bus.subscribe()

    def delivered(self) -> list[Message]:
        """What the subscriber got, once checked that the observers got the same."""
        got = self.subscription.wait(0)
        assert got == self.observed
        self.observed.clear()
        return got


def stamped(message: Message, bus: RemoteBus) -> Message:
    return {**message, "origin": bus.origin, "deployment": bus.deployment}


# One process's bus, without a network


def test_publish_delivers_here_once_and_sends_once_stamped(bus: Recording) -> None:
    heard = Heard(bus, "log")
    message = {"kind": "log", "last_id": 3}
    bus.publish(message)

    expected = {"kind": "log", "last_id": 3, "origin": bus.origin, "deployment": OURS}
    assert heard.delivered() == [expected]
    assert bus.sent == [expected]
    assert bus.origin  # names this process
    assert message == {"kind": "log", "last_id": 3}  # the caller's own dict is left alone


def test_our_own_echo_is_not_delivered_again(bus: Recording) -> None:
    heard = Heard(bus, "log")
    bus.publish({"kind": "log", "last_id": 3})
    assert len(heard.delivered()) == 1
    [sent] = bus.sent

    bus.receive(json.dumps(sent))
    bus.receive(json.dumps(sent).encode())
    assert heard.delivered() == []
    assert bus.sent == [sent]


@pytest.mark.parametrize(
    "deployment", ["another-deployment", "", None], ids=["another", "empty", "unnamed"]
)
def test_another_deployments_message_is_not_heard(bus: Recording, deployment: str | None) -> None:
    heard = Heard(bus, "log")
    message: Message = {"kind": "log", "last_id": 3, "origin": "elsewhere"}
    if deployment is not None:
        message["deployment"] = deployment
    bus.receive(json.dumps(message))
    assert heard.delivered() == []


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe\x00",
        b"\x80not utf-8",
        "not json",
        "",
        "[1, 2]",
        "3",
        "null",
        '"log"',
        # Deeper than Python's parser goes: RecursionError, not ValueError.
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=lambda raw: repr(raw)[:20],
)
def test_what_is_not_a_json_object_is_ignored(bus: Recording, raw: bytes | str) -> None:
    heard = Heard(bus, "log")
    bus.receive(raw)
    assert heard.delivered() == []
    # The bus still hears what follows.
    message = {"kind": "log", "last_id": 1, "origin": "elsewhere", "deployment": OURS}
    bus.receive(json.dumps(message))
    assert heard.delivered() == [message]


def test_another_process_of_our_deployment_is_heard_once_and_not_sent_on(
    bus: Recording,
) -> None:
    heard = Heard(bus, "typing")
    message = {
        "kind": "typing",
        "conversation_id": 7,
        "user_id": 2,
        "data": {"user_id": 2},
        "origin": "another-process",
        "deployment": OURS,
    }
    bus.receive(json.dumps(message).encode())
    assert heard.delivered() == [message]
    assert bus.sent == []


def app_with_key(key: str) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = key
    return app


def test_the_deployment_is_named_by_the_secret_key_alone() -> None:
    one = deployment_of(app_with_key("first key"))
    assert deployment_of(app_with_key("first key")) == one
    assert deployment_of(app_with_key("second key")) != one
    # Other deployments see the name on the bus: it must not give the key away.
    assert "first key" not in one


# Two processes' buses, over the real brokers


@pytest.fixture
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        unavailable(f"Redis at {REDIS_URL}", error)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def started() -> Iterator[Callable[[RemoteBus], RemoteBus]]:
    """Start buses listening; all are stopped after the test."""
    buses: list[RemoteBus] = []

    def start(bus: RemoteBus) -> RemoteBus:
        buses.append(bus)
        bus.start()
        assert bus.listening.wait(GUARD_SECONDS), "the bus never started listening"
        # Joining asks the watcher to look at the log: what came before was not heard.
        assert bus.recheck.is_set()
        return bus

    yield start
    for bus in buses:
        bus.stop()


def deployment() -> str:
    """A deployment of this test's own: other tests share the Redis channel or the broker."""
    return f"test-{uuid.uuid4().hex}"


def collect(subscription: Subscription, count: int) -> list[Message]:
    """What reached the subscriber, once count messages have (or the guard ran out)."""
    found: list[Message] = []
    deadline = time.monotonic() + GUARD_SECONDS
    while len(found) < count and time.monotonic() < deadline:
        found.extend(subscription.wait(deadline - time.monotonic()))
    return found


def exchange(one: RemoteBus, other: RemoteBus) -> None:
    """Messages go back and forth between two buses; each hears every one exactly once.

    Both brokers keep one conversation's messages in order, and each message is sent only
    once the previous one has arrived: by the time a bus hears the next message, it has
    heard the echo of its own, and a duplicate would already be in its list.
    """
    hears_one, hears_other = one.subscribe(), other.subscribe()
    first, second, third = (
        {"kind": "typing", "conversation_id": 7, "user_id": 1, "data": {"n": n}} for n in range(3)
    )
    try:
        one.publish(first)
        assert collect(hears_other, 1) == [stamped(first, one)]
        other.publish(second)
        assert collect(hears_one, 2) == [stamped(first, one), stamped(second, other)]
        one.publish(third)
        assert collect(hears_other, 2) == [stamped(second, other), stamped(third, one)]
        assert hears_one.wait(0) == [stamped(third, one)]
    finally:
        hears_one.close()
        hears_other.close()


def test_two_buses_on_redis_hear_each_other_once(
    redis_url: str, started: Callable[[RemoteBus], RemoteBus]
) -> None:
    name = deployment()
    one = started(RedisBus(redis_url, name))
    other = started(RedisBus(redis_url, name))
    assert one.origin != other.origin
    exchange(one, other)


def test_two_buses_on_kafka_hear_each_other_once(
    started: Callable[[RemoteBus], RemoteBus],
) -> None:
    url = shared_kafka_url()
    name = deployment()
    one = started(KafkaBus(url, name))
    other = started(KafkaBus(url, name))
    exchange(one, other)
