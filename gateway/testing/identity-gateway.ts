// The platform for the identity, transcript, media and webhook suites, started through the gateway's
// composition root (./platform.ts) with the test's own database, blob store and Redis keys.
import type { Redis } from "ioredis";
import type { Client } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import type { TestDatabase } from "../../services/app/testing.js";
import type { Identity } from "../../services/app/identity.js";
import type { WebhooksCapability } from "../../services/app/webhooks.js";
import type { ProductHandlers } from "../../services/app/product-services.js";
import type { TranscriptCapabilities } from "../../services/app/transcripts.js";
import type { MediaCapability, MediaCapabilityOptions } from "../../services/app/media.js";
import type { TestBlobStore } from "../../services/platform/blobs/testing.js";
import { startTestPlatform, type ClientOptions, type TestPlatform } from "./platform.js";

export interface IdentityGateway {
  /** The whole platform, with its captured logs. */
  platform: TestPlatform;
  /** Its gateway (ports, in-flight RPCs). */
  gw: TestPlatform["platform"]["gateway"];
  identity: Identity;
  webhooks: WebhooksCapability;
  media: MediaCapability;
  /** Every handler mounted. */
  handlers: ProductHandlers;
  testDb: TestDatabase;
  redis?: Redis;
  /** The gateway's DATA_DIR (its mail outbox lives in `outbox/`). */
  dataDir: string;
  transcripts: TranscriptCapabilities;
  blobs: TestBlobStore;
  /** A client over gRPC (`grpc`) or Connect (`connect`), sending `credential` as a bearer token when given. */
  client<S extends DescService>(service: S, options?: ClientOptions): Client<S>;
  stop(): Promise<void>;
}

export async function startIdentityGateway(
  env: Record<string, string> = {},
  options: {
    /** CA certificates webhook deliveries trust (a test receiver's self-signed certificate). */
    webhookCa?: string;
    webhookPollIntervalMs?: number;
    /** MediaService's options (the sweeper is off unless an interval is given). */
    media?: MediaCapabilityOptions;
  } = {},
): Promise<IdentityGateway> {
  const t = await startTestPlatform(env, {
    webhooks: { ca: options.webhookCa, pollIntervalMs: options.webhookPollIntervalMs },
    media: options.media,
  });
  const { platform } = t;
  return {
    platform: t,
    gw: platform.gateway,
    identity: platform.identity,
    webhooks: platform.webhooks,
    media: platform.media,
    handlers: platform.handlers,
    testDb: t.testDb,
    redis: platform.redis,
    dataDir: t.dataDir,
    transcripts: platform.transcripts,
    blobs: t.blobs,
    client: (service, clientOptions) => t.client(service, clientOptions),
    stop: () => t.stop(),
  };
}
