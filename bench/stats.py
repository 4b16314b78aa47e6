"""Percentiles and the latency summaries every workload reports, in milliseconds."""

from __future__ import annotations

import math
from collections.abc import Sequence

PERCENTILES = (50, 95, 99)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least p % of values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(
    seconds: Sequence[float], percentiles: Sequence[int] = PERCENTILES
) -> dict[str, float | int | None]:
    """count, p50/p95/p99 and max of durations given in seconds, in milliseconds."""
    ordered = sorted(seconds)
    out: dict[str, float | int | None] = {"count": len(ordered)}
    for p in percentiles:
        value = percentile(ordered, p)
        out[f"p{p}_ms"] = None if value is None else round(value * 1000, 3)
    out["max_ms"] = round(ordered[-1] * 1000, 3) if ordered else None
    return out
