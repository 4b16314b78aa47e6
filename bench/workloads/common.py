"""What every workload shares: a run tag, and measuring the server and the generator."""

from __future__ import annotations

import secrets
import time
from types import TracebackType
from typing import Any

import psutil

from bench.servers import Sample, Server, usage

# Sends answered; deliveries still on their way get this long before they count as lost.
DRAIN_GUARD = 30.0
STREAM_CONCURRENCY = 50


def run_tag() -> str:
    """A short prefix for usernames and message ids, unique to one run."""
    return "b" + secrets.token_hex(3)


class Measure:
    """Server CPU and RSS (master plus workers) and the generator's CPU over one phase."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.me = psutil.Process()
        self.before: Sample | None = None
        self.after: Sample | None = None
        self._mine = 0.0
        self._mine_after = 0.0
        self.started = self.ended = 0.0

    def _my_cpu(self) -> float:
        times = self.me.cpu_times()
        return float(times.user + times.system)

    def __enter__(self) -> Measure:
        self.before = self.server.sample()
        self._mine = self._my_cpu()
        self.started = time.perf_counter()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.ended = time.perf_counter()
        self._mine_after = self._my_cpu()
        self.after = self.server.sample()

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    def report(self) -> dict[str, Any]:
        assert self.before is not None and self.after is not None
        mine = self._mine_after - self._mine
        return {
            "wall_seconds": round(self.seconds, 3),
            "server": usage(self.before, self.after),
            "generator": {
                "cpu_seconds": round(mine, 3),
                "cpu_percent_of_one_core": round(100 * mine / max(self.seconds, 1e-9), 1),
            },
        }
