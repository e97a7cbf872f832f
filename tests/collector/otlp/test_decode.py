"""Decoding OTLP/HTTP bodies: both encodings, compression, size caps, typed errors, responses."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from phosphobs.collector.otlp.decode import (
    PayloadTooLarge,
    UndecodablePayload,
    UnsupportedMediaType,
    count_log_records,
    count_spans,
    decode_logs,
    decode_traces,
    encode_response,
)
from phosphobs.collector.otlp.normalize import normalize_traces

from tests.collector.otlp_factories import logs_request, make_log, make_span, traces_request
from tests.collector.otlp_json import to_otlp_json

CAP = 1024 * 1024
PB = "application/x-protobuf"


def sample_request() -> ExportTraceServiceRequest:
    root = make_span("invoke_agent", {"session.id": "s-1"}, kind=Span.SPAN_KIND_INTERNAL)
    child = make_span("chat gpt-4o", {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 12}, parent=root)
    return traces_request([child, root])


def test_protobuf_body_decodes_with_identity_gzip_and_deflate() -> None:
    request = sample_request()
    raw = request.SerializeToString()
    for body, encoding in [
        (raw, None),
        (raw, "identity"),
        (gzip.compress(raw), "gzip"),
        (zlib.compress(raw), "deflate"),
    ]:
        assert decode_traces(body, PB, encoding, CAP) == request


def test_raw_deflate_without_zlib_header_is_accepted() -> None:
    request = sample_request()
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    body = packer.compress(request.SerializeToString()) + packer.flush()
    assert decode_traces(body, PB, "deflate", CAP) == request


def test_concatenated_gzip_members_are_all_read() -> None:
    raw = sample_request().SerializeToString()
    half = len(raw) // 2
    body = gzip.compress(raw[:half]) + gzip.compress(raw[half:])
    assert count_spans(decode_traces(body, PB, "gzip", CAP)) == 2


def test_otlp_json_hex_ids_decode_to_the_same_bytes_as_protobuf() -> None:
    request = sample_request()
    for snake in (False, True):
        decoded = decode_traces(to_otlp_json(request, snake_case=snake), "application/json", None, CAP)
        assert decoded == request
        assert len(decoded.resource_spans[0].scope_spans[0].spans[0].trace_id) == 16


def test_otlp_json_accepts_numbers_strings_enum_names_and_unknown_fields() -> None:
    trace_id, span_id = "5B8EFFF798038103D269B633813FC60C", "EEE19B7EC3C1B174"
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "lib"},
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": span_id,
                                "parentSpanId": "",
                                "name": "chat m",
                                "kind": "SPAN_KIND_CLIENT",
                                "startTimeUnixNano": "1544712660000000000",
                                "endTimeUnixNano": 1544712661000000000,
                                "attributes": [
                                    {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "11"}},
                                    {"key": "gen_ai.usage.output_tokens", "value": {"intValue": 5}},
                                    {"key": "nothing", "value": {}},
                                ],
                                "status": {"code": 2},
                                "someFutureField": {"x": 1},
                            }
                        ],
                    }
                ],
            }
        ]
    }
    decoded = decode_traces(json.dumps(document).encode(), "application/json; charset=utf-8", None, CAP)
    span = decoded.resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id.hex() == trace_id.lower() and span.span_id.hex() == span_id.lower()
    assert span.kind == Span.SPAN_KIND_CLIENT and span.status.code == 2
    assert span.end_time_unix_nano - span.start_time_unix_nano == 1_000_000_000
    event = normalize_traces(decoded, 0).events[0]
    assert (event.tokens_in, event.tokens_out) == (11, 5)
    assert "nothing" in event.metadata["attributes"] and event.metadata["attributes"]["nothing"] is None


def test_log_record_json_ids_are_hex_too() -> None:
    span = make_span("chat m", {"gen_ai.operation.name": "chat"})
    request = logs_request([make_log(span, "gen_ai.user.message", {"content": "hi"}, observed_ns=5)])
    assert decode_logs(to_otlp_json(request), "application/json", "identity", CAP) == request
    assert count_log_records(request) == 1


def test_empty_bodies_are_empty_requests() -> None:
    assert count_spans(decode_traces(b"", PB, None, CAP)) == 0
    assert count_spans(decode_traces(b"", "application/json", None, CAP)) == 0
    assert count_spans(decode_traces(b"{}", "application/json", None, CAP)) == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "", "multipart/form-data"])
def test_unsupported_content_type_is_415(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        decode_traces(b"{}", content_type, None, CAP)
    assert caught.value.status == 415
    assert "Content-Type" in str(caught.value)


def test_unsupported_content_encoding_is_415() -> None:
    with pytest.raises(UnsupportedMediaType, match="Content-Encoding 'br'"):
        decode_traces(b"x", PB, "br", CAP)


@pytest.mark.parametrize(
    ("body", "content_type", "encoding"),
    [
        (b"\xff\xff\xff\xff\xff", PB, None),
        (b"not json", "application/json", None),
        (b"[1, 2]", "application/json", None),
        (b'{"resourceSpans": "nope"}', "application/json", None),
        (b"\xc3\x28", "application/json", None),
        (b"definitely not gzip", PB, "gzip"),
        (gzip.compress(b"x" * 1000)[:-12], PB, "gzip"),
    ],
    ids=[
        "garbage-protobuf",
        "garbage-json",
        "json-array",
        "json-wrong-shape",
        "bad-utf8",
        "not-gzip",
        "truncated-gzip",
    ],
)
def test_undecodable_bodies_are_400(body: bytes, content_type: str, encoding: str | None) -> None:
    with pytest.raises(UndecodablePayload) as caught:
        decode_traces(body, content_type, encoding, CAP)
    assert caught.value.status == 400 and str(caught.value)


def test_gzip_bomb_stops_at_the_cap_with_413() -> None:
    bomb = gzip.compress(b"\0" * (64 * CAP))  # 64 MiB of zeros in ~64 KiB
    assert len(bomb) < CAP
    with pytest.raises(PayloadTooLarge) as caught:
        decode_traces(bomb, PB, "gzip", CAP)
    assert caught.value.status == 413 and str(CAP) in str(caught.value)


def test_uncompressed_body_over_the_cap_is_413_and_at_the_cap_is_fine() -> None:
    raw = sample_request().SerializeToString()
    assert count_spans(decode_traces(raw, PB, None, len(raw))) == 2
    assert count_spans(decode_traces(gzip.compress(raw), PB, "gzip", len(raw))) == 2
    with pytest.raises(PayloadTooLarge):
        decode_traces(raw, PB, None, len(raw) - 1)
    with pytest.raises(PayloadTooLarge):
        decode_traces(gzip.compress(raw), PB, "gzip", len(raw) - 1)


def test_bad_hex_id_in_json_rejects_only_that_span() -> None:
    request = sample_request()
    document = json.loads(to_otlp_json(request))
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] = "not-hex"
    batch = normalize_traces(decode_traces(json.dumps(document).encode(), "application/json", None, CAP), 0)
    assert batch.rejected == 1 and "trace_id" in batch.rejection_reasons[0]


def test_full_success_response_leaves_partial_success_unset() -> None:
    assert encode_response("traces", 0, "", "application/json") == b"{}"
    assert encode_response("traces", 0, "", PB) == b""


def test_partial_success_response_uses_the_request_encoding() -> None:
    as_json = json.loads(encode_response("traces", 3, "3 spans had bad ids", "application/json"))
    assert as_json == {"partialSuccess": {"rejectedSpans": "3", "errorMessage": "3 spans had bad ids"}}
    parsed = ExportTraceServiceResponse.FromString(encode_response("traces", 3, "bad", PB))
    assert (parsed.partial_success.rejected_spans, parsed.partial_success.error_message) == (3, "bad")
    logs = ExportLogsServiceResponse.FromString(encode_response("logs", 2, "x", PB))
    assert logs.partial_success.rejected_log_records == 2
    metrics = json.loads(encode_response("metrics", 0, "warning only", "application/json"))
    assert metrics == {"partialSuccess": {"errorMessage": "warning only"}}


def test_absurdly_nested_json_is_400_not_a_crash() -> None:
    body = b'{"resourceSpans":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(UndecodablePayload):
        decode_traces(body, "application/json", None, CAP)
