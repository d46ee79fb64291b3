// A gateway with the real identity capabilities on a database of its own (PGlite, or a new
// database on DATABASE_URL) and Redis when REDIS_URL is set, for the identity suites; with
// `{ transcripts: true }` also transcripts, exports and usage over a blob store of its own (the
// filesystem store served by the gateway, or new buckets on S3_ENDPOINT).
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";
import { loadConfig } from "../../services/config/config.js";
import { createTestDatabase, type TestDatabase } from "../../services/database/testing.js";
import { createIdentity, type Identity } from "../identity.js";
import { productRoutes } from "../routes.js";
import { startTestGateway, type TestGateway } from "./test-gateway.js";
import { withHeaders } from "./clients.js";
import { createWebhooks, type WebhooksCapability } from "../webhooks.js";
import type { ProductHandlers } from "../routes.js";
import { freePort } from "./ports.js";
import { createBlobStore, createFsBlobHttpHandler, FsBlobStore, type BlobStore } from "../../services/storage/index.js";
import type { HttpRoute } from "../../services/platform/probes.js";
import { createTranscriptCapabilities, type TranscriptCapabilities } from "../transcripts.js";

export interface IdentityGateway {
  gw: TestGateway;
  identity: Identity;
  webhooks: WebhooksCapability;
  /** Every handler mounted: identity's, webhooks' and (with `transcripts`) transcripts'. */
  handlers: ProductHandlers;
  testDb: TestDatabase;
  redis?: Redis;
  /** The gateway's DATA_DIR (its mail outbox lives in `outbox/`). */
  dataDir: string;
  /** With `{ transcripts: true }`: the capabilities and the blob store behind them. */
  transcripts?: TranscriptCapabilities;
  blobs?: BlobStore;
  /** A client over gRPC (`grpc`) or Connect (`connect`), sending `credential` as a bearer token when given. */
  client<S extends DescService>(service: S, options?: { credential?: string; protocol?: "grpc" | "connect"; headers?: Record<string, string> }): Client<S>;
  stop(): Promise<void>;
}

export async function startIdentityGateway(
  env: Record<string, string> = {},
  options: {
    /** CA certificates webhook deliveries trust (a test receiver's self-signed certificate). */
    webhookCa?: string;
    webhookPollIntervalMs?: number;
    /** Also transcripts, exports and usage, over a blob store of the gateway's own. */
    transcripts?: boolean;
  } = {},
): Promise<IdentityGateway> {
  const testDb = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), "arabicstt-identity-"));
  const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 2 }) : undefined;
  if (options.transcripts) env = { HTTP_PORT: String(await freePort()), ...env };
  const config = loadConfig({ DATA_DIR: dataDir, ...env });
  const identity = await createIdentity(config, { database: testDb.db, redis }, { rateLimitPrefix: `arabicstt-test:${randomUUID()}` });
  const webhooks = await createWebhooks(config, { database: testDb.db, audit: identity.audit }, { ca: options.webhookCa, pollIntervalMs: options.webhookPollIntervalMs });
  let transcripts: TranscriptCapabilities | undefined;
  let blobs: BlobStore | undefined;
  const httpRoutes: HttpRoute[] = [];
  if (options.transcripts) {
    blobs = testBlobStore(dataDir, `http://127.0.0.1:${config.httpPort}`);
    await blobs.ensureBuckets();
    if (blobs instanceof FsBlobStore) httpRoutes.push(createFsBlobHttpHandler(blobs, { maxUploadBytes: 64 * 1024 ** 2 }));
    transcripts = createTranscriptCapabilities(config, { database: testDb.db, blobs });
  }
  const handlers: ProductHandlers = { ...identity.handlers, ...webhooks.handlers, ...transcripts?.handlers };
  const gw = await startTestGateway({ env, authenticator: identity.authenticator, limits: identity.limits, routes: productRoutes(handlers), httpRoutes });
  const grpc = createGrpcTransport({ baseUrl: `http://127.0.0.1:${gw.grpcPort}` });
  const connect = createConnectTransport({ baseUrl: `http://127.0.0.1:${gw.httpPort}`, httpVersion: "1.1" });
  return {
    gw,
    identity,
    webhooks,
    handlers,
    testDb,
    redis,
    dataDir,
    transcripts,
    blobs,
    client(service, options = {}) {
      const base: Transport = options.protocol === "connect" ? connect : grpc;
      const headers = { ...(options.credential ? { authorization: `Bearer ${options.credential}` } : {}), ...options.headers };
      return createClient(service, withHeaders(base, headers));
    },
    async stop() {
      await gw.drain();
      await webhooks.close();
      await identity.close();
      redis?.disconnect();
      await testDb.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** New buckets on S3_ENDPOINT when it is set (left for the server's lifecycle to clear), else the filesystem store. */
function testBlobStore(dataDir: string, publicBaseUrl: string): BlobStore {
  if (!process.env.S3_ENDPOINT) return createBlobStore({ kind: "fs", dataDir, signingSecret: randomBytes(32).toString("hex"), publicBaseUrl });
  const run = `arabicstt-test-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  return createBlobStore({
    kind: "s3",
    endpoint: process.env.S3_ENDPOINT,
    region: process.env.S3_REGION ?? "us-east-1",
    accessKeyId: process.env.S3_ACCESS_KEY_ID ?? "",
    secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? "",
    buckets: { media: `${run}-media`, processed: `${run}-processed`, exports: `${run}-exports` },
  });
}
