"""Turning user search text into an FTS5 query that can never be an error on our index.

The index (unicode61, remove_diacritics 2, detail=none) keeps no positions, so a phrase (a quoted term
the tokenizer splits into two tokens) is refused with an error: every term must be exactly one token.
"""

from __future__ import annotations

import unicodedata

# Characters unicode61 (SQLite's own Unicode tables) splits on, although today's Unicode calls them letters.
_SQLITE_SEPARATOR_LETTERS = frozenset(chr(c) for c in (*range(0x19B0, 0x19C1), 0x19C8, 0x19C9, 0x1CF2, 0x1CF3))


def _is_token_char(ch: str) -> bool:
    if ch.isascii():
        return ch.isalnum()
    return unicodedata.category(ch)[0] in "LN" and ch not in _SQLITE_SEPARATOR_LETTERS


def search_words(text: str) -> list[str]:
    """Split like the unicode61 tokenizer, erring towards splitting: each word is then exactly one token.

    A quoted term that the tokenizer splits in two is a phrase query, which an index without positions
    refuses with an error, so anything not surely part of a token (`_`, punctuation, marks) separates words.
    """
    words, current = [], []
    for ch in unicodedata.normalize("NFC", text):
        if _is_token_char(ch):
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def fts_query(text: str) -> str | None:
    """User text → an FTS5 query that cannot be a syntax error: every word a quoted term, all required.

    The index keeps no positions (detail=none: a fraction of the size and write cost), so words are
    matched individually, in any order, the way the tokenizer splits them.
    """
    words = search_words(text)
    if not words:
        return None
    return " AND ".join('"' + w + '"' for w in words[:32])
