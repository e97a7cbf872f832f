"""The recording proxy keeps each export exactly as sent, sized or chunked, and answers with the server's reply."""

from __future__ import annotations

import gzip

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.conftest import ApiProject
from tests.interop.tap import OtlpTap


def test_sized_and_chunked_exports_are_recorded_verbatim_and_forwarded(api: ApiProject) -> None:
    body = ExportTraceServiceRequest().SerializeToString()
    zipped = gzip.compress(b"")
    headers = {"authorization": f"Bearer {api.key}", "content-type": "application/x-protobuf"}
    with OtlpTap(api.base_url) as tap:
        sized = httpx.post(f"{tap.url}/v1/traces", content=body, headers=headers)
        chunked = httpx.post(f"{tap.url}/v1/logs", content=iter([zipped[:5], zipped[5:]]),
                             headers={**headers, "content-encoding": "gzip"})
        refused = httpx.post(f"{tap.url}/v1/traces", content=b"\xff\xff", headers=headers)
    assert (sized.status_code, chunked.status_code) == (200, 200)
    assert refused.status_code == 400
    assert [(r.seq, r.signal, r.body, r.content_encoding, r.status) for r in tap.recorded] == [
        (1, "traces", body, None, 200), (2, "logs", zipped, "gzip", 200), (3, "traces", b"\xff\xff", None, 400)]
