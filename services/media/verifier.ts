// The check of an upload's stored bytes, run in the background of CompleteUpload: copied aside while
// hashed, compared with the size and SHA-256 given, probed, and the item made READY or FAILED. The copy
// that was hashed is what a READY item keeps: it is stored under a key no presigned URL writes
// (verifiedMediaBlobKey) and the upload's key is removed, so the upload URL, still valid for up to an hour,
// cannot replace the bytes that were verified. A check
// in flight heartbeats its row, so another replica can tell it from one whose process died and resume that
// one (claimStalled), and at most one check per item runs in this process.
import { createReadStream } from "node:fs";
import type { Logger } from "pino";
import type { BlobStore } from "../platform/blobs/blob-store.js";
import { BlobNotFoundError } from "../platform/blobs/blob-store.js";
import type { TenantScope } from "../platform/database/tenant-scope.js";
import type { MediaConfig } from "../platform/config/config.js";
import { Media } from "./media.entity.js";
import { checksumMismatch, copyInto, detectContentType, judge, MediaRejectedError, rejectionOf, sizeMismatch, Spool } from "./inspect.js";
import { readyFields, verifiedMediaBlobKey, type MediaItems } from "./media-items.js";
import { heard } from "../platform/failures.js";

/** A verification touches its row this often, so others can tell it from one whose process died. */
const HEARTBEAT_MS = 30_000;
/** A `processing` row untouched for this long lost its verifier; the next CompleteUpload or sweep resumes it. */
export const STALLED_AFTER_MS = 4 * HEARTBEAT_MS;

interface Verification {
  promise: Promise<Media>;
  controller: AbortController;
}

export interface VerifierSettings extends Pick<MediaConfig, "scratchDir" | "maxMediaSeconds"> {
  /** How long a read from the blob store may go without a byte. */
  idleMs: number;
  logger?: Logger;
}

export class Verifier {
  private readonly verifications = new Map<string, Verification>();
  private closed = false;

  constructor(
    private readonly items: MediaItems,
    private readonly blobs: BlobStore,
    private readonly settings: VerifierSettings,
  ) {}

  /** The check of this item running in this process, if there is one. */
  inFlight(mediaId: string): Promise<Media> | undefined {
    return this.verifications.get(mediaId)?.promise;
  }

  /** Takes over a `processing` item whose check stopped heartbeating; false when it is alive or another took it. */
  async claimStalled(tenant: TenantScope, media: Media, now: Date): Promise<boolean> {
    const stalledBefore = new Date(now.getTime() - STALLED_AFTER_MS);
    if (media.updatedAt >= stalledBefore) return false;
    const claimed = await tenant.nativeUpdate(Media, { id: media.id, status: "processing", updatedAt: { $lt: stalledBefore } }, { updatedAt: now });
    return claimed === 1;
  }

  /**
   * Copies the stored bytes aside while hashing them, probes the copy, and records READY or FAILED. Resolves
   * with the READY item; rejects with the MediaRejectedError it recorded, or with the error that stopped it
   * (the item then stays PROCESSING, released for a retry).
   */
  verify(organizationId: string, mediaId: string): Promise<Media> {
    const existing = this.verifications.get(mediaId);
    if (existing) return existing.promise;
    const controller = new AbortController();
    const promise = this.run(organizationId, mediaId, controller.signal).finally(() => this.verifications.delete(mediaId));
    // Nobody may be waiting (CompleteUpload returned PROCESSING): a refusal is in the row; a fault of ours or
    // of the store leaves the item PROCESSING for the next sweep, and is heard here in case nobody waits.
    promise.catch((err: unknown) => {
      // Shutdown stops checks on purpose (close() says so); anything else is a fault to hear.
      if (!(err instanceof MediaRejectedError) && !this.closed) {
        heard(this.settings.logger, "media.verify", err, { media_id: mediaId, organization_id: organizationId }, "an upload's verification stopped; the next sweep resumes it");
      }
    });
    this.verifications.set(mediaId, { promise, controller });
    if (this.closed) controller.abort(new Error("the server is shutting down"));
    return promise;
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

  private async run(organizationId: string, mediaId: string, signal: AbortSignal): Promise<Media> {
    const tenant = this.items.tenant(organizationId);
    const media = await tenant.findOne(Media, { id: mediaId, status: "processing" });
    if (!media) {
      // Finished meanwhile (by another replica): its outcome, as a retry of CompleteUpload would get it.
      const current = await this.items.find(tenant, mediaId);
      if (current.status === "failed") throw rejectionOf(current.errorCode ?? "INTERNAL", current.errorMessage ?? "media: the upload failed");
      return current;
    }
    const spool = await Spool.create(this.settings.scratchDir);
    const heartbeat = setInterval(() => {
      // A missed heartbeat is retried at the next tick; at worst another replica reclaims the item and verifies it again.
      tenant
        .nativeUpdate(Media, { id: mediaId, status: "processing" }, { updatedAt: new Date() })
        .catch((err: unknown) => heard(this.settings.logger, "media.verify_heartbeat", err, { media_id: mediaId }, "a verification's heartbeat could not be written"));
    }, HEARTBEAT_MS);
    heartbeat.unref();
    try {
      const outcome = await this.check(tenant, media, spool, signal);
      if (outcome instanceof MediaRejectedError) throw await this.items.reject(tenant, media, "processing", outcome);
      const ready = await tenant.nativeUpdate(Media, { id: mediaId, status: "processing" }, { ...outcome, status: "ready", updatedAt: new Date() });
      // The upload's key is no longer read; removing it keeps a second copy from lingering. A failure here
      // leaves only that stale copy, which deleting the item removes too, so READY stands.
      if (ready === 1) {
        await this.blobs.delete("media", media.storageKey).catch((err: unknown) => this.settings.logger?.warn({ err, mediaId, key: media.storageKey }, "could not remove a verified upload's original key"));
      }
      return await this.items.find(tenant, mediaId);
    } finally {
      clearInterval(heartbeat);
      await spool.remove();
    }
  }

  /**
   * The stored bytes judged: the columns of a READY item, or the refusal to record. A fault of ours or of
   * the store (or shutdown) is thrown instead, after releasing the claim.
   */
  private async check(tenant: TenantScope, media: Media, spool: Spool, signal: AbortSignal): Promise<Partial<Media> | MediaRejectedError> {
    const expectedSize = media.expectedSizeBytes ?? 0;
    try {
      const blob = await this.blobs.get("media", media.storageKey);
      await copyInto(spool, blob.stream, { maxBytes: expectedSize, idleMs: this.settings.idleMs, signal });
      const { size, sha256 } = await spool.finish();
      if (size !== expectedSize) return sizeMismatch("size_bytes", Math.max(size, blob.size), expectedSize);
      if (sha256 !== media.sha256) return checksumMismatch("sha256", sha256, media.sha256 ?? "");
      const verdict = await judge(spool.path, this.settings.maxMediaSeconds, signal, media.contentType);
      if (!verdict.ok) return verdict.rejection;
      // The spool holds exactly the bytes hashed, whatever the upload key holds by now.
      const storageKey = verifiedMediaBlobKey(tenant.organizationId, media.id);
      await this.blobs.put("media", storageKey, createReadStream(spool.path), { contentType: media.contentType || undefined });
      return { ...readyFields(verdict.probe, size, sha256, new Date()), storageKey, ...(media.contentType ? {} : { contentType: detectContentType(verdict.probe) }) };
    } catch (err) {
      if (!(err instanceof BlobNotFoundError)) {
        // A fault of ours or of the store (or shutdown), not of the file: the item stays PROCESSING with its
        // claim released, so the next sweep (here or on another replica) or CompleteUpload starts again.
        // The original error is rethrown; the item stays PROCESSING for the next sweep either way (later, unreleased).
        await tenant
          .nativeUpdate(Media, { id: media.id, status: "processing" }, { updatedAt: new Date(Date.now() - STALLED_AFTER_MS - 1000) })
          .catch((releaseErr: unknown) => heard(this.settings.logger, "media.verify_release", releaseErr, { media_id: media.id }, "a stopped verification's claim could not be released; the sweep takes it once stale"));
        throw err;
      }
      return new MediaRejectedError("failed_precondition", "UPLOAD_MISSING", "media_id: the uploaded file is no longer in storage; upload it again with CreateUpload");
    }
  }
}
