"""W2 direct messages: pairs taking turns; each reply waits for the other's message to arrive."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Any

from bench.client import Client, Stream, User, bounded, close_all
from bench.deliveries import Deliveries
from bench.servers import Server
from bench.sizes import Sizes
from bench.stats import summary_ms
from bench.workloads.common import DRAIN_GUARD, STREAM_CONCURRENCY, Measure, run_tag

# A turn whose message has not reached the other side by then is counted stalled, and the
# conversation goes on.
TURN_GUARD = 10.0


async def run(server: Server, sizes: Sizes) -> dict[str, Any]:
    pairs = sizes.w2_pairs
    each = sizes.w2_messages
    client = Client(server.bases, run_tag())
    deliveries = Deliveries()
    streams: list[Stream] = []
    try:
        users = await client.sign_up_many(2 * pairs, sizes.signup_concurrency)
        people = [(users[2 * i], users[2 * i + 1]) for i in range(pairs)]
        conversations = await bounded((partial(client.open_direct, a, b) for a, b in people), 16)
        streams = await bounded(
            (partial(client.connect, u, deliveries) for u in users), STREAM_CONCURRENCY
        )
        for i, conversation in enumerate(conversations):
            deliveries.listen(conversation, streams[2 * i].index)
            deliveries.listen(conversation, streams[2 * i + 1].index)
        send_times: list[float] = []
        turn_times: list[float] = []
        stalled = 0

        async def talk(i: int) -> None:
            nonlocal stalled
            a, b = people[i]
            turns: list[tuple[User, Stream]] = [(a, streams[2 * i + 1]), (b, streams[2 * i])]
            for n in range(2 * each):
                speaker, listener = turns[n % 2]
                uid, took = await client.send(speaker, conversations[i], deliveries)
                if took is None:
                    continue
                send_times.append(took)
                arrived = await deliveries.wait_for(listener.index, uid, TURN_GUARD)
                if arrived is None:
                    stalled += 1
                else:
                    turn_times.append(arrived)

        with Measure(server) as measure:
            started = time.perf_counter()
            await asyncio.gather(*(talk(i) for i in range(pairs)))
            talking = time.perf_counter() - started
            drained = await deliveries.drain(DRAIN_GUARD)
    finally:
        await close_all(streams)
        await client.close()
    return {
        "params": {"pairs": pairs, "messages_per_person": each},
        "metrics": {
            "throughput_msg_s": round(len(send_times) / talking, 1),
            "seconds": round(talking, 3),
            "send_latency": summary_ms(send_times),
            "to_recipient_latency": summary_ms(turn_times),
            "stalled_turns": stalled,
            **deliveries.report(),
            "drained": drained,
        },
        **measure.report(),
    }
