"""Tier 0: the server is killed (SIGKILL) during a burst of 1,000 sends, then started again.

The server runs as `make run` runs it: `flask --app hubbub db upgrade`, then
`flask --app hubbub run` on a SQLite file. Four senders send until 1,000 messages have been
acknowledged. Once 500 have been, the server is killed while sends are in flight and started
again on the same port and the same file; the senders retry every send that got no answer with
the same client_id (each sender's first send hangs up before its answer, so a retry of a
stored send happens in every run). Afterwards the history holds every acknowledged message
exactly once, and nothing acknowledged before the crash is missing.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.faults import (
    Progress,
    Sent,
    assert_history_exact,
    assert_log_whole,
    history,
    send_and_hang_up,
    send_until_acknowledged,
)
from tests.support.processes import (
    API,
    CHEAP_HASHING,
    START_GUARD,
    Process,
    Processes,
    create_group,
    flask_command,
    free_port,
    hubbub_env,
    migrate,
    register,
    request,
    wait_until,
)

SENDERS = 4
MESSAGES = 1000
KILL_AT = 500
# Hang guards only: nothing here measures how fast anything happens.
GUARD = 180.0


def start_tier0(processes: Processes, name: str, env: dict[str, str], port: int) -> Process:
    """`make run`'s server command; returns once it answers."""
    args = flask_command("run", "--host", "127.0.0.1", "--port", str(port))
    process = processes.spawn(name, args, env)

    def answers() -> bool:
        assert process.running, process.tail()
        try:
            status, _ = request(f"http://127.0.0.1:{port}", "GET", f"{API}/openapi.json", guard=2)
        except OSError:
            return False
        return status == 200

    wait_until(f"{name} answers", answers, START_GUARD, process.tail)
    return process


def test_a_killed_and_restarted_server_keeps_every_acknowledged_message(
    processes: Processes, tmp_path: Path
) -> None:
    database = tmp_path / "hubbub.db"
    # No secret key given: tier 0 makes one under instance/ and finds it again on restart.
    settings = {
        "HUBBUB_DATABASE_URL": f"sqlite:///{database}",
        "HUBBUB_INSTANCE_PATH": str(tmp_path / "instance"),
        "HUBBUB_RATELIMIT_ENABLED": "0",
        **CHEAP_HASHING,
    }
    migrate(settings)
    env = hubbub_env(settings)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_tier0(processes, "hubbub", env, port)

    accounts = [register(base, f"sender{k}") for k in range(SENDERS)]
    conversation_id = create_group(base, accounts[0], "burst", accounts[1:])
    per_sender = MESSAGES // SENDERS
    plans = [
        [
            Sent(a.username, conversation_id, f"{a.username} message {n}", f"{a.username}-{n}")
            for n in range(per_sender)
        ]
        for a in accounts
    ]
    sends = [sent for plan in plans for sent in plan]
    deadline = time.monotonic() + GUARD
    progress = Progress()

    def sender(k: int) -> None:
        token = accounts[k].token
        for n, sent in enumerate(plans[k]):
            if n == 0:
                # Stored for sure, its answer lost for sure: the retry must find it.
                send_and_hang_up(base, token, sent, START_GUARD)
            send_until_acknowledged(base, token, sent, deadline)
            progress.count()

    with ThreadPoolExecutor(SENDERS) as pool:
        futures = [progress.run(pool, sender, k) for k in range(SENDERS)]
        progress.wait_for(
            f"{KILL_AT} sends acknowledged, each sender's first among them",
            lambda: progress.acknowledged >= KILL_AT and all(p[0].acknowledged for p in plans),
            GUARD,
        )
        before_crash = [(s.message["id"], s.body) for s in sends if s.message is not None]
        server.kill()
        start_tier0(processes, "hubbub-restarted", env, port)
        for future in futures:
            future.result()

    messages = history(base, accounts[0].token, conversation_id)
    kept = {(m["id"], m["body"]) for m in messages}
    lost = [pair for pair in before_crash if pair not in kept]
    assert not lost, f"acknowledged before the crash, missing after the restart: {lost}"
    assert_history_exact(sends, {conversation_id: messages})
    assert_log_whole(f"sqlite:///{database}")
    hung_up = [plan[0] for plan in plans]
    assert all(s.attempts == ["no answer: hung up", "200"] for s in hung_up), hung_up
    unanswered = [s for plan in plans for s in plan[1:] if s.unanswered]
    assert unanswered, "no send went unanswered: the crash was not crossed"
    stored_anyway = [s for s in unanswered if s.attempts[-1] == "200"]
    print(
        f"{len(before_crash)} acknowledged before the crash; {len(unanswered)} sends got no"
        f" answer and were retried, {len(stored_anyway)} of them had been stored already"
    )
