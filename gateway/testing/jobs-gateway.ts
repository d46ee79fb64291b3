// The platform for the batch-job suites, started through the gateway's composition root (./platform.ts):
// its own database (PGlite, or a new database on DATABASE_URL), Redis (BullMQ and pub/sub) when REDIS_URL
// is set, S3 (Ceph RGW) when S3_ENDPOINT is set and the filesystem store otherwise, and a real inference
// sidecar over gRPC whose recognition calls (and the runner's blob reads) a test can hold or fail. Media
// rows are written straight to the database with their blob, as a finished upload leaves them.
import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Client } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import { createInferenceClient } from "../../inference/client/index.js";
import { startSidecar, type SidecarOptions } from "../../inference/local/server.js";
import type { TestDatabase } from "../../services/app/testing.js";
import type { Identity } from "../../services/app/identity.js";
import type { JobsCapability, JobsCapabilityOptions } from "../../services/jobs/capability.js";
import { Media } from "../../services/media/media.entity.js";
import type { BlobStore } from "../../services/platform/blobs/index.js";
import { startTestPlatform, type ClientOptions, type TestPlatform } from "./platform.js";
import { silentLogger } from "./logs.js";

/** Lets a test hold or fail recognition calls: runs before every `transcribe`, with the call's signal. */
export type TranscribeHook = (signal: AbortSignal | undefined) => Promise<void>;

export interface JobsGateway {
  platform: TestPlatform;
  identity: Identity;
  jobs: JobsCapability;
  testDb: TestDatabase;
  blobs: BlobStore;
  dataDir: string;
  /** Set to intercept the runner's recognition calls; undefined lets them through. */
  transcribeHook?: TranscribeHook;
  /** Set to intercept the runner's reads of media from the blob store (storage faults). */
  blobGetHook?: () => Promise<void>;
  client<S extends DescService>(service: S, options?: ClientOptions): Client<S>;
  /** A ready media row of `organizationId` with the file's bytes in the media bucket. */
  addMedia(organizationId: string, file: string, fields?: Partial<Pick<Media, "status" | "channels" | "sampleRateHz" | "durationMs" | "codec" | "container">>): Promise<string>;
  stop(): Promise<void>;
}

export async function startJobsGateway(options: Pick<JobsCapabilityOptions, "hooks"> & Pick<SidecarOptions, "models"> & { env?: Record<string, string> } = {}): Promise<JobsGateway> {
  let h: JobsGateway | undefined;
  // No weights: the suites recognise with `dtmf`, which needs none.
  const weightsDir = await mkdtemp(path.join(tmpdir(), "arabicstt-jobs-weights-"));
  const sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir: "inference/models", weightsDir, logger: silentLogger(), models: options.models });
  const inner = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`] });
  const inference = withHook(inner, "transcribe", (args) => h?.transcribeHook?.((args[2] as { signal?: AbortSignal } | undefined)?.signal));
  let t: TestPlatform;
  try {
    t = await startTestPlatform(
      { JOB_STALE_SECONDS: "2", JOB_RECONCILE_SECONDS: "1", JOB_MAX_ATTEMPTS: "3", JOB_DEFAULT_MODEL: "dtmf", ...options.env },
      {
        adapters: { inference },
        jobs: { runJobs: true, hooks: options.hooks, tuning: { heartbeatMs: 100, backoffMs: () => 100, watchPollMs: 200, lockDurationMs: 2000 } },
      },
      // Reads from the store (the runner's) that a test can fail.
      { wrapBlobs: (store) => withHook(store, "get", () => h?.blobGetHook?.()) },
    );
  } catch (err) {
    inner.close();
    await sidecar.close();
    await rm(weightsDir, { recursive: true, force: true });
    throw err;
  }
  const blobs = t.blobs.store;
  h = {
    platform: t,
    identity: t.platform.identity,
    jobs: t.platform.jobs,
    testDb: t.testDb,
    blobs,
    dataDir: t.dataDir,
    client: (service, clientOptions) => t.client(service, clientOptions),
    async addMedia(organizationId, file, fields = {}) {
      const bytes = await readFile(file);
      const id = randomUUID();
      const storageKey = `orgs/${organizationId}/media/${id}${path.extname(file)}`;
      await blobs.put("media", storageKey, bytes);
      const em = t.testDb.db.fork();
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
      await t.stop();
      inner.close();
      await sidecar.close();
      await rm(weightsDir, { recursive: true, force: true });
    },
  };
  return h;
}

/** `target` with `before(args)` awaited ahead of every call of its method `method`. */
function withHook<T extends object>(target: T, method: string, before: (args: unknown[]) => Promise<void> | undefined): T {
  return new Proxy(target, {
    get(object, prop, receiver) {
      const value = Reflect.get(object, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      const fn = (value as (...a: unknown[]) => unknown).bind(object);
      if (prop !== method) return fn;
      return async (...args: unknown[]) => {
        await before(args);
        return fn(...args);
      };
    },
  });
}
