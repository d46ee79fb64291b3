import type { Readable } from "node:stream";

/**
 * Logical buckets the domain knows. Each store maps them to real locations (S3 bucket names from config,
 * or folders under the data dir), so no domain code ever sees a deployment-specific bucket name.
 */
export type BucketName = "media" | "processed" | "exports";

export const BUCKET_NAMES: readonly BucketName[] = ["media", "processed", "exports"];

export function isBucketName(value: string): value is BucketName {
  return (BUCKET_NAMES as readonly string[]).includes(value);
}

export interface BlobInfo {
  size: number;
  contentType?: string;
  /** Quoted, as S3 returns it; pass it back unchanged where an ETag is asked for. */
  etag?: string;
}

export interface BlobObject extends BlobInfo {
  stream: Readable;
}

export interface PutOptions {
  contentType?: string;
}

export interface PutResult {
  size: number;
  etag?: string;
}

export interface PresignPutOptions {
  expiresInSeconds: number;
  /** When set, the uploader must send exactly this Content-Type, because it is part of the signature. */
  contentType?: string;
}

export interface PresignGetOptions {
  expiresInSeconds: number;
  /** Served as `Content-Disposition: attachment`, so browsers save the file under this name. */
  downloadFileName?: string;
}

export interface PresignPartOptions {
  expiresInSeconds: number;
}

export interface CreateMultipartOptions {
  contentType?: string;
}

export interface CompletedPart {
  partNumber: number;
  /** The ETag header the part's PUT answered with. */
  etag: string;
}

/**
 * Where media, processed audio and exports live. Two adapters implement it: S3 (MinIO, Ceph RGW, AWS) and
 * a filesystem store whose signed URLs the gateway serves itself; one contract suite holds both to the
 * same behaviour.
 *
 * Keys are S3-style paths (`orgs/<org>/media/<id>.wav`) and are validated the same way by both stores,
 * so a key that works in development cannot fail in production.
 */
export interface BlobStore {
  /** Creates the buckets that are missing. Safe to call on every start. */
  ensureBuckets(): Promise<void>;
  /** Readiness: resolves when the store can serve requests, throws BlobStoreUnavailableError otherwise. */
  ping(): Promise<void>;

  /** Replaces the object atomically: readers see the old bytes or the new ones, never a mix. */
  put(bucket: BucketName, key: string, body: Buffer | Readable, options?: PutOptions): Promise<PutResult>;
  /** Throws BlobNotFoundError when the object does not exist. */
  get(bucket: BucketName, key: string): Promise<BlobObject>;
  /** Null when the object does not exist. */
  head(bucket: BucketName, key: string): Promise<BlobInfo | null>;
  /** Succeeds whether or not the object existed, as S3 does. */
  delete(bucket: BucketName, key: string): Promise<void>;

  presignPut(bucket: BucketName, key: string, options: PresignPutOptions): Promise<string>;
  presignGet(bucket: BucketName, key: string, options: PresignGetOptions): Promise<string>;

  createMultipartUpload(bucket: BucketName, key: string, options?: CreateMultipartOptions): Promise<string>;
  /** Part numbers run from 1 to 10000; every part but the last must be at least 5 MiB (S3's rule). */
  presignUploadPart(
    bucket: BucketName,
    key: string,
    uploadId: string,
    partNumber: number,
    options: PresignPartOptions,
  ): Promise<string>;
  /** Parts in ascending part-number order; the object appears only when this resolves. */
  completeMultipartUpload(
    bucket: BucketName,
    key: string,
    uploadId: string,
    parts: readonly CompletedPart[],
  ): Promise<PutResult>;
  /** Succeeds whether or not the upload still exists, so cleanup paths can call it blindly. */
  abortMultipartUpload(bucket: BucketName, key: string, uploadId: string): Promise<void>;
}

/** S3 caps presigned URLs at seven days; the filesystem store keeps the same bound. */
export const MAX_PRESIGN_EXPIRES_SECONDS = 7 * 24 * 60 * 60;
/** S3's smallest allowed part, except the last one. */
export const MIN_MULTIPART_PART_BYTES = 5 * 1024 * 1024;
export const MAX_MULTIPART_PARTS = 10_000;
const MAX_KEY_BYTES = 1024;
// Most filesystems cap a file name at 255 bytes; applying it to S3 too keeps keys portable between stores.
const MAX_KEY_SEGMENT_BYTES = 255;

export class BlobStoreError extends Error {
  override name = "BlobStoreError";
}

export class BlobNotFoundError extends BlobStoreError {
  override name = "BlobNotFoundError";
  constructor(
    readonly bucket: BucketName,
    readonly key: string,
  ) {
    super(`blob not found: ${bucket}/${key}`);
  }
}

export class InvalidBlobKeyError extends BlobStoreError {
  override name = "InvalidBlobKeyError";
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`invalid blob key: ${reason}`);
  }
}

/** A malformed argument other than the key: expiry, part number, content type, bucket, upload id. */
export class InvalidBlobArgumentError extends BlobStoreError {
  override name = "InvalidBlobArgumentError";
}

export class MultipartUploadNotFoundError extends BlobStoreError {
  override name = "MultipartUploadNotFoundError";
  constructor(readonly uploadId: string) {
    super("multipart upload not found (completed, aborted or never created)");
  }
}

/** The parts given to completeMultipartUpload do not match what was uploaded, or break S3's size rules. */
export class InvalidMultipartUploadError extends BlobStoreError {
  override name = "InvalidMultipartUploadError";
}

export class BlobTooLargeError extends BlobStoreError {
  override name = "BlobTooLargeError";
  constructor(readonly limitBytes: number) {
    super(`upload exceeds the limit of ${limitBytes} bytes`);
  }
}

export class BlobStoreUnavailableError extends BlobStoreError {
  override name = "BlobStoreUnavailableError";
}

// Control characters are refused because they break signed-URL payloads, HTTP headers and log lines.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
// Keys become UTF-8 in URLs and file names; a lone surrogate has no UTF-8 form.
const LONE_SURROGATE = /\p{Cs}/u;

/** Throws InvalidBlobKeyError unless the key is a relative, normalised, portable path. */
export function assertValidBlobKey(key: string): void {
  if (typeof key !== "string" || key.length === 0) throw new InvalidBlobKeyError(String(key), "empty key");
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) {
    throw new InvalidBlobKeyError(key, `longer than ${MAX_KEY_BYTES} bytes`);
  }
  if (CONTROL_CHARS.test(key)) throw new InvalidBlobKeyError(key, "control characters");
  if (key.includes("\\")) throw new InvalidBlobKeyError(key, "backslash");
  if (key.startsWith("/")) throw new InvalidBlobKeyError(key, "absolute path");
  if (LONE_SURROGATE.test(key)) throw new InvalidBlobKeyError(key, "unpaired surrogate");
  for (const segment of key.split("/")) {
    if (segment === "") throw new InvalidBlobKeyError(key, "empty path segment");
    if (segment === "." || segment === "..") throw new InvalidBlobKeyError(key, "'.' or '..' segment");
    if (Buffer.byteLength(segment, "utf8") > MAX_KEY_SEGMENT_BYTES) {
      throw new InvalidBlobKeyError(key, `path segment longer than ${MAX_KEY_SEGMENT_BYTES} bytes`);
    }
  }
}

export function assertBucketName(bucket: string): asserts bucket is BucketName {
  if (!isBucketName(bucket)) throw new InvalidBlobArgumentError(`unknown bucket: ${bucket}`);
}

export function assertExpiresInSeconds(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PRESIGN_EXPIRES_SECONDS) {
    throw new InvalidBlobArgumentError(
      `expiresInSeconds must be an integer from 1 to ${MAX_PRESIGN_EXPIRES_SECONDS}`,
    );
  }
}

export function assertPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_MULTIPART_PARTS) {
    throw new InvalidBlobArgumentError(`partNumber must be an integer from 1 to ${MAX_MULTIPART_PARTS}`);
  }
}

/** Values that end up in signed payloads and response headers must be single-line and not absurdly long. */
export function assertHeaderSafe(what: string, value: string): void {
  if (value.length === 0 || value.length > 255 || CONTROL_CHARS.test(value)) {
    throw new InvalidBlobArgumentError(`${what} must be 1 to 255 characters without control characters`);
  }
}

export function assertCompletedParts(parts: readonly CompletedPart[]): void {
  if (parts.length === 0) throw new InvalidMultipartUploadError("at least one part is required");
  let previous = 0;
  for (const part of parts) {
    assertPartNumber(part.partNumber);
    if (part.partNumber <= previous) {
      throw new InvalidMultipartUploadError("parts must be listed in ascending part-number order");
    }
    if (typeof part.etag !== "string" || part.etag.length === 0) {
      throw new InvalidMultipartUploadError(`part ${part.partNumber} has no ETag`);
    }
    previous = part.partNumber;
  }
}

/** Streams may yield Buffers, other Uint8Arrays or (in text mode) strings; stores write bytes. */
export function chunkToBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  throw new InvalidBlobArgumentError("blob bodies must be streams of bytes");
}

// Characters no file system or header parser should get from us: path separators, quotes, the
// parameter separator, Windows' reserved characters, control characters.
const UNSAFE_FILE_NAME_CHARS = /[\u0000-\u001f\u007f"*:;<>?\\/|]/g;

/**
 * The name a downloaded file is saved under, made safe from a name an uploader chose: only its last path
 * segment (RFC 6266 §4.3 asks recipients to drop folders, but not all do), without leading dots (no
 * hidden files, no `..`) or trailing dots and spaces (Windows drops them), and without the characters above.
 */
export function safeDownloadFileName(fileName: string): string {
  const lastSegment = fileName.split(/[\\/]/).pop() ?? "";
  const cleaned = lastSegment
    .replace(UNSAFE_FILE_NAME_CHARS, "_")
    .replace(/^[\s.]+/, "")
    .replace(/[\s.]+$/, "");
  return cleaned === "" ? "download" : cleaned;
}

/**
 * RFC 6266 Content-Disposition of a download, for every header that names a file (both blob stores use it).
 * The name is made safe first (safeDownloadFileName). The plain `filename` carries an ASCII fallback because
 * older clients ignore `filename*`, and Arabic file names would otherwise arrive as mojibake.
 */
export function contentDispositionAttachment(fileName: string): string {
  const safe = safeDownloadFileName(fileName);
  const fallback = safe.replace(/[^\x20-\x7e]/g, "_");
  const encoded = encodeURIComponent(safe).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
