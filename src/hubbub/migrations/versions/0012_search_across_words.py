"""Search on PostgreSQL: trigrams that run across spaces, and an index of linked messages.

pg_trgm cuts text into words at every character that is not a letter or a digit, so a piece
such as "e on l" gave it only the trigrams of short words ("  o", " on", "  l"), which tens of
thousands of messages hold: at 1,000,000 messages each such search rechecked 60,000 to 130,000
rows. The new trigram index is on hubbub_search_text(body), the body with its whitespace turned
into the letter z ("e on l" becomes "ezonzl"), so that its trigrams hold what is on both sides of
a space ("ezo", "onz", "nzl"), while punctuation still ends pg_trgm's words ("g/righ" asks for a
word that starts with "righ" after a mark). Search asks it for the piece turned the same way
and then checks the body itself, so the index only narrows, and a z in a body costs only a
recheck. The index column keeps 1,000 statistics values (100 by default), so that the planner
can tell a piece held by 0.1 % of the messages from one held by 1 %.

The second index holds the messages with a link, by conversation and id, for has:link beside a
piece: the trigram index's matches are narrowed to them before any is read.

SQLite is unchanged: FTS5's trigram tokenizer keeps spaces and punctuation already.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Tab, line feed, carriage return and space.
WHITESPACE = "\t\n\r "
MARK = "z"


def _search_text() -> str:
    """replace(...replace($1, chr(9), 'z')..., chr(32), 'z'), which the planner inlines and
    folds; four replace() cost about 0.5 microseconds for a chat message."""
    expression = "$1"
    for character in WHITESPACE:
        expression = f"replace({expression}, chr({ord(character)}), '{MARK}')"
    return expression


POSTGRESQL_UPGRADE = (
    "CREATE FUNCTION hubbub_search_text(text) RETURNS text LANGUAGE sql IMMUTABLE "
    f"PARALLEL SAFE AS $$ SELECT {_search_text()} $$",
    "CREATE INDEX ix_messages_search_trgm ON messages "
    "USING gin (hubbub_search_text(body) gin_trgm_ops)",
    "ALTER INDEX ix_messages_search_trgm ALTER COLUMN 1 SET STATISTICS 1000",
    "DROP INDEX ix_messages_body_trgm",
    # Its condition is word for word the one search asks, so that the planner may use it.
    "CREATE INDEX ix_messages_with_links ON messages (conversation_id, id) WHERE html LIKE '%<a %'",
    # The index's statistics, which the planner needs from the first search on.
    "ANALYZE messages",
)
POSTGRESQL_DOWNGRADE = (
    "DROP INDEX ix_messages_with_links",
    "CREATE INDEX ix_messages_body_trgm ON messages USING gin (body gin_trgm_ops)",
    "DROP INDEX ix_messages_search_trgm",
    "DROP FUNCTION hubbub_search_text(text)",
)


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for statement in POSTGRESQL_UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWNGRADE:
            op.execute(statement)
