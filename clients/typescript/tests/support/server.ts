// Starts the real AskPro server binary for the tests: each server in its own temp dir with its
// own SQLite file, seeded with the demo salon (`askpro seed demo --json`), on a free loopback port.
// The binary is $ASKPRO_BIN, else ../../target/debug/askpro (relative to this package).

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, openSync, closeSync, readFileSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** What `askpro seed demo --json` prints. */
export interface Demo {
  tenant_id: string;
  branch_id: string;
  staff_ids: string[];
  service_ids: string[];
  platform_admin_key: string;
  tenant_admin_key: string;
  agent_key: string;
}

export interface RunningServer {
  /** e.g. "http://127.0.0.1:41234": gRPC, grpc-web and HTTP on one port. */
  baseUrl: string;
  demo: Demo;
  /** Ends the server (SIGTERM, SIGKILL after 10 s) and removes its directory. */
  stop(): Promise<void>;
}

export function serverBinary(): string {
  const binary = process.env.ASKPRO_BIN || resolve(packageRoot, "../../target/debug/askpro");
  if (!existsSync(binary)) {
    throw new Error(
      `the askpro server binary is missing at ${binary}: run \`cargo build\` in the repository root, or set ASKPRO_BIN`,
    );
  }
  return binary;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

export async function startServer(extraEnv: Record<string, string> = {}): Promise<RunningServer> {
  const binary = serverBinary();
  const workdir = mkdtempSync(join(tmpdir(), "askpro-ts-"));
  const env = {
    ...process.env,
    ASKPRO_DATABASE_URL: `sqlite://${workdir}/askpro.db?mode=rwc`,
    ASKPRO_LOG_FORMAT: "text",
    ASKPRO_LOG_FILTER: "warn",
    ...extraEnv,
  };
  const seeded = await promisify(execFile)(binary, ["seed", "demo", "--json"], { cwd: workdir, env, timeout: 30_000 });
  const demo = JSON.parse(seeded.stdout) as Demo;
  const port = await freePort();
  const logPath = join(workdir, "server.log");
  const log = openSync(logPath, "w");
  const child = spawn(binary, ["serve", "--listen", `127.0.0.1:${port}`], { cwd: workdir, env, stdio: ["ignore", log, log] });
  closeSync(log);
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const stop = async () => {
    await terminate(child, exited);
    rmSync(workdir, { recursive: true, force: true });
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitServing(baseUrl, child, logPath);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, demo, stop };
}

/** Polls GET /health (200 once the database is up) for at most 30 s. */
async function waitServing(baseUrl: string, child: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`askpro serve exited with ${child.exitCode}:\n${readFileSync(logPath, "utf8")}`);
    }
    try {
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) {
        return;
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`askpro serve did not answer /health within 30 s:\n${readFileSync(logPath, "utf8")}`);
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(killer);
}
