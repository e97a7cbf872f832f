"""SQLite's spelling of the schema steps (`storage/sql/schema.py`)."""

from __future__ import annotations

from phosphobs.storage.sql.schema import SchemaWords, render

WORDS: SchemaWords = {
    "big": "INTEGER",
    "small": "INTEGER",
    "real": "REAL",
    "ctext": "TEXT",  # SQLite compares text byte-wise anyway
    "json": "TEXT",
    "text_list": "TEXT",  # a JSON array
    "empty_list": "'[]'",
    "identity": "INTEGER PRIMARY KEY",  # the rowid
    "without_rowid": " WITHOUT ROWID",
    "api_keys_indexes": "",
    "search_column": "",
    "search_indexes": "",
    # detail=none: no positions, a fraction of the size and write cost (see `SqliteDialect.text_query`)
    "search_table": """CREATE VIRTUAL TABLE events_fts USING fts5 (
    input, output, content='events', content_rowid='seq', tokenize='unicode61 remove_diacritics 2',
    detail='none', columnsize=0
);""",
    "event_tags_indexes": "",
    "shard_column": "",
    "shard_key": "",
    "events_by_session": "project_id, session_id, ts_us",
    "events_by_model": "project_id, model, ts_us",
}

MIGRATIONS: list[tuple[str, str]] = render(WORDS)
