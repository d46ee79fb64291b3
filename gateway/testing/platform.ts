// The whole platform for a test file, started through the same root as `npm start` (gateway/platform.ts):
// a database of its own (PGlite, or a new database on DATABASE_URL), Redis when REDIS_URL is set, a blob
// store of its own (the filesystem store served by the gateway, or new buckets on S3_ENDPOINT), the local
// inference sidecar on a free port, ephemeral listener ports, and every log line captured.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";
import { loadConfig, type Config } from "../../services/platform/config/config.js";
import { testEnvironment } from "../../services/platform/config/test-environment.js";
import type { Logger } from "../../services/platform/logger.js";
import { createTestBlobStore, type TestBlobStore } from "../../services/platform/blobs/testing.js";
import type { BlobStore } from "../../services/platform/blobs/index.js";
import { createTestDatabase, type TestDatabase } from "../../services/app/testing.js";
import { freePort } from "../../inference/testing/ports.js";
import { startPlatform, type Platform, type PlatformOverrides } from "../platform.js";
import { withHeaders } from "./clients.js";
import { capturedLogger } from "./logs.js";

/** Limits high enough that a suite streaming many small requests from one account is never throttled. */
export const UNTHROTTLED: Record<string, string> = {
  RATE_LIMIT_USER: "100000/1",
  RATE_LIMIT_API_KEY: "100000/1",
  RATE_LIMIT_IP: "100000/1",
  MAX_LIVE_STREAMS_PER_ORG: "1000",
};

export interface TestPlatform {
  platform: Platform;
  config: Config;
  testDb: TestDatabase;
  blobs: TestBlobStore;
  /** The platform's DATA_DIR (its mail outbox lives in `outbox/`). */
  dataDir: string;
  /** Every JSON log line written so far. */
  logs: Array<Record<string, unknown>>;
  logger: Logger;
  /** A client over gRPC (`grpc`) or Connect (`connect`), sending `credential` as a bearer token when given. */
  client<S extends DescService>(service: S, options?: ClientOptions): Client<S>;
  stop(): Promise<void>;
}

export interface ClientOptions {
  credential?: string;
  protocol?: "grpc" | "connect";
  headers?: Record<string, string>;
}

/**
 * Starts the platform on `env` (the variables a deployment would set) over the test's own adapters.
 * `overrides.adapters` may replace the database, blob store or inference client the harness opens.
 */
const pgliteNamespaces = new WeakMap<TestDatabase, string>();

/** One namespace per embedded test database, shared by the platforms on it. */
function pgliteNamespace(testDb: TestDatabase): string {
  let namespace = pgliteNamespaces.get(testDb);
  if (!namespace) pgliteNamespaces.set(testDb, (namespace = `pglite-${randomUUID()}`));
  return namespace;
}

export async function startTestPlatform(
  env: Record<string, string> = {},
  overrides: PlatformOverrides = {},
  harness: {
    /** What the platform gets in place of the test blob store (a wrapper with fault hooks); the store itself stays in `blobs`. */
    wrapBlobs?: (store: BlobStore) => BlobStore;
    /** A database the caller made and removes (replicas of one platform share it); a new one of its own otherwise. */
    testDb?: TestDatabase;
  } = {},
): Promise<TestPlatform> {
  const services = testEnvironment();
  const ownDb = !harness.testDb;
  const testDb = harness.testDb ?? (await createTestDatabase());
  const dataDir = await mkdtemp(path.join(tmpdir(), "arabicstt-platform-"));
  // The filesystem store signs URLs for the HTTP listener, so its port is chosen before it listens.
  const httpPort = env.HTTP_PORT ?? String(await freePort());
  const config = loadConfig({
    HOST: "127.0.0.1",
    GRPC_PORT: "0",
    SIDECAR_PORT: "0",
    LOG_LEVEL: "debug",
    CLEANUP_INTERVAL_SECONDS: "0",
    DATA_DIR: dataDir,
    ...(services.redisUrl ? { REDIS_URL: services.redisUrl } : {}),
    // The platform's database is the test's: a replica process given this URL shares its live sessions.
    ...(testDb.url ? { DATABASE_URL: testDb.url } : {}),
    ...env,
    HTTP_PORT: httpPort,
  });
  const blobs = await createTestBlobStore({
    dataDir,
    publicBaseUrl: `http://127.0.0.1:${httpPort}`,
    maxUploadBytes: Math.max(config.media.multipartThresholdBytes, config.media.multipartPartBytes),
  });
  const { logs, logger } = capturedLogger(config.logLevel);
  const namespace = `arabicstt-test-${randomUUID()}`;
  let platform: Platform;
  try {
    platform = await startPlatform(config, logger, {
      rateLimitPrefix: namespace,
      readiness: { timeoutMs: 500, cacheMs: 0 },
      ...overrides,
      // Replicas of one test share live sessions in Redis; other test files' platforms (other databases) never see them.
      speech: { ...(testDb.url ? {} : { streamNamespace: pgliteNamespace(testDb) }), ...overrides.speech },
      adapters: { database: testDb.db, blobs: harness.wrapBlobs?.(blobs.store) ?? blobs.store, ...overrides.adapters },
      media: { sweepIntervalMs: 0, ...overrides.media },
      jobs: { namespace, ...overrides.jobs },
    });
  } catch (err) {
    await blobs.cleanup();
    if (ownDb) await testDb.cleanup();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const grpc = createGrpcTransport({ baseUrl: `http://127.0.0.1:${platform.gateway.grpcPort}` });
  const connect = createConnectTransport({ baseUrl: `http://127.0.0.1:${platform.gateway.httpPort}`, httpVersion: "1.1" });
  return {
    platform,
    config,
    testDb,
    blobs,
    dataDir,
    logs,
    logger,
    client(service, options = {}) {
      const base: Transport = options.protocol === "connect" ? connect : grpc;
      const headers = { ...(options.credential ? { authorization: `Bearer ${options.credential}` } : {}), ...options.headers };
      return createClient(service, withHeaders(base, headers));
    },
    async stop() {
      await platform.stop();
      await blobs.cleanup();
      if (ownDb) await testDb.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
