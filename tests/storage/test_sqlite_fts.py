"""fts_query against a real FTS5 index configured like ours: no character can turn a search into an error."""

from __future__ import annotations

import sqlite3

from phosphobs.storage.sqlite.fts import fts_query, search_words


def test_no_character_between_two_letters_makes_a_query_sqlite_refuses() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5 (a, tokenize='unicode61 remove_diacritics 2', detail=none)")
    conn.execute("INSERT INTO t VALUES ('tool_call café')")
    points = [*range(0x20, 0xD800), *range(0xE000, 0x10000), *range(0x10000, 0x110000, 97)]
    for point in points:
        query = fts_query(f"a{chr(point)}b{chr(point)}")
        assert query is not None
        conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (query,)).fetchone()  # raises on a bad query


def test_words_split_where_the_tokenizer_may_split() -> None:
    assert search_words("tool_call my.module-name/v2 don't") == ["tool", "call", "my", "module", "name", "v2",
                                                               "don", "t"]
    assert search_words("cafe\u0301 日本語") == ["café", "日本語"]  # NFC first: the accent stays in its word
    assert fts_query("___ ... ") is None
