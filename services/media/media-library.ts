// The organisation's media files: uploads by presigned PUT, multipart or client stream, each checked
// against its declared size and SHA-256 and probed before it becomes READY; reading, listing, download
// URLs, deletion; and the media a job transcribes, as a local file. Every query goes through a
// TenantScope bound to the caller's organisation, so another organisation's item is simply not found.
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { Logger } from "pino";
import type { Database } from "../platform/database/database.js";
import { TenantScope } from "../platform/database/tenant-scope.js";
import { decodeOffset, encodeOffset, pageSize, type Page } from "../platform/database/paging.js";
import {
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from "../platform/errors/errors.js";
import type { AuditLog } from "../identity/audit/audit-log.js";
import type { Caller, Principal } from "../identity/auth/principal.js";
import { anonymousCaller } from "../identity/auth/principal.js";
import {
  BlobNotFoundError,
  InvalidMultipartUploadError,
  MAX_MULTIPART_PARTS,
  MultipartUploadNotFoundError,
  type BlobStore,
} from "../platform/blobs/blob-store.js";
import type { MediaProbe } from "../audio/probe.js";
import { Organization } from "../identity/orgs/organization.entity.js";
import type { MediaConfig } from "../platform/config/config.js";
import { Media, type MediaStatus } from "./media.entity.js";
import {
  checksumMismatch,
  copyInto,
  detectContentType,
  idleLimited,
  judge,
  MediaRejectedError,
  rejectionOf,
  sizeMismatch,
  Spool,
} from "./inspect.js";

/** Presigned upload URLs live an hour (the contract's promise). */
const UPLOAD_URL_TTL_SECONDS = 60 * 60;
/** An upload not completed within a day is discarded. */
const UPLOAD_DEADLINE_MS = 24 * 60 * 60 * 1000;
const DEFAULT_DOWNLOAD_TTL_SECONDS = 15 * 60;
/** A verification touches its row this often, so others can tell it from one whose process died. */
const HEARTBEAT_MS = 30_000;
/** A `processing` row untouched for this long lost its verifier; the next CompleteUpload or sweep resumes it. */
const STALLED_AFTER_MS = 4 * HEARTBEAT_MS;
/** Rows the sweeper handles per kind and run, so one run stays short; the next run takes the rest. */
const SWEEP_BATCH = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface MediaLibraryOptions extends MediaConfig {
  /**
   * How long CompleteUpload waits for the check and probe before answering PROCESSING (they go on, and
   * GetMedia shows the outcome). Below the unary deadline, so a multi-GiB file is not a DEADLINE_EXCEEDED.
   */
  completeWaitMs?: number;
  /** How long an UploadMedia stream or a read from the blob store may go without a byte. Default a minute. */
  idleMs?: number;
  logger?: Logger;
  /** How many of the organisation's jobs that use a media item are queued or running (the jobs capability answers). */
  activeJobs: ActiveJobCount;
}

/** Jobs of an organisation that still need a media item: a deletion waits for them. */
export type ActiveJobCount = (organizationId: string, mediaId: string) => Promise<number>;

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

export interface Completion {
  mediaId: string;
  sizeBytes: number;
  sha256: string;
  parts: { partNumber: number; etag: string }[];
}

export interface StreamedUpload extends FileDescription {
  /** 0: unknown. */
  sizeBytes: number;
  /** "": unchecked. */
  sha256: string;
}

/** A READY item's bytes as a local file, for a job; `release` deletes the copy. */
export interface MediaForProcessing {
  media: Media;
  /** A private copy under the scratch folder; pass it to runAudioPipeline or ffmpeg. */
  path: string;
  probe: MediaProbe;
  release(): Promise<void>;
}

export interface SweepReport {
  /** Uploads not completed in time, discarded. */
  expiredUploads: number;
  /** Verifications whose process died, started again. */
  resumedVerifications: number;
  /** Items past their organisation's retention, deleted. */
  retentionDeletes: number;
}

interface Verification {
  promise: Promise<Media>;
  controller: AbortController;
}

export function mediaBlobKey(organizationId: string, mediaId: string): string {
  return `orgs/${organizationId}/media/${mediaId}`;
}

export class MediaLibrary {
  private readonly verifications = new Map<string, Verification>();
  private readonly completeWaitMs: number;
  private readonly idleMs: number;
  private closed = false;

  constructor(
    private readonly database: Database,
    private readonly blobs: BlobStore,
    private readonly audit: AuditLog,
    private readonly options: MediaLibraryOptions,
  ) {
    this.completeWaitMs = options.completeWaitMs ?? 20_000;
    this.idleMs = options.idleMs ?? 60_000;
  }

  /** Creates a PENDING item and presigns where its bytes go. */
  async createUpload(principal: Principal, input: NewUpload): Promise<{ media: Media; target: UploadTarget }> {
    checkDescription(input, "");
    if (input.sizeBytes > this.options.maxUploadBytes) {
      throw new InvalidArgumentError("size_bytes", `${input.sizeBytes} bytes is over this server's limit of ${describeBytes(this.options.maxUploadBytes)}`);
    }
    const tenant = this.tenant(principal.organizationId);
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
    if (input.sizeBytes <= this.options.multipartThresholdBytes) {
      const url = await this.blobs.presignPut("media", key, { expiresInSeconds: UPLOAD_URL_TTL_SECONDS, contentType });
      target = { kind: "single", url, headers, expiresAt };
    } else {
      const partSize = Math.max(this.options.multipartPartBytes, Math.ceil(input.sizeBytes / MAX_MULTIPART_PARTS));
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
      if (target.kind === "multipart") {
        for (let partNumber = 1; partNumber <= Math.ceil(input.sizeBytes / target.partSizeBytes); partNumber++) {
          const url = await this.blobs.presignUploadPart("media", key, media.uploadId!, partNumber, { expiresInSeconds: UPLOAD_URL_TTL_SECONDS });
          target.parts.push({ partNumber, url });
        }
      }
      await tenant.flush();
    } catch (err) {
      if (media.uploadId) await this.blobs.abortMultipartUpload("media", key, media.uploadId).catch(() => undefined);
      throw err;
    }
    await tenant.em.populate(media, ["organization"]);
    return { media, target };
  }

  /**
   * Checks the stored bytes against the size and SHA-256 given (assembling a multipart upload first), probes
   * them, and makes the item READY, or FAILED with the reason, which is also the error thrown. When that takes
   * longer than `completeWaitMs` the item is returned PROCESSING and the work goes on.
   */
  async completeUpload(principal: Principal, input: Completion, signal?: AbortSignal): Promise<Media> {
    return this.complete(this.tenant(principal.organizationId), input, signal);
  }

  /**
   * Stores a file that arrives through the API in chunks, hashing and copying it aside as it streams to the
   * blob store, then probes the copy. Nothing is kept when the bytes disagree with the metadata or the file
   * is refused: the error is the answer.
   */
  async uploadStream(principal: Principal, input: StreamedUpload, chunks: AsyncIterable<Uint8Array>): Promise<Media> {
    checkDescription(input, "metadata.");
    const limit = this.options.maxStreamUploadBytes;
    if (input.sizeBytes > limit) {
      throw new InvalidArgumentError("metadata.size_bytes", `${input.sizeBytes} bytes is over this server's limit of ${describeBytes(limit)} for UploadMedia; use CreateUpload for larger files`);
    }
    const tenant = this.tenant(principal.organizationId);
    const id = randomUUID();
    const key = mediaBlobKey(principal.organizationId, id);
    const spool = await Spool.create(this.options.scratchDir);
    let stored = false;
    try {
      const declared = input.sizeBytes;
      const idleMs = this.idleMs;
      async function* body(): AsyncGenerator<Uint8Array> {
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
      await this.blobs.put("media", key, Readable.from(body()), { contentType: input.contentType || undefined });
      stored = true;
      const { size, sha256 } = await spool.finish();
      if (declared > 0 && size !== declared) {
        throw new InvalidArgumentError("metadata.size_bytes", `${size} bytes arrived, not the ${declared} declared`);
      }
      if (input.sha256 && sha256 !== input.sha256) {
        throw new InvalidArgumentError("metadata.sha256", `the bytes that arrived have SHA-256 ${sha256}, not the ${input.sha256} declared`);
      }
      const verdict = await judge(spool.path, this.options.maxMediaSeconds);
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
      if (stored) await this.blobs.delete("media", key).catch((e: unknown) => this.options.logger?.warn({ err: e, key }, "could not remove a refused upload"));
      throw err;
    } finally {
      await spool.remove();
    }
  }

  async get(principal: Principal, mediaId: string): Promise<Media> {
    return this.find(this.tenant(principal.organizationId), mediaId);
  }

  /** Newest first; `status` narrows it to one state. */
  async list(principal: Principal, input: { pageSize: number; pageToken: string; status?: MediaStatus }): Promise<Page<Media>> {
    const tenant = this.tenant(principal.organizationId);
    const limit = pageSize(input.pageSize);
    const offset = decodeOffset(input.pageToken);
    const rows = await tenant.find(Media, input.status ? { status: input.status } : {}, {
      orderBy: { createdAt: "desc", id: "desc" },
      limit: limit + 1,
      offset,
      populate: ["organization"],
    });
    return { items: rows.slice(0, limit), nextPageToken: rows.length > limit ? encodeOffset(offset + limit) : "" };
  }

  /** Soft-deletes the item and removes its bytes; refused while a queued or running job uses it. Audited. */
  async delete(principal: Principal, mediaId: string, caller: Caller): Promise<void> {
    const tenant = this.tenant(principal.organizationId);
    const media = await this.find(tenant, mediaId);
    await this.assertNoActiveJob(tenant, media.id);
    await this.remove(tenant, media);
    await this.audit.record(
      {
        action: "media.delete",
        outcome: "success",
        organizationId: principal.organizationId,
        ...(principal.kind === "user" ? { actorUserId: principal.userId } : { actorApiKeyId: principal.apiKeyId }),
        targetType: "media",
        targetId: media.id,
        details: { filename: media.filename, state: media.status },
      },
      caller,
    );
  }

  /** A presigned GET of a READY item's bytes, saved under its file name. */
  async downloadUrl(principal: Principal, mediaId: string, expiresInSeconds = DEFAULT_DOWNLOAD_TTL_SECONDS): Promise<{ url: string; expiresAt: Date }> {
    const media = await this.find(this.tenant(principal.organizationId), mediaId);
    if (media.status !== "ready") {
      throw new FailedPreconditionError(`media_id: the item is ${stateWords[media.status as MediaStatus]}; only a READY item can be downloaded`);
    }
    const expiresAt = new Date(Date.now() + expiresInSeconds * 1000);
    const url = await this.blobs.presignGet("media", media.storageKey, { expiresInSeconds, downloadFileName: media.filename });
    return { url, expiresAt };
  }

  /**
   * For the job runner: a READY item's bytes copied to a local file (checked against the stored size and
   * SHA-256 on the way) and probed. NOT_FOUND for another organisation's or a deleted item; FAILED_PRECONDITION
   * for one that is not READY. Call `release` when done, also on failure paths.
   */
  async openForProcessing(organizationId: string, mediaId: string, options: { signal?: AbortSignal } = {}): Promise<MediaForProcessing> {
    const media = await this.find(this.tenant(organizationId), mediaId);
    if (media.status !== "ready") throw new FailedPreconditionError(`media ${mediaId} is ${stateWords[media.status as MediaStatus]}, not ready`);
    const spool = await Spool.create(this.options.scratchDir);
    try {
      const blob = await this.blobs.get("media", media.storageKey);
      await copyInto(spool, blob.stream, { maxBytes: media.sizeBytes ?? 0, idleMs: this.idleMs, signal: options.signal });
      const { size, sha256 } = await spool.finish();
      // The store is trusted, but a job transcribing other bytes than were checked would be a silent error.
      if (size !== media.sizeBytes || sha256 !== media.sha256) {
        throw new Error(`media ${mediaId}: the stored bytes no longer match their recorded size and SHA-256`);
      }
      const verdict = await judge(spool.path, Number.POSITIVE_INFINITY, options.signal);
      if (!verdict.ok) throw verdict.rejection;
      return { media, path: spool.path, probe: verdict.probe, release: () => spool.remove() };
    } catch (err) {
      await spool.remove();
      throw err;
    }
  }

  /**
   * Housekeeping across organisations, run periodically by the gateway (every replica may; each change is a
   * compare-and-set): discards uploads not completed in time, resumes verifications whose process died, and
   * deletes items past their organisation's retention.
   */
  async sweep(now = new Date()): Promise<SweepReport> {
    const report: SweepReport = { expiredUploads: 0, resumedVerifications: 0, retentionDeletes: 0 };
    const em = this.database.fork();

    const expired = await em.find(Media, { status: "pending", uploadExpiresAt: { $lt: now } }, { limit: SWEEP_BATCH });
    for (const media of expired) {
      if (await this.remove(this.tenant(media.organization.id), media, "pending")) report.expiredUploads++;
    }

    const stalled = await em.find(Media, { status: "processing", updatedAt: { $lt: new Date(now.getTime() - STALLED_AFTER_MS) } }, { limit: SWEEP_BATCH });
    for (const media of stalled) {
      const tenant = this.tenant(media.organization.id);
      if (await this.claimStalled(tenant, media, now)) {
        void this.verify(tenant.organizationId, media.id).catch(() => undefined);
        report.resumedVerifications++;
      }
    }

    const organizations = await em.find(Organization, { settings: { retentionDays: { $gt: 0 } } });
    for (const organization of organizations) {
      const cutoff = new Date(now.getTime() - (organization.settings.retentionDays ?? 0) * DAY_MS);
      const tenant = this.tenant(organization.id);
      const old = await tenant.find(
        Media,
        { status: { $in: ["ready", "failed"] }, $or: [{ uploadedAt: { $lt: cutoff } }, { uploadedAt: null, createdAt: { $lt: cutoff } }] },
        { limit: SWEEP_BATCH },
      );
      for (const media of old) {
        if ((await this.activeJobs(tenant, media.id)) > 0) continue;
        if (!(await this.remove(tenant, media, media.status))) continue;
        report.retentionDeletes++;
        await this.audit.record(
          { action: "media.delete", outcome: "success", organizationId: organization.id, targetType: "media", targetId: media.id, details: { filename: media.filename, reason: "retention" } },
          anonymousCaller,
        );
      }
    }
    return report;
  }

  /**
   * Stops the verifications in flight and waits for them; their items stay PROCESSING, released for the next
   * sweep (on any replica) to finish.
   */
  async close(): Promise<void> {
    this.closed = true;
    const running = [...this.verifications.values()];
    for (const v of running) v.controller.abort(new Error("the server is shutting down"));
    await Promise.allSettled(running.map((v) => v.promise));
  }

  private async complete(tenant: TenantScope, input: Completion, signal?: AbortSignal): Promise<Media> {
    const media = await this.find(tenant, input.mediaId);
    switch (media.status as MediaStatus) {
      case "ready":
        if (media.sha256 === input.sha256 && media.sizeBytes === input.sizeBytes) return media;
        throw new FailedPreconditionError("sha256: the upload was already completed with another size or checksum");
      case "failed":
        throw rejectionOf(media.errorCode ?? "INTERNAL", media.errorMessage ?? "media: the upload failed");
      case "processing":
        return this.joinVerification(tenant, media, input, signal);
      case "pending":
        return this.completePending(tenant, media, input, signal);
      case "deleted":
        throw new NotFoundError("media", media.id);
    }
  }

  private async completePending(tenant: TenantScope, media: Media, input: Completion, signal?: AbortSignal): Promise<Media> {
    if (media.uploadExpiresAt && media.uploadExpiresAt.getTime() < Date.now()) {
      throw new FailedPreconditionError("media_id: the upload expired; start again with CreateUpload");
    }
    if (input.sizeBytes !== media.expectedSizeBytes) {
      throw new FailedPreconditionError(`size_bytes: ${input.sizeBytes} differs from the ${media.expectedSizeBytes} bytes CreateUpload was given`);
    }
    if (media.uploadId) {
      await this.assemble(media, input.parts);
    } else if (input.parts.length > 0) {
      throw new InvalidArgumentError("parts", "this upload is a single PUT; send no parts");
    }

    const stored = await this.blobs.head("media", media.storageKey);
    if (!stored) throw new FailedPreconditionError("media_id: nothing has been uploaded for this item yet; PUT the file to the URL CreateUpload returned");
    if (stored.size !== media.expectedSizeBytes) {
      throw await this.reject(tenant, media, "pending", sizeMismatch("size_bytes", stored.size, media.expectedSizeBytes ?? 0));
    }

    const claimed = await tenant.nativeUpdate(
      Media,
      { id: media.id, status: "pending" },
      { status: "processing", sha256: input.sha256, uploadId: null, updatedAt: new Date() },
    );
    // Another CompleteUpload got there first: answer as a retry of it is answered.
    if (claimed === 0) return this.complete(tenant, input, signal);
    return this.outcomeOf(this.verify(tenant.organizationId, media.id), tenant, media.id, signal);
  }

  /** A CompleteUpload for an item being verified: waits on the verification, or resumes one whose process died. */
  private async joinVerification(tenant: TenantScope, media: Media, input: Completion, signal?: AbortSignal): Promise<Media> {
    if (media.sha256 !== input.sha256 || media.expectedSizeBytes !== input.sizeBytes) {
      throw new FailedPreconditionError("sha256: the upload is being verified against another size or checksum");
    }
    const running = this.verifications.get(media.id);
    if (running) return this.outcomeOf(running.promise, tenant, media.id, signal);
    if (await this.claimStalled(tenant, media, new Date())) return this.outcomeOf(this.verify(tenant.organizationId, media.id), tenant, media.id, signal);
    // Another replica is on it.
    return media;
  }

  private async claimStalled(tenant: TenantScope, media: Media, now: Date): Promise<boolean> {
    const stalledBefore = new Date(now.getTime() - STALLED_AFTER_MS);
    if (media.updatedAt >= stalledBefore) return false;
    const claimed = await tenant.nativeUpdate(Media, { id: media.id, status: "processing", updatedAt: { $lt: stalledBefore } }, { updatedAt: now });
    return claimed === 1;
  }

  /** The verification's outcome if it comes within `completeWaitMs`, else the item as it is now (PROCESSING). */
  private async outcomeOf(run: Promise<Media>, tenant: TenantScope, mediaId: string, signal?: AbortSignal): Promise<Media> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), this.completeWaitMs);
      signal?.addEventListener("abort", () => resolve("late"), { once: true });
    });
    try {
      const outcome = await Promise.race([run, late]);
      return outcome === "late" ? this.find(tenant, mediaId) : outcome;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Assembles the parts; a missing or mismatched part leaves the upload open for the client to fix. */
  private async assemble(media: Media, parts: Completion["parts"]): Promise<void> {
    const expected = Math.ceil((media.expectedSizeBytes ?? 0) / (media.partSizeBytes ?? 1));
    if (parts.length !== expected || parts.some((p, i) => p.partNumber !== i + 1)) {
      throw new InvalidArgumentError("parts", `a multipart upload of this size has parts 1 to ${expected}; list each with its ETag, in order`);
    }
    try {
      await this.blobs.completeMultipartUpload("media", media.storageKey, media.uploadId!, parts);
    } catch (err) {
      if (err instanceof InvalidMultipartUploadError) throw new FailedPreconditionError(`parts: ${err.message}`);
      // Assembled already by a CompleteUpload that did not get to record it; the object is there.
      if (err instanceof MultipartUploadNotFoundError && (await this.blobs.head("media", media.storageKey))) return;
      if (err instanceof MultipartUploadNotFoundError) throw new FailedPreconditionError("parts: the multipart upload no longer exists; start again with CreateUpload");
      throw err;
    }
  }

  /**
   * Copies the stored bytes aside while hashing them, probes the copy, and records READY or FAILED. Resolves
   * with the READY item; rejects with the MediaRejectedError it recorded, or with the error that stopped it
   * (the item then stays PROCESSING, released for a retry).
   */
  private verify(organizationId: string, mediaId: string): Promise<Media> {
    const existing = this.verifications.get(mediaId);
    if (existing) return existing.promise;
    const controller = new AbortController();
    const promise = this.runVerification(organizationId, mediaId, controller.signal).finally(() => this.verifications.delete(mediaId));
    // Nobody may be waiting (CompleteUpload returned PROCESSING); the outcome is in the row.
    promise.catch(() => undefined);
    this.verifications.set(mediaId, { promise, controller });
    if (this.closed) controller.abort(new Error("the server is shutting down"));
    return promise;
  }

  private async runVerification(organizationId: string, mediaId: string, signal: AbortSignal): Promise<Media> {
    const tenant = this.tenant(organizationId);
    const media = await tenant.findOne(Media, { id: mediaId, status: "processing" });
    if (!media) {
      // Finished meanwhile (by another replica): its outcome, as a retry of CompleteUpload would get it.
      const current = await this.find(tenant, mediaId);
      if (current.status === "failed") throw rejectionOf(current.errorCode ?? "INTERNAL", current.errorMessage ?? "media: the upload failed");
      return current;
    }
    const spool = await Spool.create(this.options.scratchDir);
    const heartbeat = setInterval(() => {
      tenant.nativeUpdate(Media, { id: mediaId, status: "processing" }, { updatedAt: new Date() }).catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    try {
      const expectedSize = media.expectedSizeBytes ?? 0;
      let rejection: MediaRejectedError | undefined;
      let ready: Partial<Media> | undefined;
      try {
        const blob = await this.blobs.get("media", media.storageKey);
        await copyInto(spool, blob.stream, { maxBytes: expectedSize, idleMs: this.idleMs, signal });
        const { size, sha256 } = await spool.finish();
        if (size !== expectedSize) {
          rejection = sizeMismatch("size_bytes", Math.max(size, blob.size), expectedSize);
        } else if (sha256 !== media.sha256) {
          rejection = checksumMismatch("sha256", sha256, media.sha256 ?? "");
        } else {
          const verdict = await judge(spool.path, this.options.maxMediaSeconds, signal);
          if (verdict.ok) {
            ready = { ...readyFields(verdict.probe, size, sha256, new Date()), ...(media.contentType ? {} : { contentType: detectContentType(verdict.probe) }) };
          } else {
            rejection = verdict.rejection;
          }
        }
      } catch (err) {
        if (!(err instanceof BlobNotFoundError)) {
          // A fault of ours or of the store (or shutdown), not of the file: the item stays PROCESSING with its
          // claim released, so the next sweep (here or on another replica) or CompleteUpload starts again.
          await tenant.nativeUpdate(Media, { id: mediaId, status: "processing" }, { updatedAt: new Date(Date.now() - STALLED_AFTER_MS - 1000) }).catch(() => undefined);
          throw err;
        }
        rejection = new MediaRejectedError("failed_precondition", "UPLOAD_MISSING", "media_id: the uploaded file is no longer in storage; upload it again with CreateUpload");
      }
      if (rejection) throw await this.reject(tenant, media, "processing", rejection);
      await tenant.nativeUpdate(Media, { id: mediaId, status: "processing" }, { ...ready, status: "ready", updatedAt: new Date() });
      return await this.find(tenant, mediaId);
    } finally {
      clearInterval(heartbeat);
      await spool.remove();
    }
  }

  /** Records the refusal (FAILED, bytes removed) if the item is still `from`, and returns the error to throw. */
  private async reject(tenant: TenantScope, media: Media, from: MediaStatus, rejection: MediaRejectedError): Promise<MediaRejectedError> {
    const changed = await tenant.nativeUpdate(
      Media,
      { id: media.id, status: from },
      { status: "failed", errorCode: rejection.code, errorMessage: rejection.message, sha256: null, uploadId: null, updatedAt: new Date() },
    );
    if (changed === 1) await this.blobs.delete("media", media.storageKey);
    return rejection;
  }

  /** Removes the bytes (and an open multipart upload), then soft-deletes the row if it is still `from` (any state). */
  private async remove(tenant: TenantScope, media: Media, from?: MediaStatus): Promise<boolean> {
    if (media.uploadId) await this.blobs.abortMultipartUpload("media", media.storageKey, media.uploadId);
    // Bytes first: if the row update then fails, deleting again is harmless, while a deleted row
    // pointing at bytes nobody can reach any more would leak them.
    await this.blobs.delete("media", media.storageKey);
    const now = new Date();
    const changed = await tenant.nativeUpdate(Media, { id: media.id, status: from ?? { $ne: "deleted" } }, { status: "deleted", deletedAt: now, uploadId: null, updatedAt: now });
    return changed === 1;
  }

  private async assertNoActiveJob(tenant: TenantScope, mediaId: string): Promise<void> {
    if ((await this.activeJobs(tenant, mediaId)) > 0) {
      throw new FailedPreconditionError("media_id: a job that uses this item is queued or running; cancel it or wait for it to finish");
    }
  }

  private activeJobs(tenant: TenantScope, mediaId: string): Promise<number> {
    return this.options.activeJobs(tenant.organizationId, mediaId);
  }

  private async find(tenant: TenantScope, mediaId: string): Promise<Media> {
    const media = await tenant.findOne(Media, { id: mediaId }, { populate: ["organization"] });
    if (!media) throw new NotFoundError("media", mediaId);
    return media;
  }

  private tenant(organizationId: string): TenantScope {
    return new TenantScope(this.database.fork(), organizationId);
  }
}

/**
 * When the item is deleted automatically: the upload deadline while PENDING, then the end of its
 * organisation's retention (counted from the upload); null when it is kept until deleted by hand.
 * Needs `media.organization` loaded.
 */
export function expiresAtOf(media: Media): Date | null {
  if (media.status === "pending") return media.uploadExpiresAt;
  if (media.status !== "ready" && media.status !== "failed") return null;
  const days = media.organization.settings?.retentionDays ?? 0;
  if (days <= 0) return null;
  return new Date((media.uploadedAt ?? media.createdAt).getTime() + days * DAY_MS);
}

function readyFields(probe: MediaProbe, size: number, sha256: string, now: Date) {
  return {
    status: "ready" as const,
    sizeBytes: size,
    sha256,
    uploadedAt: now,
    uploadExpiresAt: null,
    durationMs: Math.round(probe.durationSeconds * 1000),
    codec: probe.codec,
    channels: probe.channels,
    sampleRateHz: probe.sampleRate,
    container: probe.formatName,
    hasVideo: probe.hasVideo,
  };
}

const stateWords: Record<MediaStatus, string> = {
  pending: "still waiting for its upload",
  processing: "still being checked",
  ready: "ready",
  failed: "failed",
  deleted: "deleted",
};

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

export { MediaRejectedError };
