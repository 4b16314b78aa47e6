"""W1 group fan-out: one group, every member connected, a few senders as fast as accepted."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Any

from bench.client import Client, User, bounded, close_all
from bench.deliveries import Deliveries
from bench.servers import Server
from bench.sizes import Sizes
from bench.stats import summary_ms
from bench.workloads.common import DRAIN_GUARD, STREAM_CONCURRENCY, Measure, run_tag


async def run(server: Server, sizes: Sizes) -> dict[str, Any]:
    members = sizes.w1_members
    senders = min(sizes.w1_senders, members)
    per_sender = sizes.w1_messages
    client = Client(server.bases, run_tag())
    deliveries = Deliveries()
    streams = []
    try:
        users = await client.sign_up_many(members, sizes.signup_concurrency)
        group = await client.create_group(users[0], users[1:], "bench fan-out")
        streams = await bounded(
            (partial(client.connect, u, deliveries) for u in users), STREAM_CONCURRENCY
        )
        for stream in streams:
            deliveries.listen(group, stream.index)
        send_times: list[float] = []

        async def sender(user: User) -> None:
            for _ in range(per_sender):
                _, took = await client.send(user, group, deliveries)
                if took is not None:
                    send_times.append(took)

        with Measure(server) as measure:
            started = time.perf_counter()
            await asyncio.gather(*(sender(u) for u in users[:senders]))
            sending = time.perf_counter() - started
            drained = await deliveries.drain(DRAIN_GUARD)
    finally:
        await close_all(streams)
        await client.close()
    report = deliveries.report()
    return {
        "params": {"members": members, "senders": senders, "messages_per_sender": per_sender},
        "metrics": {
            "send_throughput_msg_s": round(len(send_times) / sending, 1),
            "send_seconds": round(sending, 3),
            "send_latency": summary_ms(send_times),
            **report,
            "drained": drained,
        },
        **measure.report(),
    }
