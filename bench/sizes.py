"""How big each workload is: the issue's full sizes by default, scaled down for small runs."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

FULL_STEPS = (500, 1_000, 2_000, 4_000, 8_000, 16_000)


@dataclass(frozen=True)
class Sizes:
    w1_members: int = 50
    w1_senders: int = 10
    w1_messages: int = 50
    w2_pairs: int = 25
    w2_messages: int = 20
    history_size: int = 1_000_000
    w3_fetches: int = 200
    w3_page: int = 50
    w4_streams: int = 10_000
    w4_users: int = 100
    w5_steps: tuple[int, ...] = field(default=FULL_STEPS)
    w5_step_seconds: float = 120.0
    w5_group_size: int = 20
    w5_interval: float = 30.0
    w6_messages: int = 1_000_000
    w6_conversations: int = 1_000
    w6_searcher_in: int = 50
    w6_users: int = 2_000
    w6_queries: int = 200
    w6_warmup: int = 20
    signup_concurrency: int = 8

    def scaled(self, scale: float) -> Sizes:
        """Every count times `scale` (at least what the workload needs); times stay."""
        if scale == 1:
            return self

        def s(value: int, least: int) -> int:
            return max(least, round(value * scale))

        return replace(
            self,
            w1_members=s(self.w1_members, 2),
            w1_senders=s(self.w1_senders, 1),
            w1_messages=s(self.w1_messages, 1),
            w2_pairs=s(self.w2_pairs, 1),
            w2_messages=s(self.w2_messages, 1),
            history_size=s(self.history_size, 2 * self.w3_page),
            w3_fetches=s(self.w3_fetches, 1),
            w4_streams=s(self.w4_streams, 1),
            w4_users=s(self.w4_users, 1),
            w5_steps=tuple(s(step, self.w5_group_size) for step in self.w5_steps),
            # The chat shrinks; the searcher stays in the same share of it, and the queries
            # stay 200 (they take seconds at any size).
            w6_messages=s(self.w6_messages, 200),
            w6_conversations=s(self.w6_conversations, 2),
            w6_searcher_in=s(self.w6_searcher_in, 1),
            w6_users=s(self.w6_users, 20),
        )

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
