// CompleteUpload: the client says its presigned upload is done and what the bytes are. A PENDING item is
// assembled (when multipart), compared with the size CreateUpload was given and claimed for the Verifier;
// a retry, on this replica or another, is answered from the item's state, so CompleteUpload is idempotent.
import type { BlobStore } from "../platform/blobs/blob-store.js";
import { InvalidMultipartUploadError, MultipartUploadNotFoundError } from "../platform/blobs/blob-store.js";
import type { TenantScope } from "../platform/database/tenant-scope.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../platform/errors/errors.js";
import type { Principal } from "../identity/model/principal.js";
import { Media, type MediaStatus } from "./media.entity.js";
import { rejectionOf, sizeMismatch } from "./inspect.js";
import type { MediaItems } from "./media-items.js";
import type { Verifier } from "./verifier.js";

export interface Completion {
  mediaId: string;
  sizeBytes: number;
  sha256: string;
  parts: { partNumber: number; etag: string }[];
}

export class UploadCompletion {
  constructor(
    private readonly items: MediaItems,
    private readonly blobs: BlobStore,
    private readonly verifier: Verifier,
    /** How long to wait for the check before answering PROCESSING (MediaLibraryOptions.completeWaitMs). */
    private readonly completeWaitMs: number,
  ) {}

  /**
   * Checks the stored bytes against the size and SHA-256 given (assembling a multipart upload first), probes
   * them, and makes the item READY, or FAILED with the reason, which is also the error thrown. When that takes
   * longer than `completeWaitMs` the item is returned PROCESSING and the work goes on.
   */
  async completeUpload(principal: Principal, input: Completion, signal?: AbortSignal): Promise<Media> {
    return this.complete(this.items.tenant(principal.organizationId), input, signal);
  }

  private async complete(tenant: TenantScope, input: Completion, signal?: AbortSignal): Promise<Media> {
    const media = await this.items.find(tenant, input.mediaId);
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
      throw await this.items.reject(tenant, media, "pending", sizeMismatch("size_bytes", stored.size, media.expectedSizeBytes ?? 0));
    }

    const claimed = await tenant.nativeUpdate(
      Media,
      { id: media.id, status: "pending" },
      { status: "processing", sha256: input.sha256, uploadId: null, updatedAt: new Date() },
    );
    // Another CompleteUpload got there first: answer as a retry of it is answered.
    if (claimed === 0) return this.complete(tenant, input, signal);
    return this.outcomeOf(this.verifier.verify(tenant.organizationId, media.id), tenant, media.id, signal);
  }

  /** A CompleteUpload for an item being verified: waits on the verification, or resumes one whose process died. */
  private async joinVerification(tenant: TenantScope, media: Media, input: Completion, signal?: AbortSignal): Promise<Media> {
    if (media.sha256 !== input.sha256 || media.expectedSizeBytes !== input.sizeBytes) {
      throw new FailedPreconditionError("sha256: the upload is being verified against another size or checksum");
    }
    const running = this.verifier.inFlight(media.id);
    if (running) return this.outcomeOf(running, tenant, media.id, signal);
    if (await this.verifier.claimStalled(tenant, media, new Date())) {
      return this.outcomeOf(this.verifier.verify(tenant.organizationId, media.id), tenant, media.id, signal);
    }
    // Another replica is on it.
    return media;
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
      return outcome === "late" ? this.items.find(tenant, mediaId) : outcome;
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
}
