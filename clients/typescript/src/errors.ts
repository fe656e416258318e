// AskPro errors as typed JavaScript errors.
//
// The server puts a google.rpc.Status in the `grpc-status-details-bin` trailer: an ErrorInfo
// (domain "askpro", a reason from askpro.type.v1.ErrorReason, metadata), a BadRequest for invalid
// input and a RetryInfo when rate limited. `toAskProError` decodes them, so callers match on
// classes and read fields instead of parsing status messages. Mirrors clients/python's errors.py.

import { Code, ConnectError } from "@connectrpc/connect";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "./error_details.js";

/** One invalid request field (google.rpc.BadRequest.FieldViolation). */
export interface FieldViolation {
  field: string;
  description: string;
}

/** A free slot the server suggests when the requested one is taken (it is not held). */
export interface Alternative {
  /** The slot's start, ready to put into HoldSlot or CreateAppointment. */
  startTime: Timestamp;
  staffId: string;
  /** RFC 3339 with the branch's offset, e.g. "2026-03-30T10:00:00+02:00". */
  localStartTime: string;
}

/** What an AskProError carries besides its code and message. */
export interface AskProErrorDetails {
  reason?: string;
  metadata?: Record<string, string>;
  fieldViolations?: FieldViolation[];
  retryDelayMs?: number;
  requestId?: string;
  cause?: unknown;
}

/** A failed AskPro call. Subclasses name the cases callers usually handle. */
export class AskProError extends Error {
  // Spelled out in every class: bundlers minify class names, so `constructor.name` would not do.
  override name = "AskProError";
  /** The gRPC status code (connect's `Code`). */
  readonly code: Code;
  /** The server's status message, without the code prefix that `message` has. */
  readonly rawMessage: string;
  /** The ErrorInfo reason, e.g. "SLOT_TAKEN" (askpro.type.v1.ErrorReason); "" if none was sent. */
  readonly reason: string;
  /** The ErrorInfo metadata, e.g. `limit` or `alternative_1_start_time`. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly fieldViolations: readonly FieldViolation[];
  /** Milliseconds the server asks to wait before trying again (RetryInfo), if it said. */
  readonly retryDelayMs: number | undefined;
  /** The server's x-request-id of the failed call, for support and logs; "" if none came back. */
  readonly requestId: string;

  constructor(code: Code, message: string, details: AskProErrorDetails = {}) {
    const reason = details.reason ?? "";
    super(`${statusName(code)}: ${message}${reason ? ` (${reason})` : ""}`, { cause: details.cause });
    this.code = code;
    this.rawMessage = message;
    this.reason = reason;
    this.metadata = { ...details.metadata };
    this.fieldViolations = [...(details.fieldViolations ?? [])];
    this.retryDelayMs = details.retryDelayMs;
    this.requestId = details.requestId ?? "";
  }
}

export class InvalidArgument extends AskProError {
  override name = "InvalidArgument";
}
export class NotFound extends AskProError {
  override name = "NotFound";
}
export class AlreadyExists extends AskProError {
  override name = "AlreadyExists";
}
export class PermissionDenied extends AskProError {
  override name = "PermissionDenied";
}
export class Unauthenticated extends AskProError {
  override name = "Unauthenticated";
}
export class FailedPrecondition extends AskProError {
  override name = "FailedPrecondition";
}
export class Aborted extends AskProError {
  override name = "Aborted";
}
/** RESOURCE_EXHAUSTED (RATE_LIMITED); `retryDelayMs` says when to try again. */
export class RateLimited extends AskProError {
  override name = "RateLimited";
}
export class Unavailable extends AskProError {
  override name = "Unavailable";
}
export class DeadlineExceeded extends AskProError {
  override name = "DeadlineExceeded";
}

/** ALREADY_EXISTS (SLOT_TAKEN): the slot is booked or held by someone else. */
export class SlotTaken extends AlreadyExists {
  override name = "SlotTaken";

  /** Up to three free slots the server suggests instead, in its order. */
  get alternatives(): Alternative[] {
    const found: Alternative[] = [];
    // Numbered from 1 without gaps (the AppointmentService contract).
    for (let n = 1; `alternative_${n}_start_time` in this.metadata; n++) {
      found.push({
        startTime: timestampFromDate(new Date(this.metadata[`alternative_${n}_start_time`] ?? "")),
        staffId: this.metadata[`alternative_${n}_staff_id`] ?? "",
        localStartTime: this.metadata[`alternative_${n}_local_start_time`] ?? "",
      });
    }
    return found;
  }
}

/** The gRPC name of a code, e.g. "ALREADY_EXISTS" for Code.AlreadyExists. */
function statusName(code: Code): string {
  return (Code[code] ?? `CODE_${code}`).replace(/(?<=[a-z])(?=[A-Z])/g, "_").toUpperCase();
}

const classByCode: Partial<Record<Code, typeof AskProError>> = {
  [Code.InvalidArgument]: InvalidArgument,
  [Code.NotFound]: NotFound,
  [Code.AlreadyExists]: AlreadyExists,
  [Code.PermissionDenied]: PermissionDenied,
  [Code.Unauthenticated]: Unauthenticated,
  [Code.FailedPrecondition]: FailedPrecondition,
  [Code.Aborted]: Aborted,
  [Code.ResourceExhausted]: RateLimited,
  [Code.Unavailable]: Unavailable,
  [Code.DeadlineExceeded]: DeadlineExceeded,
};

/** Decodes anything a connect-es call threw (normally a ConnectError) into an AskProError. */
export function toAskProError(thrown: unknown): AskProError {
  if (thrown instanceof AskProError) {
    return thrown;
  }
  const error = ConnectError.from(thrown);
  const info = error.findDetails(ErrorInfoSchema)[0];
  const retry = error.findDetails(RetryInfoSchema)[0]?.retryDelay;
  const violations = error.findDetails(BadRequestSchema).flatMap((bad) => bad.fieldViolations);
  const reason = info?.reason ?? "";
  const errorClass = reason === "SLOT_TAKEN" ? SlotTaken : (classByCode[error.code] ?? AskProError);
  return new errorClass(error.code, error.rawMessage, {
    reason,
    metadata: info?.metadata,
    fieldViolations: violations.map(({ field, description }) => ({ field, description })),
    retryDelayMs: retry === undefined ? undefined : Number(retry.seconds) * 1000 + retry.nanos / 1e6,
    requestId: error.metadata.get("x-request-id") ?? "",
    cause: error,
  });
}
