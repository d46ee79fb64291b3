// The API process as an operator meets it: `npm start`'s entry, spawned for real.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../inference/testing/ports.js";
import { bareChildEnvironment } from "../services/platform/config/test-environment.js";

const mainPath = fileURLToPath(new URL("./main.ts", import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", mainPath], {
    env: bareChildEnvironment({ LOG_LEVEL: "info", ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("npm start (gateway/main.ts)", () => {
  it("refuses a bad setting with one line that names the variable, and exits 1", async () => {
    const run = startMain({ GRPC_PORT: "fifty" });
    expect(await run.exited).toBe(1);
    expect(run.output().stderr).toBe('config error: GRPC_PORT must be an integer between 0 and 65535 (got "fifty")\n');
  });

  it("says which dependency is down at start and exits non-zero", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "arabicstt-main-"));
    dirs.push(dataDir);
    const port = await freePort();
    const run = startMain({
      DATA_DIR: dataDir,
      GRPC_PORT: "0",
      HTTP_PORT: "0",
      DATABASE_URL: `postgres://nobody:secret-pw@127.0.0.1:${port}/nothing`,
    });
    expect(await run.exited).toBe(1);
    const { stderr } = run.output();
    expect(stderr).toMatch(/^startup failed: database unavailable/);
    expect(stderr).toContain(`postgres://nobody@127.0.0.1:${port}/nothing`);
    expect(stderr).toContain("ECONNREFUSED");
    expect(stderr).not.toContain("secret-pw");
  });

  it("starts on embedded defaults, becomes ready, and exits 0 on SIGTERM", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "arabicstt-main-"));
    dirs.push(dataDir);
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const run = startMain({ DATA_DIR: dataDir, HOST: "127.0.0.1", GRPC_PORT: String(grpcPort), HTTP_PORT: String(httpPort) });
    const ready = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
      return res.status === 200 ? ((await res.json()) as { checks: Record<string, { ok: boolean }> }) : undefined;
    }, 60_000);
    expect(Object.keys(ready.checks).sort()).toEqual(["database", "inference", "storage"]);

    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    const lines = run.output().stdout.trim().split("\n").map((l) => JSON.parse(l) as { msg: string });
    const messages = lines.map((l) => l.msg);
    expect(messages).toContain("gateway listening");
    expect(messages.indexOf("drained")).toBeGreaterThan(messages.indexOf("shutting down"));
  });
});
