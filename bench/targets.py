"""The figures each workload must reach, checked against its measured metrics."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Target:
    metric: str  # a dotted path into the workload's metrics
    op: str
    value: float
    unit: str = ""

    @property
    def text(self) -> str:
        symbol = {">=": "≥", "<=": "≤", "==": "="}[self.op]
        return f"{symbol} {self.value:g}{' ' + self.unit if self.unit else ''}"


TARGETS: dict[str, list[Target]] = {
    "W1": [
        Target("send_throughput_msg_s", ">=", 200, "msg/s"),
        Target("delivery_latency.p99_ms", "<=", 100, "ms"),
        Target("lost", "==", 0),
        Target("doubled", "==", 0),
    ],
    "W2": [
        Target("throughput_msg_s", ">=", 900, "msg/s"),
        Target("delivery_latency.p99_ms", "<=", 50, "ms"),
        Target("lost", "==", 0),
        Target("doubled", "==", 0),
    ],
    # Server-side: the service call that answers a page, timed in-process on the same database.
    "W3": [Target("server_side.p99_ms", "<=", 2, "ms")],
    "W4": [
        Target("streams_open", ">=", 10_000, "streams"),
        Target("rss_per_stream_kib", "<=", 20, "KiB"),
        Target("heartbeat_missing", "==", 0),
    ],
    "W5": [Target("capacity_users", ">=", 5_000, "users")],
    # The HTTP round trip on loopback: the app reports no server-side time, and this bounds it.
    "W6": [
        Target("round_trip.p99_ms", "<=", 50, "ms"),
        Target("absent_found", "==", 0),
    ],
}


def lookup(metrics: dict[str, Any], path: str) -> Any:
    value: Any = metrics
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def evaluate(workload: str, metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it was met (None: not measured)."""
    checked = []
    for target in TARGETS.get(workload, []):
        actual = lookup(metrics, target.metric)
        met = None if actual is None else OPERATORS[target.op](float(actual), target.value)
        checked.append(
            {
                "metric": target.metric,
                "target": target.text,
                "op": target.op,
                "value": target.value,
                "actual": actual,
                "met": met,
            }
        )
    return checked
