"""Settings from environment variables, with safe defaults for a single laptop (tier 0)."""

from __future__ import annotations

import os
import re
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

TRUE_WORDS = {"1", "true", "yes", "on"}
# Kafka's own rule for topic names.
TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class KafkaTarget:
    """Where the bus between servers runs on Kafka: the brokers to start from, and the topic."""

    servers: tuple[str, ...]
    topic: str


def kafka_target(url: str, variable: str = "HUBBUB_KAFKA_URL") -> KafkaTarget:
    """Parse kafka://host:port[,host:port]/topic, and check that every host has an address.

    A broker that is down is fine (the bus waits for it); a name that resolves to nothing is a
    mistake to report at start, not an outage to wait out.
    """
    scheme, sep, rest = url.partition("://")
    if scheme != "kafka" or not sep:
        raise ConfigError(f"{variable}: expected kafka://host:port[,host:port]/topic, got {url!r}")
    hosts, _, topic = rest.partition("/")
    if not TOPIC_NAME.fullmatch(topic) or topic in {".", ".."}:
        raise ConfigError(
            f"{variable}: name a topic after the brokers (kafka://host:port/topic); "
            "letters, digits, '.', '_' and '-' only"
        )
    servers = []
    for server in hosts.split(","):
        host, colon, port = server.rpartition(":")
        if not (colon and host and port.isascii() and port.isdigit() and 0 < int(port) < 65536):
            raise ConfigError(f"{variable}: {server!r} is not host:port")
        try:
            socket.getaddrinfo(host.strip("[]"), int(port), type=socket.SOCK_STREAM)
        except OSError as error:
            raise ConfigError(f"{variable}: unknown host {host!r} ({error})") from None
        servers.append(server)
    return KafkaTarget(tuple(servers), topic)


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in TRUE_WORDS


def database_url(url: str) -> str:
    """Send plain PostgreSQL URLs through psycopg 3, the driver Hubbub ships with."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def secret_key(instance_path: Path) -> str:
    """Return the key kept under instance/, creating it on first start."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def from_env(environ: Mapping[str, str], instance_path: Path) -> dict[str, Any]:
    """Build the Flask config from HUBBUB_* variables."""
    redis_url = environ.get("HUBBUB_REDIS_URL") or None
    db_url = environ.get("HUBBUB_DATABASE_URL") or f"sqlite:///{instance_path / 'hubbub.db'}"
    return (
        {
            "SECRET_KEY": environ.get("HUBBUB_SECRET_KEY") or secret_key(instance_path),
            "SQLALCHEMY_DATABASE_URI": database_url(db_url),
            "HUBBUB_REDIS_URL": redis_url,
            "HUBBUB_KAFKA_URL": environ.get("HUBBUB_KAFKA_URL") or None,
            "HUBBUB_PROXY_COUNT": int(environ.get("HUBBUB_PROXY_COUNT", "0")),
            # Rate limits, in the notation of the `limits` library.
            "RATELIMIT_ENABLED": _flag(environ.get("HUBBUB_RATELIMIT_ENABLED"), True),
            "RATELIMIT_STORAGE_URI": redis_url or "memory://",
            "HUBBUB_LOGIN_LIMIT_ACCOUNT": environ.get(
                "HUBBUB_LOGIN_LIMIT_ACCOUNT", "5 per 15 minutes"
            ),
            "HUBBUB_LOGIN_LIMIT_IP": environ.get("HUBBUB_LOGIN_LIMIT_IP", "10 per minute"),
            "HUBBUB_REGISTER_LIMIT_IP": environ.get("HUBBUB_REGISTER_LIMIT_IP", "10 per hour"),
            # Uploads: where their bytes go (hubbub/files) and how large one may be.
            "HUBBUB_FILES_URL": environ.get("HUBBUB_FILES_URL") or None,
            "HUBBUB_UPLOAD_MAX_MB": _megabytes(environ.get("HUBBUB_UPLOAD_MAX_MB", "25")),
            "HUBBUB_EVENT_RETENTION": timedelta(
                days=float(environ.get("HUBBUB_EVENT_RETENTION_DAYS", "30"))
            ),
        }
        | _argon2(environ)
        | _intervals(environ)
    )


def _megabytes(value: str) -> float:
    try:
        megabytes = float(value)
    except ValueError:
        megabytes = 0.0
    if not 0 < megabytes <= 4096:
        raise ConfigError(f"HUBBUB_UPLOAD_MAX_MB: expected megabytes from 0 to 4096, got {value!r}")
    return megabytes


def _intervals(environ: Mapping[str, str]) -> dict[str, float]:
    """The real-time intervals (see DEFAULTS), when set."""
    names = (
        "HUBBUB_HEARTBEAT_SECONDS",
        "HUBBUB_LOG_POLL_SECONDS",
        "HUBBUB_ACCESS_CHECK_SECONDS",
        "HUBBUB_PRESENCE_SECONDS",
    )
    return {name: float(environ[name]) for name in names if environ.get(name)}


def _argon2(environ: Mapping[str, str]) -> dict[str, int]:
    """argon2id costs an operator may lower for a small machine (or a benchmark's many sign-ups);
    the defaults below apply when they are not set."""
    names = {
        "ARGON2_TIME_COST": "HUBBUB_ARGON2_TIME_COST",
        "ARGON2_MEMORY_COST": "HUBBUB_ARGON2_MEMORY_KIB",
        "ARGON2_PARALLELISM": "HUBBUB_ARGON2_PARALLELISM",
    }
    return {key: int(environ[name]) for key, name in names.items() if environ.get(name)}


DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_KEY_PREFIX": "hubbub",
    # argon2id cost: the RFC 9106 "second recommended" profile, above the
    # OWASP floor of m=19 MiB, t=2.
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 64 * 1024,
    "ARGON2_PARALLELISM": 4,
    "SESSION_COOKIE_NAME": "hubbub_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # "Remember me" keeps a session this long; without it the cookie lasts
    # until the browser closes and the server forgets it after a day idle.
    "PERMANENT_SESSION_LIFETIME": timedelta(days=30),
    "HUBBUB_SESSION_IDLE_LIFETIME": timedelta(days=1),
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Real time: streams send a ping this often; each process checks the end of the log this
    # often, so a lost wake-up delays an event by at most that much.
    "HUBBUB_HEARTBEAT_SECONDS": 25.0,
    "HUBBUB_LOG_POLL_SECONDS": 1.0,
    # Each process checks this often whether its open streams' sessions and tokens still
    # hold; a logout or revocation ends them within this plus one log poll.
    "HUBBUB_ACCESS_CHECK_SECONDS": 2.0,
    # With more than one process, each tells the others this often who holds a stream on it;
    # a process silent for three intervals (a crash) no longer keeps its people online.
    "HUBBUB_PRESENCE_SECONDS": 10.0,
}
