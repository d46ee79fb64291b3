// GATEWAY_PROCESSES: `npm start`'s entry spawned for real as a primary and two gateway workers on one pair of
// ports, sharing a PostgreSQL database and Redis. Live calls (stereo μ-law keypad calls on the `dtmf` model, so
// every final is exact) on connections of their own are served by both workers; a worker killed with SIGKILL
// mid-call leaves its calls resumable on the other, every final once, and the primary starts a new worker;
// /metrics sums the workers; SIGTERM drains every worker and the primary exits 0. In the embedded mode the
// setting is refused at start, naming what it needs.
import * as grpc from "@grpc/grpc-js";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthService } from "../proto/gen/arabicstt/v1/auth_pb.js";
import { freePort } from "../inference/testing/ports.js";
import { createTestDatabase, type TestDatabase } from "../services/app/testing.js";
import { bareChildEnvironment, testEnvironment } from "../services/platform/config/test-environment.js";
import { grpcJsClient, loadGrpcJsPackage } from "./testing/clients.js";
import { TEST_PASSWORD, uniqueEmail } from "./testing/accounts.js";
import { UNTHROTTLED } from "./testing/platform.js";
import { configMessage, Connection, FRAME_BYTES, finalsByChannel, nextIndexOf, resumeMessage, stereoCall } from "./testing/keypad-calls.js";

const { databaseUrl, redisUrl } = testEnvironment();
const mainPath = fileURLToPath(new URL("./main.ts", import.meta.url));

interface LogLine {
  msg: string;
  pid?: number;
  role?: string;
  [field: string]: unknown;
}

/** `npm start` in a child process; its workers write to the same stdout (one JSON line each). */
function startMain(env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", mainPath], {
    env: bareChildEnvironment({ LOG_LEVEL: "info", ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const lines = () =>
    stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as LogLine);
  return { child, exited, lines, stderr: () => stderr };
}

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve(probe()).catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}


describe("GATEWAY_PROCESSES in the embedded mode", () => {
  it("is refused at start with one line that names what it needs, and exits 1", async () => {
    const run = startMain({ GATEWAY_PROCESSES: "2" });
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(run.stderr()).toBe(
      "config error: GATEWAY_PROCESSES above 1 needs DATABASE_URL and REDIS_URL (processes share live sessions, limits and data only through PostgreSQL and Redis; got 2)\n",
    );
  });
});

describe("GATEWAY_PROCESSES with a dependency down at start", () => {
  it("fails the whole start as one gateway's would: the workers say why, and the primary exits 1", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "arabicstt-processes-"));
    try {
      const [dbPort, redisPort] = [await freePort(), await freePort()];
      const run = startMain({ GATEWAY_PROCESSES: "2", DATA_DIR: dataDir, GRPC_PORT: "0", HTTP_PORT: "0", DATABASE_URL: `postgres://nobody@127.0.0.1:${dbPort}/nothing`, REDIS_URL: `redis://127.0.0.1:${redisPort}` });
      expect(await run.exited).toEqual({ code: 1, signal: null });
      expect(run.stderr()).toMatch(/^startup failed: database unavailable/);
      expect(run.lines().map((l) => l.msg)).toContain("a gateway process exited before every process was listening");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

// Workers share their sessions through PostgreSQL and Redis only: without both (the embedded pass) the setting is refused, above.
describe.skipIf(!databaseUrl || !redisUrl)("GATEWAY_PROCESSES=2 on PostgreSQL and Redis (skipped without DATABASE_URL and REDIS_URL: the setting needs both)", () => {
  const pkg = loadGrpcJsPackage();
  let testDb: TestDatabase;
  let dataDir: string;
  let grpcPort: number;
  let httpPort: number;
  let run: ReturnType<typeof startMain>;
  let token: string;
  const clients: grpc.Client[] = [];

  /** A client on a connection of its own: the primary deals each new connection to the next worker. */
  const ownConnection = () => {
    const client = grpcJsClient(pkg, "arabicstt.v1.SpeechService", `127.0.0.1:${grpcPort}`, {}, { "grpc.use_local_subchannel_pool": 1 });
    clients.push(client);
    return client;
  };
  const listeningPids = () => run.lines().filter((l) => l.msg === "gateway listening").map((l) => l.pid!);
  const streamsServedBy = () => new Set(run.lines().filter((l) => l.msg === "rpc" && l.rpc_method === "StreamingRecognize").map((l) => l.pid));

  beforeAll(async () => {
    testDb = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), "arabicstt-processes-"));
    [grpcPort, httpPort] = [await freePort(), await freePort()];
    run = startMain({
      GATEWAY_PROCESSES: "2",
      DATABASE_URL: testDb.url!,
      REDIS_URL: redisUrl!,
      DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      GRPC_PORT: String(grpcPort),
      HTTP_PORT: String(httpPort),
      JWT_SIGNING_KEYS: `processes:${randomBytes(32).toString("hex")}`,
      JOB_DEFAULT_MODEL: "dtmf",
      CLEANUP_INTERVAL_SECONDS: "0",
      SHUTDOWN_GRACE_MS: "2000",
      ...UNTHROTTLED,
    });
    await waitFor(() => (run.lines().some((l) => l.msg === "gateway processes started") ? true : undefined), 120_000, `both workers${run.stderr()}`);
    const registered = await createClient(AuthService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPort}` })).register({
      email: uniqueEmail(),
      password: TEST_PASSWORD,
      displayName: "سارة",
      organizationName: "مركز اتصال جدة",
    });
    token = registered.tokens!.accessToken;
  }, 150_000);

  afterAll(async () => {
    for (const c of clients.splice(0)) c.close();
    if (run?.child.exitCode === null) run.child.kill("SIGKILL");
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    await testDb?.cleanup();
  });

  it("starts two workers that listen on the same ports and answer the probes", async () => {
    expect(new Set(listeningPids()).size).toBe(2);
    expect(listeningPids()).not.toContain(run.child.pid);
    for (const l of run.lines().filter((l) => l.msg === "gateway listening")) expect([l.grpc_port, l.http_port]).toEqual([grpcPort, httpPort]);
    expect((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status).toBe(200);
    const ready = (await (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).json()) as { status: string };
    expect(ready.status).toBe("ready");
  });

  it("serves concurrent calls from both workers, and /metrics counts the calls of both", async () => {
    const call = stereoCall(3, [[[0.3, "1234"]], [[1.2, "56"]]]);
    // One after the other, so that each connection is dealt in turn; then all four calls run at once.
    const connections: Connection[] = [];
    for (let i = 0; i < 4; i++) {
      const c = new Connection(ownConnection(), token, configMessage);
      await c.until((r) => r.metadata !== null);
      connections.push(c);
    }
    await Promise.all(
      connections.map(async (c) => {
        await c.send(call);
        c.end();
        expect(await c.ended).toBeUndefined();
        expect(finalsByChannel([c])).toEqual({ 1: ["1234"], 2: ["56"] });
      }),
    );
    await waitFor(() => (run.lines().filter((l) => l.msg === "rpc" && l.rpc_method === "StreamingRecognize").length === 4 ? true : undefined), 10_000, "the calls' log lines");
    expect(streamsServedBy()).toEqual(new Set(listeningPids()));

    // Whichever worker answers the scrape, the count is the box's: four calls, not that worker's two.
    for (let i = 0; i < 3; i++) {
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`, { headers: { connection: "close" } })).text();
      const ok = /^arabicstt_rpc_requests_total\{[^}]*method="StreamingRecognize"[^}]*code="ok"[^}]*\} (\d+)$/m.exec(text);
      expect(ok?.[1]).toBe("4");
    }
  });

  it("a worker killed with SIGKILL mid-call: its calls resume on the other worker, every final once, and the primary starts a new worker", async () => {
    const call = stereoCall(8, [
      [
        [0.3, "12"],
        [4.5, "90"],
      ],
      [[2.0, "345"]],
    ]);
    const firsts: Connection[] = [];
    for (let i = 0; i < 4; i++) {
      const c = new Connection(ownConnection(), token, configMessage);
      await c.until((r) => r.metadata !== null);
      firsts.push(c);
    }
    await Promise.all(firsts.map(async (c) => {
      await c.send(call.subarray(0, FRAME_BYTES * 140));
      await c.until((r) => r.results.some((x) => x.is_final && x.channel_tag === 1));
    }));

    const [victim, survivor] = listeningPids();
    process.kill(victim!, "SIGKILL");
    // The victim's calls end; the survivor's go on.
    const outcomes = await Promise.all(firsts.map((c) => Promise.race([c.ended.then((err) => err?.code ?? "ended"), new Promise((r) => setTimeout(() => r("open"), 3000))])));
    expect(outcomes.filter((o) => o === grpc.status.UNAVAILABLE).length).toBe(2);
    expect(outcomes.filter((o) => o === "open").length).toBe(2);

    await Promise.all(
      firsts.map(async (first, i) => {
        if (outcomes[i] === "open") {
          await first.send(call.subarray(FRAME_BYTES * 140));
          first.end();
          expect(await first.ended).toBeUndefined();
          expect(finalsByChannel([first])).toEqual({ 1: ["12", "90"], 2: ["345"] });
          return;
        }
        const sessionId = first.responses.find((r) => r.metadata !== null)!.metadata!.session_id;
        const second = new Connection(ownConnection(), token, resumeMessage(sessionId, nextIndexOf(first)));
        const from = Number((await second.until((r) => r.metadata !== null)).metadata!.audio_bytes_received);
        await second.send(call.subarray(from));
        second.end();
        expect(await second.ended).toBeUndefined();
        expect(finalsByChannel([first, second])).toEqual({ 1: ["12", "90"], 2: ["345"] });
      }),
    );

    const restarted = await waitFor(() => run.lines().find((l) => l.msg === "gateway process restarted"), 30_000, "the restart");
    expect(restarted.replaces).toBe(victim);
    await waitFor(() => (listeningPids().includes(restarted.pid!) ? true : undefined), 120_000, "the new worker to listen");
    expect(new Set(listeningPids())).toEqual(new Set([victim, survivor, restarted.pid]));
    expect(run.child.exitCode).toBeNull();
  }, 180_000);

  it("SIGTERM: every worker drains, and the primary exits 0", async () => {
    const [a, b] = [new Connection(ownConnection(), token, configMessage), new Connection(ownConnection(), token, configMessage)];
    await Promise.all([a.until((r) => r.metadata !== null), b.until((r) => r.metadata !== null)]);
    const workers = listeningPids().slice(-2);
    run.child.kill("SIGTERM");
    expect(await run.exited).toEqual({ code: 0, signal: null });
    // Calls still open when the drain came end UNAVAILABLE (the client resumes them elsewhere).
    expect((await a.ended)?.code).toBe(grpc.status.UNAVAILABLE);
    expect((await b.ended)?.code).toBe(grpc.status.UNAVAILABLE);
    const drained = run.lines().filter((l) => l.msg === "drained").map((l) => l.pid);
    for (const pid of workers) expect(drained).toContain(pid);
  }, 60_000);
});
