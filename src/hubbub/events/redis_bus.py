"""The bus between processes on Redis pub/sub (tiers 1 and 2)."""

from __future__ import annotations

import json
import logging
import threading

import redis

from hubbub.events.bus import Message, RemoteBus

log = logging.getLogger(__name__)
CHANNEL = "hubbub:bus"


class RedisBus(RemoteBus):
    def __init__(self, url: str, deployment: str) -> None:
        super().__init__(deployment)
        self._url = url
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.channel = channel_for(self._client)

    def send(self, message: Message) -> None:
        try:
            self._client.publish(self.channel, json.dumps(message))
        except redis.RedisError as error:
            # Readers here have it already; other processes catch up from the log.
            log.warning("bus: publish to Redis failed: %s", error)

    def listen(self, stopping: threading.Event) -> None:
        client = redis.Redis.from_url(self._url, socket_connect_timeout=2)
        pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        try:
            pubsub.subscribe(self.channel)
            self.joined()
            while not stopping.is_set():
                item = pubsub.get_message(timeout=1.0)
                if item is not None and item.get("type") == "message":
                    self.receive(item["data"])
        finally:
            pubsub.close()
            client.close()


def channel_for(client: redis.Redis) -> str:
    """The pub/sub channel of the deployment using this Redis database.

    Pub/sub ignores database numbers, so two deployments sharing one Redis on different
    databases would hear each other's wake-ups; the number is part of the name instead.
    """
    number = client.connection_pool.connection_kwargs.get("db", 0)
    return f"{CHANNEL}:{number}"
