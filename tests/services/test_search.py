"""Search: the query parser, and what search() finds (pieces of words, all terms, phrases,
filters, pages) and never finds (tombstones, earlier versions, conversations I am not in now),
on both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import insert, text, update

from hubbub.models import Attachment, Conversation, Message, User, db
from hubbub.services import members, messages, search
from hubbub.services.errors import Invalid
from hubbub.services.search import SearchQuery, parse
from tests.support.apps import build_app, dispose
from tests.support.chat import new_direct, new_group, post
from tests.support.people import as_user, people
from tests.support.postgres import WORKER, Postgres

MakeUser = Callable[..., User]


def found(app: Flask, user_id: int, q: str, **page: int) -> list[int]:
    """The ids of the messages the person's search finds, newest first."""
    return [message.id for message, _ in results(app, user_id, q, **page)[0]]


def results(
    app: Flask, user_id: int, q: str, **page: int
) -> tuple[list[tuple[Message, Conversation]], int | None]:
    with app.app_context():
        answer = search.search(as_user(user_id), q, **page)
        db.session.remove()
        return answer


def refused(app: Flask, user_id: int, q: str) -> dict[str, str]:
    with app.app_context(), pytest.raises(Invalid) as caught:
        search.search(as_user(user_id), q)
    return {"message": caught.value.message, **caught.value.fields}


def edit(app: Flask, user_id: int, message_id: int, body: str) -> None:
    with app.app_context():
        messages.edit_message(as_user(user_id), message_id, body)


def delete(app: Flask, user_id: int, message_id: int) -> None:
    with app.app_context():
        messages.delete_message(as_user(user_id), message_id)


def set_created_at(app: Flask, message_id: int, when: datetime) -> None:
    with app.app_context():
        db.session.execute(update(Message).where(Message.id == message_id).values(created_at=when))
        db.session.commit()


def attach(app: Flask, uploader_id: int, message_id: int) -> None:
    """A file on the message, as a finished upload leaves it (the upload service is not what
    is tested here)."""
    with app.app_context():
        db.session.execute(
            insert(Attachment).values(
                uploader_id=uploader_id,
                message_id=message_id,
                position=0,
                name="plan.pdf",
                content_type="application/pdf",
                size=3,
                key=f"key-{message_id}",
                created_at=datetime.now(UTC),
            )
        )
        db.session.commit()


# The parser


def test_the_parser_reads_terms_phrases_and_every_operator() -> None:
    query = parse(
        'Deploy "big  world" FROM:Ana in:12 has:file Has:LINK before:2026-02-01 '
        "after:2026-01-01 https://example.com/x to:bob"
    )
    assert query == SearchQuery(
        terms=("Deploy", "big  world", "https://example.com/x", "to:bob"),
        senders=frozenset({"ana"}),
        conversation_ids=frozenset({12}),
        has_file=True,
        has_link=True,
        before=date(2026, 2, 1),
        after=date(2026, 1, 1),
    )


def test_a_quote_opens_a_phrase_only_at_the_start_of_a_term() -> None:
    assert parse("off\\\"x' it's") == SearchQuery(terms=("off\\\"x'", "it's"))
    assert parse('say "no more') == SearchQuery(terms=("say", "no more"))
    assert parse('"from:ana" apple apple') == SearchQuery(terms=("from:ana", "apple"))


def test_filters_alone_are_a_search_and_repeated_days_keep_the_narrowest() -> None:
    query = parse("from:ana has:file before:2026-03-01 before:2026-02-01 after:2025-01-01")
    assert query.terms == () and query.senders == {"ana"} and query.has_file
    assert (query.before, query.after) == (date(2026, 2, 1), date(2025, 1, 1))


@pytest.mark.parametrize(
    ("q", "message", "says"),
    [
        ("", search.EMPTY, "or a filter"),
        ("  \t ", search.EMPTY, "or a filter"),
        ("ab", search.SHORT, '"ab"'),
        ("apple pi e", search.SHORT, '"pi", "e"'),
        ('apple ""', search.SHORT, '""'),
        ("in:abc", search.BAD_FILTER, '"in:abc": in: takes'),
        ("in:", search.BAD_FILTER, "in: takes"),
        ("in:99999999999", search.BAD_FILTER, "in: takes"),
        ("apple has:foo", search.BAD_FILTER, '"has:foo": has: takes file or link'),
        ("before:2026-13-01", search.BAD_FILTER, "YYYY-MM-DD"),
        ("after:yesterday", search.BAD_FILTER, "after: takes a day"),
        ("before:20260101", search.BAD_FILTER, "before: takes a day"),
        ("from:", search.BAD_FILTER, "from: takes a username"),
        ("x" * (search.QUERY_MAX + 1), "That search is too long.", "at most"),
    ],
)
def test_a_bad_query_is_refused_saying_why(q: str, message: str, says: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse(q)
    assert caught.value.message == message
    assert says in caught.value.fields["q"]


# What a search finds


def test_a_piece_is_found_inside_words_and_links_in_any_case(
    app: Flask, make_user: MakeUser
) -> None:
    ana, bob = people(make_user, "ana", "bob")
    dm = new_direct(app, ana, bob)
    deploy = post(app, ana, dm, "Deployment finished, ÄRGER over")
    link = post(app, bob, dm, "setup notes: https://Example.com/Docs/setup?step=2")
    post(app, bob, dm, "nothing to see")
    assert found(app, ana, "PLOY") == [deploy]
    assert found(app, ana, "ärg") == [deploy]
    assert found(app, bob, "example.com/docs") == [link]
    assert found(app, bob, "ample.co") == [link]
    assert found(app, bob, "https://") == [link]
    assert found(app, bob, "step=2") == [link]


def test_every_term_must_match_and_a_quoted_phrase_is_one(app: Flask, make_user: MakeUser) -> None:
    ana, bob = people(make_user, "ana", "bob")
    dm = new_direct(app, ana, bob)
    pie = post(app, ana, dm, "apple pie tonight")
    tart = post(app, ana, dm, "apple tart, no pie")
    post(app, ana, dm, "cherry pie")
    assert found(app, bob, "apple pie") == [tart, pie]
    assert found(app, bob, "apple tart") == [tart]
    assert found(app, bob, '"apple pie"') == [pie]
    assert found(app, bob, '"pie tonight" apple') == [pie]
    assert found(app, bob, "apple pie banana") == []


def test_percent_underscore_quotes_and_backslashes_are_matched_as_written(
    app: Flask, make_user: MakeUser
) -> None:
    ana, bob = people(make_user, "ana", "bob")
    dm = new_direct(app, ana, bob)
    sale = post(app, ana, dm, "50%_off\\\"x' today")
    post(app, ana, dm, "50 percent off, x today")
    post(app, ana, dm, "a b c d e f g h")
    assert found(app, bob, "%_o") == [sale]
    assert found(app, bob, "%%%") == []
    assert found(app, bob, "___") == []
    assert found(app, bob, "off\\\"x'") == [sale]
    assert found(app, bob, '\\"x') == [sale]
    assert found(app, bob, '"x\' to"') == [sale]
    # Nothing is FTS5 or SQL syntax: not a prefix, a NEAR group, or a quote that ends a string.
    assert found(app, bob, "toda*") == []
    assert found(app, bob, "NEAR(off today)") == []
    assert found(app, bob, "\"' OR '1'='1\"") == []


def test_a_nul_in_a_term_finds_nothing_rather_than_failing(app: Flask, make_user: MakeUser) -> None:
    ana, bob = people(make_user, "ana", "bob")
    post(app, ana, new_direct(app, ana, bob), "hello there")
    assert found(app, ana, "hel\x00lo") == []
    assert found(app, ana, "from:an\x00a") == []


def test_from_finds_what_one_person_wrote(app: Flask, make_user: MakeUser) -> None:
    ana, bob, cyd = people(make_user, "ana", "bob", "cyd")
    group = new_group(app, ana, [bob, cyd])
    by_bob = post(app, bob, group, "the plan is ready")
    post(app, cyd, group, "the plan is late")
    assert found(app, ana, "plan from:bob") == [by_bob]
    assert found(app, ana, "from:BOB") == [by_bob]
    assert found(app, ana, "plan from:nobody") == []
    assert found(app, ana, "plan from:bob from:cyd") == []


@pytest.mark.parametrize("few", [0, 2, search.FEW_FROM])
def test_from_with_a_piece_finds_the_same_whether_the_sender_wrote_few_or_many(
    app: Flask, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """On SQLite a sender of at most FEW_FROM readable messages is searched message by message,
    anyone else through FTS5's matches (services/search.py): with 0 every search takes the
    matches' way, with 2 bob's takes it and cyd's the other, with the default both the other."""
    monkeypatch.setattr(search, "FEW_FROM", few)
    ana, bob, cyd, dee = people(make_user, "ana", "bob", "cyd", "dee")
    group = new_group(app, ana, [bob, cyd])
    elsewhere = new_direct(app, bob, dee)
    by_bob = [post(app, bob, group, f"release note {n}") for n in range(4)]
    post(app, bob, group, "lunch")
    by_cyd = post(app, cyd, group, "release day")
    post(app, bob, elsewhere, "release party")  # not ana's to read
    delete(app, bob, by_bob[1])
    mine = [by_bob[3], by_bob[2], by_bob[0]]
    assert found(app, ana, "from:bob release") == mine
    assert found(app, ana, "from:bob note lease") == mine
    assert found(app, ana, "from:bob release", limit=2) == mine[:2]
    assert found(app, ana, "from:bob release", before=by_bob[2]) == mine[2:]
    assert found(app, ana, "from:cyd release") == [by_cyd]
    assert found(app, ana, "from:cyd note") == []
    assert found(app, ana, "from:dee release") == []
    assert found(app, dee, "from:bob release") == [
        m for m in found(app, bob, "from:bob release") if m not in by_bob
    ]


def test_in_finds_what_one_conversation_holds(app: Flask, make_user: MakeUser) -> None:
    ana, bob, cyd = people(make_user, "ana", "bob", "cyd")
    group = new_group(app, ana, [bob])
    dm = new_direct(app, ana, bob)
    elsewhere = new_direct(app, bob, cyd)
    in_group = post(app, ana, group, "standup at ten")
    in_dm = post(app, ana, dm, "standup moved")
    post(app, bob, elsewhere, "standup is boring")
    assert found(app, ana, f"standup in:{group}") == [in_group]
    assert found(app, ana, f"in:{dm}") == [in_dm]
    assert found(app, ana, "standup") == [in_dm, in_group]
    # A conversation I am not in, or that does not exist, is just empty: nothing says which.
    assert found(app, ana, f"standup in:{elsewhere}") == []
    assert found(app, ana, f"in:{elsewhere}") == []
    assert found(app, ana, "in:999999") == []
    assert found(app, ana, f"in:{group} in:{dm}") == []


def test_has_file_and_has_link(app: Flask, make_user: MakeUser) -> None:
    ana, bob = people(make_user, "ana", "bob")
    dm = new_direct(app, ana, bob)
    with_file = post(app, ana, dm, "the report, attached")
    attach(app, ana, with_file)
    with_link = post(app, ana, dm, "the report is at https://example.com/r")
    post(app, ana, dm, "the report is late; see <a href=x> in the text")
    assert found(app, bob, "has:file") == [with_file]
    assert found(app, bob, "report has:file") == [with_file]
    assert found(app, bob, "report has:link") == [with_link]
    assert found(app, bob, "has:file has:link") == []


def test_before_and_after_are_utc_days(app: Flask, make_user: MakeUser) -> None:
    ana, bob = people(make_user, "ana", "bob")
    dm = new_direct(app, ana, bob)
    sent = {}
    for when in ("2026-01-31T23:59:59", "2026-02-01T00:00:00", "2026-02-02T12:00:00"):
        sent[when] = post(app, ana, dm, f"note of {when}")
        set_created_at(app, sent[when], datetime.fromisoformat(when).replace(tzinfo=UTC))
    last_of_january, first_of_february, later = sent.values()
    assert found(app, bob, "note before:2026-02-01") == [last_of_january]
    assert found(app, bob, "note after:2026-02-01") == [later, first_of_february]
    assert found(app, bob, "after:2026-02-01 before:2026-02-02") == [first_of_february]
    assert found(app, bob, "note after:2026-02-03") == []


def test_pages_run_newest_first_and_next_before_says_where_to_go_on(
    app: Flask, make_user: MakeUser
) -> None:
    ana, bob = people(make_user, "ana", "bob")
    dm = new_direct(app, ana, bob)
    sent = [post(app, ana, dm, f"update number {n}") for n in range(5)]
    post(app, ana, dm, "something else")
    newest_first = sent[::-1]
    page, next_before = results(app, bob, "update", limit=2)
    assert [m.id for m, _ in page] == newest_first[:2] and next_before == newest_first[1]
    page, next_before = results(app, bob, "update", limit=2, before=next_before)
    assert [m.id for m, _ in page] == newest_first[2:4] and next_before == newest_first[3]
    page, next_before = results(app, bob, "update", limit=2, before=next_before)
    assert [m.id for m, _ in page] == newest_first[4:] and next_before is None
    # A page that ends exactly at the last match says there is no more.
    page, next_before = results(app, bob, "update", limit=5)
    assert len(page) == 5 and next_before is None
    assert found(app, bob, "update", limit=1, before=sent[0]) == []


# On PostgreSQL the newest messages are checked one by one, and the trigram index is asked only
# when they hold too few matches (services/search.py). With windows of one or a few messages,
# every search below takes the index's way, or both ways for one page; SQLite has no windows.
FEW = [(1, 1), (2, 4), search.WINDOWS]


@pytest.mark.parametrize("windows", FEW)
def test_the_index_and_the_newest_messages_find_the_same(
    app: Flask, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch, windows: tuple[int, int]
) -> None:
    monkeypatch.setattr(search, "WINDOWS", windows)
    ana, bob, cyd = people(make_user, "ana", "bob", "cyd")
    dm = new_direct(app, ana, bob)
    elsewhere = new_direct(app, bob, cyd)
    bodies = [
        "deploy at noon",
        "lunch?",
        "the Deploy is done",
        "deploy log: https://example.com/deploy",
        "no",
        "re-deploy, then lunch",
        "DEPLOYED",
        "nothing",
    ]
    sent = {post(app, ana, dm, body): body for body in bodies}
    post(app, bob, elsewhere, "deploy elsewhere")  # not ana's to read
    newest_first = sorted(sent, reverse=True)

    def holding(*pieces: str) -> list[int]:
        return [m for m in newest_first if all(p in sent[m].lower() for p in pieces)]

    for q, pieces in [
        ("deploy", ("deploy",)),
        ("lunch deploy", ("lunch", "deploy")),
        ('"deploy,"', ("deploy,",)),
        ('"deploy "', ("deploy ",)),
        ('"y lo"', ("y lo",)),
        ("zzz", ("zzz",)),
    ]:
        # Page by page, two at a time: each page's cursor starts the next window.
        pages, before = [], None
        while True:
            page, before = results(app, ana, q, limit=2, **({"before": before} if before else {}))
            pages += [message.id for message, _ in page]
            if before is None:
                break
        assert pages == holding(*pieces), q
    linked = [m for m in newest_first if "https://" in sent[m]]
    assert found(app, ana, "deploy has:link") == linked
    assert found(app, ana, "lunch has:link") == []
    assert found(app, cyd, "deploy") == [m for m in found(app, bob, "deploy") if m not in sent]


@pytest.mark.parametrize("windows", FEW)
def test_a_piece_runs_across_spaces_and_only_what_it_says_is_found(
    app: Flask, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch, windows: tuple[int, int]
) -> None:
    """PostgreSQL's index reads whitespace as the letter z (migration 0012): it narrows, and
    each body is then checked as written."""
    monkeypatch.setattr(search, "WINDOWS", windows)
    ana, bob = people(make_user, "ana", "bob")
    dm = new_direct(app, ana, bob)
    space = post(app, ana, dm, "one two")
    tab = post(app, ana, dm, "one\ttwo")
    line = post(app, ana, dm, "one\ntwo")
    zed = post(app, ana, dm, "onEZtwo")
    assert found(app, bob, '"e t"') == [space]
    assert found(app, bob, '"e\tt"') == [tab]
    assert found(app, bob, '"e\nt"') == [line]
    assert found(app, bob, "ezt") == [zed]
    assert found(app, bob, "one two") == [zed, line, tab, space]


def test_each_result_comes_with_its_conversation(app: Flask, make_user: MakeUser) -> None:
    ana, bob = people(make_user, "ana", "bob")
    group = new_group(app, ana, [bob], title="Garden")
    dm = new_direct(app, ana, bob)
    post(app, ana, group, "tomatoes are red")
    post(app, ana, dm, "tomatoes again")
    page, _ = results(app, bob, "tomatoes")
    places = [(c.id, c.kind, c.title) for _, c in page]
    assert places == [(dm, "direct", None), (group, "group", "Garden")]


def test_page_size_is_1_to_50(app: Flask, make_user: MakeUser) -> None:
    (ana,) = people(make_user, "ana")
    for limit in (0, search.PAGE_MAX + 1):
        with app.app_context(), pytest.raises(Invalid) as caught:
            search.search(as_user(ana), "hello", limit=limit)
        assert set(caught.value.fields) == {"limit"}


def test_a_refused_query_reads_nothing_and_says_why(app: Flask, make_user: MakeUser) -> None:
    (ana,) = people(make_user, "ana")
    assert refused(app, ana, "ab") == {
        "message": search.SHORT,
        "q": 'Make each term 3 characters or longer: "ab".',
    }
    assert refused(app, ana, "has:files")["message"] == search.BAD_FILTER


# What a search never finds


def test_an_edit_is_found_by_its_new_text_never_by_the_old(app: Flask, make_user: MakeUser) -> None:
    ana, bob = people(make_user, "ana", "bob")
    dm = new_direct(app, ana, bob)
    sent = post(app, ana, dm, "meet at the lighthouse")
    edit(app, ana, sent, "meet at the harbour")
    edit(app, ana, sent, "meet at the station")
    assert found(app, bob, "station") == [sent]
    assert found(app, bob, "lighthouse") == []  # the first version, now a revision
    assert found(app, bob, "harbour") == []  # the second
    assert found(app, bob, "meet") == [sent]


def test_a_deleted_message_is_never_found(app: Flask, make_user: MakeUser) -> None:
    ana, bob = people(make_user, "ana", "bob")
    dm = new_direct(app, ana, bob)
    gone = post(app, ana, dm, "secret plans, first draft")
    edit(app, ana, gone, "secret plans, second draft")
    kept = post(app, ana, dm, "secret plans are off")
    delete(app, ana, gone)
    assert found(app, bob, "secret") == [kept]
    assert found(app, bob, "draft") == []
    assert found(app, bob, "from:ana") == [kept]


def test_a_removed_member_finds_nothing_from_that_group_any_more(
    app: Flask, make_user: MakeUser
) -> None:
    ana, bob = people(make_user, "ana", "bob")
    group = new_group(app, ana, [bob])
    other = new_group(app, ana, [bob], title="Other")
    theirs = post(app, bob, group, "bob's own words in the group")
    post(app, ana, group, "ana's words in the group")
    kept = post(app, ana, other, "words elsewhere")
    assert len(found(app, bob, "words")) == 3
    with app.app_context():
        members.remove_member(as_user(ana), group, bob)
    assert found(app, bob, "words") == [kept]
    assert found(app, bob, f"in:{group}") == []
    assert found(app, bob, "from:bob") == []  # not even what bob wrote there
    assert found(app, ana, "bob's own") == [theirs]


def test_someone_who_never_was_a_member_never_sees_it(app: Flask, make_user: MakeUser) -> None:
    ana, bob, cyd = people(make_user, "ana", "bob", "cyd")
    group = new_group(app, ana, [bob])
    post(app, ana, group, "the surprise party is on friday")
    post(app, ana, new_direct(app, ana, bob), "surprise!")
    assert found(app, cyd, "surprise") == []
    assert found(app, cyd, "from:ana") == []
    assert found(app, cyd, f"in:{group}") == []
    assert len(found(app, bob, "surprise")) == 2


# The index


@pytest.fixture
def sqlite_app(app: Flask, database_url: str) -> Flask:
    if not database_url.startswith("sqlite"):
        pytest.skip("FTS5 is SQLite's")
    return app


def test_the_fts5_index_stays_true_to_the_messages(sqlite_app: Flask, make_user: MakeUser) -> None:
    app = sqlite_app
    ana, bob = people(make_user, "ana", "bob")
    dm = new_direct(app, ana, bob)
    kept = post(app, ana, dm, "keep this one")
    edited = post(app, ana, dm, "change this one")
    edit(app, ana, edited, "changed that one")
    delete(app, ana, post(app, ana, dm, "drop this one"))
    with app.app_context():
        # FTS5 reads every message's body again and fails if its index says otherwise.
        check = text("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
        db.session.execute(check)
        db.session.execute(text("DELETE FROM messages WHERE id = :id"), {"id": kept})
        db.session.execute(check)
        db.session.rollback()
    assert found(app, bob, "one") == [edited, kept]


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, not yet migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    postgres: Postgres = request.getfixturevalue("postgres")
    name = f"hubbub_test_search_{WORKER}"
    yield postgres.create(name).render_as_string(hide_password=False)
    postgres.drop(name)


def test_the_migration_indexes_the_messages_already_there(fresh_url: str, tmp_path: Path) -> None:
    app = build_app(fresh_url, tmp_path)
    try:
        with app.app_context():
            flask_migrate.upgrade(revision="0010")
            now = datetime.now(UTC)
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO users (id, username, email, password_hash, is_active,"
                        " created_at) VALUES (1, 'ana', 'ana@example.com', 'x', true, :now)"
                    ),
                    {"now": now},
                )
                conn.execute(
                    text(
                        "INSERT INTO conversations (id, kind, created_at, last_activity_at)"
                        " VALUES (1, 'direct', :now, :now)"
                    ),
                    {"now": now},
                )
                conn.execute(
                    text(
                        "INSERT INTO memberships (conversation_id, user_id, role, joined_at, muted)"
                        " VALUES (1, 1, 'member', :now, false)"
                    ),
                    {"now": now},
                )
                for message_id, body in [(1, "written before search"), (2, None)]:
                    conn.execute(
                        text(
                            "INSERT INTO messages (id, conversation_id, sender_id, body,"
                            " created_at, deleted_at) VALUES (:id, 1, 1, :body, :now, :deleted)"
                        ),
                        {
                            "id": message_id,
                            "body": body,
                            "now": now,
                            "deleted": None if body else now,
                        },
                    )
            flask_migrate.upgrade()
            ana = as_user(1)
            assert [m.id for m, _ in search.search(ana, "before sea")[0]] == [1]
            assert [m.id for m, _ in search.search(ana, "from:ana")[0]] == [1]
            db.session.remove()
    finally:
        dispose(app)
