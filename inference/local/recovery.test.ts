// The sidecar as its own process (`npm run sidecar`), dying and coming back under a client that
// keeps going. A SIGKILL in the middle of a long request must reach the caller as the client's
// UNAVAILABLE error (a retryable outage, not a deadline or a bug), and once the sidecar is back on
// its port the very same client must find it again by itself: no new client, no reconnect by
// hand. SIGTERM, the way an orchestrator stops it, must end it cleanly with exit code 0.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../testing/ports.js";
import { createInferenceClient, type InferenceClient } from "../client/index.js";
import { InferenceUnavailableError } from "../client/errors.js";
import { addNoise, dtmfSequence } from "../client/testing/signals.js";
import { childEnvironment } from "./config.js";
import { REPOSITORY_MODEL_COUNT } from "./testing/repository-models.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const modelsDir = fileURLToPath(new URL("../models/", import.meta.url));

interface SidecarProcess {
  /** The tsx launcher, leader of the process group that also holds the sidecar's own node process. */
  child: ChildProcess;
  /** Resolves once every model has reported its state: the sidecar listens and serves. */
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote so far (JSON log lines). */
  output(): string;
}

/** Starts `tsx inference/local/main.ts` as `npm run sidecar` does, in a process group of its own. */
function spawnSidecar(port: number, weightsDir: string): SidecarProcess {
  const child = spawn(join(repoRoot, "node_modules/.bin/tsx"), ["inference/local/main.ts"], {
    cwd: repoRoot,
    env: childEnvironment({ SIDECAR_HOST: "127.0.0.1", SIDECAR_PORT: String(port), MODEL_REPOSITORY: modelsDir, MODEL_WEIGHTS_DIR: weightsDir, LOG_LEVEL: "info" }),
    // Its own group, so that a SIGKILL takes tsx and the node process it runs the sidecar in,
    // as a container's death would.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      // One "model ready" / "model not ready" line per model of the repository, after the models load.
      if ((output.match(/"msg":"model (not )?ready"/g) ?? []).length >= REPOSITORY_MODEL_COUNT) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then(({ code, signal }) => reject(new Error(`the sidecar exited (${signal ?? `code ${code}`}) before it was ready:\n${output}`)));
  });
  ready.catch(() => {});
  return { child, ready, exited, output: () => output };
}

/** The node process that runs the sidecar under the tsx launcher. */
function serverPid(launcher: ChildProcess): number {
  const pid = Number(execFileSync("ps", ["-o", "pid=", "--ppid", String(launcher.pid)], { encoding: "utf8" }).trim().split(/\s+/)[0]);
  expect(pid).toBeGreaterThan(0);
  return pid;
}

/** CPU time (clock ticks) a process has used, from /proc. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime, fields 14 and 15 of proc(5), counted from the state field (3).
  return Number(fields[11]) + Number(fields[12]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("sidecar process: killed and restarted under a live client", () => {
  let port: number;
  let weightsDir: string;
  let client: InferenceClient;
  const processes: SidecarProcess[] = [];
  const keys = dtmfSequence("159#");

  async function start(): Promise<SidecarProcess> {
    const sidecar = spawnSidecar(port, weightsDir);
    processes.push(sidecar);
    await sidecar.ready;
    return sidecar;
  }

  beforeAll(async () => {
    port = await freePort();
    // Empty: whisper and speaker_embedding stay unavailable; dtmf and vad need no weights.
    weightsDir = await mkdtemp(join(tmpdir(), "arabicstt-weights-"));
    client = createInferenceClient({
      addresses: [`127.0.0.1:${port}`],
      deadlineMs: 120_000,
      retry: { maxAttempts: 4, initialBackoffMs: 50, maxBackoffMs: 200 },
      // A short cooldown, so that the restarted sidecar is probed soon after it is back.
      breaker: { failureThreshold: 3, cooldownMs: 500 },
    });
  });

  afterAll(async () => {
    client?.close();
    for (const sidecar of processes) {
      if (sidecar.child.exitCode === null && sidecar.child.signalCode === null) {
        process.kill(-sidecar.child.pid!, "SIGKILL");
        await sidecar.exited;
      }
    }
    if (weightsDir) await rm(weightsDir, { recursive: true, force: true });
  });

  it("serves the client from its own process", async () => {
    await start();
    expect((await client.transcribe("dtmf", keys.audio)).text).toBe("159#");
    expect((await client.vad(new Float32Array(16_000))).probabilities).toHaveLength(32);
  });

  it("when SIGKILLed mid-request, fails that request as UNAVAILABLE; back on its port, the same client succeeds again", async () => {
    const first = processes.at(-1)!;
    const sidecarPid = serverPid(first.child);
    // Twelve minutes of noise: seconds of VAD work, so the process is surely busy with it when it dies.
    const long = addNoise(new Float32Array(12 * 60 * 16_000), 0.01);
    const before = cpuTicks(sidecarPid);
    let settled = false;
    const pending = client
      .vad(long)
      .then((result) => result, (err: unknown) => err)
      .finally(() => (settled = true));
    // Half a second of the sidecar's CPU spent on it: the request has arrived and is being worked on.
    while (!settled && cpuTicks(sidecarPid) - before < 50) await sleep(10);
    expect(settled, "the request finished before the test could kill the sidecar").toBe(false);
    process.kill(-first.child.pid!, "SIGKILL");

    // UNAVAILABLE, not DEADLINE_EXCEEDED: the client gave up on a dead server, not on the clock
    // (its deadline is two minutes).
    const failure = await pending;
    expect(failure).toBeInstanceOf(InferenceUnavailableError);
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });

    // While it is down, calls fail the same way.
    await expect(client.transcribe("dtmf", keys.audio)).rejects.toBeInstanceOf(InferenceUnavailableError);

    await start();
    // The same client: its channel reconnects and its breaker lets a probe through on its own.
    // Until then every failure must be the same UNAVAILABLE, never another error.
    let recovered: string | undefined;
    for (let attempt = 0; attempt < 60 && recovered === undefined; attempt++) {
      try {
        recovered = (await client.transcribe("dtmf", keys.audio)).text;
      } catch (err) {
        expect(err).toBeInstanceOf(InferenceUnavailableError);
        await sleep(250);
      }
    }
    expect(recovered).toBe("159#");
    expect((await client.vad(new Float32Array(16_000))).probabilities).toHaveLength(32);
  });

  it("exits 0 on SIGTERM, with a client connected", async () => {
    const running = processes.at(-1)!;
    expect(await client.serverLive()).toBe(true);
    running.child.kill("SIGTERM");
    expect(await running.exited).toEqual({ code: 0, signal: null });
    expect(running.output()).toContain('"signal":"SIGTERM","msg":"sidecar shutting down"');
    await expect(client.serverLive()).rejects.toBeInstanceOf(InferenceUnavailableError);
  });
});
