// Where the filesystem store keeps things under `<dataDir>/blobs`: one folder per bucket with the objects
// under their keys, and internal folders for temp files, object meta and open multipart uploads. Internal
// folders start with a dot so they can never collide with a bucket folder.
import { createHash, randomUUID } from "node:crypto";
import { join } from "node:path";
import { BUCKET_NAMES, type BucketName } from "./blob-store.js";

const TMP_DIR = ".tmp";
const META_DIR = ".meta";
const UPLOADS_DIR = ".uploads";

export class FsBlobLayout {
  constructor(readonly root: string) {}

  /** Every folder the store needs; `ensureBuckets` creates them. */
  allFolders(): string[] {
    return [...BUCKET_NAMES, TMP_DIR, META_DIR, UPLOADS_DIR].map((dir) => join(this.root, dir));
  }

  /** The folders the store must be able to read and write to serve requests. */
  servingFolders(): string[] {
    return [...BUCKET_NAMES, TMP_DIR].map((dir) => join(this.root, dir));
  }

  get tempDir(): string {
    return join(this.root, TMP_DIR);
  }

  /** A fresh name in the temp folder, on the same filesystem as the objects so a rename moves it in place. */
  newTempPath(extension = ""): string {
    return join(this.tempDir, `${randomUUID()}${extension}`);
  }

  dataPath(bucket: BucketName, key: string): string {
    return join(this.root, bucket, key);
  }

  // Named by a hash of the key: mirroring the key's folders would let the meta of `a` (`a.json`) collide
  // with the folder needed by the meta of another legal key such as `a.json/b`.
  metaPath(bucket: BucketName, key: string): string {
    const digest = createHash("sha256").update(key, "utf8").digest("hex");
    return join(this.root, META_DIR, bucket, digest.slice(0, 2), `${digest}.json`);
  }

  uploadDir(uploadId: string): string {
    return join(this.root, UPLOADS_DIR, uploadId);
  }

  uploadRecordPath(uploadId: string): string {
    return join(this.uploadDir(uploadId), "upload.json");
  }

  partPath(uploadId: string, partNumber: number): string {
    return join(this.uploadDir(uploadId), `part-${String(partNumber).padStart(5, "0")}`);
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

// ENOTDIR: a path segment of the key is an existing file, so the key cannot exist either.
export function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}

export function isPathConflict(error: unknown): boolean {
  const code = errorCode(error);
  return code === "EEXIST" || code === "ENOTDIR" || code === "EISDIR" || code === "ENOTEMPTY";
}
