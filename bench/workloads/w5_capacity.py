"""W5 capacity: connected users in groups, each sending now and then; how many can it carry?

Users join in groups of 20, one stream each, and send one message every 30 s on average
(Poisson arrivals). The load steps up (500, 1,000, 2,000 users...), earlier users staying
connected; a step passes when send p99 < 250 ms, delivery p99 < 500 ms and errors < 0.025 %.
Errors are failed sends, lost or doubled deliveries and streams the server dropped, over all
sends and expected deliveries of the step. Stepping stops after the first failing step.
"""

from __future__ import annotations

import asyncio
import random
import time
from functools import partial
from typing import Any

from bench.client import Client, Stream, User, bounded, close_all
from bench.deliveries import Deliveries
from bench.servers import Server
from bench.sizes import Sizes
from bench.stats import summary_ms
from bench.workloads.common import STREAM_CONCURRENCY, Measure, run_tag

SEND_P99_MS = 250.0
DELIVERY_P99_MS = 500.0
ERROR_RATE = 0.025 / 100
STEP_DRAIN = 15.0


def passes(step: dict[str, Any]) -> bool:
    send_p99 = step["send_latency"]["p99_ms"]
    delivery_p99 = step["delivery_latency"]["p99_ms"]
    return (
        send_p99 is not None
        and delivery_p99 is not None
        and send_p99 < SEND_P99_MS
        and delivery_p99 < DELIVERY_P99_MS
        and step["error_rate"] < ERROR_RATE
    )


async def run(server: Server, sizes: Sizes) -> dict[str, Any]:
    client = Client(server.bases, run_tag(), connections=256)
    group_size = max(2, sizes.w5_group_size)
    users: list[tuple[User, int]] = []  # each user with their group
    streams: list[Stream] = []
    audience: dict[int, set[int]] = {}
    steps: list[dict[str, Any]] = []
    try:
        for target in sizes.w5_steps:
            setup = time.perf_counter()
            deliveries = Deliveries(audience=audience)
            new = await client.sign_up_many(target - len(users), sizes.signup_concurrency)
            chunks = [new[i : i + group_size] for i in range(0, len(new), group_size)]
            groups = await bounded(
                (partial(client.create_group, c[0], c[1:], "bench capacity") for c in chunks),
                8,
            )
            for chunk, group in zip(chunks, groups, strict=True):
                users += [(u, group) for u in chunk]
            fresh = await bounded(
                (partial(client.connect, u, deliveries) for u, _ in users[len(streams) :]),
                STREAM_CONCURRENCY,
            )
            for (_, group), stream in zip(users[len(streams) :], fresh, strict=True):
                audience.setdefault(group, set()).add(stream.index)
            streams += fresh
            for stream in streams:
                stream.deliveries = deliveries
            setup_seconds = time.perf_counter() - setup
            step = await _step(client, server, sizes, users, deliveries)
            step.update(users=target, setup_seconds=round(setup_seconds, 1))
            step["passed"] = passes(step)
            steps.append(step)
            verdict = "pass" if step["passed"] else "FAIL"
            print(
                f"  W5 step {target} users: send p99 {step['send_latency']['p99_ms']} ms, "
                f"delivery p99 {step['delivery_latency']['p99_ms']} ms, "
                f"errors {100 * step['error_rate']:.3f} % -> {verdict}",
                flush=True,
            )
            if not step["passed"]:
                break
    finally:
        await close_all(streams)
        await client.close()
    passed = [s["users"] for s in steps if s["passed"]]
    last = steps[-1] if steps else {}
    return {
        "params": {
            "steps": list(sizes.w5_steps),
            "step_seconds": sizes.w5_step_seconds,
            "group_size": group_size,
            "mean_interval_s": sizes.w5_interval,
        },
        "metrics": {
            "capacity_users": max(passed) if passed else 0,
            "first_failing_step": None if not steps or last["passed"] else last["users"],
            "steps": steps,
        },
        "wall_seconds": round(sum(s["wall_seconds"] for s in steps), 1),
        "server": last.get("server"),
        "generator": last.get("generator"),
    }


async def _step(
    client: Client,
    server: Server,
    sizes: Sizes,
    users: list[tuple[User, int]],
    deliveries: Deliveries,
) -> dict[str, Any]:
    rng = random.Random(len(users))  # noqa: S311 - arrival times, not secrets
    send_times: list[float] = []
    rate = 1.0 / sizes.w5_interval

    async def person(user: User, group: int, end: float) -> None:
        while True:
            wait = rng.expovariate(rate)
            if time.perf_counter() + wait >= end:
                return
            await asyncio.sleep(wait)
            _, took = await client.send(user, group, deliveries)
            if took is not None:
                send_times.append(took)

    with Measure(server) as measure:
        end = time.perf_counter() + sizes.w5_step_seconds
        await asyncio.gather(*(person(u, g, end) for u, g in users))
        drained = await deliveries.drain(STEP_DRAIN)
    report = deliveries.report()
    attempted = report["sent"] + report["send_errors"]
    errors = report["send_errors"] + report["lost"] + report["doubled"]
    errors += report["dropped_streams"]
    operations = attempted + report["expected_deliveries"]
    return {
        "sends": attempted,
        "send_rate_msg_s": round(attempted / sizes.w5_step_seconds, 1),
        "send_latency": summary_ms(send_times),
        **report,
        "errors": errors,
        "error_rate": errors / operations if operations else 0.0,
        "drained": drained,
        **measure.report(),
    }
