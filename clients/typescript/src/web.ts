// AskPro from browsers: grpc-web over fetch (connect-web's grpc-web transport) with the AskPro
// conventions, and everything the transport-agnostic entry point exports. The server answers
// grpc-web and CORS on its gRPC port, so no proxy is needed.

import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { type AskProClient, type ClientOptions, createAskProClient } from "./client.js";
import { type InterceptorOptions, askProInterceptors } from "./interceptors.js";

export * from "./index.js";

export interface WebOptions extends ClientOptions, InterceptorOptions {
  /** The fetch to use (default: globalThis.fetch), e.g. one that adds credentials. */
  fetch?: typeof globalThis.fetch;
}

/**
 * Connects to an AskPro server over grpc-web, e.g. `connectWeb("https://api.example.com", key)`.
 * An API key in a browser is visible to its user: give pages a read-only or agent key of their
 * own tenant, never a tenant-admin or platform key.
 */
export function connectWeb(baseUrl: string, apiKey: string, options: WebOptions = {}): AskProClient {
  const transport = createGrpcWebTransport({
    baseUrl,
    interceptors: askProInterceptors(apiKey, options),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  return createAskProClient(transport, options);
}
