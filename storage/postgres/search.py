"""Full-text search on Postgres with the same semantics as SQLite's FTS5 (unicode61, no positions).

Both sides are tokenised here, in Python, the way unicode61 does it: runs of letters and digits,
diacritics removed, case folded. The stored `tsvector` holds each distinct word once without
positions (like `detail=none`); a query requires every word, in any order.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")
MAX_WORD_CHARS = 2000  # Postgres drops longer lexemes anyway
MAX_WORDS = 20_000  # keeps a huge input's tsvector far below Postgres' 1 MB limit


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    return _WORD.findall(_fold(text))


def document(input_text: str, output_text: str) -> str:
    """The text handed to `to_tsvector('simple', …)`: distinct words, space separated."""
    seen = dict.fromkeys(w for w in words(input_text) + words(output_text) if len(w) <= MAX_WORD_CHARS)
    return " ".join(list(seen)[:MAX_WORDS])


def tsquery(text: str) -> str | None:
    """User text → a tsquery that cannot be a syntax error (every word a quoted lexeme, all required)."""
    found = [w for w in words(text) if len(w) <= MAX_WORD_CHARS][:32]
    if not found:
        return None
    return " & ".join("'" + w + "'" for w in found)
