// An organisation's media rows together with their bytes. Every query goes through a TenantScope bound to
// the organisation, so another organisation's item is simply not found; and the two changes that touch a
// row and the blob store at once, refusal (FAILED) and removal (soft-deleted), keep them in step.
import type { Database } from "../platform/database/database.js";
import { TenantScope } from "../platform/database/tenant-scope.js";
import { FailedPreconditionError, NotFoundError } from "../platform/errors/errors.js";
import type { BlobStore } from "../platform/blobs/blob-store.js";
import type { MediaProbe } from "../audio/probe.js";
import { Media, type MediaStatus } from "./media.entity.js";
import type { MediaRejectedError } from "./inspect.js";

/** Jobs of an organisation that still need a media item: a deletion waits for them. */
export type ActiveJobCount = (organizationId: string, mediaId: string) => Promise<number>;

/** Where an upload's bytes arrive: the key CreateUpload's presigned URLs write, until they expire. */
export function mediaBlobKey(organizationId: string, mediaId: string): string {
  return `orgs/${organizationId}/media/${mediaId}`;
}

/**
 * Where a verified upload's bytes live once READY: a key no presigned URL is ever issued for, so a PUT to
 * the upload's URL after CompleteUpload cannot change what downloads and jobs read.
 */
export function verifiedMediaBlobKey(organizationId: string, mediaId: string): string {
  return `orgs/${organizationId}/verified-media/${mediaId}`;
}

export class MediaItems {
  constructor(
    private readonly database: Database,
    private readonly blobs: BlobStore,
    private readonly activeJobCount: ActiveJobCount,
  ) {}

  tenant(organizationId: string): TenantScope {
    return new TenantScope(this.database.fork(), organizationId);
  }

  async find(tenant: TenantScope, mediaId: string): Promise<Media> {
    const media = await tenant.findOne(Media, { id: mediaId }, { populate: ["organization"] });
    if (!media) throw new NotFoundError("media", mediaId);
    return media;
  }

  /** Records the refusal (FAILED, bytes removed) if the item is still `from`, and returns the error to throw. */
  async reject(tenant: TenantScope, media: Media, from: MediaStatus, rejection: MediaRejectedError): Promise<MediaRejectedError> {
    const changed = await tenant.nativeUpdate(
      Media,
      { id: media.id, status: from },
      { status: "failed", errorCode: rejection.code, errorMessage: rejection.message, sha256: null, uploadId: null, updatedAt: new Date() },
    );
    if (changed === 1) await this.blobs.delete("media", media.storageKey);
    return rejection;
  }

  /** Removes the bytes (and an open multipart upload), then soft-deletes the row if it is still `from` (any state). */
  async remove(tenant: TenantScope, media: Media, from?: MediaStatus): Promise<boolean> {
    if (media.uploadId) await this.blobs.abortMultipartUpload("media", media.storageKey, media.uploadId);
    // Bytes first: if the row update then fails, deleting again is harmless, while a deleted row
    // pointing at bytes nobody can reach any more would leak them.
    await this.blobs.delete("media", media.storageKey);
    // A READY item's bytes moved to the verified key; the upload key may have been written again since.
    const uploadKey = mediaBlobKey(tenant.organizationId, media.id);
    if (uploadKey !== media.storageKey) await this.blobs.delete("media", uploadKey);
    const now = new Date();
    const changed = await tenant.nativeUpdate(Media, { id: media.id, status: from ?? { $ne: "deleted" } }, { status: "deleted", deletedAt: now, uploadId: null, updatedAt: now });
    return changed === 1;
  }

  async assertNoActiveJob(tenant: TenantScope, mediaId: string): Promise<void> {
    if ((await this.activeJobs(tenant, mediaId)) > 0) {
      throw new FailedPreconditionError("media_id: a job that uses this item is queued or running; cancel it or wait for it to finish");
    }
  }

  activeJobs(tenant: TenantScope, mediaId: string): Promise<number> {
    return this.activeJobCount(tenant.organizationId, mediaId);
  }
}

/** The columns of an item whose bytes were checked and probed. */
export function readyFields(probe: MediaProbe, size: number, sha256: string, now: Date) {
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

/** The item's state in words, for messages that say why it cannot be used yet. */
export function describeState(media: Media): string {
  return stateWords[media.status as MediaStatus];
}
