"""The bus's brokers for the tests: none (a bus that records what it would send), Redis or Kafka.

The shared Kafka broker (127.0.0.1:19092, or HUBBUB_TEST_KAFKA_SERVERS) serves every test that
only needs a bus: each takes a topic no other test uses. A test that stops the broker starts its
own with deploy/kafka/kafka.sh, in its own folder and on its own ports; one that stops Redis
starts a redis-server of its own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

from hubbub.events.bus import Message, RemoteBus
from tests.support import unavailable
from tests.support.processes import (
    API,
    Account,
    Process,
    Processes,
    StreamReader,
    expect,
    free_port,
    request,
    start_redis,
)

# The deployment a Recording bus is of, unless a test names another.
OURS = "our-deployment"
SERVERS = os.environ.get("HUBBUB_TEST_KAFKA_SERVERS", "127.0.0.1:19092")
SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "kafka.sh"
SCRIPT_GUARD = 180.0  # a first start may fetch the jars


class Recording(RemoteBus):
    """A bus whose messages to other processes are recorded instead of sent."""

    def __init__(self, deployment: str = OURS) -> None:
        super().__init__(deployment)
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.sent.append(message)


def redis_bus(port: int) -> dict[str, str]:
    """The setting that puts a deployment's bus on the Redis listening on this loopback port."""
    return {"HUBBUB_REDIS_URL": f"redis://127.0.0.1:{port}/0"}


def topic_name() -> str:
    return f"hubbub-test-{uuid.uuid4().hex[:12]}"


def shared_kafka_url() -> str:
    """kafka://…/<a new topic> on the shared broker; skipped (or failed, with
    HUBBUB_REQUIRE_SERVICES=1) when no broker answers there."""
    host, _, port = SERVERS.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            pass
    except OSError as error:
        unavailable(f"Kafka at {SERVERS} (make kafka starts one)", error)
    return f"kafka://{SERVERS}/{topic_name()}"


class PrivateKafka:
    """A single-node broker of one test's own: its data in folder, on free ports."""

    def __init__(self, folder: Path) -> None:
        for tool in ("java", "mvn"):
            if shutil.which(tool) is None:
                unavailable(f"{tool} (a broker of the test's own needs it)", "not on PATH")
        self.folder = folder
        self.port = free_port()
        self.env = {
            **os.environ,
            "KAFKA_RUN_DIR": str(folder),
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(free_port()),
        }
        self.running = False

    def url(self, topic: str | None = None) -> str:
        return f"kafka://127.0.0.1:{self.port}/{topic or topic_name()}"

    def _script(self, command: str) -> None:
        done = subprocess.run(  # noqa: S603 - our own fixed command line
            ["bash", str(SCRIPT), command],  # noqa: S607
            env=self.env,
            capture_output=True,
            text=True,
            timeout=SCRIPT_GUARD,
            check=False,
        )
        assert done.returncode == 0, f"kafka.sh {command} failed:\n{done.stdout}{done.stderr}"

    def start(self) -> None:
        """Start it (on the same data and ports as before) and return once it answers."""
        self._script("start")
        self.running = True

    def stop(self) -> None:
        """Stop it by the PID the script keeps; only this broker."""
        self._script("stop")
        self.running = False

    def log(self, lines: int = 30) -> str:
        path = self.folder / "logs" / "server.log"
        if not path.exists():
            return "[no broker log]"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def bus_settings(kind: str, group: Processes) -> dict[str, str]:
    """The settings that put a deployment's bus on Redis (a private redis-server) or on Kafka
    (a fresh topic on the shared broker)."""
    if kind == "redis":
        port = free_port()
        start_redis(group, port)
        return redis_bus(port)
    assert kind == "kafka", kind
    return {"HUBBUB_KAFKA_URL": shared_kafka_url()}


class CrashableBus:
    """A bus of the test's own that it may take away and bring back: a redis-server, or a Kafka
    broker (stopped and started again on the same data and ports)."""

    def __init__(self, kind: str, group: Processes) -> None:
        self.kind = kind
        self.group = group
        self.port = free_port()
        self.broker: PrivateKafka | None = None
        self.redis: Process | None = None
        if kind == "redis":
            self.redis = start_redis(group, self.port)
            self.settings = redis_bus(self.port)
        else:
            assert kind == "kafka", kind
            self.broker = PrivateKafka(group.folder / "kafka")
            self.broker.start()
            self.settings = {"HUBBUB_KAFKA_URL": self.broker.url()}

    def crash(self) -> None:
        if self.redis is not None:
            self.redis.kill()
        elif self.broker is not None:
            self.broker.stop()

    def restart(self) -> None:
        if self.redis is not None:
            self.redis = start_redis(self.group, self.port, name="redis-restarted")
        elif self.broker is not None:
            self.broker.start()

    def close(self) -> None:
        if self.broker is not None and self.broker.running:
            self.broker.stop()

    def details(self) -> str:
        return self.broker.log() if self.broker is not None else ""


def wait_for_bus(
    base: str, sender: Account, conversation_id: int, reader: StreamReader, guard: float
) -> None:
    """Wait until the bus carries signals from the server at base to the reader's stream on
    another server: sender says they are typing until a typing frame from them arrives there.

    A listener that subscribes from the end of a topic misses what was sent before it did; the
    log covers messages, but a test that proves the bus alone carries them waits for this."""
    deadline = time.monotonic() + guard
    path = f"{API}/conversations/{conversation_id}/typing"

    def typing_frames() -> int:
        return sum(
            1
            for f in reader.frames
            if f.get("type") == "typing" and f["data"]["user"]["id"] == sender.id
        )

    before = typing_frames()
    while typing_frames() == before:
        if time.monotonic() > deadline:
            raise AssertionError(f"hang guard ({guard:.0f} s): the bus never carried a signal")
        expect(request(base, "POST", path, None, sender.token), 204)
        pause = time.monotonic() + 0.5
        while typing_frames() == before and time.monotonic() < pause:
            time.sleep(0.02)
