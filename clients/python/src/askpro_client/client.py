"""`connect()`: a channel with the AskPro conventions built in, and the four service stubs.

One interceptor does, for every unary call: the API key as `authorization: Bearer`, a default
deadline, a uuid `request_id` for requests that have that field and left it empty (so a retry is
idempotent), retries with exponential backoff and jitter on UNAVAILABLE only (ALREADY_EXISTS and
every other code are answers, not transient failures), and errors decoded into AskProError.
Streams (WatchAppointments) get the key only: they are long-lived and not retried.
"""

from __future__ import annotations

import collections
import random
import time
import uuid
from typing import Any, Callable, Optional, Sequence, Tuple

import grpc

from ._gen.askpro.appointment.v1 import appointment_service_pb2_grpc
from ._gen.askpro.availability.v1 import availability_service_pb2_grpc
from ._gen.askpro.tenant.v1 import tenant_service_pb2_grpc
from ._gen.askpro.integration.v1 import integration_service_pb2_grpc
from ._gen.askpro.webhook.v1 import webhook_service_pb2_grpc
from .errors import from_rpc_error


class _CallDetails(
    collections.namedtuple(
        "_CallDetails",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,
):
    pass


def _with_request_id(request: Any) -> Any:
    fields = getattr(getattr(request, "DESCRIPTOR", None), "fields_by_name", {})
    if "request_id" in fields and not request.request_id:
        copy = type(request)()
        copy.CopyFrom(request)
        copy.request_id = str(uuid.uuid4())
        return copy
    return request


class _AskProInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    def __init__(
        self,
        api_key: str,
        timeout: float,
        max_attempts: int,
        initial_backoff: float,
        max_backoff: float,
        tenant_id: Optional[str],
    ) -> None:
        self._metadata: Tuple[Tuple[str, str], ...] = (("authorization", f"Bearer {api_key}"),)
        if tenant_id:
            self._metadata += (("x-askpro-tenant-id", tenant_id),)
        self._timeout = timeout
        self._max_attempts = max(1, max_attempts)
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff

    def _details(self, details: grpc.ClientCallDetails, timeout: Optional[float]) -> _CallDetails:
        return _CallDetails(
            details.method,
            timeout,
            tuple(details.metadata or ()) + self._metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        request = _with_request_id(request)
        timeout = client_call_details.timeout
        deadline = time.monotonic() + (timeout if timeout is not None else self._timeout)
        backoff = self._initial_backoff
        attempt = 1
        while True:
            remaining = max(deadline - time.monotonic(), 0.001)
            outcome = continuation(self._details(client_call_details, remaining), request)
            if not isinstance(outcome, grpc.RpcError):
                return outcome
            code = outcome.code()
            sleep = random.uniform(0, backoff)  # full jitter
            if (
                code == grpc.StatusCode.UNAVAILABLE
                and attempt < self._max_attempts
                and time.monotonic() + sleep < deadline
            ):
                time.sleep(sleep)
                backoff = min(backoff * 2, self._max_backoff)
                attempt += 1
                continue
            # Raised here, the exception reaches the caller of `stub.Method(request)` as is.
            raise from_rpc_error(outcome) from outcome

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._details(client_call_details, client_call_details.timeout), request)


class AskProClient:
    """The five AskPro service stubs over one channel. Use as a context manager or call close()."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.channel = channel
        self.tenants = tenant_service_pb2_grpc.TenantServiceStub(channel)
        self.availability = availability_service_pb2_grpc.AvailabilityServiceStub(channel)
        self.appointments = appointment_service_pb2_grpc.AppointmentServiceStub(channel)
        self.webhooks = webhook_service_pb2_grpc.WebhookServiceStub(channel)
        self.integrations = integration_service_pb2_grpc.IntegrationServiceStub(channel)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "AskProClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(
    target: str,
    api_key: str,
    *,
    timeout: float = 10.0,
    secure: bool = False,
    credentials: Optional[grpc.ChannelCredentials] = None,
    max_attempts: int = 4,
    initial_backoff: float = 0.1,
    max_backoff: float = 2.0,
    tenant_id: Optional[str] = None,
    options: Sequence[Tuple[str, Any]] = (),
) -> AskProClient:
    """Connects to an AskPro server, e.g. `connect("127.0.0.1:50051", agent_key)`.

    `timeout` is the default deadline of a unary call in seconds, retries included (a call's own
    `timeout=` wins). A plaintext channel unless `secure` or `credentials` is given. `tenant_id`
    is for platform-admin keys acting on one tenant (`x-askpro-tenant-id`).
    """
    if secure or credentials is not None:
        channel = grpc.secure_channel(target, credentials or grpc.ssl_channel_credentials(), options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)
    interceptor = _AskProInterceptor(api_key, timeout, max_attempts, initial_backoff, max_backoff, tenant_id)
    return AskProClient(grpc.intercept_channel(channel, interceptor))
