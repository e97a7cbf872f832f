"""The gRPC half of a split replay carries each export as protobuf, also one its library sent as OTLP/JSON."""

from __future__ import annotations

import gzip
import json

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.interop.captures import capture_names, load_capture
from tests.interop.replay import protobuf_body


def test_a_json_export_is_carried_as_the_same_spans_in_protobuf() -> None:
    json_requests = [request for name in capture_names() for request in load_capture(name).requests
                     if request.content_type.startswith("application/json") and request.signal == "traces"]
    assert json_requests, "no capture has an OTLP/JSON body (Langfuse's JS exporter sends one)"
    for request in json_requests:
        sent = json.loads(gzip.decompress(request.body) if request.content_encoding == "gzip" else request.body)
        carried = ExportTraceServiceRequest.FromString(protobuf_body(request))
        spans = [(s["traceId"], s["spanId"], s["name"], len(s.get("attributes", [])))
                 for rs in sent["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
        assert spans == [(s.trace_id.hex(), s.span_id.hex(), s.name, len(s.attributes))
                         for rs in carried.resource_spans for ss in rs.scope_spans for s in ss.spans]
