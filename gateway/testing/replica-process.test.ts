// A replica of the platform in a process of its own, as the resumable-stream tests use it: it shares the
// database (and Redis, when the run has it) with an in-process platform, serves the accounts registered
// there, and dies for real: SIGKILL ends it with no shutdown at all, SIGTERM runs the real drain.
import { randomBytes } from "node:crypto";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { testEnvironment } from "../../services/platform/config/test-environment.js";
import { createTestDatabase, type TestDatabase } from "../../services/app/testing.js";
import { registerOwner } from "./accounts.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "./platform.js";
import { startReplicaProcess, type ReplicaProcess } from "./replica-process.js";
import { withHeaders } from "./clients.js";

const { databaseUrl, redisUrl } = testEnvironment();
const replicas: ReplicaProcess[] = [];

afterEach(() => {
  // A test that failed half-way leaves no process behind.
  for (const r of replicas.splice(0)) r.kill("SIGKILL");
});

function speechOn(replica: ReplicaProcess, accessToken: string) {
  const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${replica.grpcPort}` });
  return createClient(SpeechService, withHeaders(transport, { authorization: `Bearer ${accessToken}` }));
}

// Embedded PGlite belongs to the one process that opened it: a second process cannot share it, so this
// runs only in the pass with a real PostgreSQL (DATABASE_URL), as CI's second pass has.
describe.skipIf(!databaseUrl)("a replica process sharing the in-process platform's PostgreSQL", () => {
  const signingKeys = `replica:${randomBytes(32).toString("hex")}`;
  let testDb: TestDatabase;
  let platform: TestPlatform;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    platform = await startTestPlatform({ JWT_SIGNING_KEYS: signingKeys, ...UNTHROTTLED }, {}, { testDb });
  });
  afterAll(async () => {
    await platform?.stop();
    await testDb?.cleanup();
  });

  it("serves an account registered on the in-process platform, then dies on SIGKILL", async () => {
    const owner = await registerOwner(platform);
    const replica = await startReplicaProcess({
      DATABASE_URL: testDb.url!,
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
      JWT_SIGNING_KEYS: signingKeys,
      ...UNTHROTTLED,
    });
    replicas.push(replica);
    const { models } = await speechOn(replica, owner.accessToken).listModels({});
    expect(models.length).toBeGreaterThan(0);

    replica.kill("SIGKILL");
    expect(await replica.exited).toEqual({ code: null, signal: "SIGKILL" });
    // Killed, not stopped: it never got to log its drain.
    expect(replica.output().stdout).not.toContain('"msg":"shutting down"');
  });
});

describe("a replica process on its own embedded database", () => {
  it("drains on SIGTERM through the API process's own shutdown path and exits 0", async () => {
    const replica = await startReplicaProcess({ JWT_SIGNING_KEYS: `replica:${randomBytes(32).toString("hex")}`, LOG_LEVEL: "info" });
    replicas.push(replica);
    expect((await fetch(`http://127.0.0.1:${replica.httpPort}/healthz`)).status).toBe(200);

    replica.kill("SIGTERM");
    expect(await replica.exited).toEqual({ code: 0, signal: null });
    const messages = replica.output().stdout.trim().split("\n").map((l) => (JSON.parse(l) as { msg?: string }).msg);
    expect(messages).toContain("gateway listening");
    expect(messages.indexOf("drained")).toBeGreaterThan(messages.indexOf("shutting down"));
  });
});
