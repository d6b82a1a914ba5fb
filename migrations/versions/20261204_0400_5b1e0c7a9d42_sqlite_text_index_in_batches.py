"""SQLite: complaints enter the trigram text index in batches (a pending queue)

Revision ID: 5b1e0c7a9d42
Revises: 0e202df13ad9
Create Date: 2026-12-04 04:00:00

Until now a trigger indexed each new complaint's text into the FTS5 table inside the intake's
own transaction: each commit wrote a new FTS segment, and merging those small segments was
about a third of an intake's database time. Now the insert trigger only queues the complaint's
id in `complaint_fts_pending`; the service indexes the queue in batches
(`complaints.service.index_pending_text`), and a text search reads the queued complaints
directly, so a complaint is found from the moment it is stored. The delete and update triggers
take an id out of whichever of the two places holds it. PostgreSQL is unchanged (pg_trgm).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5b1e0c7a9d42"
down_revision: str | Sequence[str] | None = "0e202df13ad9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = {
    "complaint_fts_ai": "AFTER INSERT ON complaint BEGIN "
    "INSERT INTO complaint_fts_pending (id) VALUES (new.id); END",
    "complaint_fts_ad": "AFTER DELETE ON complaint BEGIN "
    "INSERT INTO complaint_fts (complaint_fts, rowid, text) "
    "SELECT 'delete', old.id, old.text "
    "WHERE NOT EXISTS (SELECT 1 FROM complaint_fts_pending WHERE id = old.id); "
    "DELETE FROM complaint_fts_pending WHERE id = old.id; END",
    # A changed text leaves the index and is queued to enter it again.
    "complaint_fts_au": "AFTER UPDATE OF text ON complaint BEGIN "
    "INSERT INTO complaint_fts (complaint_fts, rowid, text) "
    "SELECT 'delete', old.id, old.text "
    "WHERE NOT EXISTS (SELECT 1 FROM complaint_fts_pending WHERE id = old.id); "
    "INSERT OR IGNORE INTO complaint_fts_pending (id) VALUES (new.id); END",
}
# As revision 3e483f7457c9 made them.
PREVIOUS = {
    "complaint_fts_ai": "AFTER INSERT ON complaint BEGIN "
    "INSERT INTO complaint_fts(rowid, text) VALUES (new.id, new.text); END",
    "complaint_fts_ad": "AFTER DELETE ON complaint BEGIN "
    "INSERT INTO complaint_fts(complaint_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "complaint_fts_au": "AFTER UPDATE OF text ON complaint BEGIN "
    "INSERT INTO complaint_fts(complaint_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO complaint_fts(rowid, text) VALUES (new.id, new.text); END",
}


def _replace_triggers(triggers: dict[str, str]) -> None:
    for name, body in triggers.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"CREATE TRIGGER {name} {body}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # Not modelled (migrations/env.py): a queue of ids, read and written only by raw SQL.
    op.execute("CREATE TABLE complaint_fts_pending (id INTEGER PRIMARY KEY)")
    _replace_triggers(TRIGGERS)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "INSERT INTO complaint_fts (rowid, text) SELECT c.id, c.text FROM complaint c "
        "JOIN complaint_fts_pending p ON p.id = c.id"
    )
    _replace_triggers(PREVIOUS)
    op.execute("DROP TABLE complaint_fts_pending")
