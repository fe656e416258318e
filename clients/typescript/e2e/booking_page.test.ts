// End to end in a real browser: the page in e2e/page, built with Vite and served from its own
// port (so every grpc-web call is cross-origin and CORS is real), runs in Debian's headless
// Chromium driven by playwright-core. It lists free slots and books one through grpc-web, then
// shows a second booking, made from Node, arriving through WatchAppointments; the test then checks
// both bookings through the server's API.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { type PreviewServer, build, preview } from "vite";
import { afterAll, beforeAll, expect, test } from "vitest";
import { AppointmentStatus, type NodeAskProClient, connectNode, timestampDate } from "../src/node.js";
import { type RunningServer, freePort, startServer } from "../tests/support/server.js";
import { freeSlots, nextDays } from "../tests/support/slots.js";

const here = dirname(fileURLToPath(import.meta.url));
const chromiumPath = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const waitMs = 15_000;

let server: RunningServer;
let node: NodeAskProClient;
let site: PreviewServer;
let browser: BrowserContext;
const scratch: string[] = [];

/** Builds e2e/page with Vite and serves the result on a free loopback port. */
async function servePage(): Promise<PreviewServer> {
  const outDir = mkdtempSync(join(tmpdir(), "askpro-page-"));
  scratch.push(outDir);
  const config = {
    configFile: false as const,
    root: join(here, "page"),
    logLevel: "warn" as const,
    // The page imports the package by name, as an application would; here it is built from src/.
    resolve: { alias: { "@askpro/client/web": resolve(here, "../src/web.ts") } },
    build: { outDir, emptyOutDir: true },
  };
  await build(config);
  return await preview({ ...config, preview: { host: "127.0.0.1", port: await freePort(), strictPort: true } });
}

beforeAll(async () => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`no Chromium at ${chromiumPath}: install Debian's chromium package (or set CHROMIUM_BIN)`);
  }
  server = await startServer();
  node = connectNode(server.baseUrl, server.demo.agent_key);
  site = await servePage();
  const profile = mkdtempSync(join(tmpdir(), "askpro-chromium-"));
  scratch.push(profile);
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    timeout: 30_000,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  node?.close();
  await server?.stop();
  scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

interface SeenResponse {
  url: string;
  status: number;
  allowOrigin: string | undefined;
}

function recordServerResponses(page: Page, serverOrigin: string): SeenResponse[] {
  const seen: SeenResponse[] = [];
  page.on("response", (response) => {
    if (response.url().startsWith(serverOrigin)) {
      seen.push({ url: response.url(), status: response.status(), allowOrigin: response.headers()["access-control-allow-origin"] });
    }
  });
  return seen;
}

test("the page books a slot over grpc-web and follows a second booking live", async () => {
  const page = await browser.newPage();
  const pageErrors: Error[] = [];
  page.on("pageerror", (error) => pageErrors.push(error));
  const pageOrigin = new URL(site.resolvedUrls!.local[0]!).origin;
  const serverOrigin = new URL(server.baseUrl).origin;
  expect(pageOrigin).not.toBe(serverOrigin);
  const responses = recordServerResponses(page, serverOrigin);

  const query = new URLSearchParams({ server: server.baseUrl, key: server.demo.agent_key });
  await page.goto(`${pageOrigin}/?${query}`, { timeout: waitMs });

  // The watch is open (the server subscribes before answering) and the free slots are listed.
  await page.locator('#watch[data-state="open"]').waitFor({ timeout: waitMs });
  await page.locator('#status[data-state="ready"]').waitFor({ timeout: waitMs });
  const firstSlot = page.locator("#slots li").first();
  const firstStart = await firstSlot.getAttribute("data-start");
  const firstStaff = await firstSlot.getAttribute("data-staff-id");
  expect(firstStart).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);

  // Booking the first slot by a click.
  await page.locator("#book").click({ timeout: waitMs });
  await page.locator("#booking[data-appointment-id]").waitFor({ timeout: waitMs });
  const pageBookingId = (await page.locator("#booking").getAttribute("data-appointment-id")) ?? "";
  expect(pageBookingId).toMatch(/^[0-9a-f-]{36}$/);
  await page.locator(`#events li[data-change="CREATED"][data-appointment-id="${pageBookingId}"]`).waitFor({ timeout: waitMs });
  // The page lists slots again after booking; the booked one (that start with that staff member) is gone.
  const bookedSlot = page.locator(`#slots li[data-start="${firstStart}"][data-staff-id="${firstStaff}"]`);
  await expect.poll(() => bookedSlot.count(), { timeout: waitMs }).toBe(0);
  expect(await page.locator("#slots li").count()).toBeGreaterThan(0);

  // A second booking from Node arrives on the page through WatchAppointments.
  const { demo } = server;
  const slot = (await freeSlots(node, demo, 1))[0]!;
  const { appointment: nodeBooking } = await node.appointments.createAppointment({
    slot: {
      case: "explicitSlot",
      value: { branchId: demo.branch_id, serviceId: demo.service_ids[1], staffId: slot.staffId, startTime: slot.startTime },
    },
    customer: { case: "newCustomer", value: { phoneNumber: "0151 97531864" } },
  });
  await page.locator(`#events li[data-change="CREATED"][data-appointment-id="${nodeBooking!.id}"]`).waitFor({ timeout: waitMs });

  // Both bookings exist, as the server's own API reports them.
  const booked = (await node.appointments.getAppointment({ id: pageBookingId })).appointment!;
  expect(booked.status).toBe(AppointmentStatus.CONFIRMED);
  expect(booked.staffId).toBe(firstStaff);
  expect(timestampDate(booked.startTime!).getTime()).toBe(new Date(firstStart!).getTime());
  const { appointments } = await node.appointments.listAppointments({ branchId: demo.branch_id, timeRange: nextDays(14) });
  expect(appointments.map((a) => a.id)).toEqual(expect.arrayContaining([pageBookingId, nodeBooking!.id]));

  // Every grpc-web answer was a cross-origin one the browser was allowed to read.
  expect(responses.length).toBeGreaterThanOrEqual(5);
  for (const response of responses) {
    expect(response.status, response.url).toBe(200);
    expect(response.allowOrigin, response.url).toBeDefined();
  }
  expect(pageErrors).toEqual([]);
  await page.close();
}, 90_000);
