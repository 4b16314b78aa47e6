"""Starting Hubbub the way operators do (tier 0 and tier 1), and measuring its processes."""

from __future__ import annotations

import contextlib
import os
import resource
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
TIER_NAMES = {0: "tier 0: flask run + SQLite", 1: "tier 1: gunicorn gevent + PostgreSQL + Redis"}


class Unavailable(RuntimeError):
    """A service a tier needs (PostgreSQL, Redis) is not there."""


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
    """Where tier 1's services are, and how many gunicorn workers."""

    postgres_admin_url: str = DEFAULT_POSTGRES_ADMIN
    database: str = DEFAULT_DATABASE
    redis_url: str | None = None  # None: a private redis-server for each tier 1 server
    workers: int = field(default_factory=lambda: os.cpu_count() or 2)
    keep_logs: Path | None = None


@dataclass
class Server:
    """One running Hubbub: its base URL, database URL, main PID and log."""

    tier: int
    base: str
    database_url: str
    popen: subprocess.Popen[bytes]
    log: Path
    folder: Path
    command: list[str]
    options: Options
    helpers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def sample(self) -> Sample:
        return sample_tree(self.pid)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return "[no server output]"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the server's main process (gunicorn passes it on), then SIGKILL."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=STOP_GRACE)
        if self.options.keep_logs is not None:
            self.options.keep_logs.parent.mkdir(parents=True, exist_ok=True)
            with self.log.open("rb") as log:
                log.seek(max(0, self.log.stat().st_size - LOG_KEPT))
                self.options.keep_logs.write_bytes(log.read())
        for helper in self.helpers:
            _terminate(helper)
        if self.tier == 1:
            drop_database(self.options)
        shutil.rmtree(self.folder, ignore_errors=True)


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


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2) as answer:  # noqa: S310 - our own loopback server
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start(tier: int, options: Options) -> Server:
    """Migrate a fresh database, then start the tier's server; returns once it answers."""
    folder = Path(tempfile.mkdtemp(prefix=f"hubbub-bench-tier{tier}-"))
    port = free_port()
    settings = {"HUBBUB_INSTANCE_PATH": str(folder / "instance")}
    helpers: list[subprocess.Popen[bytes]] = []
    if tier == 0:
        url = f"sqlite:///{folder / 'hubbub.db'}"
        command = [str(BIN / "flask"), "--app", "hubbub", "run"]
        command += ["--host", "127.0.0.1", "--port", str(port)]
    elif tier == 1:
        if options.redis_url is None:
            redis_url, redis_process = start_redis(folder)
            helpers.append(redis_process)
        else:
            redis_url = options.redis_url
            check_redis(redis_url)
        url = create_database(options)
        settings["HUBBUB_REDIS_URL"] = redis_url
        # `make serve`, word for word, but for the port and the worker count.
        command = [str(BIN / "gunicorn"), "--worker-class", "gevent"]
        command += ["--workers", str(options.workers), "--bind", f"127.0.0.1:{port}"]
        command += ["--worker-connections", "10000", "--graceful-timeout", "5"]
        command += ["--access-logfile", "-", "hubbub:create_app()"]
    else:
        raise ValueError(f"no tier {tier}")
    settings["HUBBUB_DATABASE_URL"] = url
    env = _env(settings)
    log = folder / "server.log"
    try:
        popen = _launch(command, env, log, folder)
    except BaseException:
        for helper in helpers:
            _terminate(helper)
        raise
    server = Server(
        tier, f"http://127.0.0.1:{port}", url, popen, log, folder, command, options, helpers
    )
    deadline = time.monotonic() + START_GUARD
    while not _answers(server.base):
        if not server.alive() or time.monotonic() > deadline:
            tail = server.tail()
            server.stop()
            raise RuntimeError(f"the tier {tier} server did not start:\n{tail}")
        time.sleep(0.1)
    if tier == 1:
        _wait_for_workers(server)
    return server


def _launch(
    command: list[str], env: dict[str, str], log: Path, folder: Path
) -> subprocess.Popen[bytes]:
    """Migrate the database, then start the server with its output in log."""
    with log.open("ab") as out:
        migrate = [str(BIN / "flask"), "--app", "hubbub", "db", "upgrade"]
        subprocess.run(  # noqa: S603 - our own fixed command line
            migrate, env=env, stdout=out, stderr=subprocess.STDOUT, check=True, timeout=120
        )
        popen = subprocess.Popen(  # noqa: S603 - our own fixed command line
            command,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            # The generator runs no threads yet, so preexec_fn is safe here.
            preexec_fn=_child_limits,
            cwd=folder,
        )
    return popen


def _wait_for_workers(server: Server) -> None:
    """gunicorn answers once one worker is up; wait until all of them are."""
    deadline = time.monotonic() + START_GUARD
    while time.monotonic() < deadline:
        if server.sample().processes >= server.options.workers + 1:
            return
        time.sleep(0.1)
