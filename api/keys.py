"""API key material: `ph_` + 32 random bytes, shown once, stored as a SHA-256 hash.

The keys are high-entropy, so a fast hash is enough (no password stretching needed) and lets us look
a key up by its hash through an index.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "ph_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def display_prefix(key: str) -> str:
    """What listings show so people can tell keys apart: `ph_` and the first 8 random characters."""
    return key[: len(KEY_PREFIX) + 8]


def looks_like_key(key: str) -> bool:
    return key.startswith(KEY_PREFIX) and 20 <= len(key) <= 200
