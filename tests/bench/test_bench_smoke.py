"""The benchmark at a tiny size: every message reaches every member's stream exactly once, and
W6's seeded chat answers every search.

No timing is asserted; the counts are worked out here, independently of the generator, so that
a generator that miscounts or a server that drops or repeats a message fails the test.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from bench.cli import run_one
from bench.servers import Options
from bench.sizes import Sizes
from tests.support import POSTGRES_ADMIN_URL, unavailable
from tests.support.brokers import SERVERS as KAFKA_SERVERS

MEMBERS, SENDERS, EACH = 5, 2, 5
PAIRS, TURNS = 3, 4
SEARCHES, WARMUP = 40, 5
SIZES = Sizes(
    w1_members=MEMBERS,
    w1_senders=SENDERS,
    w1_messages=EACH,
    w2_pairs=PAIRS,
    w2_messages=TURNS,
    # Five conversations, the fifth a direct one; the searcher in two of them.
    w6_messages=500,
    w6_conversations=5,
    w6_searcher_in=2,
    w6_users=20,
    w6_queries=SEARCHES,
    w6_warmup=WARMUP,
    signup_concurrency=4,
)


def bench_record(workload: str, tier: int, tmp_path: Path) -> dict[str, Any]:
    options = Options(
        postgres_admin_url=POSTGRES_ADMIN_URL,
        database=f"hubbub_bench_smoke_{os.getpid()}",
        # A private redis-server: servers sharing a Redis hear each other's wake-ups.
        redis_url=None,
        workers=2,
        # Tier 2: two servers of one worker each, on a fresh topic of this broker.
        kafka_url=f"kafka://{KAFKA_SERVERS}",
    )
    record = run_one(workload, tier, SIZES, options, tmp_path)
    error = record.get("error") or ""
    if error.startswith("skipped: "):
        unavailable(f"tier {tier}", error.removeprefix("skipped: "))
    assert not error, record.get("traceback", error)
    return record


def bench(workload: str, tier: int, tmp_path: Path) -> dict[str, Any]:
    metrics: dict[str, Any] = bench_record(workload, tier, tmp_path)["metrics"]
    return metrics


def assert_exactly_once(metrics: dict[str, Any], sent: int, deliveries: int) -> None:
    problems = {k: metrics[k] for k in ("send_errors", "lost", "doubled", "strays")}
    problems["dropped_streams"] = metrics["dropped_streams"]
    assert metrics["sent"] == sent, metrics
    assert metrics["expected_deliveries"] == deliveries, metrics
    assert metrics["delivered"] == deliveries, metrics
    assert metrics["delivery_latency"]["count"] == deliveries, metrics
    assert problems == dict.fromkeys(problems, 0), metrics["first_errors"]
    assert metrics["drained"] is True


@pytest.mark.parametrize("tier", [0, 1, 2])
def test_group_fanout_reaches_every_member_once(tier: int, tmp_path: Path) -> None:
    metrics = bench("W1", tier, tmp_path)
    sent = SENDERS * EACH
    # Every member holds one stream, the senders included.
    assert_exactly_once(metrics, sent=sent, deliveries=sent * MEMBERS)
    assert metrics["send_latency"]["count"] == sent


@pytest.mark.parametrize("tier", [0, 1, 2])
def test_direct_turns_reach_both_sides_once(tier: int, tmp_path: Path) -> None:
    metrics = bench("W2", tier, tmp_path)
    sent = PAIRS * 2 * TURNS
    # Both people of a pair have a stream; each message reaches both.
    assert_exactly_once(metrics, sent=sent, deliveries=2 * sent)
    assert metrics["stalled_turns"] == 0
    assert metrics["to_recipient_latency"]["count"] == sent


@pytest.mark.parametrize("tier", [0, 1])
def test_search_answers_every_query_from_the_seeded_chat(tier: int, tmp_path: Path) -> None:
    record = bench_record("W6", tier, tmp_path)
    answered = record["per_query"]
    assert record["params"]["readable_messages"] > 0
    assert len(answered) == SEARCHES
    assert record["metrics"]["round_trip"]["count"] == SEARCHES
    kinds = {row["kind"] for row in answered}
    assert kinds == {"common", "rare", "body", "link", "none", "two_terms", "has_link", "from"}
    # What was made to match nothing finds nothing; the commonest pieces find something.
    assert all(row["results"] == 0 for row in answered if row["kind"] == "none")
    assert sum(row["results"] for row in answered if row["kind"] == "common") > 0
    assert all(row["results"] <= record["params"]["limit"] for row in answered)
    assert {t["metric"]: t["met"] for t in record["targets"]}["absent_found"] is True
