// A scripted AskPro stand-in on a local HTTP/2 server (connect-node's gRPC handler): HoldSlot and
// WatchAppointments fail with the codes a test lists, then succeed, and every call's request_id and
// headers are recorded. The real server cannot be made to answer UNAVAILABLE on demand.

import { createServer, type Http2Server } from "node:http2";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { AppointmentService, AvailabilityService } from "../../src/index.js";

export interface Attempt {
  requestId: string;
  authorization: string | null;
  grpcTimeout: string | null;
}

export interface ScriptedServer {
  baseUrl: string;
  /** Every HoldSlot and WatchAppointments call received, in order. */
  attempts: Attempt[];
  close(): Promise<void>;
}

export interface Script {
  /** The codes of the first calls, in order; calls after them succeed. */
  answers?: Code[];
  /** How long every HoldSlot waits before answering. */
  delayMs?: number;
}

export async function startScriptedServer({ answers = [], delayMs = 0 }: Script): Promise<ScriptedServer> {
  const attempts: Attempt[] = [];
  const pending = [...answers];
  const record = (requestId: string, header: Headers) => {
    attempts.push({
      requestId,
      authorization: header.get("authorization"),
      grpcTimeout: header.get("grpc-timeout"),
    });
    const code = pending.shift();
    if (code !== undefined) {
      throw new ConnectError("scripted", code);
    }
  };
  const routes = (router: ConnectRouter) => {
    router.service(AvailabilityService, {
      async holdSlot(request, context) {
        if (delayMs > 0) {
          await new Promise((r) => setTimeout(r, delayMs));
        }
        record(request.requestId, context.requestHeader);
        return { hold: { id: "h1", holdKey: request.holdKey } };
      },
    });
    router.service(AppointmentService, {
      async *watchAppointments(_request, context) {
        record("", context.requestHeader);
        yield {};
      },
    });
  };
  const server: Http2Server = createServer(connectNodeAdapter({ routes, grpc: true, grpcWeb: false, connect: false }));
  const sessions = new Set<{ destroy(): void }>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    attempts,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        sessions.forEach((session) => session.destroy());
      }),
  };
}
