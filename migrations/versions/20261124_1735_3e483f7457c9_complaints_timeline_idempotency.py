"""complaints, timeline, idempotency, reference counter

Revision ID: 3e483f7457c9
Revises: 24c3d1779ab5
Create Date: 2026-11-24 17:35:59.935264
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "3e483f7457c9"
down_revision: str | Sequence[str] | None = "24c3d1779ab5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope_key", sa.String(length=400), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_record")),
        sa.UniqueConstraint("scope_key", name=op.f("uq_idempotency_record_scope_key")),
    )
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.create_index("ix_idempotency_record_expires_at", ["expires_at"], unique=False)

    op.create_table(
        "reference_counter",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_reference_counter")),
    )
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("complainant_name", sa.String(length=100), nullable=False),
        sa.Column("complainant_phone", sa.String(length=30), nullable=False),
        sa.Column("complainant_id_number", sa.String(length=30), nullable=True),
        sa.Column("claim_no", sa.String(length=40), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("claim_stage", sa.String(length=24), nullable=True),
        sa.Column("policy_no", sa.String(length=40), nullable=True),
        sa.Column("plate_no", sa.String(length=20), nullable=True),
        sa.Column("disputed_amount", app.core.db.Money(precision=14, scale=2), nullable=True),
        sa.Column("external_ref", sa.String(length=100), nullable=True),
        sa.Column("received_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("subcause", sa.String(length=60), nullable=False),
        sa.Column("classification", sa.JSON(), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("priority_reasons", sa.JSON(), nullable=False),
        sa.Column("route_to_supervisor", sa.Boolean(), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("escalation_level", sa.String(length=20), nullable=True),
        sa.Column("acknowledged_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("replied_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=20), nullable=True),
        sa.Column("extensions", sa.JSON(), nullable=False),
        sa.Column("acknowledge_due_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reply_due_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
            name=op.f("fk_complaint_claim_id_claim"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
        sa.UniqueConstraint("reference", name=op.f("uq_complaint_reference")),
    )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index("ix_complaint_assignee_id", ["assignee", "id"], unique=False)
        batch_op.create_index("ix_complaint_category_id", ["category", "id"], unique=False)
        batch_op.create_index("ix_complaint_channel_id", ["channel", "id"], unique=False)
        batch_op.create_index("ix_complaint_claim_no", ["claim_no"], unique=False)
        batch_op.create_index("ix_complaint_priority_id", ["priority", "id"], unique=False)
        batch_op.create_index("ix_complaint_received_at_id", ["received_at", "id"], unique=False)
        batch_op.create_index("ix_complaint_reply_due_at", ["reply_due_at"], unique=False)
        batch_op.create_index("ix_complaint_status_id", ["status", "id"], unique=False)
        batch_op.create_index("ix_complaint_subcause_id", ["subcause", "id"], unique=False)

    op.create_table(
        "complaint_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=True),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("occurred_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_complaint_event_complaint_id_complaint"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_event")),
        sa.UniqueConstraint(
            "complaint_id", "seq", name=op.f("uq_complaint_event_complaint_id_seq")
        ),
    )
    _search_and_counter_up()


def downgrade() -> None:
    _search_and_counter_down()
    op.drop_table("complaint_event")
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_subcause_id")
        batch_op.drop_index("ix_complaint_status_id")
        batch_op.drop_index("ix_complaint_reply_due_at")
        batch_op.drop_index("ix_complaint_received_at_id")
        batch_op.drop_index("ix_complaint_priority_id")
        batch_op.drop_index("ix_complaint_claim_no")
        batch_op.drop_index("ix_complaint_channel_id")
        batch_op.drop_index("ix_complaint_category_id")
        batch_op.drop_index("ix_complaint_assignee_id")

    op.drop_table("complaint")
    op.drop_table("reference_counter")
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_record_expires_at")

    op.drop_table("idempotency_record")


# Not modelled in SQLAlchemy (migrations/env.py keeps them out of `alembic check`):
# the reference sequence and the trigram text index on PostgreSQL; an FTS5 trigram index
# kept by triggers on SQLite (whose references come from the reference_counter table).
SQLITE_FTS_TRIGGERS = {
    "complaint_fts_ai": "AFTER INSERT ON complaint BEGIN "
    "INSERT INTO complaint_fts(rowid, text) VALUES (new.id, new.text); END",
    "complaint_fts_ad": "AFTER DELETE ON complaint BEGIN "
    "INSERT INTO complaint_fts(complaint_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "complaint_fts_au": "AFTER UPDATE OF text ON complaint BEGIN "
    "INSERT INTO complaint_fts(complaint_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO complaint_fts(rowid, text) VALUES (new.id, new.text); END",
}


def _search_and_counter_up() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE complaint_reference_seq")
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_complaint_text_trgm ON complaint USING gin (text gin_trgm_ops)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE complaint_fts USING fts5("
            "text, content='complaint', content_rowid='id', tokenize='trigram')"
        )
        for name, body in SQLITE_FTS_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def _search_and_counter_down() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_complaint_text_trgm")
        op.execute("DROP SEQUENCE IF EXISTS complaint_reference_seq")
    else:
        for name in SQLITE_FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS complaint_fts")
