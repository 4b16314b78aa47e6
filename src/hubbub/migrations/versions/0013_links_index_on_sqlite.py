"""Search on SQLite: the index of linked messages that PostgreSQL has had since 0012.

has:link alone read every message of the caller's conversations (50,000 at 1,000,000 messages
over 1,000 conversations for someone in 50 of them) to keep the newest: this index holds only
the messages whose html has a link, by conversation and id. SQLite uses a partial index only
when the query's condition is the index's word for word, with the pattern written in, not bound
(services/search.py writes it so on both databases).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute(
            "CREATE INDEX ix_messages_with_links ON messages (conversation_id, id) "
            "WHERE html LIKE '%<a %'"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP INDEX ix_messages_with_links")
