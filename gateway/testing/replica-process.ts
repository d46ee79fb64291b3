// A second gateway for tests that needs to die for real: the whole platform in a child Node process
// (the API process of `npm start`, gateway/process.ts), so that `kill("SIGKILL")` is a kill -9 with no
// finally blocks, no drain and no goodbye on any connection, and `kill("SIGTERM")` is the real drain.
// Replicas share what the caller passes in `env` (DATABASE_URL, REDIS_URL, JWT_SIGNING_KEYS, ...) with the
// in-process platform, as a deployment's replicas do.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bareChildEnvironment } from "../../services/platform/config/test-environment.js";
import { freePort } from "../../inference/testing/ports.js";
import type { PlatformOverrides } from "../platform.js";

const entry = fileURLToPath(new URL("./replica-main.ts", import.meta.url));
const repositoryRoot = fileURLToPath(new URL("../..", import.meta.url));

export interface ReplicaProcess {
  grpcPort: number;
  httpPort: number;
  pid: number;
  /** Sends `signal` (SIGTERM by default) to the process itself; SIGKILL is a real kill -9. */
  kill(signal?: NodeJS.Signals): void;
  /** Settles when the process has exited: its exit code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the process wrote so far (JSON log lines on stdout, errors on stderr). */
  output(): { stdout: string; stderr: string };
}

export interface ReplicaOptions {
  /**
   * Composition overrides (session and bus timings, limits), sent to the child as JSON: only plain data
   * survives the trip, no adapters, buses or functions.
   */
  overrides?: Omit<PlatformOverrides, "adapters">;
  /** How long the process may take to listen before it is killed and the start fails. Default 60 s. */
  readyTimeoutMs?: number;
}

/**
 * Starts the platform in a child process on `env` over test-friendly defaults (loopback, ephemeral
 * ports, a DATA_DIR of its own removed after exit, debug logs) and resolves once it listens. Without
 * DATABASE_URL in `env` the child opens an embedded PGlite of its own in its DATA_DIR: PGlite cannot be
 * shared across processes, so replicas that share a database need a real PostgreSQL.
 */
export async function startReplicaProcess(env: Record<string, string>, options: ReplicaOptions = {}): Promise<ReplicaProcess> {
  const ownDataDir = env.DATA_DIR === undefined ? await mkdtemp(path.join(tmpdir(), "arabicstt-replica-")) : undefined;
  // The filesystem blob store signs URLs for the HTTP listener, so its port is chosen before it listens.
  const httpPort = env.HTTP_PORT ?? String(await freePort());
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...(options.overrides ? [JSON.stringify(options.overrides)] : [])], {
    cwd: repositoryRoot,
    env: bareChildEnvironment({
      HOST: "127.0.0.1",
      GRPC_PORT: "0",
      SIDECAR_PORT: "0",
      LOG_LEVEL: "debug",
      CLEANUP_INTERVAL_SECONDS: "0",
      ...(ownDataDir ? { DATA_DIR: ownDataDir } : {}),
      ...env,
      HTTP_PORT: httpPort,
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  void exited.then(() => (ownDataDir ? rm(ownDataDir, { recursive: true, force: true }) : undefined));

  const output = () => ({ stdout, stderr });
  const tail = () => `\n--- stderr ---\n${stderr.slice(-4000)}\n--- stdout ---\n${stdout.slice(-4000)}`;

  const ready = await new Promise<{ grpcPort: number; httpPort: number; pid: number }>((resolve, reject) => {
    let pending = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`replica did not start within ${options.readyTimeoutMs ?? 60_000} ms${tail()}`));
    }, options.readyTimeoutMs ?? 60_000);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      pending += d;
      // Whole lines only: a chunk may end in the middle of one.
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const ready = readyLine(line);
        if (ready) {
          clearTimeout(timer);
          resolve(ready);
        }
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`replica exited before it was ready (code ${code}, signal ${signal})${tail()}`));
    });
  });

  return {
    ...ready,
    kill: (signal = "SIGTERM") => void child.kill(signal),
    exited,
    output,
  };
}

function readyLine(line: string): { grpcPort: number; httpPort: number; pid: number } | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    return (JSON.parse(line) as { replicaReady?: { grpcPort: number; httpPort: number; pid: number } }).replicaReady;
  } catch {
    return undefined;
  }
}
