import { createHash, randomBytes, randomUUID } from "node:crypto";
import { constants as fsConstants, createReadStream } from "node:fs";
import { access, mkdir, open, readFile, readdir, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import {
  BUCKET_NAMES,
  BlobNotFoundError,
  BlobStoreUnavailableError,
  InvalidBlobKeyError,
  InvalidMultipartUploadError,
  MIN_MULTIPART_PART_BYTES,
  MultipartUploadNotFoundError,
  assertBucketName,
  assertCompletedParts,
  assertExpiresInSeconds,
  assertHeaderSafe,
  assertPartNumber,
  assertValidBlobKey,
  chunkToBuffer,
} from "./blob-store.js";
import type {
  BlobInfo,
  BlobObject,
  BlobStore,
  BucketName,
  CompletedPart,
  CreateMultipartOptions,
  PresignGetOptions,
  PresignPartOptions,
  PresignPutOptions,
  PutOptions,
  PutResult,
} from "./blob-store.js";
import { FsUrlSigner } from "./fs-signed-url.js";
import type { SignedMethod, Verdict } from "./fs-signed-url.js";

export interface FsBlobStoreConfig {
  /** Blobs live under `<dataDir>/blobs/<bucket>/<key>`. */
  dataDir: string;
  /** HMAC key for signed URLs; at least 32 characters. */
  signingSecret: string;
  /** Where the gateway's HTTP/1.1 listener is reachable by clients, e.g. `http://localhost:8080`. */
  publicBaseUrl: string;
}

export interface ByteRange {
  /** Inclusive, like HTTP's Range header. */
  start: number;
  end: number;
}

interface BlobMeta {
  /** The data file's inode when the meta was written: a mismatch means the meta belongs to other bytes. */
  ino: number;
  size: number;
  etag: string;
  contentType?: string;
}

interface UploadRecord {
  bucket: BucketName;
  key: string;
  contentType?: string;
  createdAt: string;
}

interface TempFile {
  path: string;
  size: number;
  md5: Buffer;
  ino: number;
}

// Internal folders start with a dot so they can never collide with a bucket folder.
const TMP_DIR = ".tmp";
const META_DIR = ".meta";
const UPLOADS_DIR = ".uploads";
const UPLOAD_ID = /^[0-9a-f]{32}$/;
// Another process (a worker sharing the data dir) may still be writing a younger temp file.
const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * The embedded blob store: plain files under the data dir, written atomically (temp file, fsync, rename),
 * with S3-compatible ETags (MD5, and MD5-of-MD5s for multipart) and presigned URLs that the gateway serves
 * itself through `createFsBlobHttpHandler`.
 */
export class FsBlobStore implements BlobStore {
  readonly root: string;
  private readonly signer: FsUrlSigner;

  constructor(config: FsBlobStoreConfig) {
    this.root = join(config.dataDir, "blobs");
    this.signer = new FsUrlSigner(config.signingSecret, config.publicBaseUrl);
  }

  async ensureBuckets(): Promise<void> {
    for (const dir of [...BUCKET_NAMES, TMP_DIR, META_DIR, UPLOADS_DIR]) {
      await mkdir(join(this.root, dir), { recursive: true });
    }
    await this.removeStaleTempFiles();
  }

  async ping(): Promise<void> {
    try {
      for (const dir of [...BUCKET_NAMES, TMP_DIR]) {
        await access(join(this.root, dir), fsConstants.R_OK | fsConstants.W_OK);
      }
    } catch (error) {
      throw new BlobStoreUnavailableError(`blob directory not usable: ${(error as Error).message}`, { cause: error });
    }
  }

  async put(bucket: BucketName, key: string, body: Buffer | Readable, options: PutOptions = {}): Promise<PutResult> {
    this.checkTarget(bucket, key);
    if (options.contentType !== undefined) assertHeaderSafe("contentType", options.contentType);
    const temp = await this.writeTemp(body);
    const etag = `"${temp.md5.toString("hex")}"`;
    await this.commit(temp, bucket, key, { ino: temp.ino, size: temp.size, etag, contentType: options.contentType });
    return { size: temp.size, etag };
  }

  async get(bucket: BucketName, key: string): Promise<BlobObject> {
    return this.read(bucket, key);
  }

  /** Like get, with an optional byte range; the HTTP handler uses it to answer Range requests. */
  async read(bucket: BucketName, key: string, range?: ByteRange): Promise<BlobObject> {
    this.checkTarget(bucket, key);
    let handle: FileHandle;
    try {
      handle = await open(this.dataPath(bucket, key), "r");
    } catch (error) {
      if (isMissing(error)) throw new BlobNotFoundError(bucket, key);
      throw error;
    }
    try {
      // Stat the open handle, not the path: a concurrent put may rename new bytes over the path meanwhile.
      const stats = await handle.stat();
      if (!stats.isFile()) throw new BlobNotFoundError(bucket, key);
      const meta = await this.readMeta(bucket, key, stats.ino);
      const stream = handle.createReadStream({ start: range?.start, end: range?.end });
      return { stream, size: stats.size, contentType: meta?.contentType, etag: meta?.etag };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async head(bucket: BucketName, key: string): Promise<BlobInfo | null> {
    this.checkTarget(bucket, key);
    try {
      const stats = await stat(this.dataPath(bucket, key));
      if (!stats.isFile()) return null;
      const meta = await this.readMeta(bucket, key, stats.ino);
      return { size: stats.size, contentType: meta?.contentType, etag: meta?.etag };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(bucket: BucketName, key: string): Promise<void> {
    this.checkTarget(bucket, key);
    for (const path of [this.dataPath(bucket, key), this.metaPath(bucket, key)]) {
      try {
        await unlink(path);
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    }
  }

  async presignPut(bucket: BucketName, key: string, options: PresignPutOptions): Promise<string> {
    this.checkTarget(bucket, key);
    assertExpiresInSeconds(options.expiresInSeconds);
    if (options.contentType !== undefined) assertHeaderSafe("contentType", options.contentType);
    return this.signer.sign({
      method: "PUT",
      bucket,
      key,
      expires: expiresAt(options.expiresInSeconds),
      contentType: options.contentType,
    });
  }

  async presignGet(bucket: BucketName, key: string, options: PresignGetOptions): Promise<string> {
    this.checkTarget(bucket, key);
    assertExpiresInSeconds(options.expiresInSeconds);
    if (options.downloadFileName !== undefined) assertHeaderSafe("downloadFileName", options.downloadFileName);
    return this.signer.sign({
      method: "GET",
      bucket,
      key,
      expires: expiresAt(options.expiresInSeconds),
      downloadFileName: options.downloadFileName,
    });
  }

  async createMultipartUpload(bucket: BucketName, key: string, options: CreateMultipartOptions = {}): Promise<string> {
    this.checkTarget(bucket, key);
    if (options.contentType !== undefined) assertHeaderSafe("contentType", options.contentType);
    const uploadId = randomBytes(16).toString("hex");
    const dir = this.uploadDir(uploadId);
    await mkdir(dir, { recursive: true });
    const record: UploadRecord = { bucket, key, contentType: options.contentType, createdAt: new Date().toISOString() };
    await writeFile(join(dir, "upload.json"), JSON.stringify(record));
    return uploadId;
  }

  async presignUploadPart(
    bucket: BucketName,
    key: string,
    uploadId: string,
    partNumber: number,
    options: PresignPartOptions,
  ): Promise<string> {
    this.checkTarget(bucket, key);
    assertPartNumber(partNumber);
    assertExpiresInSeconds(options.expiresInSeconds);
    if (!UPLOAD_ID.test(uploadId)) throw new MultipartUploadNotFoundError(uploadId);
    return this.signer.sign({
      method: "PUT",
      bucket,
      key,
      expires: expiresAt(options.expiresInSeconds),
      uploadId,
      partNumber,
    });
  }

  /** Stores one part of a multipart upload; the HTTP handler calls it for a presigned part PUT. */
  async writeUploadPart(
    bucket: BucketName,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Buffer | Readable,
  ): Promise<PutResult> {
    this.checkTarget(bucket, key);
    assertPartNumber(partNumber);
    await this.loadUpload(bucket, key, uploadId);
    const temp = await this.writeTemp(body);
    try {
      await rename(temp.path, this.partPath(uploadId, partNumber));
    } catch (error) {
      await rm(temp.path, { force: true });
      // The upload folder vanished between the check and the rename: it was completed or aborted.
      if (isMissing(error)) throw new MultipartUploadNotFoundError(uploadId);
      throw error;
    }
    return { size: temp.size, etag: `"${temp.md5.toString("hex")}"` };
  }

  async completeMultipartUpload(
    bucket: BucketName,
    key: string,
    uploadId: string,
    parts: readonly CompletedPart[],
  ): Promise<PutResult> {
    this.checkTarget(bucket, key);
    assertCompletedParts(parts);
    const record = await this.loadUpload(bucket, key, uploadId);

    const sizes: number[] = [];
    for (const part of parts) {
      try {
        sizes.push((await stat(this.partPath(uploadId, part.partNumber))).size);
      } catch (error) {
        if (isMissing(error)) throw new InvalidMultipartUploadError(`part ${part.partNumber} was not uploaded`);
        throw error;
      }
    }
    // Enforced here too so that an upload flow built against the embedded store also works on S3.
    sizes.slice(0, -1).forEach((size, i) => {
      if (size < MIN_MULTIPART_PART_BYTES) {
        throw new InvalidMultipartUploadError(
          `part ${parts[i]?.partNumber} is ${size} bytes; all parts but the last need ${MIN_MULTIPART_PART_BYTES}`,
        );
      }
    });

    const partDigests: Buffer[] = [];
    const temp = await this.writeTemp(
      this.concatenateParts(uploadId, parts, (digest) => partDigests.push(digest)),
    );
    const etag = `"${createHash("md5").update(Buffer.concat(partDigests)).digest("hex")}-${parts.length}"`;
    await this.commit(temp, bucket, key, { ino: temp.ino, size: temp.size, etag, contentType: record.contentType });
    await rm(this.uploadDir(uploadId), { recursive: true, force: true });
    return { size: temp.size, etag };
  }

  async abortMultipartUpload(bucket: BucketName, key: string, uploadId: string): Promise<void> {
    this.checkTarget(bucket, key);
    if (!UPLOAD_ID.test(uploadId)) return;
    try {
      await this.loadUpload(bucket, key, uploadId);
    } catch (error) {
      if (error instanceof MultipartUploadNotFoundError) return;
      throw error;
    }
    await rm(this.uploadDir(uploadId), { recursive: true, force: true });
  }

  /** Checks a signed URL; the HTTP handler calls it before touching any file. */
  verifySignedRequest(method: SignedMethod, bucket: BucketName, key: string, query: URLSearchParams): Verdict {
    return this.signer.verify(method, bucket, key, query);
  }

  private checkTarget(bucket: string, key: string): asserts bucket is BucketName {
    assertBucketName(bucket);
    assertValidBlobKey(key);
  }

  private dataPath(bucket: BucketName, key: string): string {
    return join(this.root, bucket, key);
  }

  // Named by a hash of the key: mirroring the key's folders would let the meta of `a` (`a.json`) collide
  // with the folder needed by the meta of another legal key such as `a.json/b`.
  private metaPath(bucket: BucketName, key: string): string {
    const digest = createHash("sha256").update(key, "utf8").digest("hex");
    return join(this.root, META_DIR, bucket, digest.slice(0, 2), `${digest}.json`);
  }

  private uploadDir(uploadId: string): string {
    return join(this.root, UPLOADS_DIR, uploadId);
  }

  private partPath(uploadId: string, partNumber: number): string {
    return join(this.uploadDir(uploadId), `part-${String(partNumber).padStart(5, "0")}`);
  }

  private async loadUpload(bucket: BucketName, key: string, uploadId: string): Promise<UploadRecord> {
    if (!UPLOAD_ID.test(uploadId)) throw new MultipartUploadNotFoundError(uploadId);
    let record: UploadRecord;
    try {
      record = JSON.parse(await readFile(join(this.uploadDir(uploadId), "upload.json"), "utf8")) as UploadRecord;
    } catch (error) {
      if (isMissing(error)) throw new MultipartUploadNotFoundError(uploadId);
      throw error;
    }
    // S3 scopes an upload id to its bucket and key; a mismatch reads as "no such upload" there too.
    if (record.bucket !== bucket || record.key !== key) throw new MultipartUploadNotFoundError(uploadId);
    return record;
  }

  private async *concatenateParts(
    uploadId: string,
    parts: readonly CompletedPart[],
    onDigest: (digest: Buffer) => void,
  ): AsyncGenerator<Buffer> {
    for (const part of parts) {
      const hash = createHash("md5");
      for await (const chunk of createReadStream(this.partPath(uploadId, part.partNumber))) {
        hash.update(chunk as Buffer);
        yield chunk as Buffer;
      }
      const digest = hash.digest();
      if (normaliseEtag(part.etag) !== digest.toString("hex")) {
        throw new InvalidMultipartUploadError(`part ${part.partNumber}: ETag does not match the uploaded bytes`);
      }
      onDigest(digest);
    }
  }

  /** Streams the body into a fresh temp file, hashing as it goes; removes the file if anything fails. */
  private async writeTemp(body: Buffer | AsyncIterable<unknown>): Promise<TempFile> {
    const path = join(this.root, TMP_DIR, randomUUID());
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, "wx", 0o644);
    try {
      const hash = createHash("md5");
      let size = 0;
      const write = async (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
        await handle.write(chunk);
      };
      if (Buffer.isBuffer(body)) {
        await write(body);
      } else {
        // Awaiting each write is the backpressure: a slow disk slows the upload instead of filling memory.
        for await (const chunk of body) await write(chunkToBuffer(chunk));
      }
      // fsync before the rename: otherwise a crash can leave a renamed file whose bytes never reached disk.
      await handle.sync();
      const { ino } = await handle.stat();
      await handle.close();
      return { path, size, md5: hash.digest(), ino };
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(path, { force: true });
      throw error;
    }
  }

  /**
   * Makes a temp file the object. The meta is written first and names the new file's inode, so a reader
   * racing the rename (or a crash between the two) sees old bytes with meta it ignores, never new bytes
   * described by stale meta.
   */
  private async commit(temp: TempFile, bucket: BucketName, key: string, meta: BlobMeta): Promise<void> {
    const dataPath = this.dataPath(bucket, key);
    const metaPath = this.metaPath(bucket, key);
    const metaTemp = join(this.root, TMP_DIR, `${randomUUID()}.json`);
    try {
      await mkdir(dirname(dataPath), { recursive: true });
      await mkdir(dirname(metaPath), { recursive: true });
      await writeFile(metaTemp, JSON.stringify(meta));
      await rename(metaTemp, metaPath);
      await rename(temp.path, dataPath);
    } catch (error) {
      await rm(temp.path, { force: true });
      await rm(metaTemp, { force: true });
      if (isPathConflict(error)) {
        throw new InvalidBlobKeyError(key, "a key and a folder of other keys cannot share a path");
      }
      throw error;
    }
  }

  private async readMeta(bucket: BucketName, key: string, ino: number): Promise<BlobMeta | null> {
    try {
      const meta = JSON.parse(await readFile(this.metaPath(bucket, key), "utf8")) as BlobMeta;
      return meta.ino === ino ? meta : null;
    } catch (error) {
      if (isMissing(error) || error instanceof SyntaxError) return null;
      throw error;
    }
  }

  private async removeStaleTempFiles(): Promise<void> {
    const dir = join(this.root, TMP_DIR);
    const cutoff = Date.now() - STALE_TEMP_MS;
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      const stats = await stat(path).catch(() => null);
      if (stats && stats.mtimeMs < cutoff) await rm(path, { force: true });
    }
  }
}

function expiresAt(expiresInSeconds: number): number {
  return Math.floor(Date.now() / 1000) + expiresInSeconds;
}

function normaliseEtag(etag: string): string {
  return etag.trim().replace(/^W\//, "").replace(/^"|"$/g, "").toLowerCase();
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

// ENOTDIR: a path segment of the key is an existing file, so the key cannot exist either.
function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}

function isPathConflict(error: unknown): boolean {
  const code = errorCode(error);
  return code === "EEXIST" || code === "ENOTDIR" || code === "EISDIR" || code === "ENOTEMPTY";
}
