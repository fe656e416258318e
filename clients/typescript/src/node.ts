// AskPro from Node.js: gRPC over HTTP/2 (connect-node's gRPC transport) with the AskPro
// conventions, and everything the transport-agnostic entry point exports.

import { Http2SessionManager, createGrpcTransport } from "@connectrpc/connect-node";
import type { Http2SessionOptions } from "@connectrpc/connect-node";
import type * as http2 from "node:http2";
import { type AskProClient, type ClientOptions, createAskProClient } from "./client.js";
import { type InterceptorOptions, askProInterceptors } from "./interceptors.js";

export * from "./index.js";

export interface NodeOptions extends ClientOptions, InterceptorOptions {
  /** Options for node:http2's connect(), e.g. TLS `ca` for an https:// baseUrl. */
  http2?: http2.ClientSessionOptions | http2.SecureClientSessionOptions;
  /** Keepalive pings and the idle timeout of the HTTP/2 connection (connect-node's defaults otherwise). */
  session?: Http2SessionOptions;
}

export interface NodeAskProClient extends AskProClient {
  /** Closes the HTTP/2 connection; calls in flight fail. Idle connections do not keep Node running anyway. */
  close(): void;
}

/**
 * Connects to an AskPro server over gRPC, e.g. `connectNode("http://127.0.0.1:50051", agentKey)`.
 * One HTTP/2 connection, opened on the first call and shared by all calls.
 */
export function connectNode(baseUrl: string, apiKey: string, options: NodeOptions = {}): NodeAskProClient {
  const sessionManager = new Http2SessionManager(baseUrl, options.session, options.http2);
  const transport = createGrpcTransport({
    baseUrl,
    sessionManager,
    interceptors: askProInterceptors(apiKey, options),
  });
  return { ...createAskProClient(transport, options), close: () => sessionManager.abort() };
}
