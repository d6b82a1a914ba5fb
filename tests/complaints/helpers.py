"""Helpers of the complaint tests."""

from __future__ import annotations

import sqlite3


def indexed_ids(conn: sqlite3.Connection) -> list[int]:
    """The rowids the FTS5 index holds terms of. (`SELECT rowid FROM complaint_fts` would read
    the external content table, the complaint table itself, indexed or not.)"""
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.complaint_terms "
        "USING fts5vocab(main, complaint_fts, instance)"
    )
    return [r[0] for r in conn.execute("SELECT DISTINCT doc FROM temp.complaint_terms ORDER BY 1")]
