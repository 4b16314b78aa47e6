"""Settings from the environment: URLs, defaults for tier 0, rate limits and the secret key."""

from __future__ import annotations

import gc
import stat
import subprocess
from pathlib import Path

import pytest

from hubbub import config, gunicorn_config
from tests.support.processes import START_GUARD, flask_command, hubbub_env

TIER_ZERO: dict[str, str] = {}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/hubbub", "postgresql+psycopg://u:p@db:5432/hubbub"),
        ("postgresql://u:p@db/hubbub", "postgresql+psycopg://u:p@db/hubbub"),
        (
            "postgresql://db/hubbub?sslmode=require",
            "postgresql+psycopg://db/hubbub?sslmode=require",
        ),
    ],
)
def test_database_url_sends_postgres_through_psycopg(given: str, expected: str) -> None:
    assert config.database_url(given) == expected


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////var/lib/hubbub/hubbub.db",
        "sqlite:///:memory:",
        "postgresql+psycopg://u@db/hubbub",
    ],
)
def test_database_url_leaves_other_urls_alone(url: str) -> None:
    assert config.database_url(url) == url


def test_default_database_is_a_sqlite_file_under_the_instance_path(tmp_path: Path) -> None:
    settings = config.from_env(TIER_ZERO, tmp_path)
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'hubbub.db'}"


def test_database_url_from_the_environment_is_rewritten(tmp_path: Path) -> None:
    settings = config.from_env({"HUBBUB_DATABASE_URL": "postgres://db/hubbub"}, tmp_path)
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/hubbub"


def test_rate_limits_are_on_by_default_with_memory_storage(tmp_path: Path) -> None:
    settings = config.from_env(TIER_ZERO, tmp_path)
    assert settings["RATELIMIT_ENABLED"] is True
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"
    assert settings["HUBBUB_REDIS_URL"] is None


def test_default_limits_match_the_design(tmp_path: Path) -> None:
    settings = config.from_env(TIER_ZERO, tmp_path)
    assert settings["HUBBUB_LOGIN_LIMIT_ACCOUNT"] == "5 per 15 minutes"
    assert settings["HUBBUB_LOGIN_LIMIT_IP"] == "10 per minute"
    assert settings["HUBBUB_REGISTER_LIMIT_IP"] == "10 per hour"


def test_redis_url_moves_rate_limit_counters_to_redis(tmp_path: Path) -> None:
    settings = config.from_env({"HUBBUB_REDIS_URL": "redis://cache:6379/2"}, tmp_path)
    assert settings["HUBBUB_REDIS_URL"] == "redis://cache:6379/2"
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/2"


@pytest.mark.parametrize("value", ["0", "false", "no", "off"])
def test_ratelimit_enabled_off_turns_limits_off(tmp_path: Path, value: str) -> None:
    settings = config.from_env({"HUBBUB_RATELIMIT_ENABLED": value}, tmp_path)
    assert settings["RATELIMIT_ENABLED"] is False


@pytest.mark.parametrize("value", ["1", "true", ""])
def test_ratelimit_enabled_on_or_blank_keeps_limits_on(tmp_path: Path, value: str) -> None:
    settings = config.from_env({"HUBBUB_RATELIMIT_ENABLED": value}, tmp_path)
    assert settings["RATELIMIT_ENABLED"] is True


def test_limits_can_be_set_from_the_environment(tmp_path: Path) -> None:
    settings = config.from_env(
        {
            "HUBBUB_LOGIN_LIMIT_ACCOUNT": "2 per 15 minutes",
            "HUBBUB_LOGIN_LIMIT_IP": "4 per minute",
            "HUBBUB_REGISTER_LIMIT_IP": "3 per hour",
        },
        tmp_path,
    )
    assert settings["HUBBUB_LOGIN_LIMIT_ACCOUNT"] == "2 per 15 minutes"
    assert settings["HUBBUB_LOGIN_LIMIT_IP"] == "4 per minute"
    assert settings["HUBBUB_REGISTER_LIMIT_IP"] == "3 per hour"


def test_secret_key_is_generated_and_kept_private_under_instance(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    key = config.from_env(TIER_ZERO, instance)["SECRET_KEY"]
    path = instance / "secret_key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 32


def test_secret_key_is_the_same_on_the_next_start(tmp_path: Path) -> None:
    first = config.from_env(TIER_ZERO, tmp_path)["SECRET_KEY"]
    second = config.from_env(TIER_ZERO, tmp_path)["SECRET_KEY"]
    assert first == second


def test_each_instance_gets_its_own_secret_key(tmp_path: Path) -> None:
    one = config.from_env(TIER_ZERO, tmp_path / "one")["SECRET_KEY"]
    two = config.from_env(TIER_ZERO, tmp_path / "two")["SECRET_KEY"]
    assert one != two


def test_secret_key_from_the_environment_wins(tmp_path: Path) -> None:
    config.from_env(TIER_ZERO, tmp_path)
    settings = config.from_env({"HUBBUB_SECRET_KEY": "given-by-the-operator"}, tmp_path)
    assert settings["SECRET_KEY"] == "given-by-the-operator"  # noqa: S105


def test_secret_key_from_the_environment_writes_no_file(tmp_path: Path) -> None:
    config.from_env({"HUBBUB_SECRET_KEY": "given-by-the-operator"}, tmp_path)
    assert not (tmp_path / "secret_key").exists()


def test_argon2_costs_can_be_lowered_from_the_environment(tmp_path: Path) -> None:
    environ = {
        "HUBBUB_ARGON2_TIME_COST": "1",
        "HUBBUB_ARGON2_MEMORY_KIB": "8192",
        "HUBBUB_ARGON2_PARALLELISM": "1",
    }
    settings = config.from_env(environ, tmp_path)
    assert settings["ARGON2_TIME_COST"] == 1
    assert settings["ARGON2_MEMORY_COST"] == 8192
    assert settings["ARGON2_PARALLELISM"] == 1


def test_argon2_costs_default_to_the_recommended_profile(tmp_path: Path) -> None:
    assert "ARGON2_MEMORY_COST" not in config.from_env({}, tmp_path)
    assert config.DEFAULTS["ARGON2_MEMORY_COST"] == 64 * 1024


def test_realtime_intervals_can_be_set_from_the_environment(tmp_path: Path) -> None:
    environ = {
        "HUBBUB_HEARTBEAT_SECONDS": "5",
        "HUBBUB_LOG_POLL_SECONDS": "0.5",
        "HUBBUB_ACCESS_CHECK_SECONDS": "1",
    }
    settings = config.from_env(environ, tmp_path)
    assert settings["HUBBUB_HEARTBEAT_SECONDS"] == 5.0
    assert settings["HUBBUB_LOG_POLL_SECONDS"] == 0.5
    assert settings["HUBBUB_ACCESS_CHECK_SECONDS"] == 1.0
    assert "HUBBUB_HEARTBEAT_SECONDS" not in config.from_env({}, tmp_path)


def test_presence_interval_is_read_as_seconds(tmp_path: Path) -> None:
    settings = config.from_env({"HUBBUB_PRESENCE_SECONDS": "2.5"}, tmp_path)
    assert settings["HUBBUB_PRESENCE_SECONDS"] == 2.5
    assert "HUBBUB_PRESENCE_SECONDS" not in config.from_env(TIER_ZERO, tmp_path)
    assert config.DEFAULTS["HUBBUB_PRESENCE_SECONDS"] == 10.0


# The bus on Kafka


@pytest.mark.parametrize("environ", [TIER_ZERO, {"HUBBUB_KAFKA_URL": ""}], ids=["unset", "blank"])
def test_without_a_kafka_url_there_is_no_kafka(tmp_path: Path, environ: dict[str, str]) -> None:
    assert config.from_env(environ, tmp_path)["HUBBUB_KAFKA_URL"] is None


def test_a_kafka_url_is_kept_as_given(tmp_path: Path) -> None:
    url = "kafka://127.0.0.1:9092/hubbub"
    assert config.from_env({"HUBBUB_KAFKA_URL": url}, tmp_path)["HUBBUB_KAFKA_URL"] == url


@pytest.mark.parametrize(
    ("url", "servers", "topic"),
    [
        ("kafka://127.0.0.1:9092/hubbub", ("127.0.0.1:9092",), "hubbub"),
        (
            "kafka://127.0.0.1:9092,localhost:9093,127.0.0.1:65535/hubbub.bus-1_a",
            ("127.0.0.1:9092", "localhost:9093", "127.0.0.1:65535"),
            "hubbub.bus-1_a",
        ),
        ("kafka://localhost:1/t", ("localhost:1",), "t"),
    ],
    ids=["one broker", "several brokers", "smallest port"],
)
def test_kafka_target_names_the_brokers_and_the_topic(
    url: str, servers: tuple[str, ...], topic: str
) -> None:
    assert config.kafka_target(url) == config.KafkaTarget(servers, topic)


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:9092/hubbub",
        "127.0.0.1:9092/hubbub",
        "kafka:/127.0.0.1:9092/hubbub",
        "KAFKA://127.0.0.1:9092/hubbub",
        "kafka://127.0.0.1:9092",
        "kafka://127.0.0.1:9092/",
        "kafka://127.0.0.1:9092/hub/bub",
        "kafka://127.0.0.1:9092/hub bub",
        "kafka://127.0.0.1:9092/..",
        "kafka://127.0.0.1:9092/" + "t" * 250,
        "kafka://127.0.0.1/hubbub",
        "kafka://:9092/hubbub",
        "kafka:///hubbub",
        "kafka://127.0.0.1:port/hubbub",
        # Digits to str.isdigit, but not to int() or to Kafka.
        "kafka://127.0.0.1:\u00b2/hubbub",
        "kafka://127.0.0.1:\u0669\u0660\u0669\u0662/hubbub",
        "kafka://127.0.0.1:-1/hubbub",
        "kafka://127.0.0.1:0/hubbub",
        "kafka://127.0.0.1:65536/hubbub",
        "kafka://127.0.0.1:9092,/hubbub",
        "kafka://127.0.0.1:9092,nohost.invalid:9092/hubbub",
        "kafka://broker.hubbub.invalid:9092/hubbub",
    ],
    ids=[
        "another scheme",
        "no scheme",
        "one slash",
        "scheme in capitals",
        "no topic",
        "empty topic",
        "topic with a slash",
        "topic with a space",
        "topic of dots",
        "topic too long",
        "no port",
        "no host",
        "no broker",
        "port not a number",
        "port a superscript digit",
        "port in Arabic-Indic digits",
        "negative port",
        "port zero",
        "port too large",
        "empty broker in the list",
        "one host that does not resolve",
        "host that does not resolve",
    ],
)
def test_kafka_target_refuses_a_bad_url_naming_the_variable(url: str) -> None:
    with pytest.raises(config.ConfigError) as refused:
        config.kafka_target(url)
    assert str(refused.value).startswith("HUBBUB_KAFKA_URL: ")


def test_a_kafka_host_that_does_not_resolve_is_named() -> None:
    with pytest.raises(config.ConfigError, match=r"nohost\.invalid"):
        config.kafka_target("kafka://nohost.invalid:9092/hubbub")


def test_a_bad_kafka_url_stops_the_start_with_one_line(tmp_path: Path) -> None:
    """Exit status 4 makes gunicorn give up instead of starting workers again and again."""
    env = hubbub_env(
        {
            "HUBBUB_KAFKA_URL": "kafka://nohost.invalid:9092/hubbub",
            "HUBBUB_INSTANCE_PATH": str(tmp_path),
        }
    )
    done = subprocess.run(  # noqa: S603 - our own fixed command line
        flask_command("routes"),
        env=env,
        capture_output=True,
        text=True,
        timeout=START_GUARD,
        check=False,
    )
    assert done.returncode == 4, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Hubbub cannot start: HUBBUB_KAFKA_URL: ")
    assert "nohost.invalid" in lines[0]
    assert done.stdout == ""


def test_a_gunicorn_worker_leaves_start_up_objects_out_of_collections() -> None:
    """hubbub/gunicorn_config.py freezes what exists once a worker has built the app; the
    servers that the process tests start read the same file."""
    before = gc.get_freeze_count()
    try:
        gunicorn_config.post_worker_init(worker=None)
        assert gc.get_freeze_count() > before
        assert gunicorn_config.worker_class == "gevent"
    finally:
        gc.unfreeze()
