// Rate limiting as the client sees it: RESOURCE_EXHAUSTED decoded with the server's retry delay,
// and never retried by the client.

import { afterAll, beforeAll, expect, test } from "vitest";
import { Code, RateLimited, connectNode } from "../src/node.js";
import { type RunningServer, startServer } from "./support/server.js";

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ ASKPRO_RATE_LIMIT_PER_KEY: "{per_second=1,burst=2}" });
});

afterAll(async () => {
  await server?.stop();
});

test("over the limit throws RateLimited with a retry delay", async () => {
  const client = connectNode(server.baseUrl, server.demo.agent_key);
  try {
    let limited: unknown;
    for (let call = 0; call < 10 && limited === undefined; call++) {
      await client.tenants.listBranches({}).catch((e: unknown) => (limited = e));
    }
    expect(limited).toBeInstanceOf(RateLimited);
    const error = limited as RateLimited;
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.reason).toBe("RATE_LIMITED");
    expect(error.metadata["limit"]).toBe("api_key");
    expect(error.retryDelayMs).toBeGreaterThan(0);
    expect(error.retryDelayMs).toBeLessThanOrEqual(2000);
  } finally {
    client.close();
  }
});
