"""W3 history: a conversation with a long past; the newest page and one half-way back."""

from __future__ import annotations

import asyncio
from typing import Any

from bench import history
from bench.client import Client
from bench.servers import Server
from bench.sizes import Sizes
from bench.stats import summary_ms
from bench.workloads.common import Measure, run_tag

FULL_SIZE = 1_000_000


async def run(server: Server, sizes: Sizes) -> dict[str, Any]:
    size = max(sizes.history_size, 2 * sizes.w3_page)
    limit = sizes.w3_page
    client = Client(server.bases, run_tag())
    try:
        a, b = await client.sign_up_many(2)
        conversation = await client.open_direct(a, b)
        senders = [(a.id, a.username), (b.id, b.username)]
        filled = await asyncio.to_thread(
            history.prefill, server.database_url, conversation, senders, size
        )
        pages: dict[str, int | None] = {
            "newest": None,
            "middle": filled["first_id"] + size // 2,
        }
        client_times: dict[str, list[float]] = {name: [] for name in pages}
        with Measure(server) as measure:
            for _ in range(sizes.w3_fetches):
                for name, before in pages.items():
                    took, count = await client.history_page(a, conversation, before, limit)
                    if count != limit:
                        raise AssertionError(f"the {name} page held {count} messages, not {limit}")
                    client_times[name].append(took)
    finally:
        await client.close()
    inside = await asyncio.to_thread(
        history.server_side,
        server.database_url,
        a.id,
        conversation,
        pages,
        sizes.w3_fetches,
        limit,
    )
    every_fetch = client_times["newest"] + client_times["middle"]
    notes = []
    if size < FULL_SIZE:
        notes.append(f"history of {size:,} messages; the target is stated at {FULL_SIZE:,}")
    return {
        "params": {"history_size": size, "fetches_per_page": sizes.w3_fetches, "limit": limit},
        "metrics": {
            "client": {name: summary_ms(times) for name, times in client_times.items()},
            "client_all": summary_ms(every_fetch),
            "server_side": inside["service_all"],
            "server_side_pages": inside["service"],
            "sql": inside["sql_all"],
            "sql_pages": inside["sql"],
            "prefill_seconds": filled["prefill_seconds"],
        },
        "query_plans": inside["plans"],
        "notes": notes,
        **measure.report(),
    }
