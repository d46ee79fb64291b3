// Opens every adapter a process needs from the one config object, each named in the
// error when it cannot be reached, and closes them again in reverse order. Shared by the
// gateway's and the worker's composition roots.
import { mkdir } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Config, StorageConfig } from "./config/config.js";
import { openDatabase, redactUrl, type Database, type EntityList } from "./database/database.js";
import { createBlobStore, type BlobStore, type BlobStoreConfig } from "./blobs/index.js";
import { openInference, readyCheck, withDomainErrors, type InferenceAdapter } from "./inference.js";
import type { InferenceClient } from "../../inference/client/index.js";
import type { DependencyCheck } from "./readiness.js";
import { persistedSecret } from "./persisted-secret.js";

/** A dependency could not be reached at start; the message names it and where it was looked for. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

export interface Adapters {
  database: Database;
  blobs: BlobStore;
  redis?: Redis;
  /** Models, on Triton or on the in-process sidecar. */
  inference: InferenceClient;
  /** One readiness check per adapter. */
  checks: DependencyCheck[];
  /** Closes what was opened, last first. */
  close(): Promise<void>;
}

export interface AdapterOptions {
  /** The mapped entities (services/app/entities.ts): the composition root hands them to the database. */
  entities: EntityList;
  /** Where adapters register their metrics (the inference client's); a private registry when left out. */
  registry?: Registry;
  /**
   * Adapters the caller opened itself (tests: a database of their own, a blob store with fault hooks). They are
   * used as given, checked for readiness like the others, and left open by `close`: the caller owns them.
   */
  provided?: Partial<Pick<Adapters, "database" | "blobs" | "inference">>;
}

export async function openAdapters(config: Config, logger: Logger, options: AdapterOptions): Promise<Adapters> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closeOne of closers.splice(0).reverse()) {
      await closeOne().catch((err: unknown) => logger.error({ err }, "closing an adapter failed"));
    }
  };
  try {
    await mkdir(config.dataDir, { recursive: true });

    const provided = options.provided ?? {};
    const where = config.database.url ? redactUrl(config.database.url) : `PGlite in ${path.resolve(config.dataDir, "pglite")}`;
    const database = provided.database ?? (await dependency("database", where, () => openDatabase(config.database, options.entities, logger)));
    if (!provided.database) closers.push(() => database.close());

    const redisUrl = config.redis?.url;
    const redis = redisUrl ? await dependency("redis", redactUrl(redisUrl), () => connectRedis(redisUrl)) : undefined;
    if (redis) closers.push(async () => void redis.disconnect());

    const storage = await withSigningSecret(config.storage);
    const blobs = provided.blobs ?? await dependency("blob storage", storage.kind === "s3" ? storage.endpoint : path.resolve(storage.dataDir, "blobs"), async () => {
      const store = createBlobStore(storage);
      await store.ensureBuckets();
      return store;
    });

    // A client the caller opened speaks in the domain's errors too, as the ones opened here do.
    const inference = provided.inference
      ? { client: withDomainErrors(provided.inference), check: readyCheck(provided.inference), close: async () => undefined }
      : await openInferenceAdapter(config, logger, options.registry);
    closers.push(() => inference.close());

    const checks: DependencyCheck[] = [
      { name: "database", check: () => database.ping() },
      { name: "storage", check: () => blobs.ping() },
      inference.check,
    ];
    if (redis) checks.push({ name: "redis", check: async () => void (await redis.ping()) });
    return { database, blobs, redis, inference: inference.client, checks, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function openInferenceAdapter(config: Config, logger: Logger, registry?: Registry): Promise<InferenceAdapter> {
  const where = config.inference.tritonUrls.length > 0 ? config.inference.tritonUrls.join(",") : "the local sidecar";
  const inference = await dependency("inference", where, () => openInference(config.inference, logger, registry));
  logger.info({ inference: inference.target }, "inference client ready");
  return inference;
}

async function dependency<T>(name: string, where: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    // Adapters that already name their target in the error are not repeated.
    const message = reason.includes(where) ? `${name} unavailable: ${reason}` : `${name} unavailable at ${where}: ${reason}`;
    throw new StartupError(message, { cause: err });
  }
}

async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 5000,
    maxRetriesPerRequest: 2,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  // Errors surface through connect() at start and through readiness pings afterwards;
  // without a listener ioredis would report each reconnect attempt as unhandled.
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  return redis;
}

/**
 * The filesystem store signs URLs with a secret that must survive restarts (URLs already
 * handed out stay valid for their lifetime). Without BLOB_SIGNING_SECRET, one is made
 * once and kept under DATA_DIR.
 */
async function withSigningSecret(storage: StorageConfig): Promise<BlobStoreConfig> {
  if (storage.kind === "s3") return storage;
  if (storage.signingSecret) return { ...storage, signingSecret: storage.signingSecret };
  return { ...storage, signingSecret: await persistedSecret(storage.dataDir, "blob-signing.key", () => randomBytes(32).toString("hex")) };
}
