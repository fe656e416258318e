"""AskPro errors as Python exceptions.

The server puts google.rpc.Status in the `grpc-status-details-bin` trailer: an ErrorInfo (domain
"askpro", a reason from askpro.type.v1.ErrorReason, metadata), a BadRequest for invalid input and
a RetryInfo when rate limited. `from_rpc_error` decodes them so callers match on exception types
and read fields instead of parsing status messages.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Dict, List, Optional

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


@dataclass(frozen=True)
class Alternative:
    """A free slot the server suggests when the requested one is taken (not held)."""

    start_time: _dt.datetime
    staff_id: str
    local_start_time: str


class AskProError(Exception):
    """A failed AskPro call. Subclasses name the cases callers usually handle."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        reason: str = "",
        metadata: Optional[Dict[str, str]] = None,
        field_violations: Optional[List[FieldViolation]] = None,
        retry_delay: Optional[float] = None,
        request_id: str = "",
    ) -> None:
        super().__init__(f"{code.name}: {message}" + (f" ({reason})" if reason else ""))
        self.code = code
        self.message = message
        self.reason = reason
        self.metadata: Dict[str, str] = dict(metadata or {})
        self.field_violations: List[FieldViolation] = list(field_violations or [])
        # Seconds the server asks to wait before retrying (RetryInfo), if it said.
        self.retry_delay = retry_delay
        # The server's x-request-id of the failed call, for support and logs.
        self.request_id = request_id


class InvalidArgument(AskProError):
    pass


class NotFound(AskProError):
    pass


class AlreadyExists(AskProError):
    pass


class SlotTaken(AlreadyExists):
    """ALREADY_EXISTS (SLOT_TAKEN): the slot is booked or held by someone else."""

    @property
    def alternatives(self) -> List[Alternative]:
        out = []
        n = 1
        while f"alternative_{n}_start_time" in self.metadata:
            start = self.metadata[f"alternative_{n}_start_time"].replace("Z", "+00:00")
            out.append(
                Alternative(
                    start_time=_dt.datetime.fromisoformat(start),
                    staff_id=self.metadata.get(f"alternative_{n}_staff_id", ""),
                    local_start_time=self.metadata.get(f"alternative_{n}_local_start_time", ""),
                )
            )
            n += 1
        return out


class PermissionDenied(AskProError):
    pass


class Unauthenticated(AskProError):
    pass


class FailedPrecondition(AskProError):
    pass


class Aborted(AskProError):
    pass


class RateLimited(AskProError):
    """RESOURCE_EXHAUSTED (RATE_LIMITED); `retry_delay` says when to try again."""


class Unavailable(AskProError):
    pass


class DeadlineExceeded(AskProError):
    pass


_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ABORTED: Aborted,
    grpc.StatusCode.RESOURCE_EXHAUSTED: RateLimited,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
}


def from_rpc_error(error: grpc.RpcError) -> AskProError:
    """Decodes a grpc error (a grpc.Call) and its rich details into an AskProError."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = (error.details() if hasattr(error, "details") else "") or ""
    reason, metadata, violations, retry_delay = "", {}, [], None
    try:
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
    except ValueError:  # the trailer disagrees with the status line: keep the status line
        status = None
    for detail in status.details if status is not None else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations = [FieldViolation(v.field, v.description) for v in bad.field_violations]
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info_r = error_details_pb2.RetryInfo()
            detail.Unpack(info_r)
            retry_delay = info_r.retry_delay.ToTimedelta().total_seconds()
    request_id = ""
    trailing = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for entry in trailing or ():
        if entry.key == "x-request-id":
            request_id = str(entry.value)
    cls = SlotTaken if reason == "SLOT_TAKEN" else _BY_CODE.get(code, AskProError)
    return cls(
        code,
        message,
        reason=reason,
        metadata=metadata,
        field_violations=violations,
        retry_delay=retry_delay,
        request_id=request_id,
    )
