// The two ways a file's bytes come in that start here: CreateUpload presigns where the client PUTs them
// (once, or once per part), and UploadMedia receives them as a client stream, checking and probing them
// before the item exists. Completing a presigned upload is UploadCompletion's.
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { Logger } from "pino";
import { DeadlineExceededError, InvalidArgumentError } from "../platform/errors/errors.js";
import { MAX_MULTIPART_PARTS, type BlobStore } from "../platform/blobs/blob-store.js";
import type { MediaConfig } from "../platform/config/config.js";
import type { Principal } from "../identity/model/principal.js";
import { Media } from "./media.entity.js";
import { detectContentType, idleLimited, judge, Spool } from "./inspect.js";
import { mediaBlobKey, readyFields, type MediaItems } from "./media-items.js";

/** Presigned upload URLs live an hour (the contract's promise). */
const UPLOAD_URL_TTL_SECONDS = 60 * 60;
/** An upload not completed within a day is discarded. */
const UPLOAD_DEADLINE_MS = 24 * 60 * 60 * 1000;

export interface FileDescription {
  filename: string;
  /** Empty: detected when probed. */
  contentType: string;
  labels: Record<string, string>;
}

export interface NewUpload extends FileDescription {
  sizeBytes: number;
}

/** Where the client sends the bytes: one presigned PUT, or one presigned PUT per part. */
export type UploadTarget =
  | { kind: "single"; url: string; headers: Record<string, string>; expiresAt: Date }
  | {
      kind: "multipart";
      partSizeBytes: number;
      parts: { partNumber: number; url: string }[];
      headers: Record<string, string>;
      expiresAt: Date;
    };

export interface StreamedUpload extends FileDescription {
  /** 0: unknown. */
  sizeBytes: number;
  /** "": unchecked. */
  sha256: string;
}

export interface UploadSettings extends MediaConfig {
  /** How long an UploadMedia stream may go without a byte. */
  idleMs: number;
  logger?: Logger;
}

export class Uploads {
  constructor(
    private readonly items: MediaItems,
    private readonly blobs: BlobStore,
    private readonly settings: UploadSettings,
  ) {}

  /** Creates a PENDING item and presigns where its bytes go. */
  async createUpload(principal: Principal, input: NewUpload): Promise<{ media: Media; target: UploadTarget }> {
    checkDescription(input, "");
    if (input.sizeBytes > this.settings.maxUploadBytes) {
      throw new InvalidArgumentError("size_bytes", `${input.sizeBytes} bytes is over this server's limit of ${describeBytes(this.settings.maxUploadBytes)}`);
    }
    const tenant = this.items.tenant(principal.organizationId);
    const id = randomUUID();
    const key = mediaBlobKey(principal.organizationId, id);
    const now = Date.now();
    const media = tenant.create(Media, {
      id,
      filename: input.filename,
      contentType: input.contentType,
      labels: input.labels,
      storageKey: key,
      expectedSizeBytes: input.sizeBytes,
      uploadExpiresAt: new Date(now + UPLOAD_DEADLINE_MS),
    });
    const contentType = input.contentType || undefined;
    const expiresAt = new Date(now + UPLOAD_URL_TTL_SECONDS * 1000);
    // A signed Content-Type must be sent exactly; S3 refuses the PUT otherwise.
    const headers: Record<string, string> = contentType ? { "Content-Type": contentType } : {};
    let target: UploadTarget;
    if (input.sizeBytes <= this.settings.multipartThresholdBytes) {
      const url = await this.blobs.presignPut("media", key, { expiresInSeconds: UPLOAD_URL_TTL_SECONDS, contentType });
      target = { kind: "single", url, headers, expiresAt };
    } else {
      const partSize = Math.max(this.settings.multipartPartBytes, Math.ceil(input.sizeBytes / MAX_MULTIPART_PARTS));
      media.uploadId = await this.blobs.createMultipartUpload("media", key, { contentType });
      media.partSizeBytes = partSize;
      target = {
        kind: "multipart",
        partSizeBytes: partSize,
        parts: [],
        // The Content-Type belongs to the multipart upload; the part PUTs carry none.
        headers: {},
        expiresAt,
      };
    }
    try {
      if (target.kind === "multipart") await this.presignParts(media, input.sizeBytes, target);
      await tenant.flush();
    } catch (err) {
      // swallowed: cleanup on a failed CreateUpload; the original error is rethrown, and the lifecycle sweeps unfinished uploads.
      if (media.uploadId) await this.blobs.abortMultipartUpload("media", key, media.uploadId).catch(() => undefined);
      throw err;
    }
    await tenant.em.populate(media, ["organization"]);
    return { media, target };
  }

  /**
   * Stores a file that arrives through the API in chunks, hashing and copying it aside as it streams to the
   * blob store, then probes the copy. Nothing is kept when the bytes disagree with the metadata or the file
   * is refused: the error is the answer.
   */
  async uploadStream(principal: Principal, input: StreamedUpload, chunks: AsyncIterable<Uint8Array>): Promise<Media> {
    checkDescription(input, "metadata.");
    const limit = this.settings.maxStreamUploadBytes;
    if (input.sizeBytes > limit) {
      throw new InvalidArgumentError("metadata.size_bytes", `${input.sizeBytes} bytes is over this server's limit of ${describeBytes(limit)} for UploadMedia; use CreateUpload for larger files`);
    }
    const tenant = this.items.tenant(principal.organizationId);
    const id = randomUUID();
    const key = mediaBlobKey(principal.organizationId, id);
    const spool = await Spool.create(this.settings.scratchDir);
    let stored = false;
    try {
      const declared = input.sizeBytes;
      const body = spooled(chunks, spool, { declared, limit, idleMs: this.settings.idleMs });
      await this.blobs.put("media", key, Readable.from(body), { contentType: input.contentType || undefined });
      stored = true;
      const { size, sha256 } = await spool.finish();
      if (declared > 0 && size !== declared) {
        throw new InvalidArgumentError("metadata.size_bytes", `${size} bytes arrived, not the ${declared} declared`);
      }
      if (input.sha256 && sha256 !== input.sha256) {
        throw new InvalidArgumentError("metadata.sha256", `the bytes that arrived have SHA-256 ${sha256}, not the ${input.sha256} declared`);
      }
      const verdict = await judge(spool.path, this.settings.maxMediaSeconds, undefined, input.contentType);
      if (!verdict.ok) throw verdict.rejection;
      const now = new Date();
      const media = tenant.create(Media, {
        id,
        filename: input.filename,
        contentType: input.contentType || detectContentType(verdict.probe),
        labels: input.labels,
        storageKey: key,
        expectedSizeBytes: size,
        ...readyFields(verdict.probe, size, sha256, now),
      });
      await tenant.flush();
      await tenant.em.populate(media, ["organization"]);
      return media;
    } catch (err) {
      if (stored) await this.blobs.delete("media", key).catch((e: unknown) => this.settings.logger?.warn({ err: e, key }, "could not remove a refused upload"));
      throw err;
    } finally {
      await spool.remove();
    }
  }

  /** One presigned PUT per part of a multipart upload, in part order. */
  private async presignParts(media: Media, sizeBytes: number, target: Extract<UploadTarget, { kind: "multipart" }>): Promise<void> {
    for (let partNumber = 1; partNumber <= Math.ceil(sizeBytes / target.partSizeBytes); partNumber++) {
      const url = await this.blobs.presignUploadPart("media", media.storageKey, media.uploadId!, partNumber, { expiresInSeconds: UPLOAD_URL_TTL_SECONDS });
      target.parts.push({ partNumber, url });
    }
  }
}

/**
 * The chunks of an UploadMedia stream as they go on to the blob store, each copied to the spool first; ends
 * the stream with an error when a chunk is late, or when the bytes pass the size declared or the limit.
 */
async function* spooled(
  chunks: AsyncIterable<Uint8Array>,
  spool: Spool,
  bounds: { declared: number; limit: number; idleMs: number },
): AsyncGenerator<Uint8Array> {
  const { declared, limit, idleMs } = bounds;
  const source = idleLimited(chunks, idleMs, () => new DeadlineExceededError(`chunk: nothing arrived for ${idleMs / 1000} s; the upload was abandoned`));
  for await (const chunk of source) {
    if (declared > 0 && spool.size + chunk.length > declared) {
      throw new InvalidArgumentError("metadata.size_bytes", `more than the ${declared} bytes declared arrived`);
    }
    if (spool.size + chunk.length > limit) {
      throw new InvalidArgumentError("chunk", `the file passed this server's limit of ${describeBytes(limit)} for UploadMedia; use CreateUpload for larger files`);
    }
    await spool.write(chunk);
    yield chunk;
  }
}

// Control characters break the Content-Disposition of downloads, signed URLs and log lines.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const MIME_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\s*;\s*[^\u0000-\u001f\u007f]*)?$/;

function checkDescription(input: FileDescription, prefix: string): void {
  if (CONTROL_CHARS.test(input.filename) || input.filename.trim() === "") {
    throw new InvalidArgumentError(`${prefix}filename`, "must be a file name without control characters");
  }
  if (input.contentType && !MIME_TYPE.test(input.contentType)) {
    throw new InvalidArgumentError(`${prefix}content_type`, `must be a MIME type such as audio/wav (got ${JSON.stringify(input.contentType)})`);
  }
  for (const [key, value] of Object.entries(input.labels)) {
    if (CONTROL_CHARS.test(key) || CONTROL_CHARS.test(value)) throw new InvalidArgumentError(`${prefix}labels`, "keys and values must not contain control characters");
  }
}

function describeBytes(bytes: number): string {
  for (const [unit, size] of [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}
