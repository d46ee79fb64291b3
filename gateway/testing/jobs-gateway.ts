// A gateway with the real identity and jobs capabilities for the batch-job suites: its own database (PGlite,
// or a new database on DATABASE_URL), Redis (BullMQ and pub/sub) when REDIS_URL is set, S3 (Ceph RGW) when
// S3_ENDPOINT is set and the filesystem store otherwise, and a real inference sidecar over gRPC. Media rows
// are written straight to the database with their blob, as a finished upload leaves them.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { pino } from "pino";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";
import { DeleteBucketCommand } from "@aws-sdk/client-s3";
import { createInferenceClient, type InferenceClient } from "../../inference/client/index.js";
import { startSidecar, type Sidecar } from "../../inference/local/server.js";
import { loadConfig } from "../../services/platform/config/config.js";
import { withDomainErrors } from "../../services/platform/inference.js";
import { createTestDatabase, type TestDatabase } from "../../services/app/testing.js";
import { createJobsCapability, type JobsCapability, type JobsCapabilityOptions } from "../../services/jobs/capability.js";
import { jobHandler } from "../../services/jobs/handler.js";
import { Media } from "../../services/media/media.entity.js";
import { FsBlobStore, S3BlobStore, type BlobStore } from "../../services/platform/blobs/index.js";
import { createIdentity, type Identity } from "../../services/app/identity.js";
import { productRoutes } from "../routes.js";
import { startTestGateway, type TestGateway } from "./test-gateway.js";
import { withHeaders } from "./clients.js";

/** Lets a test hold or fail recognition calls: runs before every `transcribe`, with the call's signal. */
export type TranscribeHook = (signal: AbortSignal | undefined) => Promise<void>;

export interface JobsGateway {
  gw: TestGateway;
  identity: Identity;
  jobs: JobsCapability;
  testDb: TestDatabase;
  blobs: BlobStore;
  dataDir: string;
  /** Set to intercept the runner's recognition calls; undefined lets them through. */
  transcribeHook?: TranscribeHook;
  /** Set to intercept the runner's reads of media from the blob store (storage faults). */
  blobGetHook?: () => Promise<void>;
  client<S extends DescService>(service: S, options?: { credential?: string; protocol?: "grpc" | "connect" }): Client<S>;
  /** A ready media row of `organizationId` with the file's bytes in the media bucket. */
  addMedia(organizationId: string, file: string, fields?: Partial<Pick<Media, "status" | "channels" | "sampleRateHz" | "durationMs" | "codec">>): Promise<string>;
  stop(): Promise<void>;
}

export async function startJobsGateway(options: Pick<JobsCapabilityOptions, "hooks"> = {}): Promise<JobsGateway> {
  const testDb = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), "arabicstt-jobs-"));
  const redisUrl = process.env.REDIS_URL;
  const redis = redisUrl ? new Redis(redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  const namespace = `arabicstt-test-${randomUUID()}`;
  const config = loadConfig({ DATA_DIR: dataDir, JOB_STALE_SECONDS: "2", JOB_RECONCILE_SECONDS: "1", JOB_MAX_ATTEMPTS: "3", JOB_DEFAULT_MODEL: "dtmf" });
  const logger = pino({ level: "silent" });

  const sidecar: Sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir: "inference/models", weightsDir: path.join(dataDir, "weights"), logger });
  const inner = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`] });
  let h: JobsGateway;
  // As openInference hands it to the services: failing with domain errors, the hook's included.
  const inference = withDomainErrors(new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "transcribe") {
        return async (...args: Parameters<InferenceClient["transcribe"]>) => {
          await h.transcribeHook?.(args[2]?.signal);
          return target.transcribe(...args);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }));

  const s3 = process.env.S3_ENDPOINT;
  const run = `arabicstt-jobs-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const s3Config = s3
    ? {
        endpoint: s3,
        region: process.env.S3_REGION ?? "us-east-1",
        accessKeyId: process.env.S3_ACCESS_KEY_ID ?? "",
        secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? "",
        buckets: { media: `${run}-media`, processed: `${run}-processed`, exports: `${run}-exports` },
      }
    : undefined;
  const blobs: BlobStore = s3Config
    ? new S3BlobStore(s3Config)
    : new FsBlobStore({ dataDir, signingSecret: randomBytes(32).toString("hex"), publicBaseUrl: "http://127.0.0.1:1" });
  await blobs.ensureBuckets();
  const stored: string[] = [];
  // What the runner sees: the store, with reads a test can fail.
  const runnerBlobs = new Proxy(blobs, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      const fn = (value as (...a: unknown[]) => unknown).bind(target);
      if (prop !== "get") return fn;
      return async (...args: unknown[]) => {
        await h.blobGetHook?.();
        return fn(...args);
      };
    },
  });

  const identity = await createIdentity(config, { database: testDb.db, redis }, { rateLimitPrefix: namespace });
  const jobs = createJobsCapability(
    config.jobs,
    { database: testDb.db, blobs: runnerBlobs, inference, redis, redisUrl, logger },
    { runJobs: true, namespace, hooks: options.hooks, tuning: { heartbeatMs: 100, backoffMs: () => 100, watchPollMs: 200, lockDurationMs: 2000 } },
  );
  const gw = await startTestGateway({
    authenticator: identity.authenticator,
    limits: identity.limits,
    routes: productRoutes({ ...identity.handlers, "arabicstt.v1.JobService": jobHandler(jobs.jobs) }),
  });
  const grpc = createGrpcTransport({ baseUrl: `http://127.0.0.1:${gw.grpcPort}` });
  const connect = createConnectTransport({ baseUrl: `http://127.0.0.1:${gw.httpPort}`, httpVersion: "1.1" });

  h = {
    gw,
    identity,
    jobs,
    testDb,
    blobs,
    dataDir,
    client(service, clientOptions = {}) {
      const base: Transport = clientOptions.protocol === "connect" ? connect : grpc;
      return createClient(service, withHeaders(base, clientOptions.credential ? { authorization: `Bearer ${clientOptions.credential}` } : {}));
    },
    async addMedia(organizationId, file, fields = {}) {
      const bytes = await readFile(file);
      const id = randomUUID();
      const storageKey = `orgs/${organizationId}/media/${id}${path.extname(file)}`;
      await blobs.put("media", storageKey, bytes);
      stored.push(storageKey);
      const em = testDb.db.fork();
      em.create(Media, {
        id,
        organization: organizationId,
        filename: path.basename(file),
        contentType: "audio/wav",
        storageKey,
        sizeBytes: bytes.length,
        sha256: createHash("sha256").update(bytes).digest("hex"),
        status: "ready",
        ...fields,
      });
      await em.flush();
      return id;
    },
    async stop() {
      await gw.drain();
      await jobs.close();
      await identity.close();
      redis?.disconnect();
      inner.close();
      await sidecar.close();
      for (const key of stored) await blobs.delete("media", key).catch(() => undefined);
      if (s3Config && blobs instanceof S3BlobStore) {
        for (const Bucket of Object.values(s3Config.buckets)) await blobs.client.send(new DeleteBucketCommand({ Bucket })).catch(() => undefined);
      }
      await testDb.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}
