"""W6's database side: a seeded chat loaded straight through SQL, and its searches timed in-process.

The load writes what search reads: users, conversations (groups and direct ones), memberships,
messages with a cheap rendering in `html` (escaped text in <p>, links as <a>, mentions as <span>)
and their mentions. It writes no events or member spans: no stream follows these conversations.
Message ids follow created_at, as the app's do. PostgreSQL is filled with COPY (its trigram index
kept as rows go in), then vacuumed; SQLite with executemany in one transaction, its FTS5 index
filled after the load.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, create_engine, event, insert, text, update

from bench.client import PASSWORD
from bench.corpus import LINK_SHARE, SEED, Bodies, Query, Seen, username
from bench.history import sqlalchemy_url
from bench.stats import summary_ms

CHUNK = 50_000
SPAN = timedelta(days=60)  # the messages' times run over this, ending a minute ago
BODIES_KEPT = 2_000  # bodies kept to cut queries from, evenly spread over the load
LINKS_KEPT = 1_000
GROUP_SIZES = (3, 12)
DIRECT_EVERY = 5  # one conversation in five is a direct one
SEARCHER = "w6searcher"


@dataclass(frozen=True)
class Plan:
    """How big the chat is."""

    messages: int
    conversations: int
    searcher_in: int
    users: int


@dataclass
class _Chat:
    """Who is where: users by index (0 is the searcher), each conversation's members by index
    (the first of a group owns it), kinds and titles, and the searcher's conversations."""

    users: list[str]
    members: list[list[int]]
    kinds: list[str]
    titles: list[str | None]
    mine: set[int]  # the searcher's conversations


def _people(plan: Plan, rng: random.Random) -> _Chat:
    users = [SEARCHER, *(username(n) for n in range(1, plan.users))]
    others = range(1, plan.users)
    mine = set(rng.sample(range(plan.conversations), min(plan.searcher_in, plan.conversations)))
    chat = _Chat(users, [], [], [], mine)
    pairs: set[tuple[int, int]] = set()
    titles = Bodies(SEED + 2)
    for c in range(plan.conversations):
        if c % DIRECT_EVERY == DIRECT_EVERY - 1:
            for _ in range(100):
                first = 0 if c in mine else rng.choice(others)
                second = rng.choice([u for u in others if u != first])
                pair = (min(first, second), max(first, second))
                if pair not in pairs:
                    break
            else:
                raise ValueError(f"too few users ({plan.users}) for the direct conversations")
            pairs.add(pair)
            chat.members.append(list(pair))
            chat.kinds.append("direct")
            chat.titles.append(None)
            continue
        group = rng.sample(others, min(rng.randint(*GROUP_SIZES), plan.users - 1))
        chat.members.append([0, *group] if c in mine else group)
        chat.kinds.append("group")
        chat.titles.append(" ".join(titles.words(2)).capitalize())
    return chat


def seed(url: str, plan: Plan) -> tuple[Seen, dict[str, Any]]:
    """Load the chat into the migrated, empty database at url; what was kept for making
    queries, and how long each step took."""
    from argon2 import PasswordHasher

    import hubbub.models  # noqa: F401 - the app's tables, imported before the clock starts

    rng = random.Random(SEED)  # noqa: S311 - who is where, not secrets
    chat = _people(plan, rng)
    # One cheap hash for all: anyone could sign in, though only the searcher does.
    password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    engine = create_engine(sqlalchemy_url(url))
    timings: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        with engine.begin() as conn:
            loader = _Loader(conn, engine.dialect.name, chat, plan)
            seen = loader.load(rng, password_hash)
        timings["write_seconds"] = loader.seconds
        timings["load_seconds"] = round(time.perf_counter() - started, 1)
        analysed = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if engine.dialect.name == "postgresql":
                # The planner misjudges the trigram index until the table has been vacuumed;
                # vacuuming also merges GIN's pending list, which every search reads in full.
                conn.execute(text("VACUUM ANALYZE"))
            else:
                conn.execute(text("ANALYZE"))
        timings["analyse_seconds"] = round(time.perf_counter() - analysed, 1)
    finally:
        engine.dispose()
    timings["seed_seconds"] = round(time.perf_counter() - started, 1)
    return seen, timings


MESSAGE_COLUMNS = ("id", "conversation_id", "sender_id", "body", "html", "created_at")


class _Loader:
    """Writes one chat; ids start after what the tables hold."""

    def __init__(self, conn: Any, dialect: str, chat: _Chat, plan: Plan) -> None:
        self.conn = conn
        self.dialect = dialect
        self.chat = chat
        self.plan = plan
        self.first = {
            name: int(conn.scalar(text(f"SELECT COALESCE(MAX(id), 0) FROM {name}"))) + 1  # noqa: S608 - fixed names
            for name in ("users", "conversations", "messages")
        }
        self.end = datetime.now(UTC) - timedelta(minutes=1)
        self.start = self.end - SPAN
        self.opened = self.start - timedelta(days=1)
        self.mentions: list[tuple[int, int]] = []
        self.last: dict[int, tuple[int, datetime]] = {}  # conversation id: last message id, time
        self.bodies: list[str] = []
        self.links: list[str] = []
        self.seconds: dict[str, float] = {}  # per table, making the rows included

    def user_id(self, index: int) -> int:
        return self.first["users"] + index

    def conversation_id(self, index: int) -> int:
        return self.first["conversations"] + index

    def load(self, rng: random.Random, password_hash: str) -> Seen:
        chat, plan = self.chat, self.plan
        self.write(
            "users",
            ("id", "username", "email", "password_hash", "is_active", "created_at"),
            [
                (self.user_id(n), name, f"{name}@bench.example", password_hash, True, self.opened)
                for n, name in enumerate(chat.users)
            ],
        )
        # Each conversation's last message is set once its messages are in.
        self.write(
            "conversations",
            ("id", "kind", "title", "direct_key", "created_at", "last_activity_at"),
            [
                (self.conversation_id(c), kind, chat.titles[c], self.direct_key(c), self.opened,
                 self.opened)
                for c, kind in enumerate(chat.kinds)
            ],
        )  # fmt: skip
        self.write(
            "memberships",
            ("conversation_id", "user_id", "role", "joined_at", "muted"),
            [
                (self.conversation_id(c), self.user_id(member), self.role(c, n), self.opened, False)
                for c, people in enumerate(chat.members)
                for n, member in enumerate(people)
            ],
        )
        if self.dialect == "postgresql":
            self.write("messages", MESSAGE_COLUMNS, self.messages(rng))
        else:
            self.write_sqlite_messages(rng)
        self.write("mentions", ("message_id", "user_id"), self.mentions)
        conversations = _table("conversations")
        self.conn.execute(
            update(conversations)
            .where(conversations.c.id == bindparam("c"))
            .values(last_message_id=bindparam("m"), last_activity_at=bindparam("at")),
            [{"c": c, "m": m, "at": at} for c, (m, at) in self.last.items()],
        )
        if self.dialect == "postgresql":
            for table, last in (
                ("users", self.user_id(len(chat.users) - 1)),
                ("conversations", self.conversation_id(plan.conversations - 1)),
                ("messages", self.first["messages"] + plan.messages - 1),
            ):
                self.conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :v)"),
                    {"v": last},
                )
        return self.seen()

    def write_sqlite_messages(self, rng: random.Random) -> None:
        """Migration 0011's insert trigger indexes one row at a time, five times slower than
        FTS5's 'rebuild' after the load (50,000 messages: 3.1 s against 0.65 s); the trigger is
        put back as the migration made it."""
        trigger = self.conn.scalar(
            text("SELECT sql FROM sqlite_master WHERE name = 'messages_fts_insert'")
        )
        self.conn.execute(text("DROP TRIGGER messages_fts_insert"))
        self.write("messages", MESSAGE_COLUMNS, self.messages(rng))
        started = time.perf_counter()
        self.conn.execute(text("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')"))
        self.seconds["fts_rebuild"] = round(time.perf_counter() - started, 1)
        self.conn.execute(text(trigger))

    def role(self, c: int, n: int) -> str:
        return "owner" if n == 0 and self.chat.kinds[c] == "group" else "member"

    def direct_key(self, c: int) -> str | None:
        if self.chat.kinds[c] != "direct":
            return None
        low, high = sorted(self.user_id(m) for m in self.chat.members[c])
        return f"{low}:{high}"

    def messages(self, rng: random.Random) -> Iterator[tuple[Any, ...]]:
        """The messages in id order, one time step apart; keeps a sample of bodies and links."""
        chat, plan = self.chat, self.plan
        bodies = Bodies(SEED)
        spacing = SPAN / max(plan.messages, 1)
        every_body = max(1, plan.messages // BODIES_KEPT)
        # About LINK_SHARE of the messages hold a link.
        every_link = max(1, round(plan.messages * LINK_SHARE / LINKS_KEPT))
        links = 0
        self.readable = 0
        members = [[(self.user_id(m), chat.users[m]) for m in people] for people in chat.members]
        for n in range(plan.messages):
            c = rng.randrange(plan.conversations)
            sender = rng.choice(members[c])
            body = bodies.body([m for m in members[c] if m != sender])
            message_id = self.first["messages"] + n
            created = self.start + spacing * n
            self.mentions += [(message_id, user_id) for user_id in body.mentioned]
            self.last[self.conversation_id(c)] = (message_id, created)
            self.readable += c in chat.mine
            if n % every_body == 0:
                self.bodies.append(body.text)
            for link in body.links:
                if links % every_link == 0:
                    self.links.append(link)
                links += 1
            yield (message_id, self.conversation_id(c), sender[0], body.text, body.html, created)

    def seen(self) -> Seen:
        chat = self.chat
        near = {m for c in chat.mine for m in chat.members[c]} - {0}
        return Seen(
            bodies=self.bodies,
            links=self.links,
            co_members=sorted(chat.users[m] for m in near),
            strangers=sorted(name for n, name in enumerate(chat.users) if n and n not in near),
            usernames=list(chat.users),
            searcher_id=self.user_id(0),
            readable=self.readable,
            first_id=self.first["messages"],
            last_id=self.first["messages"] + self.plan.messages - 1,
        )

    def write(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
        started = time.perf_counter()
        self._write(table, columns, rows)
        self.seconds[table] = round(time.perf_counter() - started, 1)

    def _write(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
        """COPY on PostgreSQL; on SQLite, executemany in chunks through SQLAlchemy Core (which
        stores times as the app's column types do)."""
        if self.dialect == "postgresql":
            raw = self.conn.connection.driver_connection
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        target = _table(table)
        chunk: list[dict[str, Any]] = []
        for row in rows:
            chunk.append(dict(zip(columns, row, strict=True)))
            if len(chunk) >= CHUNK:
                self.conn.execute(insert(target), chunk)
                chunk = []
        if chunk:
            self.conn.execute(insert(target), chunk)


def _table(name: str) -> Table:
    """The app's table: its column types store values as the app does."""
    from hubbub.models import db

    return db.metadata.tables[name]


def in_process(url: str, searcher_id: int, queries: list[Query], limit: int) -> dict[str, Any]:
    """Each query's service call (`search.search`) timed in this process on the same database,
    its SQL alone (PostgreSQL: EXPLAIN ANALYZE's execution time; SQLite: the statement through
    the driver), and the plan of each kind's slowest statement."""
    with tempfile.TemporaryDirectory(prefix="hubbub-bench-w6-") as instance:
        saved = os.environ.get("HUBBUB_INSTANCE_PATH")
        os.environ["HUBBUB_INSTANCE_PATH"] = instance
        try:
            return _in_process(url, searcher_id, queries, limit)
        finally:
            if saved is None:
                os.environ.pop("HUBBUB_INSTANCE_PATH", None)
            else:
                os.environ["HUBBUB_INSTANCE_PATH"] = saved


def _in_process(url: str, searcher_id: int, queries: list[Query], limit: int) -> dict[str, Any]:
    from hubbub import create_app
    from hubbub.models import User, db
    from hubbub.services import search

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url),
            "SECRET_KEY": "bench-in-process",
            "HUBBUB_REDIS_URL": None,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    service: list[float] = []
    sql: list[float | None] = []
    plans: dict[str, dict[str, Any]] = {}
    with app.app_context():
        engine = db.engine
        statements: list[tuple[str, Any]] = []

        def capture(*args: Any) -> None:
            statements.append((args[2], args[3]))

        for query in queries:
            user = db.session.get(User, searcher_id)  # as the request's authentication did
            assert user is not None
            statements.clear()
            event.listen(engine, "before_cursor_execute", capture)
            started = time.perf_counter()
            search.search(user, query.q, query.before, limit)
            service.append(time.perf_counter() - started)
            event.remove(engine, "before_cursor_execute", capture)
            db.session.remove()
            # On PostgreSQL a search takes two to four statements (services/search.py): each of
            # them counts, but not the loads of the page's replies, mentions, reactions and
            # files.
            main = [(s, p) for s, p in statements if _reads_messages(s)]
            if not main:  # from: someone unknown: no search ran
                sql.append(None)
                continue
            explained = [_explain(engine, statement, parameters) for statement, parameters in main]
            took = sum(seconds for _, seconds in explained)
            sql.append(took)
            slowest = plans.get(query.kind)
            if slowest is None or took * 1000 > slowest["sql_ms"]:
                plans[query.kind] = {
                    "q": query.q,
                    "before": query.before,
                    "sql_ms": round(took * 1000, 3),
                    "statement": "\n\n".join(statement for statement, _ in main),
                    "plan": "\n\n".join(plan for plan, _ in explained),
                }
    with app.app_context():
        db.engine.dispose()
    return {"service": service, "sql": sql, "plans": plans}


def _reads_messages(statement: str) -> bool:
    """Whether a statement is one of the search's own: it reads messages, with a LIMIT or
    with their conversations (the eager loads of a page read messages_1, or other tables)."""
    return "FROM messages" in statement and (
        "LIMIT" in statement or "JOIN conversations" in statement
    )


def _explain(engine: Any, statement: str, parameters: Any) -> tuple[str, float]:
    """The statement's own time, and its plan."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            lines = [row[0] for row in cursor.fetchall()]
            execution = next(line for line in lines if line.startswith("Execution Time"))
            took = float(execution.split(":")[1].split()[0]) / 1000
            plan = "\n".join(lines)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            plan = "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())
            started = time.perf_counter()
            cursor.execute(statement, parameters)
            cursor.fetchall()
            took = time.perf_counter() - started
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return plan, took


def summary(seconds: list[float]) -> dict[str, float | int | None]:
    return summary_ms(seconds, (50, 90, 95, 99))
