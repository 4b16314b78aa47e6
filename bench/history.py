"""W3's database side: a conversation filled straight through SQL, and its pages timed in-process.

The rows are the ones the services would have written for the same sends: a message each, a
`message.created` event each (ids taken from the event counter, which is moved past them), and
the conversation's last message. PostgreSQL is filled with COPY, SQLite with executemany in one
transaction.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, event, insert, text

from bench.stats import summary_ms

CHUNK = 50_000
# Spread over a few days: inside event retention, so the server's pruning leaves them alone.
SPACING = timedelta(milliseconds=300)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _rows(
    conversation_id: int,
    senders: list[tuple[int, str]],
    first_message: int,
    first_event: int,
    count: int,
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    start = datetime.now(UTC) - SPACING * (count + 1)
    now = datetime.now(UTC)
    for n in range(count):
        message_id = first_message + n
        sender_id, username = senders[n % len(senders)]
        created = start + SPACING * n
        body = f"history {n}"
        payload = {
            "message": {
                "id": message_id,
                "conversation_id": conversation_id,
                "sender": {"id": sender_id, "username": username},
                "body": body,
                "created_at": _iso(created),
                "edited_at": None,
                "deleted_at": None,
                "client_id": None,
            }
        }
        message = {
            "id": message_id,
            "conversation_id": conversation_id,
            "sender_id": sender_id,
            "body": body,
            "created_at": created,
        }
        logged = {
            "id": first_event + n,
            "type": "message.created",
            "conversation_id": conversation_id,
            "user_id": None,
            "message_id": message_id,
            "data": json.dumps(payload, separators=(",", ":")),
            "created_at": now,
        }
        yield message, logged


def prefill(
    url: str, conversation_id: int, senders: list[tuple[int, str]], count: int
) -> dict[str, Any]:
    """Append `count` messages to the conversation; the id range and how long it took."""
    from hubbub.models import Event, Message

    started = time.perf_counter()
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            first_message = int(conn.scalar(text("SELECT COALESCE(MAX(id), 0) FROM messages"))) + 1
            last_event = int(
                conn.scalar(text("SELECT last_id FROM event_counter WHERE id = 1 FOR UPDATE"))
                if engine.dialect.name == "postgresql"
                else conn.scalar(text("SELECT last_id FROM event_counter WHERE id = 1"))
            )
            rows = _rows(conversation_id, senders, first_message, last_event + 1, count)
            if engine.dialect.name == "postgresql":
                _copy(conn, rows)
            else:
                _executemany(conn, rows, Message, Event)
            last_message = first_message + count - 1
            conn.execute(
                text("UPDATE event_counter SET last_id = :last WHERE id = 1"),
                {"last": last_event + count},
            )
            conn.execute(
                text("UPDATE conversations SET last_message_id = :m WHERE id = :c"),
                {"m": last_message, "c": conversation_id},
            )
            if engine.dialect.name == "postgresql":
                conn.execute(
                    text("SELECT setval(pg_get_serial_sequence('messages', 'id'), :m)"),
                    {"m": last_message},
                )
        # Fresh statistics, as autovacuum (or an operator) would have gathered by now.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return {
        "first_id": first_message,
        "last_id": first_message + count - 1,
        "prefill_seconds": round(time.perf_counter() - started, 1),
    }


def _copy(conn: Any, rows: Iterator[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    raw = conn.connection.driver_connection
    events = []
    with raw.cursor() as cursor:
        columns = "id, conversation_id, sender_id, body, created_at"
        with cursor.copy(f"COPY messages ({columns}) FROM STDIN") as copy:
            for message, logged in rows:
                copy.write_row(
                    (
                        message["id"],
                        message["conversation_id"],
                        message["sender_id"],
                        message["body"],
                        message["created_at"],
                    )
                )
                events.append(logged)
        columns = "id, type, conversation_id, user_id, message_id, data, created_at"
        with cursor.copy(f"COPY events ({columns}) FROM STDIN") as copy:
            for logged in events:
                copy.write_row(
                    (
                        logged["id"],
                        logged["type"],
                        logged["conversation_id"],
                        logged["user_id"],
                        logged["message_id"],
                        logged["data"],
                        logged["created_at"],
                    )
                )


def _executemany(
    conn: Any, rows: Iterator[tuple[dict[str, Any], dict[str, Any]]], message: Any, logged: Any
) -> None:
    messages: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for m, e in rows:
        messages.append(m)
        events.append(e)
        if len(messages) >= CHUNK:
            conn.execute(insert(message.__table__), messages)
            conn.execute(insert(logged.__table__), events)
            messages, events = [], []
    if messages:
        conn.execute(insert(message.__table__), messages)
        conn.execute(insert(logged.__table__), events)


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def server_side(
    url: str,
    user_id: int,
    conversation_id: int,
    pages: dict[str, int | None],
    repeats: int,
    limit: int,
) -> dict[str, Any]:
    """Time the service call that answers each page, in this process on the same database.

    Also times the page's SQL alone (PostgreSQL: EXPLAIN ANALYZE's execution time; SQLite: the
    statement run through the driver) and keeps each page's query plan.
    """
    with tempfile.TemporaryDirectory(prefix="hubbub-bench-w3-") as instance:
        saved = os.environ.get("HUBBUB_INSTANCE_PATH")
        os.environ["HUBBUB_INSTANCE_PATH"] = instance
        try:
            return _server_side(url, user_id, conversation_id, pages, repeats, limit)
        finally:
            if saved is None:
                os.environ.pop("HUBBUB_INSTANCE_PATH", None)
            else:
                os.environ["HUBBUB_INSTANCE_PATH"] = saved


def _server_side(
    url: str,
    user_id: int,
    conversation_id: int,
    pages: dict[str, int | None],
    repeats: int,
    limit: int,
) -> dict[str, Any]:
    from hubbub import create_app
    from hubbub.models import User, db
    from hubbub.services import messages

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url),
            "SECRET_KEY": "bench-in-process",
            "HUBBUB_REDIS_URL": None,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    results: dict[str, Any] = {"service": {}, "sql": {}, "plans": {}}
    service_all: list[float] = []
    sql_all: list[float] = []
    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
        for name, before in pages.items():
            statements: list[tuple[str, Any]] = []

            def capture(*args: Any, into: list[tuple[str, Any]] = statements) -> None:
                into.append((args[2], args[3]))

            times: list[float] = []
            for n in range(repeats + 1):
                if n == 0:
                    event.listen(engine, "before_cursor_execute", capture)
                user = db.session.get(User, user_id)  # as the request's authentication did
                assert user is not None
                started = time.perf_counter()
                page, _ = messages.list_messages(user, conversation_id, before=before, limit=limit)
                took = time.perf_counter() - started
                assert len(page) == limit, f"page {name} held {len(page)} messages"
                db.session.remove()
                if n == 0:
                    event.remove(engine, "before_cursor_execute", capture)
                else:  # the first call warms caches and is only there to capture the SQL
                    times.append(took)
            service_all += times
            results["service"][name] = summary_ms(times)
            statement, parameters = next(
                (s, p) for s, p in statements if "FROM messages" in s and "LIMIT" in s.upper()
            )
            plan, sql_times = _explain(engine, dialect, statement, parameters, repeats)
            sql_all += sql_times
            results["sql"][name] = summary_ms(sql_times)
            results["plans"][name] = {"statement": statement, "plan": plan}
    with app.app_context():
        db.engine.dispose()
    results["service_all"] = summary_ms(service_all)
    results["sql_all"] = summary_ms(sql_all)
    return results


def _explain(
    engine: Any, dialect: str, statement: str, parameters: Any, repeats: int
) -> tuple[str, list[float]]:
    raw = engine.raw_connection()
    times: list[float] = []
    try:
        cursor = raw.cursor()
        if dialect == "postgresql":
            explain = "EXPLAIN (ANALYZE, BUFFERS) " + statement
            plan = ""
            for _ in range(repeats):
                cursor.execute(explain, parameters)
                lines = [row[0] for row in cursor.fetchall()]
                plan = "\n".join(lines)
                execution = next(line for line in lines if line.startswith("Execution Time"))
                times.append(float(execution.split(":")[1].split()[0]) / 1000)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            plan = "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())
            for _ in range(repeats):
                started = time.perf_counter()
                cursor.execute(statement, parameters)
                cursor.fetchall()
                times.append(time.perf_counter() - started)
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return plan, times
