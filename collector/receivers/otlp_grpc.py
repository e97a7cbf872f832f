"""OTLP/gRPC receiver on its own port: TraceService, LogsService and MetricsService.

Shares the normalize → submit path with OTLP/HTTP; errors map through the same error table to gRPC
status codes (UNAUTHENTICATED, INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAVAILABLE); a retryable refusal
carries its delay as RetryInfo (`retry_trailers`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import DecodeError
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status as RpcStatus
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from phosphobs.collector.admission import admitted
from phosphobs.collector.credentials import api_key
from phosphobs.collector.errors import UNAUTHENTICATED, ApiError
from phosphobs.collector.principal import Principal
from phosphobs.collector.receivers.otlp_ingest import SIGNALS, RequestLimits, SignalKind, ingest_request
from phosphobs.collector.submit import Intake

ResolveKey = Callable[[str], Awaitable[Principal]]
OnReject = Callable[[int], None]  # told the HTTP-equivalent status of every refused export


class _Receiver:
    def __init__(self, intake: Intake, resolve: ResolveKey, limits: RequestLimits,
                 on_reject: OnReject | None) -> None:
        self.intake = intake
        self.resolve = resolve
        self.limits = limits
        self.on_reject = on_reject

    async def handle(self, kind: SignalKind, request: Any, context: grpc.aio.ServicerContext,
                     response_cls: Any, partial_cls: Any, field_name: str) -> Any:
        try:
            token = api_key(_authorization(context))
            if token is None:
                raise ApiError(UNAUTHENTICATED, "missing API key: send metadata 'authorization: Bearer ph_…'")
            principal = await self.resolve(token)
            async with admitted(self.intake, request.ByteSize()):
                outcome = await ingest_request(self.intake, principal, kind, request, self.limits)
        except ApiError as error:
            if self.on_reject is not None:
                self.on_reject(error.kind.status)
            code = getattr(grpc.StatusCode, error.kind.grpc)
            retry_after = error.headers.get("Retry-After")
            if retry_after:
                context.set_trailing_metadata(retry_trailers(code, error.message, retry_after))
            await context.abort(code, error.message)
        response = response_cls()
        if outcome.rejected:
            response.partial_success.CopyFrom(partial_cls(**{field_name: outcome.rejected,
                                                             "error_message": outcome.message}))
        return response


def retry_trailers(code: grpc.StatusCode, message: str, retry_after: str) -> tuple[tuple[str, str | bytes], ...]:
    """When to retry, said three ways: `retry-after` seconds, a `google.rpc.RetryInfo` in the rich status
    (`grpc-status-details-bin`, what the OTLP spec and the Collector's exporter read), and the same
    RetryInfo alone under `google.rpc.retryinfo-bin` (what the Python OTLP exporter reads)."""
    try:
        seconds = max(0, int(retry_after))
    except ValueError:
        return (("retry-after", retry_after),)
    info = RetryInfo(retry_delay=Duration(seconds=seconds))
    detail = AnyMessage()
    detail.Pack(info)
    status = RpcStatus(code=code.value[0], message=message, details=[detail])
    return (("retry-after", retry_after), ("grpc-status-details-bin", status.SerializeToString()),
            ("google.rpc.retryinfo-bin", info.SerializeToString()))


def _authorization(context: grpc.aio.ServicerContext) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key.lower() == "authorization":
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None


_SERVICES = (  # (service descriptor, signal, request, response, partial success, its rejected-count field)
    (trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"], "traces",
     trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse,
     trace_service_pb2.ExportTracePartialSuccess, "rejected_spans"),
    (logs_service_pb2.DESCRIPTOR.services_by_name["LogsService"], "logs",
     logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse,
     logs_service_pb2.ExportLogsPartialSuccess, "rejected_log_records"),
    (metrics_service_pb2.DESCRIPTOR.services_by_name["MetricsService"], "metrics",
     metrics_service_pb2.ExportMetricsServiceRequest, metrics_service_pb2.ExportMetricsServiceResponse,
     metrics_service_pb2.ExportMetricsPartialSuccess, "rejected_data_points"),
)


def _export_handler(receiver: _Receiver, service: Any, signal: str, request_cls: Any, response_cls: Any,
                    partial_cls: Any, field_name: str) -> grpc.GenericRpcHandler:
    """Export takes the raw bytes and decodes them itself: gRPC's own decoding would answer a payload that
    is not the service's message with INTERNAL (a server fault, retried forever) instead of INVALID_ARGUMENT."""
    kind = SIGNALS[signal]  # type: ignore[index]

    async def export(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
        try:
            request = request_cls.FromString(raw)
        except (DecodeError, RecursionError, ValueError) as exc:
            if receiver.on_reject is not None:
                receiver.on_reject(400)
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"undecodable {service.name} request: {exc}")
        return await receiver.handle(kind, request, context, response_cls, partial_cls, field_name)

    handler = grpc.unary_unary_rpc_method_handler(export, request_deserializer=None,
                                                  response_serializer=response_cls.SerializeToString)
    return grpc.method_handlers_generic_handler(service.full_name, {"Export": handler})


class OtlpGrpcServer:
    """Lifecycle: start() binds the port (raising if taken), stop() frees it; start again works."""

    def __init__(self, intake: Intake, resolve: ResolveKey, host: str, port: int,
                 limits: RequestLimits, on_reject: OnReject | None = None, reuse_port: bool = False) -> None:
        self._receiver = _Receiver(intake, resolve, limits, on_reject)
        self._reuse_port = reuse_port
        self._address = f"{host}:{port}"
        self._max = limits.max_body_bytes
        self._server: grpc.aio.Server | None = None

    async def start(self) -> None:
        if self._server is not None:
            return
        # SO_REUSEPORT off unless our own workers share the port on purpose: otherwise a second server on
        # the same port would silently take half the connections (and write to another database).
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", self._max),
                                          ("grpc.so_reuseport", 1 if self._reuse_port else 0)])
        server.add_generic_rpc_handlers(tuple(_export_handler(self._receiver, *service) for service in _SERVICES))
        if server.add_insecure_port(self._address) == 0:
            raise OSError(f"cannot bind OTLP/gRPC on {self._address}")
        await server.start()
        self._server = server

    async def stop(self, grace: float = 5.0) -> None:
        if self._server is not None:
            await self._server.stop(grace)
            self._server = None
