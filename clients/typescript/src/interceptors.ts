// What the AskPro client adds on the wire, as connect-es interceptors for any gRPC or grpc-web
// transport: the API key on every call, a request_id on requests that have that field and left it
// empty, and retries with backoff on UNAVAILABLE.
//
// Only UNAVAILABLE is retried: ALREADY_EXISTS (a taken slot, an existing customer) and every other
// code are answers, not transient failures. The request_id is filled in before the first attempt
// and kept across retries, so a retried create is applied once (the server deduplicates on it).
// Streams (WatchAppointments) get the key only: they are long-lived and not retried.

import type { DescField, DescMessage, MessageShape } from "@bufbuild/protobuf";
import { ScalarType, clone } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

export interface InterceptorOptions {
  /** Attempts of a unary call while the server answers UNAVAILABLE, the first included. Default 4. */
  maxAttempts?: number;
  /** The first backoff in milliseconds, doubled after every retry; each pause is random in [0, backoff). Default 100. */
  initialBackoffMs?: number;
  /** The largest backoff in milliseconds. Default 2000. */
  maxBackoffMs?: number;
  /** For platform-admin keys acting on one tenant: sent as `x-askpro-tenant-id`. */
  tenantId?: string;
}

/** The AskPro interceptors, outermost first: key, request id, retries. */
export function askProInterceptors(apiKey: string, options: InterceptorOptions = {}): Interceptor[] {
  return [
    authenticate(apiKey, options.tenantId),
    fillRequestId(),
    retryUnavailable({
      maxAttempts: Math.max(1, options.maxAttempts ?? 4),
      initialBackoffMs: options.initialBackoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 2000,
    }),
  ];
}

/** `authorization: Bearer <key>` (and the acting tenant) on every call, streams included. */
export function authenticate(apiKey: string, tenantId?: string): Interceptor {
  return (next) => async (req) => {
    req.header.set("authorization", `Bearer ${apiKey}`);
    if (tenantId) {
      req.header.set("x-askpro-tenant-id", tenantId);
    }
    return await next(req);
  };
}

/** A UUID in `request_id` for unary requests that have that field and left it empty. */
export function fillRequestId(): Interceptor {
  return (next) => async (req) => {
    if (req.stream) {
      return await next(req);
    }
    const field = requestIdField(req.method.input);
    if (field === undefined || reflect(req.method.input, req.message).get(field) !== "") {
      return await next(req);
    }
    // A copy: the caller's message keeps its empty id, so sending it again is a new request.
    const message: MessageShape<DescMessage> = clone(req.method.input, req.message);
    reflect(req.method.input, message).set(field, randomUuid());
    return await next({ ...req, message });
  };
}

function requestIdField(input: DescMessage): DescField | undefined {
  const field = input.fields.find((f) => f.name === "request_id");
  return field?.fieldKind === "scalar" && field.scalar === ScalarType.STRING ? field : undefined;
}

/**
 * A version 4 UUID. crypto.randomUUID exists only in secure contexts (https or localhost) in
 * browsers, while getRandomValues exists everywhere, so the UUID is built from the latter.
 */
export function randomUuid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40; // version 4
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

interface Backoff {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/**
 * Retries unary calls that failed with UNAVAILABLE, with exponential backoff and full jitter.
 *
 * All attempts share the call's deadline: the transport's AbortSignal fires when it passes, and
 * a pause that would outlast it is not taken (the UNAVAILABLE is returned instead). Each retry
 * sends the time that is left as `grpc-timeout`, so the server never works past the deadline.
 */
export function retryUnavailable({ maxAttempts, initialBackoffMs, maxBackoffMs }: Backoff): Interceptor {
  return (next) => async (req) => {
    if (req.stream) {
      return await next(req);
    }
    const deadline = deadlineOf(req.header);
    let backoffMs = initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(req);
      } catch (thrown) {
        const pauseMs = Math.random() * backoffMs;
        const retryable =
          ConnectError.from(thrown).code === Code.Unavailable &&
          attempt < maxAttempts &&
          !req.signal.aborted &&
          (deadline === undefined || Date.now() + pauseMs < deadline);
        if (!retryable) {
          throw thrown;
        }
        await pause(pauseMs, req.signal);
        backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
        if (deadline !== undefined) {
          req.header.set("grpc-timeout", `${Math.max(1, Math.ceil(deadline - Date.now()))}m`);
        }
      }
    }
  };
}

const msPerTimeoutUnit: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** The call's deadline (epoch milliseconds) from the `grpc-timeout` the transport set, if any. */
function deadlineOf(header: Headers): number | undefined {
  const match = /^(\d{1,8})([HMSmun])$/.exec(header.get("grpc-timeout") ?? "");
  const msPerUnit = msPerTimeoutUnit[match?.[2] ?? ""];
  return match === null || msPerUnit === undefined ? undefined : Date.now() + Number(match[1]) * msPerUnit;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
