"""Member spans by conversation: who sees an event, asked once per process for the newest ones.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_member_spans_conversation_id_first_event_id",
        "member_spans",
        ["conversation_id", "first_event_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_member_spans_conversation_id_first_event_id", table_name="member_spans")
