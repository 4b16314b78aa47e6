"""The bus wakes every reader in every process when the log grows, and carries ephemeral signals.

It only wakes: the log is the truth. A wake-up lost on the way (Redis down, a dropped
message) costs at most one watcher interval, because each process also checks the end of the
log on its own every HUBBUB_LOG_POLL_SECONDS.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from typing import Any

import redis
from flask import Flask

log = logging.getLogger(__name__)
CHANNEL = "hubbub:bus"
Message = dict[str, Any]


class Subscription:
    """One reader's mailbox."""

    def __init__(self, hub: Hub, ready: threading.Event | None = None) -> None:
        self._hub = hub
        self._items: deque[Message] = deque(maxlen=1000)
        # Set when something arrives; a stream passes its connection's own event, so that
        # one wait also ends when the client goes away.
        self._ready = ready or threading.Event()

    def put(self, message: Message) -> None:
        self._items.append(message)
        self._ready.set()

    def wait(self, timeout: float) -> list[Message]:
        """What arrived, waiting up to timeout seconds for the first item."""
        if not self._items:
            self._ready.wait(timeout)
        self._ready.clear()
        items = []
        while self._items:
            items.append(self._items.popleft())
        return items

    def close(self) -> None:
        self._hub.unsubscribe(self)


class Hub:
    """The subscribers of this process, and the in-process bus (tier 0)."""

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()
        self._lock = threading.Lock()

    def subscribe(self, ready: threading.Event | None = None) -> Subscription:
        subscription = Subscription(self, ready)
        with self._lock:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)

    def deliver(self, message: Message) -> None:
        """Hand a message to every subscriber of this process."""
        with self._lock:
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            subscription.put(message)

    def publish(self, message: Message) -> None:
        self.deliver(message)

    def start(self) -> None:
        """Begin listening to other processes, if there are any."""

    def stop(self) -> None:
        """Stop listening to other processes."""


class RedisBus(Hub):
    """Redis pub/sub between processes (tiers 1 and 2)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.channel = channel_for(self._client)
        self._started = False
        self._stopping = threading.Event()
        self._start_lock = threading.Lock()

    def publish(self, message: Message) -> None:
        try:
            self._client.publish(self.channel, json.dumps(message))
        except redis.RedisError as error:
            # Readers in this process still hear it; others catch up from the log.
            log.warning("bus: publish failed, delivering locally only: %s", error)
            self.deliver(message)

    def start(self) -> None:
        with self._start_lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._listen, name="hubbub-bus", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()

    def _listen(self) -> None:
        delay = 0.1
        while not self._stopping.is_set():
            try:
                client = redis.Redis.from_url(self._url, socket_connect_timeout=2)
                pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
                pubsub.subscribe(self.channel)
                delay = 0.1
                while not self._stopping.is_set():
                    item = pubsub.get_message(timeout=1.0)
                    if item is not None and item.get("type") == "message":
                        self.deliver(json.loads(item["data"]))
                pubsub.close()
                client.close()
            except (redis.RedisError, OSError) as error:
                log.warning("bus: Redis listener lost (%s); retrying", error)
            self._stopping.wait(delay)
            delay = min(delay * 2, 2.0)


def channel_for(client: redis.Redis) -> str:
    """The pub/sub channel of the deployment using this Redis database.

    Pub/sub ignores database numbers, so two deployments sharing one Redis on different
    databases would hear each other's wake-ups; the number is part of the name instead.
    """
    number = client.connection_pool.connection_kwargs.get("db", 0)
    return f"{CHANNEL}:{number}"


def bus_of(app: Flask) -> Hub:
    hub: Hub = app.extensions["hubbub.bus"]
    return hub


def init_app(app: Flask) -> None:
    url = app.config.get("HUBBUB_REDIS_URL")
    app.extensions["hubbub.bus"] = RedisBus(url) if url else Hub()
