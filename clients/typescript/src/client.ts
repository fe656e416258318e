// The five AskPro services as typed connect-es clients over one transport, with a default
// deadline on unary calls and errors thrown as AskProError.
//
// The deadline and the error decoding live here, around the generated client methods, rather
// than in interceptors: connect-es applies a transport's default timeout to streams too (which
// would cut WatchAppointments), and it wraps anything an interceptor throws back into a plain
// ConnectError, which would undo the decoding.

import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { type CallOptions, type Client, type Transport, createClient } from "@connectrpc/connect";
import { AppointmentService } from "./gen/askpro/appointment/v1/appointment_service_pb.js";
import { AvailabilityService } from "./gen/askpro/availability/v1/availability_service_pb.js";
import { IntegrationService } from "./gen/askpro/integration/v1/integration_service_pb.js";
import { TenantService } from "./gen/askpro/tenant/v1/tenant_service_pb.js";
import { WebhookService } from "./gen/askpro/webhook/v1/webhook_service_pb.js";
import { toAskProError } from "./errors.js";

export interface ClientOptions {
  /**
   * The deadline of a unary call in milliseconds, retries included; a call's own `timeoutMs`
   * wins. Default 10 000. Streams get no default deadline.
   */
  timeoutMs?: number;
}

/** The AskPro services over one transport. */
export interface AskProClient {
  readonly tenants: Client<typeof TenantService>;
  readonly availability: Client<typeof AvailabilityService>;
  readonly appointments: Client<typeof AppointmentService>;
  readonly webhooks: Client<typeof WebhookService>;
  readonly integrations: Client<typeof IntegrationService>;
  /** The transport, for clients of other services that should share its connection and interceptors. */
  readonly transport: Transport;
}

/**
 * The AskPro services over `transport`. Give the transport `askProInterceptors(apiKey)` for the key,
 * request ids and retries; `connectNode` and `connectWeb` do all of it in one call.
 */
export function createAskProClient(transport: Transport, options: ClientOptions = {}): AskProClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    tenants: withConventions(TenantService, transport, timeoutMs),
    availability: withConventions(AvailabilityService, transport, timeoutMs),
    appointments: withConventions(AppointmentService, transport, timeoutMs),
    webhooks: withConventions(WebhookService, transport, timeoutMs),
    integrations: withConventions(IntegrationService, transport, timeoutMs),
    transport,
  };
}

type AnyCall = (input: unknown, options?: CallOptions) => unknown;

function withConventions<S extends DescService>(service: S, transport: Transport, timeoutMs: number): Client<S> {
  const generated = createClient(service, transport) as unknown as Record<string, AnyCall>;
  const client: Record<string, AnyCall> = {};
  for (const method of service.methods) {
    const call = generated[method.localName];
    if (call !== undefined) {
      client[method.localName] = wrap(method, call, timeoutMs);
    }
  }
  return client as unknown as Client<S>;
}

function wrap(method: DescMethod, call: AnyCall, timeoutMs: number): AnyCall {
  if (method.methodKind === "unary") {
    return async (input, options) => {
      try {
        return await call(input, { ...options, timeoutMs: options?.timeoutMs ?? timeoutMs });
      } catch (thrown) {
        throw toAskProError(thrown);
      }
    };
  }
  // Server streams (the only other kind AskPro has): errors while opening or reading are decoded.
  return (input, options) => decodeStreamErrors(call(input, options) as AsyncIterable<unknown>);
}

async function* decodeStreamErrors<T>(stream: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (thrown) {
    throw toAskProError(thrown);
  }
}
