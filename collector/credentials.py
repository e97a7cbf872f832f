"""The API key in an `Authorization` value, for the HTTP and gRPC receivers alike.

Two schemes carry a key. `Bearer ph_…` is ours. HTTP Basic is what Langfuse SDKs and every "Langfuse OTel
exporter" send (`base64(public_key:secret_key)`): the key is the password, the user (Langfuse's public key)
is ignored, so an app switches by changing only its host and secret key. A Basic value with an empty password
carries the key as the user (`curl -u ph_…:`).
"""

from __future__ import annotations

import base64
import binascii

from phosphobs.collector.errors import UNAUTHENTICATED, ApiError

# Every 401 names both schemes (RFC 7235 allows several challenges in one header).
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="phosphobs", Basic realm="phosphobs", charset="UTF-8"'}
MISSING = "missing API key: send 'Authorization: Bearer ph_…' (or HTTP Basic with the key as the password)"


def api_key(authorization: str | None) -> str | None:
    """The key the value carries; None when there is none or the scheme is another one.

    Raises ApiError(UNAUTHENTICATED) for a Basic value that is not base64 of UTF-8 `user:password`: a
    client's broken header is its own 401, never a server error.
    """
    if not authorization:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    credentials = rest.strip()
    if not credentials:
        return None
    scheme = scheme.lower()
    if scheme == "bearer":
        return credentials
    if scheme == "basic":
        return _basic_key(credentials)
    return None


def _basic_key(credentials: str) -> str | None:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise ApiError(UNAUTHENTICATED, "malformed Basic credentials: expected base64 of 'user:key'",
                       headers=CHALLENGE) from exc
    user, colon, password = decoded.partition(":")
    if not colon:
        raise ApiError(UNAUTHENTICATED, "malformed Basic credentials: expected base64 of 'user:key'",
                       headers=CHALLENGE)
    return password or user or None
