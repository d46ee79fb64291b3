// A gateway with the real identity capabilities on a database of its own (PGlite, or a new
// database on DATABASE_URL) and Redis when REDIS_URL is set, for the identity suites; with
// `{ transcripts: true }` also transcripts, exports and usage, and with `{ media: … }` MediaService, over a
// blob store of its own (the filesystem store served by the gateway, or new buckets on S3_ENDPOINT).
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";
import { loadConfig } from "../../services/platform/config/config.js";
import { createTestDatabase, type TestDatabase } from "../../services/app/testing.js";
import { createIdentity, type Identity } from "../../services/app/identity.js";
import { productRoutes } from "../routes.js";
import { startTestGateway, type TestGateway } from "./test-gateway.js";
import { withHeaders } from "./clients.js";
import { createWebhooks, type WebhooksCapability } from "../../services/app/webhooks.js";
import type { ProductHandlers } from "../../services/app/product-services.js";
import { freePort } from "../../inference/testing/ports.js";
import { createTranscriptCapabilities, type TranscriptCapabilities } from "../../services/app/transcripts.js";
import { createMedia, type MediaCapability, type MediaCapabilityOptions } from "../../services/app/media.js";
import { createTestBlobStore, type TestBlobStore } from "../../services/platform/blobs/testing.js";

export interface IdentityGateway {
  gw: TestGateway;
  identity: Identity;
  webhooks: WebhooksCapability;
  /** Present when asked for with `{ media }`. */
  media?: MediaCapability;
  /** Every handler mounted: identity's, webhooks' and those asked for. */
  handlers: ProductHandlers;
  testDb: TestDatabase;
  redis?: Redis;
  /** The gateway's DATA_DIR (its mail outbox lives in `outbox/`). */
  dataDir: string;
  /** With `{ transcripts: true }`: the capabilities and the blob store behind them. */
  transcripts?: TranscriptCapabilities;
  blobs?: TestBlobStore;
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
    /** Also MediaService, over a blob store of the gateway's own. */
    media?: MediaCapabilityOptions;
  } = {},
): Promise<IdentityGateway> {
  const testDb = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), "arabicstt-identity-"));
  const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 2 }) : undefined;
  // The filesystem store signs URLs for the HTTP listener, so its port is chosen before it listens.
  const needsBlobs = Boolean(options.transcripts || options.media);
  if (needsBlobs && !env.HTTP_PORT) env = { ...env, HTTP_PORT: String(await freePort()) };
  const config = loadConfig({ DATA_DIR: dataDir, ...env });
  const identity = await createIdentity(config, { database: testDb.db, redis }, { rateLimitPrefix: `arabicstt-test:${randomUUID()}` });
  const webhooks = await createWebhooks(config, { database: testDb.db, audit: identity.audit }, { ca: options.webhookCa, pollIntervalMs: options.webhookPollIntervalMs });
  const blobs = needsBlobs
    ? await createTestBlobStore({
        dataDir,
        publicBaseUrl: `http://127.0.0.1:${config.httpPort}`,
        maxUploadBytes: Math.max(config.media.multipartThresholdBytes, config.media.multipartPartBytes),
      })
    : undefined;
  const transcripts = options.transcripts && blobs ? createTranscriptCapabilities(config, { database: testDb.db, blobs: blobs.store }) : undefined;
  const media = options.media && blobs ? createMedia(config, { database: testDb.db, blobs: blobs.store }, identity.audit, { sweepIntervalMs: 0, ...options.media }) : undefined;
  const handlers: ProductHandlers = { ...identity.handlers, ...webhooks.handlers, ...transcripts?.handlers, ...media?.handlers };
  const gw = await startTestGateway({
    env,
    authenticator: identity.authenticator,
    limits: identity.limits,
    routes: productRoutes(handlers),
    httpRoutes: blobs?.httpRoute ? [blobs.httpRoute] : [],
  });
  const grpc = createGrpcTransport({ baseUrl: `http://127.0.0.1:${gw.grpcPort}` });
  const connect = createConnectTransport({ baseUrl: `http://127.0.0.1:${gw.httpPort}`, httpVersion: "1.1" });
  return {
    gw,
    identity,
    webhooks,
    media,
    blobs,
    handlers,
    testDb,
    redis,
    dataDir,
    transcripts,
    client(service, options = {}) {
      const base: Transport = options.protocol === "connect" ? connect : grpc;
      const headers = { ...(options.credential ? { authorization: `Bearer ${options.credential}` } : {}), ...options.headers };
      return createClient(service, withHeaders(base, headers));
    },
    async stop() {
      await gw.drain();
      await media?.close();
      await webhooks.close();
      await identity.close();
      await blobs?.cleanup();
      redis?.disconnect();
      await testDb.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

