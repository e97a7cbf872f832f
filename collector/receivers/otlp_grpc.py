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
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status as RpcStatus
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from phosphobs.collector.admission import admitted
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
            token = _bearer(context)
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


def _bearer(context: grpc.aio.ServicerContext) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key.lower() == "authorization":
            scheme, _, token = str(value).strip().partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


class _Traces(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, receiver: _Receiver) -> None:
        self.receiver = receiver

    async def Export(self, request, context):
        return await self.receiver.handle(SIGNALS["traces"], request, context,
                                          trace_service_pb2.ExportTraceServiceResponse,
                                          trace_service_pb2.ExportTracePartialSuccess, "rejected_spans")


class _Logs(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, receiver: _Receiver) -> None:
        self.receiver = receiver

    async def Export(self, request, context):
        return await self.receiver.handle(SIGNALS["logs"], request, context,
                                          logs_service_pb2.ExportLogsServiceResponse,
                                          logs_service_pb2.ExportLogsPartialSuccess, "rejected_log_records")


class _Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, receiver: _Receiver) -> None:
        self.receiver = receiver

    async def Export(self, request, context):
        return await self.receiver.handle(SIGNALS["metrics"], request, context,
                                          metrics_service_pb2.ExportMetricsServiceResponse,
                                          metrics_service_pb2.ExportMetricsPartialSuccess, "rejected_data_points")


class OtlpGrpcServer:
    """Lifecycle: start() binds the port (raising if taken), stop() frees it; start again works."""

    def __init__(self, intake: Intake, resolve: ResolveKey, host: str, port: int,
                 limits: RequestLimits, on_reject: OnReject | None = None) -> None:
        self._receiver = _Receiver(intake, resolve, limits, on_reject)
        self._address = f"{host}:{port}"
        self._max = limits.max_body_bytes
        self._server: grpc.aio.Server | None = None

    async def start(self) -> None:
        if self._server is not None:
            return
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", self._max)])
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_Traces(self._receiver), server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_Logs(self._receiver), server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_Metrics(self._receiver), server)
        if server.add_insecure_port(self._address) == 0:
            raise OSError(f"cannot bind OTLP/gRPC on {self._address}")
        await server.start()
        self._server = server

    async def stop(self, grace: float = 5.0) -> None:
        if self._server is not None:
            await self._server.stop(grace)
            self._server = None
