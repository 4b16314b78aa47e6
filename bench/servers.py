"""Starting Hubbub the way operators do (tiers 0, 1 and 2), and measuring its processes."""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

BIN = Path(sys.executable).parent
START_GUARD = 60.0
STOP_GRACE = 10.0
LOG_KEPT = 2 * 2**20  # the end of each server's log is kept next to the results
DEFAULT_POSTGRES_ADMIN = "postgresql://hubbub:hubbub@127.0.0.1:5432/postgres"
DEFAULT_DATABASE = "hubbub_bench"
DEFAULT_KAFKA = "kafka://127.0.0.1:19092"
TIER2_SERVERS = 2
# Tier 1 gets a private redis-server on a free port unless --redis-url names one. Pub/sub
# channels ignore the db number, and every Hubbub publishes its wake-ups on the same channel, so
# two deployments on one Redis hear each other's log positions: a private Redis keeps the bench
# and any other server on this machine (tests, other benches) out of each other's way.
# Cheap hashing: the bench signs up thousands of users and measures chat, not argon2.
BENCH_SETTINGS = {
    "HUBBUB_RATELIMIT_ENABLED": "0",
    "HUBBUB_ARGON2_TIME_COST": "1",
    "HUBBUB_ARGON2_MEMORY_KIB": "8192",
    "HUBBUB_ARGON2_PARALLELISM": "1",
    "HUBBUB_SECRET_KEY": "bench-only-secret-not-for-production",
}
TIER_NAMES = {
    0: "tier 0: flask run + SQLite",
    1: "tier 1: gunicorn gevent + PostgreSQL + Redis",
    2: "tier 2: two gunicorn gevent servers + PostgreSQL + Kafka",
}


class Unavailable(RuntimeError):
    """A service a tier needs (PostgreSQL, Redis, Kafka) is not there."""


def raise_open_files() -> int:
    """Raise this process's soft RLIMIT_NOFILE to the hard limit; the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _child_limits() -> None:
    # Runs in the server child before exec: 10,000 streams need as many descriptors.
    raise_open_files()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Sample:
    """CPU seconds (user + system) and RSS summed over a server's master and workers."""

    at: float
    cpu_seconds: float
    rss_bytes: int
    processes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "cpu_seconds": round(self.cpu_seconds, 3),
            "rss_bytes": self.rss_bytes,
            "processes": self.processes,
        }


def sample_tree(pid: int) -> Sample:
    try:
        root = psutil.Process(pid)
        members = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return Sample(time.monotonic(), 0.0, 0, 0)
    cpu = 0.0
    rss = 0
    counted = 0
    for proc in members:
        try:
            times = proc.cpu_times()
            cpu += times.user + times.system
            rss += proc.memory_info().rss
            counted += 1
        except psutil.NoSuchProcess:
            continue
    return Sample(time.monotonic(), cpu, rss, counted)


def usage(before: Sample, after: Sample) -> dict[str, Any]:
    """What the server spent between two samples."""
    wall = max(after.at - before.at, 1e-9)
    return {
        "cpu_seconds": round(after.cpu_seconds - before.cpu_seconds, 3),
        "cpu_percent_of_one_core": round(100 * (after.cpu_seconds - before.cpu_seconds) / wall, 1),
        "rss_before_bytes": before.rss_bytes,
        "rss_after_bytes": after.rss_bytes,
        "rss_after_mib": round(after.rss_bytes / 2**20, 1),
        "processes": after.processes,
    }


@dataclass
class Options:
    """Where tiers 1 and 2 find their services, and how many gunicorn workers they get."""

    postgres_admin_url: str = DEFAULT_POSTGRES_ADMIN
    database: str = DEFAULT_DATABASE
    redis_url: str | None = None  # None: a private redis-server for each tier 1 server
    workers: int = field(default_factory=lambda: os.cpu_count() or 2)
    keep_logs: Path | None = None
    kafka_url: str = DEFAULT_KAFKA  # tier 2's brokers; each workload takes a topic of its own


@dataclass
class Server:
    """One running deployment: its servers' base URLs and main processes, one database.

    Tiers 0 and 1 are one server; tier 2 is several, and a client spreads its users over
    `bases`.
    """

    tier: int
    bases: list[str]
    database_url: str
    popens: list[subprocess.Popen[bytes]]
    logs: list[Path]
    folder: Path
    commands: list[list[str]]
    options: Options
    helpers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workers: int = 0  # gunicorn workers per server (0: not gunicorn)
    bus: str = "in-process"
    kafka_topic: str | None = None

    @property
    def base(self) -> str:
        return self.bases[0]

    @property
    def pid(self) -> int:
        return self.popens[0].pid

    @property
    def pids(self) -> list[int]:
        return [popen.pid for popen in self.popens]

    @property
    def command(self) -> list[str]:
        return self.commands[0]

    def layout(self) -> dict[str, Any]:
        return {"servers": len(self.bases), "workers_per_server": self.workers, "bus": self.bus}

    def sample(self) -> Sample:
        """The sum over every server's tree: what the deployment spends, not one server."""
        samples = [sample_tree(pid) for pid in self.pids]
        return Sample(
            samples[-1].at,
            sum(s.cpu_seconds for s in samples),
            sum(s.rss_bytes for s in samples),
            sum(s.processes for s in samples),
        )

    def alive(self) -> bool:
        return all(popen.poll() is None for popen in self.popens)

    def tail(self, lines: int = 30) -> str:
        if len(self.logs) == 1:
            return _tail(self.logs[0], lines)
        return "\n".join(
            f"-- server {n} ({base}) --\n{_tail(log, lines)}"
            for n, (base, log) in enumerate(zip(self.bases, self.logs, strict=True), 1)
        )

    def stop(self) -> None:
        """SIGTERM to each server's main process (gunicorn passes it on), then SIGKILL."""
        # All at once, so that a deployment of several servers stops in one grace period.
        for popen in self.popens:
            if popen.poll() is None:
                popen.terminate()
        for popen in self.popens:
            _wait_or_kill(popen)
        if self.options.keep_logs is not None:
            self._keep_logs(self.options.keep_logs)
        for helper in self.helpers:
            _terminate(helper)
        if self.tier in (1, 2):
            drop_database(self.options)
        if self.kafka_topic is not None:
            delete_topic(self.options.kafka_url, self.kafka_topic)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _keep_logs(self, kept: Path) -> None:
        """The end of each server's log, one after the other in one file."""
        kept.parent.mkdir(parents=True, exist_ok=True)
        share = LOG_KEPT // len(self.logs)
        with kept.open("wb") as out:
            for n, (base, log) in enumerate(zip(self.bases, self.logs, strict=True), 1):
                if len(self.logs) > 1:
                    out.write(f"==== server {n} ({base}) ====\n".encode())
                if not log.exists():
                    continue
                with log.open("rb") as source:
                    source.seek(max(0, log.stat().st_size - share))
                    out.write(source.read())


def _tail(log: Path, lines: int) -> str:
    if not log.exists():
        return "[no server output]"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _env(settings: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBBUB_", "FLASK_"))}
    env.update(BENCH_SETTINGS)
    env.update(settings)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _admin_url(options: Options) -> str:
    return options.postgres_admin_url.replace("postgresql+psycopg://", "postgresql://")


def database_url(options: Options) -> str:
    admin = _admin_url(options)
    base, _, _ = admin.rpartition("/")
    return f"{base}/{options.database}"


def create_database(options: Options) -> str:
    """Drop and create the bench's own database; its URL."""
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(_admin_url(options), autocommit=True, connect_timeout=5) as conn:
            name = sql.Identifier(options.database)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    except psycopg.OperationalError as error:
        raise Unavailable(f"PostgreSQL at {options.postgres_admin_url}: {error}") from error
    return database_url(options)


def drop_database(options: Options) -> None:
    import psycopg
    from psycopg import sql

    with (
        contextlib.suppress(psycopg.Error),
        psycopg.connect(_admin_url(options), autocommit=True, connect_timeout=5) as conn,
    ):
        name = sql.Identifier(options.database)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        _wait_or_kill(process)


def _wait_or_kill(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_GRACE)


def start_redis(folder: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """A throwaway redis-server on a free loopback port, keeping nothing on disk."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise Unavailable("redis-server is not on PATH (or give --redis-url)")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(folder)]
    with (folder / "redis.log").open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + START_GUARD
    while True:
        try:
            check_redis(url)
            return url, process
        except Unavailable:
            if process.poll() is not None or time.monotonic() > deadline:
                _terminate(process)
                raise
            time.sleep(0.05)


def check_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        raise Unavailable(f"Redis at {url}: {error}") from error
    finally:
        client.close()


def kafka_servers(url: str) -> list[str]:
    """The brokers of kafka://host:port[,host:port]; a topic is not given here, since each
    workload on tier 2 takes a fresh one (so that no earlier run's messages reach it)."""
    rest = url.removeprefix("kafka://")
    hosts, _, topic = rest.partition("/")
    if topic:
        raise ValueError(f"{url}: name the brokers only; each workload takes a topic of its own")
    servers = [h.strip() for h in hosts.split(",") if h.strip()]
    for server in servers:
        host, colon, port = server.rpartition(":")
        if not colon or not host or not port.isdigit():
            raise ValueError(f"{url}: {server!r} is not host:port")
    if not servers:
        raise ValueError(f"{url}: no broker named")
    return servers


def _kafka_admin(url: str) -> Any:
    from kafka import KafkaAdminClient

    return KafkaAdminClient(
        bootstrap_servers=kafka_servers(url),
        client_id="hubbub-bench",
        request_timeout_ms=5_000,
        bootstrap_timeout_ms=5_000,
    )


def check_kafka(url: str) -> None:
    """A broker answers at url: one port at least takes a connection, and speaks Kafka."""
    from kafka.errors import KafkaError

    # A plain connection first: kafka-python, failing to bootstrap, leaves its socket open.
    refused: list[str] = []
    for server in kafka_servers(url):
        host, _, port = server.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=2):
                break
        except OSError as error:
            refused.append(f"{server}: {error}")
    else:
        reason = "; ".join(refused)
        raise Unavailable(f"Kafka not available at {url}; make kafka starts one ({reason})")
    try:
        _kafka_admin(url).close()
    except KafkaError as error:
        raise Unavailable(
            f"Kafka not available at {url}; make kafka starts one ({error})"
        ) from None


def delete_topic(url: str, topic: str) -> None:
    """Drop a workload's topic, so that runs do not pile topics up on the broker."""
    from kafka.errors import KafkaError

    with contextlib.suppress(KafkaError):
        admin = _kafka_admin(url)
        try:
            admin.delete_topics([topic])
        finally:
            admin.close()


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2) as answer:  # noqa: S310 - our own loopback server
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class _Plan:
    """What a tier needs before its servers start: the database, the bus, and how many."""

    url: str
    count: int = 1
    workers: int = 0
    bus: str = "in-process"
    topic: str | None = None


def _plan(
    tier: int,
    options: Options,
    folder: Path,
    settings: dict[str, str],
    helpers: list[subprocess.Popen[bytes]],
) -> _Plan:
    if tier == 0:
        return _Plan(f"sqlite:///{folder / 'hubbub.db'}")
    if tier == 1:
        if options.redis_url is None:
            redis_url, redis_process = start_redis(folder)
            helpers.append(redis_process)
        else:
            redis_url = options.redis_url
            check_redis(redis_url)
        settings["HUBBUB_REDIS_URL"] = redis_url
        return _Plan(create_database(options), workers=options.workers, bus=redis_url)
    if tier == 2:
        check_kafka(options.kafka_url)
        topic = f"hubbub-bench-{secrets.token_hex(6)}"
        bus = settings["HUBBUB_KAFKA_URL"] = (
            f"kafka://{','.join(kafka_servers(options.kafka_url))}/{topic}"
        )
        # The same worker processes as tier 1 in all (when the count is even), shared between
        # the servers, so that the bus is what differs.
        workers = max(1, options.workers // TIER2_SERVERS)
        return _Plan(create_database(options), TIER2_SERVERS, workers, bus, topic)
    raise ValueError(f"no tier {tier}")


def start(tier: int, options: Options) -> Server:
    """Migrate a fresh database, then start the tier's servers; returns once all answer."""
    folder = Path(tempfile.mkdtemp(prefix=f"hubbub-bench-tier{tier}-"))
    settings = {"HUBBUB_INSTANCE_PATH": str(folder / "instance")}
    helpers: list[subprocess.Popen[bytes]] = []
    try:
        plan = _plan(tier, options, folder, settings, helpers)
    except BaseException:
        # A tier skipped for a missing service leaves nothing behind: no folder, no Redis.
        for helper in helpers:
            _terminate(helper)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    url, count, workers, bus, topic = plan.url, plan.count, plan.workers, plan.bus, plan.topic
    settings["HUBBUB_DATABASE_URL"] = url
    env = _env(settings)
    ports = [free_port() for _ in range(count)]
    commands = [_command(tier, port, workers) for port in ports]
    logs = [
        folder / ("server.log" if count == 1 else f"server-{n}.log") for n in range(1, count + 1)
    ]
    popens: list[subprocess.Popen[bytes]] = []
    try:
        _migrate(env, logs[0])
        for command, log in zip(commands, logs, strict=True):
            popens.append(_spawn(command, env, log, folder))
    except BaseException:
        for process in [*popens, *helpers]:
            _terminate(process)
        raise
    server = Server(
        tier,
        [f"http://127.0.0.1:{port}" for port in ports],
        url,
        popens,
        logs,
        folder,
        commands,
        options,
        helpers,
        workers,
        bus,
        topic,
    )
    deadline = time.monotonic() + START_GUARD
    while not all(_answers(base) for base in server.bases):
        if not server.alive() or time.monotonic() > deadline:
            tail = server.tail()
            server.stop()
            raise RuntimeError(f"the tier {tier} server did not start:\n{tail}")
        time.sleep(0.1)
    if workers:
        _wait_for_workers(server)
    return server


def _command(tier: int, port: int, workers: int) -> list[str]:
    if tier == 0:
        command = [str(BIN / "flask"), "--app", "hubbub", "run"]
        return [*command, "--host", "127.0.0.1", "--port", str(port)]
    # `make serve`, word for word, but for the port and the worker count.
    command = [str(BIN / "gunicorn"), "--config", "python:hubbub.gunicorn_config"]
    command += ["--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    return [*command, "--access-logfile", "-"]


def _migrate(env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        migrate = [str(BIN / "flask"), "--app", "hubbub", "db", "upgrade"]
        subprocess.run(  # noqa: S603 - our own fixed command line
            migrate, env=env, stdout=out, stderr=subprocess.STDOUT, check=True, timeout=120
        )


def _spawn(
    command: list[str], env: dict[str, str], log: Path, folder: Path
) -> subprocess.Popen[bytes]:
    """Start one server with its output in log."""
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - our own fixed command line
            command,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            # The generator runs no threads yet, so preexec_fn is safe here.
            preexec_fn=_child_limits,
            cwd=folder,
        )


def _wait_for_workers(server: Server) -> None:
    """gunicorn answers once one worker is up; wait until all of every server's are."""
    deadline = time.monotonic() + START_GUARD
    while time.monotonic() < deadline:
        if all(sample_tree(pid).processes >= server.workers + 1 for pid in server.pids):
            return
        time.sleep(0.1)
