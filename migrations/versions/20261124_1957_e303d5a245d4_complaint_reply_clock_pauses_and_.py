"""complaint reply clock: pauses and restarts

Revision ID: e303d5a245d4
Revises: 90087d35e5a1
Create Date: 2026-11-24 19:57:29.733875
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db

revision: str = "e303d5a245d4"
down_revision: str | Sequence[str] | None = "90087d35e5a1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite ≥ 3.35 has both): a batch rebuild of `complaint` on SQLite
    # would drop the full-text search triggers defined on it.
    op.add_column(
        "complaint",
        sa.Column(
            "pauses",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
    )
    op.add_column(
        "complaint",
        sa.Column("reply_paused", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "complaint",
        sa.Column("restarted_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    for column in ("restarted_at", "reply_paused", "pauses"):
        op.execute(f"ALTER TABLE complaint DROP COLUMN {column}")
