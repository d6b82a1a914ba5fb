"""Complaint list indexes: a cause over a period, the open complaints

Revision ID: 14964f9a74d5
Revises: 5b1e0c7a9d42
Create Date: 2026-12-04 19:00:13

A list of one cause (or category) over a period walked the cause's index newest first and read
each complaint's row to test its received_at: with a month of a year, twelve row reads per row
of the page. The cause indexes now carry received_at, so only the page's rows are read (0.65 →
0.21 ms per page over a million complaints on SQLite). They replace the (cause, id) indexes,
which are their prefixes.

The overdue filter reads only open complaints: a partial index of those (most complaints are
closed) lets it walk them newest first instead of every complaint.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "14964f9a74d5"
down_revision: str | Sequence[str] | None = "5b1e0c7a9d42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("closed_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_complaint_subcause_id_received", "complaint", ["subcause", "id", "received_at"]
    )
    op.create_index(
        "ix_complaint_category_id_received", "complaint", ["category", "id", "received_at"]
    )
    op.drop_index("ix_complaint_subcause_id", table_name="complaint")
    op.drop_index("ix_complaint_category_id", table_name="complaint")
    op.create_index(
        "ix_complaint_open_id", "complaint", ["id"], sqlite_where=OPEN, postgresql_where=OPEN
    )


def downgrade() -> None:
    op.drop_index("ix_complaint_open_id", table_name="complaint")
    op.create_index("ix_complaint_category_id", "complaint", ["category", "id"])
    op.create_index("ix_complaint_subcause_id", "complaint", ["subcause", "id"])
    op.drop_index("ix_complaint_category_id_received", table_name="complaint")
    op.drop_index("ix_complaint_subcause_id_received", table_name="complaint")
