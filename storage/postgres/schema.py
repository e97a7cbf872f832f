"""Postgres' spelling of the schema steps (`storage/sql/schema.py`)."""

from __future__ import annotations

from phosphobs.storage.sql.schema import SchemaWords, render

WORDS: SchemaWords = {
    "big": "BIGINT",
    "small": "SMALLINT",
    "real": "DOUBLE PRECISION",
    # the "C" collation: orderings and keyset cursors byte-wise, as in SQLite, whatever the database's default
    "ctext": 'TEXT COLLATE "C"',
    "json": "JSON",
    "text_list": 'TEXT[] COLLATE "C"',
    "empty_list": "'{}'",
    "identity": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    "without_rowid": "",
    "api_keys_indexes": "CREATE INDEX api_keys_by_prefix ON api_keys (prefix);",
    # the stored words of input and output (`PostgresDialect.reindex`); a text search walks events_by_seq
    # newest-stored first before it asks the GIN index
    "search_column": "search TSVECTOR NOT NULL,",
    "search_indexes": """CREATE INDEX events_search ON events USING GIN (search);
CREATE INDEX events_by_seq ON events (project_id, seq DESC);""",
    "search_table": "",
    "event_tags_indexes": "CREATE INDEX event_tags_by_seq ON event_tags (seq);",
    # Rollups carry a shard (the writing backend's pid modulo 16, `PostgresDialect.shard`) in their key:
    # workers adding to the same hour and model then update different rows instead of queueing on one row
    # lock until commit. Readers sum over shards.
    "shard_column": "shard SMALLINT NOT NULL DEFAULT 0,",
    "shard_key": ", shard",
    "events_by_session": "project_id, session_id, ts_us, seq",
    "events_by_model": "project_id, model, ts_us DESC, seq DESC",
}

MIGRATIONS: list[tuple[str, str]] = render(WORDS)
