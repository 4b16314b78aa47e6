"""Message search: a query of terms and filters, answered from migration 0011's index."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import Integer, Select, column, exists, select, table

from hubbub.models import Attachment, Conversation, Membership, Message, User, db
from hubbub.services.accounts import normalise_username
from hubbub.services.errors import Invalid

TERM_MIN = 3
QUERY_MAX = 500
PAGE_MAX = 50
PAGE_DEFAULT = 20
ID_MAX = 2**31 - 1

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
# FTS5 table over messages.body and the shadow tables FTS5 keeps for it, on PostgreSQL a
# trigram index. Schema comparisons (migrations/env.py, the migration tests) leave them out.
FTS_TABLE = "messages_fts"
TRIGRAM_INDEX = "ix_messages_body_trgm"
FTS = table(FTS_TABLE, column("rowid", Integer), column(FTS_TABLE))

Matches = Select[Message, Conversation]


def part_of_the_index(name: str | None, kind: str) -> bool:
    """Whether a table or index of that name is the search index's (see above)."""
    if name is None:
        return False
    if kind == "table":
        return name == FTS_TABLE or name.startswith(f"{FTS_TABLE}_")
    return kind == "index" and name == TRIGRAM_INDEX


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
    query = _readable_matches(user, wanted, before)
    if query is None:
        return [], None
    rows = [(row[0], row[1]) for row in db.session.execute(query.limit(limit + 1))]
    page = rows[:limit]
    return page, page[-1][0].id if len(rows) > limit else None


def _readable_matches(user: User, wanted: SearchQuery, before: int | None) -> Matches | None:
    """The query for the matches the caller may read, newest first and older than message
    `before` if given; None when none can be."""
    if len(wanted.senders) > 1 or len(wanted.conversation_ids) > 1:
        return None  # each message has one sender and one conversation
    if any("\x00" in text for text in (*wanted.terms, *wanted.senders)):
        return None  # no body or name holds one, and PostgreSQL refuses it in text
    mine = select(Membership.conversation_id).where(
        Membership.user_id == user.id, Membership.left_at.is_(None)
    )
    query = (
        select(Message, Conversation)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.conversation_id.in_(mine), Message.deleted_at.is_(None))
    )
    for username in wanted.senders:
        sender = db.session.scalar(select(User.id).where(User.username == username))
        if sender is None:
            return None
        query = query.where(Message.sender_id == sender)
    for conversation_id in wanted.conversation_ids:
        query = query.where(Message.conversation_id == conversation_id)
    if wanted.has_file:
        query = query.where(exists().where(Attachment.message_id == Message.id))
    if wanted.has_link:
        query = query.where(Message.html.contains("<a ", autoescape=True))
    if wanted.before is not None:
        query = query.where(Message.created_at < _midnight(wanted.before))
    if wanted.after is not None:
        query = query.where(Message.created_at >= _midnight(wanted.after))
    if not wanted.terms:
        if before is not None:
            query = query.where(Message.id < before)
        return query.order_by(Message.id.desc())
    return MATCHING[db.session.get_bind().dialect.name](query, wanted.terms, before)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


# How each database finds the terms, newest first; the LIMIT stops the walk.


def _sqlite_matching(query: Matches, terms: tuple[str, ...], before: int | None) -> Matches:
    # FTS5 hands its matches over by rowid, newest first, so the walk stops at the LIMIT; the
    # page's cursor is on the same rowid, so that FTS5 starts there instead of walking down to
    # it from the newest match. Each term is a quoted FTS5 string (a quote in it doubled):
    # never an operator, prefix or column.
    expression = " AND ".join('"' + term.replace('"', '""') + '"' for term in terms)
    query = query.join(FTS, FTS.c.rowid == Message.id).where(
        FTS.c[FTS_TABLE].op("MATCH")(expression)
    )
    if before is not None:
        query = query.where(FTS.c.rowid < before)
    return query.order_by(FTS.c.rowid.desc())


def _postgresql_matching(query: Matches, terms: tuple[str, ...], before: int | None) -> Matches:
    # '%' || term || '%' with the term's %, _ and \ escaped: the trigram index serves it.
    for term in terms:
        query = query.where(Message.body.icontains(term, autoescape=True, escape="\\"))
    if before is not None:
        query = query.where(Message.id < before)
    return query.order_by(Message.id.desc())


MATCHING: dict[str, Callable[[Matches, tuple[str, ...], int | None], Matches]] = {
    "sqlite": _sqlite_matching,
    "postgresql": _postgresql_matching,
}
