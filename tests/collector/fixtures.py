"""The recorded OTLP payloads in /work/shared/fixtures/otlp, and every wire form we re-send them in."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.collector.otlp_json import to_otlp_json

FIXTURES_DIR = (Path(__file__).parents[2] / "../shared/fixtures/otlp").resolve()
_MESSAGES: dict[str, type[Message]] = {
    "traces": ExportTraceServiceRequest,
    "logs": ExportLogsServiceRequest,
    "metrics": ExportMetricsServiceRequest,
}
WIRE_FORMS = ["recorded", "json", "json-gzip", "json-snake-case"]


@dataclass(frozen=True)
class Payload:
    """One recorded request: the raw protobuf body (uncompressed) and the headers it came with."""

    signal: str
    raw: bytes
    content_type: str
    content_encoding: str | None

    def message(self) -> Message:
        parsed = _MESSAGES[self.signal]()
        parsed.ParseFromString(self.raw)
        return parsed

    def wire(self, form: str) -> tuple[bytes, str, str | None]:
        """(body, Content-Type, Content-Encoding) as a client would send it in `form`."""
        if form == "recorded":
            body = gzip.compress(self.raw) if self.content_encoding == "gzip" else self.raw
            return body, self.content_type, self.content_encoding
        document = to_otlp_json(self.message(), snake_case=form == "json-snake-case")
        if form == "json-gzip":
            return gzip.compress(document), "application/json", "gzip"
        return document, "application/json", None


@dataclass(frozen=True)
class Fixture:
    name: str
    expected: dict[str, Any]
    payloads: list[Payload]


def fixture_names() -> list[str]:
    return sorted(p.name for p in FIXTURES_DIR.iterdir() if (p / "expected.json").is_file())


def load_fixture(name: str) -> Fixture:
    folder = FIXTURES_DIR / name
    payloads = []
    for pb in sorted(folder.glob("*.pb")):
        meta = json.loads(pb.with_suffix(".meta.json").read_text())
        payloads.append(Payload(meta["signal"], pb.read_bytes(), meta["content_type"], meta.get("content_encoding")))
    return Fixture(name, json.loads((folder / "expected.json").read_text()), payloads)
