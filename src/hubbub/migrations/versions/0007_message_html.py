"""Message HTML: each body's rendering, made on send and edit; existing bodies rendered now.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from hubbub.services.render import render

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("html", sa.Text(), nullable=True))
    # Written before mentions existed: rendered without any.
    messages = sa.table(
        "messages",
        sa.column("id", sa.Integer),
        sa.column("body", sa.Text),
        sa.column("html", sa.Text),
    )
    connection = op.get_bind()
    after = 0
    while True:
        rows = connection.execute(
            sa.select(messages.c.id, messages.c.body)
            .where(messages.c.id > after, messages.c.body.is_not(None))
            .order_by(messages.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for message_id, body in rows:
            connection.execute(
                messages.update().where(messages.c.id == message_id).values(html=render(body).html)
            )
        after = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("html")
