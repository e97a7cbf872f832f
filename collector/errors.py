"""The error table: every failure a client can meet, with its HTTP status and gRPC code.

Permanent errors (400/413/415/422) must not be retried; 429/503 carry Retry-After and are retried by
OTLP exporters; auth errors (401/403/404) say whose data it is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ErrorClass:
    status: int
    code: str
    grpc: str  # grpc.StatusCode member name
    retryable: bool = False


BAD_REQUEST = ErrorClass(400, "bad_request", "INVALID_ARGUMENT")
UNAUTHENTICATED = ErrorClass(401, "unauthenticated", "UNAUTHENTICATED")
FORBIDDEN = ErrorClass(403, "forbidden", "PERMISSION_DENIED")
NOT_FOUND = ErrorClass(404, "not_found", "NOT_FOUND")
TOO_LARGE = ErrorClass(413, "payload_too_large", "INVALID_ARGUMENT")
UNSUPPORTED_MEDIA = ErrorClass(415, "unsupported_media_type", "INVALID_ARGUMENT")
INVALID = ErrorClass(422, "validation_error", "INVALID_ARGUMENT")
RATE_LIMITED = ErrorClass(429, "rate_limited", "RESOURCE_EXHAUSTED", retryable=True)
OVERLOADED = ErrorClass(503, "overloaded", "UNAVAILABLE", retryable=True)
STORAGE_FAILED = ErrorClass(503, "storage_unavailable", "UNAVAILABLE", retryable=True)


@dataclass(slots=True)
class ApiError(Exception):
    """Raised anywhere in request handling; rendered as JSON `{"error": {...}}` by the app."""

    kind: ErrorClass
    message: str
    details: list[dict[str, Any]] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.kind.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}

    def __str__(self) -> str:
        return f"{self.kind.status} {self.kind.code}: {self.message}"
