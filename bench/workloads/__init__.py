"""The six workloads; each is `async run(server, sizes) -> dict` in a module of its own."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from bench.servers import Server
from bench.sizes import Sizes
from bench.workloads import w1_fanout, w2_direct, w3_history, w4_idle, w5_capacity, w6_search

Workload = Callable[[Server, Sizes], Coroutine[Any, Any, dict[str, Any]]]

WORKLOADS: dict[str, tuple[str, Workload]] = {
    "W1": ("group fan-out", w1_fanout.run),
    "W2": ("direct messages", w2_direct.run),
    "W3": ("history pages", w3_history.run),
    "W4": ("idle connections", w4_idle.run),
    "W5": ("capacity", w5_capacity.run),
    "W6": ("search at size", w6_search.run),
}
