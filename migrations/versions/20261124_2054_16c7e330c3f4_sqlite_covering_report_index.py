"""sqlite covering report index

Revision ID: 16c7e330c3f4
Revises: bc7bc278decf
Create Date: 2026-11-24 20:54:02.118269
"""

from collections.abc import Sequence

from alembic import op

revision: str = "16c7e330c3f4"
down_revision: str | Sequence[str] | None = "bc7bc278decf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# SQLite has no INCLUDE: the report index's columns go into the key so a period's reports read
# the index alone. (PostgreSQL has ix_complaint_report with INCLUDE; json cannot be a key there.)
COLUMNS = (
    "received_at, category, subcause, channel, assignee, claim_stage, claim_id, acknowledged_at, "
    "acknowledge_due_at, replied_at, reply_due_at, resolved_at, closed_at, close_reason, "
    "reply_paused, extensions, escalation_level, reopen_count, handling_hours"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE INDEX ix_complaint_report_covering ON complaint ({COLUMNS})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX ix_complaint_report_covering")
