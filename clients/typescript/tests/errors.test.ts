// The server's rich errors as the client throws them: SLOT_TAKEN with alternatives, field
// violations, a bad key, and another tenant's ids.

import { afterAll, beforeAll, expect, test } from "vitest";
import {
  ApiKeyScope,
  AskProError,
  Code,
  InvalidArgument,
  NotFound,
  SlotTaken,
  Unauthenticated,
  connectNode,
  timestampDate,
} from "../src/node.js";
import { type RunningServer, startServer } from "./support/server.js";
import { freeSlots } from "./support/slots.js";

let server: RunningServer;
const clients: { close(): void }[] = [];

function connect(apiKey: string, tenantId?: string) {
  const client = connectNode(server.baseUrl, apiKey, tenantId === undefined ? {} : { tenantId });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  clients.forEach((client) => client.close());
  await server?.stop();
});

test("a taken slot throws SlotTaken with the server's alternatives", async () => {
  const { demo } = server;
  const client = connect(demo.agent_key);
  const slot = (await freeSlots(client, demo, 1))[0]!;
  const request = {
    branchId: demo.branch_id,
    serviceId: demo.service_ids[1],
    staffId: slot.staffId,
    startTime: slot.startTime,
    holdKey: "first-caller",
  };
  await client.availability.holdSlot(request);

  const error = await client.availability.holdSlot({ ...request, holdKey: "second-caller" }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SlotTaken);
  const taken = error as SlotTaken;
  expect(taken.code).toBe(Code.AlreadyExists);
  expect(taken.reason).toBe("SLOT_TAKEN");
  expect(taken.requestId).not.toBe("");
  expect(taken.alternatives.length).toBeGreaterThan(0);
  expect(taken.alternatives.length).toBeLessThanOrEqual(3);
  const requested = timestampDate(slot.startTime!).getTime();
  for (const alternative of taken.alternatives) {
    const start = timestampDate(alternative.startTime).getTime();
    expect(start).toBeGreaterThanOrEqual(requested);
    expect([start, alternative.staffId]).not.toEqual([requested, slot.staffId]);
    expect(new Date(alternative.localStartTime).getTime()).toBe(start);
  }

  // An alternative is a real free slot: it can be held as given.
  const [alternative] = taken.alternatives;
  const { hold } = await client.availability.holdSlot({
    ...request,
    staffId: alternative!.staffId,
    startTime: alternative!.startTime,
    holdKey: "second-caller",
  });
  expect(hold!.staffId).toBe(alternative!.staffId);
});

test("invalid input throws InvalidArgument with field violations", async () => {
  const client = connect(server.demo.agent_key);
  const error = await client.appointments
    .createCustomer({ customer: { phoneNumber: "not a number" } })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidArgument);
  const invalid = error as InvalidArgument;
  expect(invalid.reason).toBe("INVALID_ARGUMENT");
  expect(invalid.fieldViolations).toContainEqual({ field: "customer.phone_number", description: expect.any(String) });
  expect(invalid.message).toMatch(/^INVALID_ARGUMENT: /);
});

test("a bad key throws Unauthenticated", async () => {
  const client = connect("ak_bogus");
  const error = await client.tenants.listBranches({}).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Unauthenticated);
  expect((error as AskProError).code).toBe(Code.Unauthenticated);
});

test("another tenant's ids are not found", async () => {
  const { demo } = server;
  const admin = connect(demo.platform_admin_key);
  const { tenant } = await admin.tenants.createTenant({
    tenant: { displayName: "Other salon", timeZone: "Europe/Vienna", regionCode: "AT" },
  });
  const acting = connect(demo.platform_admin_key, tenant!.id);
  const { secret } = await acting.tenants.createApiKey({
    apiKey: { displayName: "other admin", scope: ApiKeyScope.TENANT_ADMIN },
  });

  const other = connect(secret);
  expect((await other.tenants.listBranches({})).branches).toEqual([]);
  const error = await other.tenants.getBranch({ id: demo.branch_id }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(NotFound);
  expect((error as NotFound).reason).toBe("RESOURCE_NOT_FOUND");
  // The same id is there for its own tenant.
  const own = await connect(demo.agent_key).tenants.getBranch({ id: demo.branch_id });
  expect(own.branch!.id).toBe(demo.branch_id);
});
