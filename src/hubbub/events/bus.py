"""The bus wakes every reader in every process when the log grows, and carries ephemeral signals.

It only wakes: the log is the truth. A wake-up lost on the way (Redis or Kafka down, a dropped
message) costs at most one watcher interval, because each process also checks the end of the
log on its own every HUBBUB_LOG_POLL_SECONDS. A wake-up carries the events just committed,
with who may see them, so that a process can hand them to its readers without a query; an
event that arrives out of order, or after ids it has not seen, is read from the log instead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)
Message = dict[str, Any]
Observer = Callable[[Message], None]
# Messages for the machinery of other processes (who holds a stream there), not for readers:
# they go to observers only, so that idle streams do not wake for them.
INTERNAL = {"streams"}


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
        self._observers: dict[str, list[Observer]] = {}
        self._lock = threading.Lock()
        # Set when this process should look at the end of the log now rather than at the
        # watcher's next turn: its listener has just joined the bus, and what was said before
        # it did never reached it.
        self.recheck = threading.Event()

    def subscribe(self, ready: threading.Event | None = None) -> Subscription:
        subscription = Subscription(self, ready)
        with self._lock:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)

    def observe(self, kind: str, observer: Observer) -> None:
        """Call observer with every message of this kind, before any subscriber hears it
        (the tail takes in the events a wake-up carries before its readers wake)."""
        with self._lock:
            self._observers.setdefault(kind, []).append(observer)

    def deliver(self, message: Message) -> None:
        """Hand a message to the observers of its kind, then to every subscriber here."""
        kind = message.get("kind", "")
        with self._lock:
            observers = list(self._observers.get(kind, ()))
            subscribers = [] if kind in INTERNAL else list(self._subscribers)
        for observer in observers:
            observer(message)
        for subscription in subscribers:
            subscription.put(message)

    def publish(self, message: Message) -> None:
        """Send a message to every process of this deployment, this one included."""
        self.deliver(message)

    @property
    def shared(self) -> bool:
        """Whether other processes hear what this one publishes."""
        return False

    def start(self) -> None:
        """Begin listening to other processes, if there are any."""

    def stop(self) -> None:
        """Stop listening to other processes."""


class RemoteBus(Hub):
    """What the buses between processes (Redis, Kafka) share.

    A message is delivered here at once and sent to the others; each message names the
    process it came from, so that its echo is not delivered twice, and the deployment, so
    that another deployment sharing the same channel or topic is not heard at all.
    """

    def __init__(self, deployment: str) -> None:
        super().__init__()
        self.deployment = deployment
        self._origin = ("", 0)
        self.listening = threading.Event()  # the listener is subscribed and hears others
        self._stopping: threading.Event | None = None  # set to stop the running listener
        self._start_lock = threading.Lock()

    @property
    def origin(self) -> str:
        """This process's name on the bus; a forked worker gets its own."""
        name, pid = self._origin
        if pid != os.getpid():
            name, pid = f"{os.getpid()}-{secrets.token_hex(6)}", os.getpid()
            self._origin = (name, pid)
        return name

    @property
    def shared(self) -> bool:
        return True

    def publish(self, message: Message) -> None:
        stamped = {**message, "origin": self.origin, "deployment": self.deployment}
        self.deliver(stamped)
        self.send(stamped)

    def send(self, message: Message) -> None:
        """Send a stamped message to the other processes; never raises."""
        raise NotImplementedError

    def receive(self, raw: bytes | str) -> None:
        """A message from the bus: delivered unless it is our own or another deployment's."""
        try:
            message = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON, or nested past what Python parses
            log.warning("bus: a message that is not JSON was ignored")
            return
        if not isinstance(message, dict) or message.get("deployment") != self.deployment:
            return
        if message.get("origin") == self.origin:
            return
        self.deliver(message)

    def start(self) -> None:
        with self._start_lock:
            if self._stopping is not None:
                return
            # Each listener has its own stop signal, so one stopped and a new one started at
            # once never both run.
            self._stopping = stopping = threading.Event()
        threading.Thread(target=self._run, args=(stopping,), name="hubbub-bus", daemon=True).start()

    def stop(self) -> None:
        with self._start_lock:
            stopping, self._stopping = self._stopping, None
        if stopping is not None:
            stopping.set()

    def _run(self, stopping: threading.Event) -> None:
        delay = 0.1
        while not stopping.is_set():
            try:
                self.listen(stopping)
                delay = 0.1
            except Exception as error:  # the listener must outlive any outage of the bus
                log.warning("bus: listener lost (%s); retrying", error)
            self.listening.clear()
            stopping.wait(delay)
            delay = min(delay * 2, 2.0)

    def listen(self, stopping: threading.Event) -> None:
        """Receive until stopping is set or the connection fails; call joined() once
        subscribed."""
        raise NotImplementedError

    def joined(self) -> None:
        self.listening.set()
        self.recheck.set()


def deployment_of(app: Flask) -> str:
    """A name shared by every server of one deployment: all of them hold the same secret key."""
    key = str(app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"hubbub bus", hashlib.sha256).hexdigest()[:16]


def bus_of(app: Flask) -> Hub:
    hub: Hub = app.extensions["hubbub.bus"]
    return hub


def init_app(app: Flask) -> None:
    # Each bus's client library is imported only where it is used.
    hub: Hub
    if app.config.get("HUBBUB_KAFKA_URL"):
        from hubbub.events.kafka_bus import KafkaBus

        hub = KafkaBus(app.config["HUBBUB_KAFKA_URL"], deployment_of(app))
    elif app.config.get("HUBBUB_REDIS_URL"):
        from hubbub.events.redis_bus import RedisBus

        hub = RedisBus(app.config["HUBBUB_REDIS_URL"], deployment_of(app))
    else:
        hub = Hub()
    app.extensions["hubbub.bus"] = hub
