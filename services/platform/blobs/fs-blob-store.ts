import { constants as fsConstants } from "node:fs";
import { access, mkdir, open, stat, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import {
  BlobNotFoundError,
  BlobStoreUnavailableError,
  MultipartUploadNotFoundError,
  assertBucketName,
  assertCompletedParts,
  assertExpiresInSeconds,
  assertHeaderSafe,
  assertPartNumber,
  assertValidBlobKey,
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
import { FsBlobFiles, etagOf } from "./fs-blob-files.js";
import { FsBlobLayout, isMissing } from "./fs-blob-layout.js";
import { FsMultipartUploads, isUploadId } from "./fs-multipart.js";
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

/**
 * The embedded blob store: plain files under the data dir, written atomically (temp file, fsync, rename),
 * with S3-compatible ETags (MD5, and MD5-of-MD5s for multipart) and presigned URLs that the gateway serves
 * itself through `createFsBlobHttpHandler`. Where the files go is FsBlobLayout's, how they are written
 * FsBlobFiles', multipart uploads FsMultipartUploads' and URL signatures FsUrlSigner's; this class checks
 * the arguments and puts them together.
 */
export class FsBlobStore implements BlobStore {
  readonly root: string;
  private readonly signer: FsUrlSigner;
  private readonly layout: FsBlobLayout;
  private readonly files: FsBlobFiles;
  private readonly multipart: FsMultipartUploads;

  constructor(config: FsBlobStoreConfig) {
    this.root = join(config.dataDir, "blobs");
    this.signer = new FsUrlSigner(config.signingSecret, config.publicBaseUrl);
    this.layout = new FsBlobLayout(this.root);
    this.files = new FsBlobFiles(this.layout);
    this.multipart = new FsMultipartUploads(this.layout, this.files);
  }

  async ensureBuckets(): Promise<void> {
    for (const dir of this.layout.allFolders()) {
      await mkdir(dir, { recursive: true });
    }
    await this.files.removeStaleTempFiles();
  }

  async ping(): Promise<void> {
    try {
      for (const dir of this.layout.servingFolders()) {
        await access(dir, fsConstants.R_OK | fsConstants.W_OK);
      }
    } catch (error) {
      throw new BlobStoreUnavailableError(`blob directory not usable: ${(error as Error).message}`, { cause: error });
    }
  }

  async put(bucket: BucketName, key: string, body: Buffer | Readable, options: PutOptions = {}): Promise<PutResult> {
    this.checkTarget(bucket, key);
    if (options.contentType !== undefined) assertHeaderSafe("contentType", options.contentType);
    const temp = await this.files.writeTemp(body);
    const etag = etagOf(temp.md5);
    await this.files.commit(temp, bucket, key, { ino: temp.ino, size: temp.size, etag, contentType: options.contentType });
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
      handle = await open(this.layout.dataPath(bucket, key), "r");
    } catch (error) {
      if (isMissing(error)) throw new BlobNotFoundError(bucket, key);
      throw error;
    }
    try {
      // Stat the open handle, not the path: a concurrent put may rename new bytes over the path meanwhile.
      const stats = await handle.stat();
      if (!stats.isFile()) throw new BlobNotFoundError(bucket, key);
      const meta = await this.files.readMeta(bucket, key, stats.ino);
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
      const stats = await stat(this.layout.dataPath(bucket, key));
      if (!stats.isFile()) return null;
      const meta = await this.files.readMeta(bucket, key, stats.ino);
      return { size: stats.size, contentType: meta?.contentType, etag: meta?.etag };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(bucket: BucketName, key: string): Promise<void> {
    this.checkTarget(bucket, key);
    for (const path of [this.layout.dataPath(bucket, key), this.layout.metaPath(bucket, key)]) {
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
    return this.multipart.create(bucket, key, options.contentType);
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
    if (!isUploadId(uploadId)) throw new MultipartUploadNotFoundError(uploadId);
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
    return this.multipart.writePart(bucket, key, uploadId, partNumber, body);
  }

  async completeMultipartUpload(
    bucket: BucketName,
    key: string,
    uploadId: string,
    parts: readonly CompletedPart[],
  ): Promise<PutResult> {
    this.checkTarget(bucket, key);
    assertCompletedParts(parts);
    return this.multipart.complete(bucket, key, uploadId, parts);
  }

  async abortMultipartUpload(bucket: BucketName, key: string, uploadId: string): Promise<void> {
    this.checkTarget(bucket, key);
    return this.multipart.abort(bucket, key, uploadId);
  }

  /** Checks a signed URL; the HTTP handler calls it before touching any file. */
  verifySignedRequest(method: SignedMethod, bucket: BucketName, key: string, query: URLSearchParams): Verdict {
    return this.signer.verify(method, bucket, key, query);
  }

  private checkTarget(bucket: string, key: string): asserts bucket is BucketName {
    assertBucketName(bucket);
    assertValidBlobKey(key);
  }
}

function expiresAt(expiresInSeconds: number): number {
  return Math.floor(Date.now() / 1000) + expiresInSeconds;
}
