"""The bus between servers on Kafka: one topic, keyed by conversation, read by every process.

Each process produces what it publishes to the topic and reads the whole topic from its end,
without a consumer group: every process must hear every message. The producer lives on a
thread of its own, so a broker that is slow or down never holds up a request; what cannot be
sent is dropped, and the other processes catch up from the log.

kafka-python is pure Python, so under gunicorn's gevent workers its sockets and threads are
gevent's and never block the hub; a client built on librdkafka would block it in C calls.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from hubbub.config import KafkaTarget, kafka_target
from hubbub.events.bus import Message, RemoteBus

log = logging.getLogger(__name__)
# Messages waiting for the producer; past this the oldest are dropped (the log has them).
OUTBOX = 10_000
# How long the listener trusts its list of the topic's partitions before asking again.
PARTITIONS_RECHECK = 30.0
CLIENT_ID = "hubbub"
COMMON: dict[str, Any] = {
    "client_id": CLIENT_ID,
    "request_timeout_ms": 10_000,
    "reconnect_backoff_max_ms": 2_000,
    "bootstrap_timeout_ms": 5_000,
}


class KafkaBus(RemoteBus):
    def __init__(self, url: str, deployment: str) -> None:
        super().__init__(deployment)
        self.target: KafkaTarget = kafka_target(url)
        self._outbox: deque[tuple[bytes, bytes]] = deque(maxlen=OUTBOX)
        self._pending = threading.Event()
        self._sender_pid = 0
        self._sender_stop = threading.Event()
        self._sender_lock = threading.Lock()

    def send(self, message: Message) -> None:
        key = _key(message)
        self._outbox.append((key, json.dumps(message, separators=(",", ":")).encode()))
        self._ensure_sender()
        self._pending.set()

    def stop(self) -> None:
        super().stop()
        with self._sender_lock:
            self._sender_stop.set()
            self._sender_pid = 0  # a send after this starts a sender again

    def _ensure_sender(self) -> None:
        if self._sender_pid == os.getpid():
            return
        with self._sender_lock:
            if self._sender_pid != os.getpid():
                # A forked worker inherits no thread: each process starts its own sender.
                self._sender_pid = os.getpid()
                self._sender_stop = stop = threading.Event()
                threading.Thread(
                    target=self._send, args=(stop,), name="hubbub-kafka-out", daemon=True
                ).start()

    def _send(self, stop: threading.Event) -> None:
        producer: KafkaProducer | None = None
        try:
            while not stop.is_set():
                if not self._pending.wait(1.0):
                    continue
                if producer is None and (producer := self._producer()) is None:
                    stop.wait(1.0)  # the broker is not there yet; what waits is kept
                    continue
                self._pending.clear()
                while self._outbox:
                    key, value = self._outbox.popleft()
                    try:
                        producer.send(self.target.topic, key=key, value=value)
                    except KafkaError as error:
                        log.warning("bus: a message was not sent to Kafka: %s", error)
        finally:
            if producer is not None:
                producer.close(timeout=1)

    def _producer(self) -> KafkaProducer | None:
        try:
            return KafkaProducer(
                bootstrap_servers=list(self.target.servers),
                acks=1,
                linger_ms=0,
                # A send waits this long for the topic's metadata or buffer space, on the
                # producer's own thread, before the message is given up.
                max_block_ms=2_000,
                delivery_timeout_ms=15_000,
                **COMMON,
            )
        except KafkaError as error:
            log.warning("bus: Kafka producer not ready (%s); retrying", error)
            return None

    def listen(self, stopping: threading.Event) -> None:
        consumer = KafkaConsumer(
            bootstrap_servers=list(self.target.servers),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            fetch_max_wait_ms=100,
            **COMMON,
        )
        try:
            partitions = self._partitions(consumer)
            consumer.assign(partitions)
            consumer.seek_to_end(*partitions)
            for partition in partitions:
                consumer.position(partition)  # fix the end now: what comes later is heard
            self.joined()
            recheck = time.monotonic() + PARTITIONS_RECHECK
            while not stopping.is_set():
                for records in consumer.poll(timeout_ms=500).values():
                    for record in records:
                        self.receive(record.value)
                if time.monotonic() >= recheck:
                    if set(self._partitions(consumer)) != set(partitions):
                        return  # partitions were added: listen again, to all of them
                    recheck = time.monotonic() + PARTITIONS_RECHECK
        finally:
            consumer.close()

    def _partitions(self, consumer: KafkaConsumer) -> list[TopicPartition]:
        topic = self.target.topic
        numbers = consumer.partitions_for_topic(topic)
        if not numbers:
            self._create_topic()
            deadline = time.monotonic() + 10
            while not numbers and time.monotonic() < deadline:
                time.sleep(0.2)
                numbers = consumer.partitions_for_topic(topic)
            if not numbers:
                raise KafkaError(f"topic {topic} has no partitions")
        return [TopicPartition(topic, number) for number in sorted(numbers)]

    def _create_topic(self) -> None:
        """Create the topic with the cluster's default partitions and replication."""
        admin = KafkaAdminClient(bootstrap_servers=list(self.target.servers), **COMMON)
        try:
            admin.create_topics([NewTopic(self.target.topic)])
            log.info("bus: created Kafka topic %s", self.target.topic)
        except TopicAlreadyExistsError:
            pass
        finally:
            admin.close()


def _key(message: Message) -> bytes:
    """Messages of one conversation share a partition, and so keep their order; so do one
    user's presence, and one process's news of its streams."""
    conversation_id = message.get("conversation_id")
    if conversation_id is not None:
        return str(conversation_id).encode()
    user_id = message.get("user_id")
    if user_id is not None:
        return f"user:{user_id}".encode()
    return f"process:{message.get('origin')}".encode()
