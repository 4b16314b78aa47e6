"""Results: one JSON file per workload and tier, a console table, and a one-page PNG summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.corpus import MIX
from bench.targets import lookup

RESULTS = Path(__file__).parent / "results"
TIER_COLOURS = {0: "#4c72b0", 1: "#dd8452", 2: "#8172b3"}
OK, NOT_OK = "#2a9d4b", "#c0392b"

# What the console table shows for each workload besides the targets.
HEADLINES: dict[str, list[tuple[str, str]]] = {
    "W1": [
        ("send p50/p99 ms", "send_latency.p50_ms|send_latency.p99_ms"),
        (
            "delivery p50/p95/max ms",
            "delivery_latency.p50_ms|delivery_latency.p95_ms|delivery_latency.max_ms",
        ),
        ("delivered/expected", "delivered|expected_deliveries"),
    ],
    "W2": [
        ("delivery p50/p95 ms", "delivery_latency.p50_ms|delivery_latency.p95_ms"),
        ("to recipient p99 ms", "to_recipient_latency.p99_ms"),
        ("delivered/expected", "delivered|expected_deliveries"),
    ],
    "W3": [
        ("client newest p50/p99 ms", "client.newest.p50_ms|client.newest.p99_ms"),
        ("client middle p50/p99 ms", "client.middle.p50_ms|client.middle.p99_ms"),
        ("server-side p50 ms", "server_side.p50_ms"),
        ("SQL alone p50/p99 ms", "sql.p50_ms|sql.p99_ms"),
    ],
    "W4": [
        ("idle server CPU %", "idle_server_cpu_percent"),
        ("message delivered/expected", "delivered|expected_deliveries"),
    ],
    "W5": [("first failing step", "first_failing_step")],
    "W6": [
        (
            "round trip p50/p90/max ms",
            "round_trip.p50_ms|round_trip.p90_ms|round_trip.max_ms",
        ),
        ("in-process service p50/p99 ms", "service_in_process.p50_ms|service_in_process.p99_ms"),
        ("SQL alone p50/p99 ms", "sql.p50_ms|sql.p99_ms"),
        ("seeding s (all, load, analyse)", "seed_seconds|load_seconds|analyse_seconds"),
    ],
}


# How the summary labels W6's kinds of query (bench/corpus.py's MIX).
W6_LABELS = {"body": "from a body", "link": "in a link", "none": "no match", "from": "from:"}
W6_LABELS |= {"two_terms": "two terms", "has_link": "has:link"}


def path_for(results: Path, workload: str, tier: int) -> Path:
    return results / f"{workload}-tier{tier}.json"


def write(results: Path, record: dict[str, Any]) -> Path:
    results.mkdir(parents=True, exist_ok=True)
    path = path_for(results, record["workload"], record["tier"])
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    return path


def load_all(results: Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted(results.glob("W*-tier*.json")):
        try:
            records.append(json.loads(path.read_text()))
        except ValueError:
            continue
    return records


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(records: list[dict[str, Any]]) -> str:
    """The console table: every target with its measured value, then the other headlines."""
    rows = [("workload", "tier", "figure", "measured", "target", "met")]
    for record in records:
        name = f"{record['workload']} {record['name']}"
        tier = str(record["tier"])
        if record.get("error"):
            rows.append((name, tier, "error", record["error"][:60], "", "NO"))
            continue
        for checked in record["targets"]:
            met = {True: "yes", False: "NO", None: "?"}[checked["met"]]
            rows.append(
                (name, tier, checked["metric"], _fmt(checked["actual"]), checked["target"], met)
            )
        for label, paths in HEADLINES.get(record["workload"], []):
            values = [_fmt(lookup(record["metrics"], p)) for p in paths.split("|")]
            rows.append((name, tier, label, " / ".join(values), "", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The PNG


def _by(records: list[dict[str, Any]], workload: str) -> dict[int, dict[str, Any]]:
    return {r["tier"]: r for r in records if r["workload"] == workload and not r.get("error")}


def _verdict(runs: dict[int, dict[str, Any]]) -> str:
    parts = []
    for tier, record in sorted(runs.items()):
        met = [t["met"] for t in record["targets"]]
        word = "meets targets" if met and all(met) else "misses targets"
        parts.append(f"tier {tier} {word}")
    return "; ".join(parts) if parts else "not run"


def _bars(
    ax: Any,
    labels: list[str],
    runs: dict[int, list[float | None]],
    *,
    target: float | None = None,
    target_label: str = "",
    higher_is_better: bool = False,
    judged: set[int] | None = None,
    unit: str = "",
    log: bool = False,
) -> None:
    """Bars per label, one per tier; the target as a dashed line; values written on the bars.

    The bars at the `judged` label positions (all, by default) get a green outline when they
    meet the target and a red one when they miss it.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    if unit:
        ax.set_ylabel(unit)
    tiers = sorted(runs)
    if not tiers:
        ax.text(0.5, 0.5, "not run yet", transform=ax.transAxes, ha="center", color="grey")
        ax.set_yticks([])
        return
    width = 0.8 / len(tiers)
    highest = target or 0.0
    for k, tier in enumerate(tiers):
        xs = [i + (k - (len(tiers) - 1) / 2) * width for i in range(len(labels))]
        values = [v if v is not None else 0.0 for v in runs[tier]]
        highest = max([highest, *values])
        bars = ax.bar(xs, [max(v, 1e-3) for v in values], width, color=TIER_COLOURS[tier])
        for i, (bar, value, raw) in enumerate(zip(bars, values, runs[tier], strict=True)):
            text = "n/a" if raw is None else (f"{value:,.0f}" if value >= 100 else f"{value:,.2g}")
            if target is not None and raw is not None and (judged is None or i in judged):
                good = value >= target if higher_is_better else value <= target
                bar.set_edgecolor(OK if good else NOT_OK)
                bar.set_linewidth(2.5)
            ax.annotate(
                text,
                (bar.get_x() + bar.get_width() / 2, max(bar.get_height(), 1e-3)),
                ha="center",
                va="bottom",
                fontsize=8,
            )
    handles: list[Any] = [Patch(color=TIER_COLOURS[t], label=f"tier {t}") for t in tiers]
    if target is not None:
        ax.axhline(target, color=NOT_OK, linestyle="--", linewidth=1)
        handles.append(Line2D([], [], color=NOT_OK, linestyle="--", label=target_label))
    if log:
        ax.set_yscale("log")
        ax.set_ylim(top=max(highest, 1e-3) * 4)
    else:
        ax.set_ylim(0, max(highest, 1e-3) * 1.25)
    ax.legend(handles=handles, fontsize=8, loc="upper left")


def draw(records: list[dict[str, Any]], out: Path) -> Path | None:
    """summary.png: a row per workload, throughput or capacity left, latencies or memory right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not records:
        return None
    fig, axes = plt.subplots(6, 2, figsize=(14, 26))
    fig.suptitle(
        "Hubbub benchmark: bars are tiers (tier 0 blue, tier 1 orange, tier 2 purple); dashed "
        "red lines are targets;\nbar outline green = target met, red = missed",
        fontsize=12,
    )

    def values(runs: dict[int, dict[str, Any]], paths: list[str]) -> dict[int, list[Any]]:
        return {t: [lookup(r["metrics"], p) for p in paths] for t, r in runs.items()}

    w1 = _by(records, "W1")
    axes[0][0].set_title(f"W1 group fan-out: send throughput ({_verdict(w1)})", fontsize=10)
    _bars(
        axes[0][0],
        ["msg/s"],
        values(w1, ["send_throughput_msg_s"]),
        target=200,
        target_label="target ≥ 200 msg/s",
        higher_is_better=True,
        unit="messages per second",
    )
    paths = [
        f"{kind}_latency.{p}_ms" for kind in ("send", "delivery") for p in ("p50", "p95", "p99")
    ]
    axes[0][1].set_title("W1 latency (delivery p99 target ≤ 100 ms)", fontsize=10)
    _bars(
        axes[0][1],
        ["send p50", "send p95", "send p99", "deliv p50", "deliv p95", "deliv p99"],
        values(w1, paths),
        target=100,
        target_label="delivery p99 ≤ 100 ms",
        judged={5},
        unit="ms",
        log=True,
    )
    _lost_note(axes[0][1], w1)

    w2 = _by(records, "W2")
    axes[1][0].set_title(f"W2 direct messages: throughput ({_verdict(w2)})", fontsize=10)
    _bars(
        axes[1][0],
        ["msg/s"],
        values(w2, ["throughput_msg_s"]),
        target=900,
        target_label="target ≥ 900 msg/s",
        higher_is_better=True,
        unit="messages per second",
    )
    paths = [f"delivery_latency.{p}_ms" for p in ("p50", "p95", "p99")]
    paths.append("to_recipient_latency.p99_ms")
    axes[1][1].set_title("W2 delivery latency (p99 target ≤ 50 ms)", fontsize=10)
    _bars(
        axes[1][1],
        ["p50", "p95", "p99", "to recipient p99"],
        values(w2, paths),
        target=50,
        target_label="delivery p99 ≤ 50 ms",
        judged={2},
        unit="ms",
        log=True,
    )
    _lost_note(axes[1][1], w2)

    w3 = _by(records, "W3")
    size = next((r["params"]["history_size"] for r in w3.values()), 0)
    axes[2][0].set_title(f"W3 history ({size:,} messages): client-side page time", fontsize=10)
    paths = [
        "client.newest.p50_ms",
        "client.newest.p99_ms",
        "client.middle.p50_ms",
        "client.middle.p99_ms",
    ]
    _bars(
        axes[2][0],
        ["newest p50", "newest p99", "middle p50", "middle p99"],
        values(w3, paths),
        unit="ms",
    )
    axes[2][1].set_title(f"W3 server-side page time ({_verdict(w3)})", fontsize=10)
    paths = ["server_side.p50_ms", "server_side.p99_ms", "sql.p50_ms", "sql.p99_ms"]
    _bars(
        axes[2][1],
        ["service p50", "service p99", "SQL p50", "SQL p99"],
        values(w3, paths),
        target=2,
        target_label="service p99 ≤ 2 ms",
        judged={1},
        unit="ms",
    )

    w4 = _by(records, "W4")
    axes[3][0].set_title(f"W4 idle streams held open ({_verdict(w4)})", fontsize=10)
    _bars(
        axes[3][0],
        ["streams open", "got heartbeat", "got the message"],
        values(w4, ["streams_open", "heartbeat_received", "delivered"]),
        target=10_000,
        target_label="target 10,000",
        judged={0},
        higher_is_better=True,
        unit="streams",
    )
    axes[3][1].set_title("W4 server memory per open stream", fontsize=10)
    _bars(
        axes[3][1],
        ["KiB per stream"],
        values(w4, ["rss_per_stream_kib"]),
        target=20,
        target_label="≤ 20 KiB",
        unit="KiB",
    )

    w5 = _by(records, "W5")
    axes[4][0].set_title(f"W5 capacity: most users within limits ({_verdict(w5)})", fontsize=10)
    _bars(
        axes[4][0],
        ["users"],
        values(w5, ["capacity_users"]),
        target=5_000,
        target_label="target ≥ 5,000 users",
        higher_is_better=True,
        unit="users",
    )
    _steps(axes[4][1], w5)

    w6 = _by(records, "W6")
    size = next((r["params"]["messages"] for r in w6.values()), 0)
    axes[5][0].set_title(
        f"W6 search, {size:,} messages: loopback round trip ({_verdict(w6)})", fontsize=10
    )
    paths = [f"round_trip.{p}" for p in ("p50_ms", "p90_ms", "p99_ms", "max_ms")]
    _bars(
        axes[5][0],
        ["p50", "p90", "p99", "max"],
        values(w6, paths),
        target=50,
        target_label="p99 ≤ 50 ms",
        judged={2},
        unit="ms",
        log=True,
    )
    kinds = [kind for kind, _ in MIX]
    axes[5][1].set_title("W6 round trip p99 by kind of query", fontsize=10)
    _bars(
        axes[5][1],
        [W6_LABELS.get(kind, kind) for kind in kinds],
        values(w6, [f"round_trip_by_kind.{kind}.p99_ms" for kind in kinds]),
        target=50,
        target_label="50 ms",
        unit="ms",
        log=True,
    )

    fig.tight_layout(rect=(0, 0, 1, 0.96))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def _lost_note(ax: Any, runs: dict[int, dict[str, Any]]) -> None:
    lines = []
    for tier, record in sorted(runs.items()):
        m = record["metrics"]
        lines.append(
            f"tier {tier}: {m['delivered']:,}/{m['expected_deliveries']:,} delivered, "
            f"lost {m['lost']}, doubled {m['doubled']}"
        )
    if lines:
        ax.text(
            0.99,
            0.98,
            "\n".join(lines),
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=8,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "grey"},
        )


def _steps(ax: Any, runs: dict[int, dict[str, Any]]) -> None:
    ax.set_title("W5 p99 per step (limits: send 250 ms, delivery 500 ms)", fontsize=10)
    if not runs:
        ax.text(0.5, 0.5, "not run yet", transform=ax.transAxes, ha="center", color="grey")
        return
    for tier, record in sorted(runs.items()):
        steps = record["metrics"]["steps"]
        users = [s["users"] for s in steps]
        colour = TIER_COLOURS.get(tier, "grey")
        ax.plot(
            users,
            [s["send_latency"]["p99_ms"] or 0 for s in steps],
            "o-",
            color=colour,
            label=f"tier {tier} send p99",
        )
        ax.plot(
            users,
            [s["delivery_latency"]["p99_ms"] or 0 for s in steps],
            "s--",
            color=colour,
            label=f"tier {tier} delivery p99",
        )
    ax.axhline(250, color=NOT_OK, linestyle=":", linewidth=1, label="send limit 250 ms")
    ax.axhline(500, color=NOT_OK, linestyle="--", linewidth=1, label="delivery limit 500 ms")
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    steps = sorted({s["users"] for r in runs.values() for s in r["metrics"]["steps"]})
    ax.set_xticks(steps, [f"{n:,}" for n in steps])
    ax.minorticks_off()
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.set_xlabel("connected users")
    ax.set_ylabel("ms")
    ax.legend(fontsize=7)
