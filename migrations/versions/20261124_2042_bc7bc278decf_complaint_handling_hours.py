"""complaint handling hours

Revision ID: bc7bc278decf
Revises: 0c5194283ac4
Create Date: 2026-11-24 20:42:57.510571
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "bc7bc278decf"
down_revision: str | Sequence[str] | None = "0c5194283ac4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


REPORT_COLUMNS = [
    "category", "subcause", "channel", "assignee", "claim_stage", "claim_id", "acknowledged_at",
    "acknowledge_due_at", "replied_at", "reply_due_at", "resolved_at", "closed_at",
    "close_reason", "reply_paused", "extensions", "escalation_level", "reopen_count",
]  # fmt: skip


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of `complaint` on SQLite would drop its FTS triggers.
    op.add_column("complaint", sa.Column("handling_hours", sa.Float(), nullable=True))
    bind = op.get_bind()
    finished = "COALESCE(resolved_at, closed_at)"
    if bind.dialect.name == "postgresql":
        hours = f"EXTRACT(EPOCH FROM ({finished} - received_at)) / 3600.0"
    else:
        hours = f"(julianday({finished}) - julianday(received_at)) * 24.0"
    op.execute(f"UPDATE complaint SET handling_hours = {hours} WHERE {finished} IS NOT NULL")  # noqa: S608
    # The report index carries the new column too (PostgreSQL INCLUDE; SQLite keeps the key).
    op.drop_index("ix_complaint_report", table_name="complaint")
    op.create_index(
        "ix_complaint_report",
        "complaint",
        ["received_at"],
        postgresql_include=[*REPORT_COLUMNS, "handling_hours"],
    )


def downgrade() -> None:
    op.drop_index("ix_complaint_report", table_name="complaint")
    op.create_index(
        "ix_complaint_report", "complaint", ["received_at"], postgresql_include=REPORT_COLUMNS
    )
    op.execute("ALTER TABLE complaint DROP COLUMN handling_hours")
