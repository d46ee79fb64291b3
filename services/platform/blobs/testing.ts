// A blob store of its own for one test file: on the S3 server named by S3_ENDPOINT when it is set (buckets
// with unique names, removed on cleanup), otherwise the filesystem store under a data dir, with the HTTP
// handler that serves its signed URLs. The suites run unchanged on both.
import { randomBytes } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { testEnvironment, type TestEnvironment } from "../config/test-environment.js";
import type { BlobStore } from "./blob-store.js";
import { createFsBlobHttpHandler, type FsBlobHttpHandler } from "./fs-blob-http.js";
import { FsBlobStore } from "./fs-blob-store.js";
import { S3BlobStore, type S3BlobStoreConfig } from "./s3-blob-store.js";

export interface TestBlobStore {
  store: BlobStore;
  /** The route serving the filesystem store's signed URLs; mount it on the gateway's HTTP listener. */
  httpRoute?: FsBlobHttpHandler;
  kind: "fs" | "s3";
  cleanup(): Promise<void>;
}

/** S3 settings with buckets no other run uses, for the server the test environment names (the S3_* variables CI exports). */
export function testS3Config(s3: TestEnvironment["s3"] = testEnvironment().s3): S3BlobStoreConfig {
  if (!s3) throw new Error("no S3 server to test against: S3_ENDPOINT is not set");
  // Unique names per run, so parallel or crashed runs against the same server never see each other's data.
  const run = `arabicstt-test-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  return {
    endpoint: s3.endpoint,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    buckets: { media: `${run}-media`, processed: `${run}-processed`, exports: `${run}-exports` },
  };
}

export async function removeTestBuckets(store: S3BlobStore, config: S3BlobStoreConfig): Promise<void> {
  const { client } = store;
  for (const Bucket of Object.values(config.buckets)) {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket })).catch(() => null);
    for (const u of uploads?.Uploads ?? []) {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key: u.Key, UploadId: u.UploadId }));
    }
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket, ContinuationToken: token })).catch(() => null);
      for (const o of page?.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket, Key: o.Key }));
      token = page?.NextContinuationToken;
    } while (token);
    await client.send(new DeleteBucketCommand({ Bucket })).catch(() => undefined);
  }
}

/**
 * `publicBaseUrl` is where the gateway's HTTP/1.1 listener will be, for the filesystem store's URLs;
 * `maxUploadBytes` bounds one signed PUT there.
 */
export async function createTestBlobStore(options: { dataDir: string; publicBaseUrl: string; maxUploadBytes?: number }): Promise<TestBlobStore> {
  const { s3 } = testEnvironment();
  if (s3) {
    const config = testS3Config(s3);
    const store = new S3BlobStore(config);
    await store.ensureBuckets();
    return { store, kind: "s3", cleanup: () => removeTestBuckets(store, config) };
  }
  const store = new FsBlobStore({ dataDir: options.dataDir, signingSecret: randomBytes(32).toString("hex"), publicBaseUrl: options.publicBaseUrl });
  await store.ensureBuckets();
  const httpRoute = createFsBlobHttpHandler(store, { maxUploadBytes: options.maxUploadBytes ?? 256 * 1024 * 1024 });
  // The data dir belongs to the caller, who removes it.
  return { store, httpRoute, kind: "fs", cleanup: async () => undefined };
}

/**
 * A browser page served from `origin` may PUT to and read from the store's presigned URLs: on S3 the CORS
 * rule an operator sets (README, "Console"); the filesystem store is served by the page's own gateway.
 */
export async function allowBrowserUploads(blobs: TestBlobStore, origin: string): Promise<void> {
  if (blobs.store instanceof S3BlobStore) await blobs.store.allowBrowserOrigins([origin]);
}
