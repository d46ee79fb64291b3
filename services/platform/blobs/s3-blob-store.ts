import type { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import {
  BUCKET_NAMES,
  BlobNotFoundError,
  BlobStoreUnavailableError,
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
  contentDispositionAttachment,
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

export interface S3BlobStoreConfig {
  /** e.g. `http://127.0.0.1:7480` (Ceph RGW), `http://minio:9000`, or an AWS regional endpoint. */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The real bucket behind each logical one; deployments name buckets after their environment. */
  buckets: Record<BucketName, string>;
  /**
   * Where clients outside the deployment reach S3, when it differs from `endpoint` (e.g. `http://minio:9000`
   * inside compose, `https://s3.example.com` outside). Presigned URLs are signed for this host, since the
   * signature covers the Host header. Default: `endpoint`.
   */
  publicEndpoint?: string;
}

export interface S3BlobStoreOptions {
  /** Part size when `put` gets a stream of unknown length; memory use is about twice this. */
  streamPartSizeBytes?: number;
  /** How long `ping` waits before calling the store unavailable. */
  pingTimeoutMs?: number;
}

const DEFAULT_STREAM_PART_BYTES = 8 * 1024 * 1024;

/**
 * S3 through the AWS SDK, for MinIO, Ceph RGW and AWS alike: path-style addressing (no wildcard DNS for
 * self-hosted servers) and checksums only where S3 requires them, since RGW and older MinIO reject the
 * SDK's newer default of trailing CRC32 checksums on every upload.
 */
export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  /** The origin presigned URLs point at: what a browser page using them must be allowed to connect to. */
  readonly browserOrigin: string;
  /** Signs presigned URLs; the same client as `client` unless a public endpoint is configured. */
  private readonly presigner: S3Client;
  private readonly buckets: Record<BucketName, string>;
  private readonly partSize: number;
  private readonly pingTimeoutMs: number;

  constructor(config: S3BlobStoreConfig, options: S3BlobStoreOptions = {}) {
    this.buckets = { ...config.buckets };
    this.partSize = options.streamPartSizeBytes ?? DEFAULT_STREAM_PART_BYTES;
    if (this.partSize < MIN_MULTIPART_PART_BYTES) {
      throw new Error(`streamPartSizeBytes must be at least ${MIN_MULTIPART_PART_BYTES}`);
    }
    this.pingTimeoutMs = options.pingTimeoutMs ?? 5_000;
    // Constructing the client opens nothing; connections are made on the first request.
    this.client = S3BlobStore.clientFor(config, config.endpoint);
    this.browserOrigin = new URL(config.publicEndpoint ?? config.endpoint).origin;
    this.presigner =
      config.publicEndpoint && config.publicEndpoint !== config.endpoint
        ? S3BlobStore.clientFor(config, config.publicEndpoint)
        : this.client;
  }

  private static clientFor(config: S3BlobStoreConfig, endpoint: string): S3Client {
    return new S3Client({
      endpoint,
      region: config.region,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      forcePathStyle: true,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 5_000 },
    });
  }

  /**
   * Lets pages of `origins` use the presigned URLs from a browser (the console uploads with PUT and reads
   * each part's ETag): the CORS rule the README asks operators to set, applied to every bucket. The URL's
   * signature stays the credential; CORS only lets the browser show the page the answer.
   */
  async allowBrowserOrigins(origins: string[]): Promise<void> {
    const rule = { AllowedOrigins: origins, AllowedMethods: ["GET", "HEAD", "PUT"], AllowedHeaders: ["*"], ExposeHeaders: ["ETag"], MaxAgeSeconds: 600 };
    for (const name of new Set(Object.values(this.buckets))) {
      try {
        await this.client.send(new PutBucketCorsCommand({ Bucket: name, CORSConfiguration: { CORSRules: [rule] } }));
      } catch (error) {
        throw translate(error);
      }
    }
  }

  async ensureBuckets(): Promise<void> {
    for (const name of new Set(Object.values(this.buckets))) {
      try {
        // HEAD first: production credentials often may use a bucket but not create one.
        await this.client.send(new HeadBucketCommand({ Bucket: name }));
        continue;
      } catch (error) {
        if (statusOf(error) !== 404) throw translate(error);
      }
      try {
        await this.client.send(new CreateBucketCommand({ Bucket: name }));
      } catch (error) {
        // Another replica starting at the same moment may have created it first.
        if (nameOf(error) !== "BucketAlreadyOwnedByYou") throw translate(error);
      }
    }
  }

  async ping(): Promise<void> {
    const abortSignal = AbortSignal.timeout(this.pingTimeoutMs);
    try {
      await Promise.all(
        BUCKET_NAMES.map((bucket) =>
          this.client.send(new HeadBucketCommand({ Bucket: this.buckets[bucket] }), { abortSignal }),
        ),
      );
    } catch (error) {
      const reason = statusOf(error) === 404 ? "bucket missing" : (nameOf(error) ?? "error");
      throw new BlobStoreUnavailableError(`S3 not ready: ${reason}`, { cause: error });
    }
  }

  async put(bucket: BucketName, key: string, body: Buffer | Readable, options: PutOptions = {}): Promise<PutResult> {
    const Bucket = this.bucketFor(bucket, key);
    if (options.contentType !== undefined) assertHeaderSafe("contentType", options.contentType);
    if (Buffer.isBuffer(body)) return this.putBuffer(Bucket, key, body, options.contentType);

    // A stream's length is unknown, and S3 needs one per request: small streams become one PUT, larger
    // ones a multipart upload of fixed-size parts, holding at most two parts in memory.
    const chunks = fixedSizeChunks(body, this.partSize);
    const first = await chunks.next();
    if (first.done) return this.putBuffer(Bucket, key, Buffer.alloc(0), options.contentType);
    const second = await chunks.next();
    if (second.done) return this.putBuffer(Bucket, key, first.value, options.contentType);

    const uploadId = await this.createMultipartUpload(bucket, key, { contentType: options.contentType });
    try {
      const parts: CompletedPart[] = [];
      let size = 0;
      const upload = async (chunk: Buffer) => {
        const partNumber = parts.length + 1;
        const out = await this.client.send(
          new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: chunk }),
        );
        parts.push({ partNumber, etag: out.ETag ?? "" });
        size += chunk.length;
      };
      await upload(first.value);
      await upload(second.value);
      for await (const chunk of chunks) await upload(chunk);
      const done = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
      return { size, etag: done.ETag || (await this.head(bucket, key))?.etag };
    } catch (error) {
      // swallowed: cleanup after a failed upload; its error is rethrown, and S3's lifecycle aborts stale multipart uploads.
      await this.abortMultipartUpload(bucket, key, uploadId).catch(() => undefined);
      throw translate(error, { bucket, key, uploadId });
    }
  }

  async get(bucket: BucketName, key: string): Promise<BlobObject> {
    const Bucket = this.bucketFor(bucket, key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket, Key: key }));
      return {
        stream: out.Body as Readable,
        size: out.ContentLength ?? 0,
        contentType: out.ContentType,
        etag: out.ETag,
      };
    } catch (error) {
      throw translate(error, { bucket, key });
    }
  }

  async head(bucket: BucketName, key: string): Promise<BlobInfo | null> {
    const Bucket = this.bucketFor(bucket, key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket, Key: key }));
      return { size: out.ContentLength ?? 0, contentType: out.ContentType, etag: out.ETag };
    } catch (error) {
      if (statusOf(error) === 404 && nameOf(error) !== "NoSuchBucket") return null;
      throw translate(error, { bucket, key });
    }
  }

  async delete(bucket: BucketName, key: string): Promise<void> {
    const Bucket = this.bucketFor(bucket, key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    } catch (error) {
      throw translate(error, { bucket, key });
    }
  }

  async presignPut(bucket: BucketName, key: string, options: PresignPutOptions): Promise<string> {
    const Bucket = this.bucketFor(bucket, key);
    assertExpiresInSeconds(options.expiresInSeconds);
    if (options.contentType !== undefined) assertHeaderSafe("contentType", options.contentType);
    return getSignedUrl(this.presigner, new PutObjectCommand({ Bucket, Key: key, ContentType: options.contentType }), {
      expiresIn: options.expiresInSeconds,
      // The presigner leaves Content-Type unsigned by default, so any type would be accepted; signing it
      // holds the uploader to the declared type, as the filesystem store does.
      signableHeaders: options.contentType === undefined ? undefined : new Set(["content-type"]),
    });
  }

  async presignGet(bucket: BucketName, key: string, options: PresignGetOptions): Promise<string> {
    const Bucket = this.bucketFor(bucket, key);
    assertExpiresInSeconds(options.expiresInSeconds);
    let disposition: string | undefined;
    if (options.downloadFileName !== undefined) {
      assertHeaderSafe("downloadFileName", options.downloadFileName);
      disposition = contentDispositionAttachment(options.downloadFileName);
    }
    return getSignedUrl(
      this.presigner,
      new GetObjectCommand({ Bucket, Key: key, ResponseContentDisposition: disposition }),
      { expiresIn: options.expiresInSeconds },
    );
  }

  async createMultipartUpload(bucket: BucketName, key: string, options: CreateMultipartOptions = {}): Promise<string> {
    const Bucket = this.bucketFor(bucket, key);
    if (options.contentType !== undefined) assertHeaderSafe("contentType", options.contentType);
    try {
      const out = await this.client.send(
        new CreateMultipartUploadCommand({ Bucket, Key: key, ContentType: options.contentType }),
      );
      if (!out.UploadId) throw new BlobStoreUnavailableError("S3 returned no UploadId");
      return out.UploadId;
    } catch (error) {
      throw translate(error, { bucket, key });
    }
  }

  async presignUploadPart(
    bucket: BucketName,
    key: string,
    uploadId: string,
    partNumber: number,
    options: PresignPartOptions,
  ): Promise<string> {
    const Bucket = this.bucketFor(bucket, key);
    assertPartNumber(partNumber);
    assertExpiresInSeconds(options.expiresInSeconds);
    return getSignedUrl(
      this.presigner,
      new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }),
      { expiresIn: options.expiresInSeconds },
    );
  }

  async completeMultipartUpload(
    bucket: BucketName,
    key: string,
    uploadId: string,
    parts: readonly CompletedPart[],
  ): Promise<PutResult> {
    const Bucket = this.bucketFor(bucket, key);
    assertCompletedParts(parts);
    let out: { ETag?: string };
    try {
      out = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
    } catch (error) {
      // Ceph RGW 16 answers 500 "multipart completion is already in progress" for an upload that does not
      // exist (aborted, completed or invented); asking for its parts tells the two cases apart.
      if (nameOf(error) === "InternalError" && !(await this.uploadExists(Bucket, key, uploadId))) {
        throw new MultipartUploadNotFoundError(uploadId);
      }
      throw translate(error, { bucket, key, uploadId });
    }
    // S3 does not say how big the assembled object is, and RGW 16 leaves the ETag empty; the HEAD has both.
    const info = await this.head(bucket, key);
    if (info === null) throw new BlobNotFoundError(bucket, key);
    return { size: info.size, etag: out.ETag || info.etag };
  }

  async abortMultipartUpload(bucket: BucketName, key: string, uploadId: string): Promise<void> {
    const Bucket = this.bucketFor(bucket, key);
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId }));
    } catch (error) {
      if (nameOf(error) === "NoSuchUpload") return;
      throw translate(error, { bucket, key, uploadId });
    }
  }

  private async uploadExists(Bucket: string, key: string, uploadId: string): Promise<boolean> {
    try {
      await this.client.send(new ListPartsCommand({ Bucket, Key: key, UploadId: uploadId, MaxParts: 1 }));
      return true;
    } catch (error) {
      // RGW 16 answers NoSuchKey here where S3 says NoSuchUpload.
      if (nameOf(error) === "NoSuchUpload" || nameOf(error) === "NoSuchKey") return false;
      throw translate(error);
    }
  }

  private bucketFor(bucket: string, key: string): string {
    assertBucketName(bucket);
    assertValidBlobKey(key);
    return this.buckets[bucket];
  }

  private async putBuffer(Bucket: string, key: string, body: Buffer, contentType?: string): Promise<PutResult> {
    try {
      const out = await this.client.send(
        new PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: contentType, ContentLength: body.length }),
      );
      return { size: body.length, etag: out.ETag };
    } catch (error) {
      throw translate(error);
    }
  }
}

async function* fixedSizeChunks(source: AsyncIterable<unknown>, size: number): AsyncGenerator<Buffer, void> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const raw of source) {
    let chunk = chunkToBuffer(raw);
    while (pendingBytes + chunk.length >= size) {
      const take = size - pendingBytes;
      pending.push(chunk.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length > 0) {
      pending.push(chunk);
      pendingBytes += chunk.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

interface SdkError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

function nameOf(error: unknown): string | undefined {
  return (error as SdkError | null)?.name;
}

function statusOf(error: unknown): number | undefined {
  return (error as SdkError | null)?.$metadata?.httpStatusCode;
}

const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"]);

/** Turns S3's error vocabulary into the storage module's typed errors; anything else passes through. */
function translate(error: unknown, target?: { bucket: BucketName; key: string; uploadId?: string }): unknown {
  const name = nameOf(error);
  if (target && (name === "NoSuchKey" || (name === "NotFound" && statusOf(error) === 404))) {
    return new BlobNotFoundError(target.bucket, target.key);
  }
  if (name === "NoSuchUpload") return new MultipartUploadNotFoundError(target?.uploadId ?? "");
  if (name === "InvalidPart" || name === "InvalidPartOrder" || name === "EntityTooSmall") {
    return new InvalidMultipartUploadError(`S3 refused the parts: ${name}`, { cause: error });
  }
  // A missing bucket is a deployment fault (ensureBuckets not run, wrong name), not a missing object.
  if (name === "NoSuchBucket") return new BlobStoreUnavailableError("S3 bucket missing", { cause: error });
  const code = (error as SdkError | null)?.code;
  if ((code && UNREACHABLE.has(code)) || name === "TimeoutError" || name === "AbortError") {
    return new BlobStoreUnavailableError(`S3 unreachable: ${code ?? name}`, { cause: error });
  }
  return error;
}
