"""The command line: which workloads on which tiers, at what size; results and the summary."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.servers import (
    BENCH_SETTINGS,
    BIN,
    DEFAULT_DATABASE,
    DEFAULT_KAFKA,
    DEFAULT_POSTGRES_ADMIN,
    TIER_NAMES,
    Options,
    Server,
    Unavailable,
    kafka_servers,
    raise_open_files,
    start,
)
from bench.sizes import Sizes
from bench.targets import evaluate
from bench.workloads import WORKLOADS

PROFILE_RATE = 100  # py-spy samples per second
TIERS = (0, 1, 2)


def kafka_url(text: str) -> str:
    try:
        servers = kafka_servers(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return "kafka://" + ",".join(servers)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run Hubbub's workloads against the tier 0, 1 and 2 servers it starts.",
    )
    parser.add_argument(
        "--workload",
        "-w",
        action="append",
        choices=sorted(WORKLOADS),
        help="run this workload (repeat for more; default: all)",
    )
    parser.add_argument(
        "--tier",
        "-t",
        action="append",
        type=int,
        choices=TIERS,
        help="run on this tier (repeat for more; default: all)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every count by this (0.01 for a quick run); times stay",
    )
    sizes = parser.add_argument_group("sizes (each overrides --scale for its count)")
    default = Sizes()
    for name, value in default.as_dict().items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, tuple):
            sizes.add_argument(
                flag,
                type=lambda s: tuple(int(x) for x in s.split(",")),
                help=f"comma-separated (default {','.join(map(str, value))})",
            )
        else:
            sizes.add_argument(flag, type=type(value), help=f"default {value}")
    parser.add_argument(
        "--results",
        type=Path,
        default=report.RESULTS,
        help="folder for the JSON files and summary.png (default bench/results)",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_ADMIN,
        help="an admin connection for creating the bench database",
    )
    parser.add_argument(
        "--database",
        default=DEFAULT_DATABASE,
        help="tiers 1 and 2's database: dropped and created afresh for each workload",
    )
    parser.add_argument(
        "--redis-url",
        help="tier 1's Redis (e.g. redis://127.0.0.1:6379/13); default: a private redis-server "
        "on a free port, since every Hubbub on one Redis shares the bus channel",
    )
    parser.add_argument(
        "--kafka-url",
        type=kafka_url,
        default=DEFAULT_KAFKA,
        help=f"tier 2's Kafka brokers (default {DEFAULT_KAFKA}; make kafka starts one there); "
        "each workload gets a fresh topic, deleted afterwards",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 2,
        help="gunicorn workers on tier 1 (default: cores); each of tier 2's two servers gets "
        "half as many, at least 1",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="record the server with py-spy during each workload (flame graph "
        "SVG, collapsed stacks and a dump, under the results folder); the "
        "sampling slows the server, so these runs' figures are marked profiled",
    )
    parser.add_argument("--no-plot", action="store_true", help="skip summary.png")
    return parser.parse_args(argv)


def sizes_from(args: argparse.Namespace) -> Sizes:
    sizes = Sizes().scaled(args.scale)
    given = {
        name: getattr(args, name)
        for name in Sizes().as_dict()
        if getattr(args, name, None) is not None
    }
    return replace(sizes, **given)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    workloads = args.workload or list(WORKLOADS)
    tiers = args.tier or list(TIERS)
    sizes = sizes_from(args)
    options = Options(
        args.postgres_url, args.database, args.redis_url, args.workers, kafka_url=args.kafka_url
    )
    limit = raise_open_files()
    print(f"open-file limit {limit}; sizes: {sizes.as_dict()}", flush=True)
    records = []
    for tier in tiers:
        for workload in workloads:
            print(f"== {workload} {WORKLOADS[workload][0]} on {TIER_NAMES[tier]}", flush=True)
            record = run_one(workload, tier, sizes, options, args.results, args.profile)
            path = report.write(args.results, record)
            records.append(record)
            print(report.table([record]), flush=True)
            print(f"   -> {path}", flush=True)
    print()
    print(report.table(records))
    if not args.no_plot:
        png = report.draw(report.load_all(args.results), args.results / "summary.png")
        print(f"summary: {png}")
    return 0 if all(not r.get("error") for r in records) else 1


def run_one(
    workload: str,
    tier: int,
    sizes: Sizes,
    options: Options,
    results: Path,
    profile: bool = False,
) -> dict[str, Any]:
    """Start a fresh server, run one workload against it, stop it; the result record."""
    name, function = WORKLOADS[workload]
    record: dict[str, Any] = {
        "workload": workload,
        "name": name,
        "tier": tier,
        "tier_name": TIER_NAMES[tier],
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "server_settings": {k: v for k, v in BENCH_SETTINGS.items() if "SECRET" not in k},
        "sizes": sizes.as_dict(),
        "profiled": profile,
        "code": code_version(),
    }
    started = time.perf_counter()
    options = replace(options, keep_logs=results / f"server-{workload}-tier{tier}.log")
    try:
        server = start(tier, options)
    except Unavailable as error:
        record["error"] = f"skipped: {error}"
        record["targets"] = []
        print(f"   {record['error']}", flush=True)
        return record
    record["server_command"] = " ".join(server.command)
    record["server_pid"] = server.pid
    record["server_layout"] = server.layout()
    if len(server.pids) > 1:
        record["server_commands"] = [" ".join(command) for command in server.commands]
        record["server_pids"] = server.pids
    profilers = _start_profilers(server, workload, results) if profile else []
    try:
        outcome: dict[str, Any] = asyncio.run(function(server, sizes))
        record.update(outcome)
        record["targets"] = evaluate(workload, record["metrics"])
    except Exception as error:  # one workload failing must not lose the others' results
        record["error"] = f"{type(error).__name__}: {error}"
        record["traceback"] = traceback.format_exc()
        record["targets"] = evaluate(workload, record.get("metrics", {}))
        record["server_log_tail"] = server.tail()
        print(record["traceback"], file=sys.stderr, flush=True)
    finally:
        if profilers:
            record["profile"] = _stop_profilers(server, profilers, workload, results)
        server.stop()
    record["total_seconds"] = round(time.perf_counter() - started, 1)
    return record


def code_version() -> dict[str, Any]:
    """The commit the server ran, and whether its source had changes not yet committed."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],  # noqa: S607 - git from PATH
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "src_changed": None}
    return {"commit": commit, "src_changed": bool(changed)}


def _profile_stems(server: Server, workload: str, results: Path) -> list[str]:
    """One file stem per server: profile-W1-tier1, or profile-W1-tier2-s1, -s2, ..."""
    stem = f"profile-{workload}-tier{server.tier}"
    if len(server.pids) == 1:
        return [str(results / stem)]
    return [str(results / f"{stem}-s{n}") for n in range(1, len(server.pids) + 1)]


def _start_profilers(server: Server, workload: str, results: Path) -> list[subprocess.Popen[bytes]]:
    """py-spy on each server and its workers: an SVG flame graph and collapsed stacks."""
    results.mkdir(parents=True, exist_ok=True)
    spy = str(BIN / "py-spy")
    started = []
    for pid, stem in zip(server.pids, _profile_stems(server, workload, results), strict=True):
        common = ["--pid", str(pid), "--subprocesses", "--rate", str(PROFILE_RATE)]
        for fmt, suffix in (("flamegraph", ".svg"), ("raw", ".txt")):
            command = [spy, "record", *common, "--format", fmt, "-o", f"{stem}{suffix}"]
            log = open(f"{stem}{suffix}.log", "wb")  # noqa: SIM115 - closed with the process
            started.append(
                subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
            )
    return started


def _stop_profilers(
    server: Server, profilers: list[subprocess.Popen[bytes]], workload: str, results: Path
) -> dict[str, Any]:
    stems = _profile_stems(server, workload, results)
    for spy in profilers:
        spy.send_signal(signal.SIGINT)
    for spy in profilers:
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()
    raws = [Path(f"{stem}.txt") for stem in stems]
    top = top_functions(*(raw for raw in raws if raw.exists()))
    svgs = [f"{stem}.svg" for stem in stems]
    collapsed = [str(raw) for raw in raws]
    if len(stems) == 1:
        return {"svg": svgs[0], "collapsed": collapsed[0], "top_self": top}
    return {"svg": svgs, "collapsed": collapsed, "top_self": top}


def top_functions(*collapsed: Path, count: int = 15) -> list[dict[str, Any]]:
    """The functions where the most samples ended (self time), from py-spy's raw format; over
    every server's file together."""
    from collections import Counter

    self_samples: Counter[str] = Counter()
    total = 0
    lines = [line for c in collapsed for line in c.read_text(errors="replace").splitlines()]
    for line in lines:
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        samples = int(number)
        total += samples
        leaf = stack.split(";")[-1]
        self_samples[leaf] += samples
    return [
        {"function": name, "samples": n, "percent": round(100 * n / max(total, 1), 1)}
        for name, n in self_samples.most_common(count)
    ]
