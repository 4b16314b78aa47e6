"""Search: an index of message bodies that finds any piece of 3 or more characters.

SQLite: an FTS5 table with the trigram tokenizer over messages.body (external content: it
keeps the index only, the text stays in messages), kept in step by triggers; the words of a
body set to NULL (a deletion) or replaced (an edit) leave the index. PostgreSQL: pg_trgm's GIN
index on messages.body, which serves ILIKE '%piece%'.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "body, content='messages', content_rowid='id', tokenize='trigram')",
    # FTS5's recipe for external content: every row has an entry (a NULL body's has no words,
    # so a tombstone matches nothing), and each trigger hands over the old text to remove, as
    # FTS5 keeps none of its own. Then FTS5's integrity-check can vouch for the index.
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages "
    "BEGIN INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages "
    "BEGIN INSERT INTO messages_fts (messages_fts, rowid, body) "
    "VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN "
    "INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body); "
    "END",
    # Index the messages already there.
    "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER messages_fts_update",
    "DROP TRIGGER messages_fts_delete",
    "DROP TRIGGER messages_fts_insert",
    "DROP TABLE messages_fts",
)
POSTGRESQL_UPGRADE = (
    # A trusted extension since PostgreSQL 13: the owner of the database may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # No model declares it (the schema check skips the search index by name); 0012 replaces it.
    "CREATE INDEX ix_messages_body_trgm ON messages USING gin (body gin_trgm_ops)",
)
# The extension stays: it may have been there before, and other objects may use it.
POSTGRESQL_DOWNGRADE = ("DROP INDEX ix_messages_body_trgm",)


def upgrade() -> None:
    steps = SQLITE_UPGRADE if op.get_context().dialect.name == "sqlite" else POSTGRESQL_UPGRADE
    for statement in steps:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    for statement in SQLITE_DOWNGRADE if sqlite else POSTGRESQL_DOWNGRADE:
        op.execute(statement)
