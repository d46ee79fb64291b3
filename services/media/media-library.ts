// The organisation's media files: uploads by presigned PUT, multipart or client stream, each checked
// against its declared size and SHA-256 and probed before it becomes READY; reading, listing, download
// URLs, deletion; and the media a job transcribes, as a local file. Every query goes through a
// TenantScope bound to the caller's organisation, so another organisation's item is simply not found.
//
// MediaLibrary is the one object the rest of the platform holds; the work is done by its parts:
//   Uploads          CreateUpload's presigned targets and UploadMedia's client stream   (uploads.ts)
//   UploadCompletion CompleteUpload, idempotent across retries and replicas             (completion.ts)
//   Verifier         the background check of a completed upload's bytes                 (verifier.ts)
//   MediaCatalog     get, list, delete and download URLs                                (catalog.ts)
//   ProcessingAccess a READY item as a local file for a job                             (processing.ts)
//   MediaSweeper     expired uploads, stalled checks and retention                      (sweeper.ts)
//   MediaItems       the tenant-scoped rows and the row changes that touch the bytes too (media-items.ts)
import type { Logger } from "pino";
import type { Database } from "../platform/database/database.js";
import type { Page } from "../platform/database/paging.js";
import type { AuditLog } from "../identity/audit/audit-log.js";
import type { Caller, Principal } from "../identity/model/principal.js";
import type { BlobStore } from "../platform/blobs/blob-store.js";
import type { MediaConfig } from "../platform/config/config.js";
import type { Media, MediaStatus } from "./media.entity.js";
import { MediaCatalog } from "./catalog.js";
import { UploadCompletion, type Completion } from "./completion.js";
import { MediaItems, type ActiveJobCount } from "./media-items.js";
import { ProcessingAccess, type MediaForProcessing } from "./processing.js";
import { MediaSweeper, type SweepReport } from "./sweeper.js";
import { Uploads, type NewUpload, type StreamedUpload, type UploadTarget } from "./uploads.js";
import { Verifier } from "./verifier.js";

export type { ActiveJobCount } from "./media-items.js";
export { mediaBlobKey } from "./media-items.js";
export type { Completion } from "./completion.js";
export type { MediaForProcessing } from "./processing.js";
export { expiresAtOf, type SweepReport } from "./sweeper.js";
export type { FileDescription, NewUpload, StreamedUpload, UploadTarget } from "./uploads.js";
export { MediaRejectedError } from "./inspect.js";

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

export class MediaLibrary {
  private readonly uploads: Uploads;
  private readonly completion: UploadCompletion;
  private readonly verifier: Verifier;
  private readonly catalog: MediaCatalog;
  private readonly processing: ProcessingAccess;
  private readonly sweeper: MediaSweeper;

  constructor(database: Database, blobs: BlobStore, audit: AuditLog, options: MediaLibraryOptions) {
    const idleMs = options.idleMs ?? 60_000;
    const items = new MediaItems(database, blobs, options.activeJobs);
    this.verifier = new Verifier(items, blobs, { scratchDir: options.scratchDir, maxMediaSeconds: options.maxMediaSeconds, idleMs, logger: options.logger });
    this.uploads = new Uploads(items, blobs, { ...options, idleMs, logger: options.logger });
    this.completion = new UploadCompletion(items, blobs, this.verifier, options.completeWaitMs ?? 20_000);
    this.catalog = new MediaCatalog(items, blobs, audit);
    this.processing = new ProcessingAccess(items, blobs, { scratchDir: options.scratchDir, idleMs });
    this.sweeper = new MediaSweeper(database, items, this.verifier, audit);
  }

  /** Creates a PENDING item and presigns where its bytes go. */
  createUpload(principal: Principal, input: NewUpload): Promise<{ media: Media; target: UploadTarget }> {
    return this.uploads.createUpload(principal, input);
  }

  /**
   * Checks the stored bytes against the size and SHA-256 given (assembling a multipart upload first), probes
   * them, and makes the item READY, or FAILED with the reason, which is also the error thrown. When that takes
   * longer than `completeWaitMs` the item is returned PROCESSING and the work goes on.
   */
  completeUpload(principal: Principal, input: Completion, signal?: AbortSignal): Promise<Media> {
    return this.completion.completeUpload(principal, input, signal);
  }

  /** Stores a file that arrives through the API in chunks; nothing is kept when it is refused. */
  uploadStream(principal: Principal, input: StreamedUpload, chunks: AsyncIterable<Uint8Array>): Promise<Media> {
    return this.uploads.uploadStream(principal, input, chunks);
  }

  get(principal: Principal, mediaId: string): Promise<Media> {
    return this.catalog.get(principal, mediaId);
  }

  /** Newest first; `status` narrows it to one state. */
  list(principal: Principal, input: { pageSize: number; pageToken: string; status?: MediaStatus }): Promise<Page<Media>> {
    return this.catalog.list(principal, input);
  }

  /** Soft-deletes the item and removes its bytes; refused while a queued or running job uses it. Audited. */
  delete(principal: Principal, mediaId: string, caller: Caller): Promise<void> {
    return this.catalog.delete(principal, mediaId, caller);
  }

  /** A presigned GET of a READY item's bytes, saved under its file name. */
  downloadUrl(principal: Principal, mediaId: string, expiresInSeconds?: number): Promise<{ url: string; expiresAt: Date }> {
    return this.catalog.downloadUrl(principal, mediaId, expiresInSeconds);
  }

  /** For the job runner: a READY item's checked bytes as a local file, probed. Call `release` when done. */
  openForProcessing(organizationId: string, mediaId: string, options: { signal?: AbortSignal } = {}): Promise<MediaForProcessing> {
    return this.processing.openForProcessing(organizationId, mediaId, options);
  }

  /** For Recognize: a READY item's checked bytes in memory, within the call's size and duration limits (see ProcessingAccess.readWhole). */
  readWhole(organizationId: string, mediaId: string, limits: { maxBytes: number; maxSeconds: number; field: string }, options: { signal?: AbortSignal } = {}): Promise<{ media: Media; bytes: Uint8Array }> {
    return this.processing.readWhole(organizationId, mediaId, limits, options);
  }

  /** Discards expired uploads, resumes stalled checks and applies retention, across organisations. */
  sweep(now = new Date()): Promise<SweepReport> {
    return this.sweeper.sweep(now);
  }

  /**
   * Stops the verifications in flight and waits for them; their items stay PROCESSING, released for the next
   * sweep (on any replica) to finish.
   */
  close(): Promise<void> {
    return this.verifier.close();
  }
}
