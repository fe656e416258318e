// Retries, request ids and deadlines of the client layer, against a scripted local server.

import { afterEach, describe, expect, test } from "vitest";
import {
  AlreadyExists,
  AskProError,
  Code,
  DeadlineExceeded,
  type NodeAskProClient,
  type NodeOptions,
  Unavailable,
  connectNode,
} from "../src/node.js";
import { type Script, type ScriptedServer, startScriptedServer } from "./support/scripted_server.js";
import { freePort } from "./support/server.js";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

async function scripted(script: Script, options: NodeOptions = {}): Promise<[ScriptedServer, NodeAskProClient]> {
  const server = await startScriptedServer(script);
  cleanups.push(() => server.close());
  const client = connectNode(server.baseUrl, "ak_test", { initialBackoffMs: 10, ...options });
  cleanups.push(() => client.close());
  return [server, client];
}

describe("retries", () => {
  test("UNAVAILABLE is retried with the same request_id and the key on every attempt", async () => {
    const [server, client] = await scripted({ answers: [Code.Unavailable, Code.Unavailable] });
    const { hold } = await client.availability.holdSlot({ holdKey: "c" });
    expect(hold!.id).toBe("h1");
    expect(server.attempts).toHaveLength(3);
    const ids = new Set(server.attempts.map((a) => a.requestId));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(uuid);
    expect(server.attempts.map((a) => a.authorization)).toEqual(Array(3).fill("Bearer ak_test"));
  });

  test("each call gets its own request_id and a given one is kept", async () => {
    const [server, client] = await scripted({});
    const request = { holdKey: "c" };
    await client.availability.holdSlot(request);
    await client.availability.holdSlot(request);
    await client.availability.holdSlot({ ...request, requestId: "mine" });
    const [first, second, given] = server.attempts.map((a) => a.requestId);
    expect(first).toMatch(uuid);
    expect(second).toMatch(uuid);
    expect(second).not.toBe(first);
    expect(given).toBe("mine");
  });

  test.each([
    ["ALREADY_EXISTS", Code.AlreadyExists, AlreadyExists],
    ["RESOURCE_EXHAUSTED", Code.ResourceExhausted, AskProError],
    ["ABORTED", Code.Aborted, AskProError],
    ["INTERNAL", Code.Internal, AskProError],
  ] as const)("%s is never retried", async (_name, code, errorClass) => {
    const [server, client] = await scripted({ answers: [code, code] });
    const error = await client.availability.holdSlot({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errorClass);
    expect((error as AskProError).code).toBe(code);
    expect(server.attempts).toHaveLength(1);
  });

  test("retries stop after maxAttempts", async () => {
    const [server, client] = await scripted({ answers: Array(10).fill(Code.Unavailable) }, { maxAttempts: 3 });
    const error = await client.availability.holdSlot({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Unavailable);
    expect(server.attempts).toHaveLength(3);
  });

  test("retries stop at the deadline, and each retry sends the time left", async () => {
    const [server, client] = await scripted(
      { answers: Array(1000).fill(Code.Unavailable) },
      { maxAttempts: 1000, initialBackoffMs: 20, maxBackoffMs: 20, timeoutMs: 500 },
    );
    const started = Date.now();
    const error = await client.availability.holdSlot({}).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    // Out of time either between attempts (the last answer) or during one (the deadline).
    expect(error instanceof Unavailable || error instanceof DeadlineExceeded).toBe(true);
    expect(server.attempts.length).toBeGreaterThan(1);
    expect(server.attempts.length).toBeLessThan(1000);
    const timeouts = server.attempts.map((a) => Number(/^(\d+)m$/.exec(a.grpcTimeout ?? "")?.[1]));
    expect(timeouts[0]).toBe(500);
    for (let i = 1; i < timeouts.length; i++) {
      expect(timeouts[i]).toBeLessThanOrEqual(timeouts[i - 1]!);
    }
    expect(timeouts[timeouts.length - 1]).toBeLessThan(500);
  });

  test("streams are not retried", async () => {
    const [server, client] = await scripted({ answers: [Code.Unavailable] });
    const read = async () => {
      for await (const _ of client.appointments.watchAppointments({})) {
        // The scripted stream fails before its first message.
      }
    };
    await expect(read()).rejects.toBeInstanceOf(Unavailable);
    expect(server.attempts).toHaveLength(1);
    expect(server.attempts[0]!.authorization).toBe("Bearer ak_test");
    expect(server.attempts[0]!.grpcTimeout).toBeNull();
  });

  test("a server nobody listens on is UNAVAILABLE once the attempts are spent", async () => {
    const client = connectNode(`http://127.0.0.1:${await freePort()}`, "ak_test", { maxAttempts: 3, initialBackoffMs: 10 });
    cleanups.push(() => client.close());
    const error = await client.tenants.listBranches({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Unavailable);
  });
});

describe("deadlines", () => {
  test("a unary call gets the default deadline", async () => {
    const [server, client] = await scripted({ delayMs: 2000 }, { timeoutMs: 300 });
    const started = Date.now();
    const error = await client.availability.holdSlot({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceeded);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(server.attempts).toHaveLength(0); // the handler had not answered yet
  });

  test("a call's own timeoutMs wins over the default", async () => {
    const [server, client] = await scripted({ delayMs: 600 }, { timeoutMs: 300 });
    const { hold } = await client.availability.holdSlot({ holdKey: "slow" }, { timeoutMs: 5000 });
    expect(hold!.holdKey).toBe("slow");
    expect(server.attempts[0]!.grpcTimeout).toBe("5000m");
  });
});
