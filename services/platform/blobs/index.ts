import type { BlobStore } from "./blob-store.js";
import { FsBlobStore } from "./fs-blob-store.js";
import type { FsBlobStoreConfig } from "./fs-blob-store.js";
import { S3BlobStore } from "./s3-blob-store.js";
import type { S3BlobStoreConfig } from "./s3-blob-store.js";

export * from "./blob-store.js";
export { FsBlobStore } from "./fs-blob-store.js";
export type { FsBlobStoreConfig } from "./fs-blob-store.js";
export { S3BlobStore } from "./s3-blob-store.js";
export type { S3BlobStoreConfig } from "./s3-blob-store.js";
export { createFsBlobHttpHandler } from "./fs-blob-http.js";
export type { FsBlobHttpHandler, FsBlobHttpOptions } from "./fs-blob-http.js";

export type BlobStoreConfig = ({ kind: "fs" } & FsBlobStoreConfig) | ({ kind: "s3" } & S3BlobStoreConfig);

/**
 * Builds the store the config names. Nothing is opened here: S3 connects on the first request and the
 * filesystem store creates its folders in `ensureBuckets`. The overloads let the composition root keep the
 * concrete type, which it needs to mount the filesystem store's URL handler.
 */
export function createBlobStore(config: { kind: "fs" } & FsBlobStoreConfig): FsBlobStore;
export function createBlobStore(config: { kind: "s3" } & S3BlobStoreConfig): S3BlobStore;
export function createBlobStore(config: BlobStoreConfig): BlobStore;
export function createBlobStore(config: BlobStoreConfig): BlobStore {
  switch (config.kind) {
    case "fs":
      return new FsBlobStore(config);
    case "s3":
      return new S3BlobStore(config);
  }
}
