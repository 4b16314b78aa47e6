"""W6 search at size: a long chat seeded through SQL, then one searcher's queries over HTTP."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from bench import corpus, search_db
from bench.client import Client
from bench.servers import Server
from bench.sizes import Sizes
from bench.workloads.common import Measure, run_tag

FULL_SIZE = 1_000_000
LIMIT = 20  # the API's default page


async def run(server: Server, sizes: Sizes) -> dict[str, Any]:
    plan = search_db.Plan(
        messages=sizes.w6_messages,
        conversations=sizes.w6_conversations,
        searcher_in=sizes.w6_searcher_in,
        users=sizes.w6_users,
    )
    seen, seeding = await asyncio.to_thread(search_db.seed, server.database_url, plan)
    every = corpus.queries(seen, sizes.w6_warmup + sizes.w6_queries)
    warmup, measured = every[: sizes.w6_warmup], every[sizes.w6_warmup :]
    client = Client(server.bases, run_tag())
    per_query: list[dict[str, Any]] = []
    try:
        searcher = await client.sign_in(seen.searcher_id, search_db.SEARCHER)
        for query in warmup:
            await client.search(searcher, query.q, query.before, LIMIT)
        # One at a time: each query waits for the answer to the one before.
        with Measure(server) as measure:
            for query in measured:
                took, found, next_before = await client.search(
                    searcher, query.q, query.before, LIMIT
                )
                per_query.append(
                    {
                        "q": query.q,
                        "kind": query.kind,
                        "before": query.before,
                        "round_trip_ms": round(took * 1000, 3),
                        "results": found,
                        "more": next_before is not None,
                    }
                )
    finally:
        await client.close()
    inside = await asyncio.to_thread(
        search_db.in_process, server.database_url, seen.searcher_id, measured, LIMIT
    )
    for row, service, sql in zip(per_query, inside["service"], inside["sql"], strict=True):
        row["service_ms"] = round(service * 1000, 3)
        row["sql_ms"] = None if sql is None else round(sql * 1000, 3)
    by_kind: dict[str, list[float]] = defaultdict(list)
    for row in per_query:
        by_kind[row["kind"]].append(row["round_trip_ms"] / 1000)
    notes = ["round trip: the HTTP request on loopback, which bounds the server's time above"]
    if plan.messages < FULL_SIZE:
        notes.append(f"{plan.messages:,} messages; the target is stated at {FULL_SIZE:,}")
    round_trips = [row["round_trip_ms"] / 1000 for row in per_query]
    return {
        "params": {
            "messages": plan.messages,
            "conversations": plan.conversations,
            "searcher_in": plan.searcher_in,
            "users": plan.users,
            "readable_messages": seen.readable,
            "queries": len(measured),
            "warmup": len(warmup),
            "limit": LIMIT,
            "seed": corpus.SEED,
        },
        "metrics": {
            "round_trip": search_db.summary(round_trips),
            "round_trip_by_kind": {k: search_db.summary(v) for k, v in sorted(by_kind.items())},
            "service_in_process": search_db.summary(inside["service"]),
            "sql": search_db.summary([s for s in inside["sql"] if s is not None]),
            "empty_results": sum(1 for row in per_query if row["results"] == 0),
            # Queries made to match nothing that found something: the corpus is wrong.
            "absent_found": sum(1 for row in per_query if row["kind"] == "none" and row["results"]),
            **seeding,
        },
        "per_query": per_query,
        "query_plans": inside["plans"],
        "notes": notes,
        **measure.report(),
    }
