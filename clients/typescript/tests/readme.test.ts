// The README's quick start runs as written, as an installed package would run it: the code block
// is saved as quickstart.mjs in a fresh directory whose node_modules/@askpro/client links to this
// package (what `npm install <path>` makes), and run with node against a test server.

import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { AppointmentStatus, connectNode } from "../src/node.js";
import { type RunningServer, startServer } from "./support/server.js";

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
let server: RunningServer;
let project: string;

beforeAll(async () => {
  server = await startServer();
  project = mkdtempSync(join(tmpdir(), "askpro-readme-"));
});

afterAll(async () => {
  if (project) {
    rmSync(project, { recursive: true, force: true });
  }
  await server?.stop();
});

test("the README quick start books a slot", async () => {
  expect(existsSync(join(packageRoot, "dist/node.js")), "run `npm run build` first").toBe(true);
  const readme = readFileSync(join(packageRoot, "README.md"), "utf8");
  const code = /## Quick start[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  expect(code!.trim().split("\n").length).toBeLessThanOrEqual(10);
  expect(code).toContain('"http://127.0.0.1:50051"');

  mkdirSync(join(project, "node_modules/@askpro"), { recursive: true });
  symlinkSync(packageRoot, join(project, "node_modules/@askpro/client"), "dir");
  writeFileSync(join(project, "quickstart.mjs"), code!.replace('"http://127.0.0.1:50051"', JSON.stringify(server.baseUrl)));

  const { stdout } = await promisify(execFile)(process.execPath, ["quickstart.mjs"], {
    cwd: project,
    env: { ...process.env, AGENT_KEY: server.demo.agent_key },
    timeout: 30_000,
  });
  const printed = /^booked .+ at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d id ([0-9a-f-]{36})\n$/.exec(stdout);
  expect(printed, stdout).not.toBeNull();

  const client = connectNode(server.baseUrl, server.demo.agent_key);
  try {
    const { appointment } = await client.appointments.getAppointment({ id: printed![1]! });
    expect(appointment!.status).toBe(AppointmentStatus.CONFIRMED);
  } finally {
    client.close();
  }
});
