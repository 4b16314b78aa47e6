"""W4 idle connections: many open streams; memory per stream, and do they all stay alive?

Streams share users (10,000 streams over 100 users by default), all in one group. After they
are open: every stream must see the server's heartbeat ping, and then one message sent to the
group must reach every stream exactly once.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from bench.client import FAILURES, Client, Stream, close_all
from bench.deliveries import Deliveries
from bench.servers import Server
from bench.sizes import Sizes
from bench.workloads.common import Measure, run_tag

OPEN_CONCURRENCY = 100
# The server pings each stream every HUBBUB_HEARTBEAT_SECONDS (25 s, not settable from the
# environment); each stream gets this long after the last one opened.
HEARTBEAT = 25.0
HEARTBEAT_SLACK = 20.0
SETTLE = 3.0
IDLE_WINDOW = 10.0
MESSAGE_GUARD = 120.0
# Opening stops once this many handshakes in a row failed (the server has reached its limit),
# or after this many seconds.
GIVE_UP_AFTER = 200
OPEN_BUDGET = 300.0


async def run(server: Server, sizes: Sizes) -> dict[str, Any]:
    wanted = sizes.w4_streams
    user_count = max(1, min(sizes.w4_users, wanted, 1000))
    per_user = math.ceil(wanted / user_count)
    client = Client(server.bases, run_tag(), connections=OPEN_CONCURRENCY + 16)
    deliveries = Deliveries()
    streams: list[Stream] = []
    open_errors: list[str] = []
    try:
        users = await client.sign_up_many(user_count)
        group = await client.create_group(users[0], users[1:], "bench idle")
        await asyncio.sleep(SETTLE)
        before = server.sample()
        plan = [users[n // per_user] for n in range(wanted)]
        gate = asyncio.Semaphore(OPEN_CONCURRENCY)
        failed_in_a_row = 0
        opening = time.perf_counter()
        give_up_at = opening + OPEN_BUDGET

        async def open_one(n: int) -> None:
            nonlocal failed_in_a_row
            async with gate:
                if failed_in_a_row >= GIVE_UP_AFTER or time.perf_counter() > give_up_at:
                    return
                try:
                    stream = await client.connect(plan[n], deliveries)
                except FAILURES as error:
                    failed_in_a_row += 1
                    open_errors.append(f"{type(error).__name__}: {error}"[:200])
                    return
                failed_in_a_row = 0
                streams.append(stream)
                deliveries.listen(group, stream.index)

        await asyncio.gather(*(open_one(n) for n in range(wanted)))
        open_seconds = time.perf_counter() - opening
        last_opened = time.perf_counter()
        await asyncio.sleep(SETTLE)
        after = server.sample()
        alive = [s for s in streams if not s.ended]
        with Measure(server) as idle:
            await asyncio.sleep(IDLE_WINDOW)

        deadline = last_opened + HEARTBEAT + HEARTBEAT_SLACK
        while time.perf_counter() < deadline and any(s.pings == 0 for s in streams):
            await asyncio.sleep(0.5)
        pinged = sum(1 for s in streams if s.pings > 0)

        with Measure(server) as fanout:
            _, took = await client.send(users[0], group, deliveries)
            drained = await deliveries.drain(MESSAGE_GUARD)
        still_open = sum(1 for s in streams if not s.ended)
    finally:
        await close_all(streams)
        await client.close()
    grown = after.rss_bytes - before.rss_bytes
    opened = len(streams)
    notes = []
    if opened < wanted:
        reason = open_errors[-1] if open_errors else "unknown"
        notes.append(f"reached {opened:,} of {wanted:,} streams; last error: {reason}")
    return {
        "params": {"streams": wanted, "users": user_count, "streams_per_user": per_user},
        "metrics": {
            "streams_open": opened,
            "streams_alive_after_settle": len(alive),
            "open_errors": len(open_errors),
            "first_open_errors": open_errors[:5],
            "open_seconds": round(open_seconds, 1),
            "open_rate_per_s": round(opened / max(open_seconds, 1e-9), 1),
            "rss_before_bytes": before.rss_bytes,
            "rss_after_bytes": after.rss_bytes,
            "rss_per_stream_kib": round(grown / max(opened, 1) / 1024, 2),
            "idle_server_cpu_percent": idle.report()["server"]["cpu_percent_of_one_core"],
            "heartbeat_received": pinged,
            "heartbeat_missing": opened - pinged,
            "message_send_ms": None if took is None else round(took * 1000, 1),
            "message_fanout_seconds": round(fanout.seconds, 3),
            "streams_open_at_end": still_open,
            **deliveries.report(),
            "drained": drained,
        },
        "notes": notes,
        **fanout.report(),
    }
