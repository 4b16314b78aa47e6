"""Message search: a query of terms and filters, answered from the indexes of migrations 0011-12."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TypeAlias

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    Text,
    any_,
    column,
    exists,
    func,
    literal,
    literal_column,
    select,
    table,
)
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import AliasedClass

from hubbub.models import Attachment, Conversation, Membership, Message, User, db
from hubbub.services.accounts import normalise_username
from hubbub.services.errors import Invalid

TERM_MIN = 3
QUERY_MAX = 500
PAGE_MAX = 50
PAGE_DEFAULT = 20
ID_MAX = 2**31 - 1
# How many of the newest messages PostgreSQL checks one by one before it asks the trigram
# index, in two tries (see _postgresql_find).
WINDOWS = (250, 2_000)
# from: someone with at most this many messages the caller may read: SQLite checks each of them
# rather than walk every match of the terms (see _sqlite_find).
FEW_FROM = 200

EMPTY = "Type something to search for."
SHORT = f"Search terms need at least {TERM_MIN} characters."
BAD_FILTER = "A search filter needs another look."

# A piece of text: "a quoted phrase" (to the next quote, or to the end), or a run of anything
# but whitespace; a quote inside a word is a character like any other.
TOKEN = re.compile(r'"(?P<phrase>[^"]*)"?|(?P<word>\S+)')
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
NUMBER = re.compile(r"[0-9]{1,10}")
HAS = ("file", "link")
OPERATORS = ("from", "in", "has", "before", "after")

# The search index's objects, which the migrations make and no model describes: on SQLite an
# FTS5 table over messages.body and the shadow tables FTS5 keeps for it; on PostgreSQL a
# trigram index over hubbub_search_text(body), the body with its whitespace turned into z; on
# both an index of the messages that hold a link (migrations 0012 and 0013). Schema comparisons
# (migrations/env.py, the migration tests) leave them out.
FTS_TABLE = "messages_fts"
TRIGRAM_INDEX = "ix_messages_search_trgm"
LINKS_INDEX = "ix_messages_with_links"
# What the renderer's links start with (services/render.py); the links index holds the messages
# whose html matches this LIKE pattern, word for word.
LINK_PATTERN = "%<a %"
FTS = table(FTS_TABLE, column("rowid", Integer), column(FTS_TABLE))


def part_of_the_index(name: str | None, kind: str) -> bool:
    """Whether a table or index of that name is the search index's (see above)."""
    if name is None:
        return False
    if kind == "table":
        return name == FTS_TABLE or name.startswith(f"{FTS_TABLE}_")
    return kind == "index" and name in (TRIGRAM_INDEX, LINKS_INDEX)


@dataclass(frozen=True)
class SearchQuery:
    """What a search asks for: messages holding every term (a piece of the body, in any case),
    and passing every filter."""

    terms: tuple[str, ...] = ()
    senders: frozenset[str] = frozenset()  # from:username
    conversation_ids: frozenset[int] = frozenset()  # in:ID
    has_file: bool = False
    has_link: bool = False
    before: date | None = None  # created before this UTC day
    after: date | None = None  # created on this UTC day or later


def parse(q: str) -> SearchQuery:
    """Read a search: terms, "quoted phrases" and the operators from:username, in:ID,
    has:file, has:link, before:YYYY-MM-DD and after:YYYY-MM-DD (names in any case).

    Invalid, saying why in fields["q"], for a query with nothing to look for, a term shorter
    than TERM_MIN characters (no trigram index can serve it), or an operator's bad value.
    """
    if len(q) > QUERY_MAX:
        raise Invalid("That search is too long.", fields={"q": f"Use at most {QUERY_MAX:,}."})
    terms: list[str] = []
    senders: set[str] = set()
    conversation_ids: set[int] = set()
    has: set[str] = set()
    days: dict[str, list[date]] = {"before": [], "after": []}
    for token in TOKEN.finditer(q):
        word = token["word"]
        if word is None:
            terms.append(token["phrase"])
            continue
        name, colon, value = word.partition(":")
        operator = name.lower()
        if not colon or operator not in OPERATORS:
            terms.append(word)
        elif operator == "from":
            senders.add(_username(word, value))
        elif operator == "in":
            conversation_ids.add(_conversation_id(word, value))
        elif operator == "has":
            has.add(_has(word, value))
        else:
            days[operator].append(_day(word, operator, value))
    terms = list(dict.fromkeys(terms))
    if short := [term for term in terms if len(term) < TERM_MIN]:
        named = ", ".join(f'"{term}"' for term in short)
        raise Invalid(
            SHORT, fields={"q": f"Make each term {TERM_MIN} characters or longer: {named}."}
        )
    query = SearchQuery(
        terms=tuple(terms),
        senders=frozenset(senders),
        conversation_ids=frozenset(conversation_ids),
        has_file="file" in has,
        has_link="link" in has,
        before=min(days["before"], default=None),
        after=max(days["after"], default=None),
    )
    if query == SearchQuery():
        raise Invalid(
            EMPTY,
            fields={
                "q": f"Give a word or a piece of one ({TERM_MIN} characters or more), "
                "or a filter such as from:username or has:file."
            },
        )
    return query


def _bad(word: str, rule: str) -> Invalid:
    return Invalid(BAD_FILTER, fields={"q": f'"{word}": {rule}'})


def _username(word: str, value: str) -> str:
    if not value:
        raise _bad(word, "from: takes a username, such as from:ana.")
    return normalise_username(value)


def _conversation_id(word: str, value: str) -> int:
    if not NUMBER.fullmatch(value) or int(value) > ID_MAX:
        raise _bad(word, "in: takes a conversation's id, a whole number such as in:12.")
    return int(value)


def _has(word: str, value: str) -> str:
    if value.lower() not in HAS:
        raise _bad(word, "has: takes file or link.")
    return value.lower()


def _day(word: str, operator: str, value: str) -> date:
    try:
        if DAY.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise _bad(word, f"{operator}: takes a day as YYYY-MM-DD, such as {operator}:2026-01-31.")


def search(
    user: User, q: str, before: int | None = None, limit: int = PAGE_DEFAULT
) -> tuple[list[tuple[Message, Conversation]], int | None]:
    """Messages the caller may read now that match q (see parse), newest first, older than
    message `before` if given: a page of (message, its conversation) and the id to pass as
    `before` for the next page, or None when no more may follow.

    Anyone signed in may call; it only reads. Readable means in a conversation the caller is a
    member of now. Deleted messages never match, nor earlier versions of edited ones; from:
    someone unknown or in: a conversation the caller is not in finds nothing. Invalid for a
    bad query or page size.
    """
    if not 1 <= limit <= PAGE_MAX:
        raise Invalid("Bad page size.", fields={"limit": f"Use 1 to {PAGE_MAX}."})
    wanted = parse(q)
    readable = _Readable.of(user, wanted)
    if readable is None:
        return [], None
    if wanted.terms:
        find = FINDERS[db.session.get_bind().dialect.name]
        rows = find(readable, wanted.terms, before, limit + 1)
    else:
        # Ids alone, then the page: sorting whole rows (bodies, html) costs more than the search.
        query = select(Message.id).where(*readable.criteria(Message))
        if before is not None:
            query = query.where(Message.id < before)
        ids = db.session.scalars(query.order_by(Message.id.desc()).limit(limit + 1)).all()
        rows = _page(readable, ids)
    page = rows[:limit]
    return page, page[-1][0].id if len(rows) > limit else None


# The messages table, or a subquery of its rows.
Messages: TypeAlias = type[Message] | AliasedClass[Message]
Matches: TypeAlias = Select[Message, Conversation]


@dataclass(frozen=True)
class _Readable:
    """The caller's conversations and the search's filters (all but the terms, which are the
    finders' work), ready to apply to the messages table or to a subquery of its rows."""

    conversation_ids: Sequence[int]
    wanted: SearchQuery
    sender_id: int | None

    @classmethod
    def of(cls, user: User, wanted: SearchQuery) -> _Readable | None:
        """None when nothing can match."""
        if len(wanted.senders) > 1 or len(wanted.conversation_ids) > 1:
            return None  # each message has one sender and one conversation
        if any("\x00" in text for text in (*wanted.terms, *wanted.senders)):
            return None  # no body or name holds one, and PostgreSQL refuses it in text
        # Values, not a subquery: PostgreSQL can then narrow the trigram index's bitmap by
        # the conversations' index (a BitmapAnd), instead of a trigram scan per conversation.
        mine = db.session.scalars(
            select(Membership.conversation_id).where(
                Membership.user_id == user.id, Membership.left_at.is_(None)
            )
        ).all()
        sender_id = None
        for username in wanted.senders:
            sender_id = db.session.scalar(select(User.id).where(User.username == username))
            if sender_id is None:
                return None
        return cls(mine, wanted, sender_id) if mine else None

    def in_mine(self, m: Messages) -> ColumnElement[bool]:
        if db.session.get_bind().dialect.name == "postgresql":
            # One array rather than a parameter per conversation: a shorter statement to send
            # and parse, several times per search.
            return m.conversation_id == any_(literal(self.conversation_ids, ARRAY(Integer)))
        return m.conversation_id.in_(self.conversation_ids)

    def criteria(self, m: Messages) -> list[ColumnElement[bool]]:
        wanted = self.wanted
        where = [self.in_mine(m), m.deleted_at.is_(None)]
        if self.sender_id is not None:
            where.append(m.sender_id == self.sender_id)
        where += [
            m.conversation_id == conversation_id for conversation_id in wanted.conversation_ids
        ]
        if wanted.has_file:
            where.append(exists().where(Attachment.message_id == m.id))
        if wanted.has_link:
            # Written in, not bound: the links index's condition is this, word for word, and
            # SQLite uses a partial index only then.
            where.append(m.html.like(literal_column(f"'{LINK_PATTERN}'")))
        if wanted.before is not None:
            where.append(m.created_at < _midnight(wanted.before))
        if wanted.after is not None:
            where.append(m.created_at >= _midnight(wanted.after))
        return where

    def matches(self, m: Messages) -> Matches:
        """The messages of m that pass, with their conversations."""
        return (
            select(m, Conversation)
            .join(Conversation, Conversation.id == m.conversation_id)
            .where(*self.criteria(m))
        )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _rows(query: Matches) -> list[tuple[Message, Conversation]]:
    return [(row[0], row[1]) for row in db.session.execute(query)]


def _page(readable: _Readable, ids: Sequence[int]) -> list[tuple[Message, Conversation]]:
    """The messages of those ids, newest first, with their conversations."""
    if not ids:
        return []
    return _rows(readable.matches(Message).where(Message.id.in_(ids)).order_by(Message.id.desc()))


# How each database finds the terms: `count` matches at most, newest first.


def _sqlite_find(
    readable: _Readable, terms: tuple[str, ...], before: int | None, count: int
) -> list[tuple[Message, Conversation]]:
    """From FTS5's matches, newest first; or, from: someone who wrote few of the messages the
    caller may read, from those messages, each checked against FTS5.

    FTS5 hands its matches over by rowid, newest first, so the walk stops at the LIMIT; the
    page's cursor is on the same rowid, so that FTS5 starts there instead of walking down to it
    from the newest match. But the walk passes every match in other conversations and by other
    people: a common piece by someone who wrote 100 of them took 35-75 ms at 1,000,000
    messages. Checking one message against FTS5 costs 50-250 microseconds, so that is the way
    only for a sender of at most FEW_FROM messages.
    """
    # Each term is a quoted FTS5 string (a quote in it doubled): never an operator, prefix or
    # column.
    expression = " AND ".join('"' + term.replace('"', '""') + '"' for term in terms)
    matching = FTS.c[FTS_TABLE].op("MATCH")(expression)
    if readable.sender_id is not None and _wrote_few(readable):
        query = readable.matches(Message).where(exists().where(FTS.c.rowid == Message.id, matching))
        if before is not None:
            query = query.where(Message.id < before)
        return _rows(query.order_by(Message.id.desc()).limit(count))
    query = readable.matches(Message).join(FTS, FTS.c.rowid == Message.id).where(matching)
    if before is not None:
        query = query.where(FTS.c.rowid < before)
    return _rows(query.order_by(FTS.c.rowid.desc()).limit(count))


def _wrote_few(readable: _Readable) -> bool:
    """Whether the from: sender wrote at most FEW_FROM of the messages the caller may read."""
    theirs = (
        select(literal(1))
        .where(readable.in_mine(Message), Message.sender_id == readable.sender_id)
        .limit(FEW_FROM + 1)
        .subquery()
    )
    return db.session.execute(select(func.count()).select_from(theirs)).scalar_one() <= FEW_FROM


def _postgresql_find(
    readable: _Readable, terms: tuple[str, ...], before: int | None, count: int
) -> list[tuple[Message, Conversation]]:
    """Message by message, newest first, for a piece that many messages hold; from the
    trigram index for one that few or none hold (bench/README.md, W6, has the figures).

    No one plan is quick for both: the index hands over tens of thousands of rows for a piece
    of common words, and looking message by message for a rare piece reads every message. So
    the newest WINDOWS[0] messages in the caller's conversations are checked first; if they
    hold fewer than `count` matches but enough to expect `count` among the newest WINDOWS[1],
    those are checked next; otherwise (or if they fall short too) the index finds every match
    and the newest `count` are kept. Each body is checked with ILIKE '%piece%' (its %, _ and \
    escaped): the index only narrows (migration 0012 says what it holds).
    """
    older = [Message.id < before] if before is not None else []
    for size in WINDOWS:
        found = _newest_matches(readable, terms, older, size, count)
        if len(found) == count:
            return _page(readable, found)
        if len(found) * WINDOWS[-1] < count * size:
            break  # too few to expect enough in the next window
    indexed = [
        func.hubbub_search_text(Message.body).ilike(
            literal("%") + func.hubbub_search_text(_escaped(term), type_=Text) + "%"
        )
        for term in terms
    ]
    # Materialised, the matches are gathered first, from the index: without it the planner
    # may walk down the ids for the LIMIT instead, checking every message on the way.
    hits = (
        select(Message.id)
        .where(*readable.criteria(Message), *older, *indexed, *_holds(Message, terms))
        .cte("hits")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    # The newest among them before any other table is read.
    top = select(hits.c.id).order_by(hits.c.id.desc()).limit(count).subquery("top")
    second = readable.matches(Message).join(top, top.c.id == Message.id)
    return _rows(second.order_by(Message.id.desc()))


def _newest_matches(
    readable: _Readable,
    terms: tuple[str, ...],
    older: list[ColumnElement[bool]],
    size: int,
    count: int,
) -> Sequence[int]:
    """The ids of the newest `count` matches among the newest `size` messages the caller may
    read (and older than the page's cursor), newest first."""
    # Limited, the subquery is read on its own: the ILIKE above it checks its rows only, not
    # every message that a walk down the ids passes in other people's conversations.
    newest = aliased(
        Message,
        select(Message)
        .where(readable.in_mine(Message), *older)
        .order_by(Message.id.desc())
        .limit(size)
        .subquery("newest"),
    )
    # Ids alone: the messages are loaded (with their mentions, reactions and files) only
    # for the page that is answered.
    query = select(newest.id).where(*readable.criteria(newest), *_holds(newest, terms))
    return db.session.scalars(query.order_by(newest.id.desc()).limit(count)).all()


def _escaped(term: str) -> str:
    r"""The term for LIKE: its \, % and _ stand for themselves."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _holds(m: Messages, terms: tuple[str, ...]) -> list[ColumnElement[bool]]:
    r"""ILIKE '%term%' for each term, its %, _ and \ escaped."""
    return [m.body.icontains(term, autoescape=True, escape="\\") for term in terms]


Finder = Callable[[_Readable, tuple[str, ...], int | None, int], list[tuple[Message, Conversation]]]
FINDERS: dict[str, Finder] = {"sqlite": _sqlite_find, "postgresql": _postgresql_find}
