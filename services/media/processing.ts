// How a job reads the media it transcribes: a READY item's bytes copied to a private local file, checked
// against the size and SHA-256 recorded when it was uploaded, and probed again.
import type { BlobStore } from "../platform/blobs/blob-store.js";
import type { MediaConfig } from "../platform/config/config.js";
import { readFile } from "node:fs/promises";
import { FailedPreconditionError, InvalidArgumentError } from "../platform/errors/errors.js";
import type { MediaProbe } from "../audio/probe.js";
import type { Media } from "./media.entity.js";
import { copyInto, judge, Spool } from "./inspect.js";
import { describeState, type MediaItems } from "./media-items.js";

/** A READY item's bytes as a local file, for a job; `release` deletes the copy. */
export interface MediaForProcessing {
  media: Media;
  /** A private copy under the scratch folder; pass it to runAudioPipeline or ffmpeg. */
  path: string;
  probe: MediaProbe;
  release(): Promise<void>;
}

export interface ProcessingSettings extends Pick<MediaConfig, "scratchDir"> {
  /** How long a read from the blob store may go without a byte. */
  idleMs: number;
}

export class ProcessingAccess {
  constructor(
    private readonly items: MediaItems,
    private readonly blobs: BlobStore,
    private readonly settings: ProcessingSettings,
  ) {}

  /**
   * For Recognize: a READY item's bytes in memory, checked like a job's (size, SHA-256, probe), refused before
   * any byte is read when the item is larger than `maxBytes` or longer than `maxSeconds` (INVALID_ARGUMENT on
   * `field`). NOT_FOUND for another organisation's or a deleted item; FAILED_PRECONDITION for one whose upload
   * is not verified (pending, processing, failed).
   */
  async readWhole(
    organizationId: string,
    mediaId: string,
    limits: { maxBytes: number; maxSeconds: number; field: string },
    options: { signal?: AbortSignal } = {},
  ): Promise<{ media: Media; bytes: Uint8Array }> {
    const media = await this.items.find(this.items.tenant(organizationId), mediaId);
    if (media.status !== "ready") throw new FailedPreconditionError(`media ${mediaId} is ${describeState(media)}, not ready: complete and verify its upload first`);
    if ((media.sizeBytes ?? 0) > limits.maxBytes) {
      throw new InvalidArgumentError(limits.field, `media ${mediaId} holds ${media.sizeBytes} bytes, more than the ${limits.maxBytes} this call reads; transcribe it with a batch job (JobService.CreateJob)`);
    }
    if ((media.durationMs ?? 0) > limits.maxSeconds * 1000) {
      throw new InvalidArgumentError(limits.field, `media ${mediaId} lasts ${(media.durationMs! / 1000).toFixed(1)} s, more than the ${limits.maxSeconds} s this call takes; transcribe it with a batch job (JobService.CreateJob)`);
    }
    const opened = await this.openForProcessing(organizationId, mediaId, options);
    try {
      return { media: opened.media, bytes: new Uint8Array(await readFile(opened.path)) };
    } finally {
      await opened.release();
    }
  }

  /**
   * For the job runner: a READY item's bytes copied to a local file (checked against the stored size and
   * SHA-256 on the way) and probed. NOT_FOUND for another organisation's or a deleted item; FAILED_PRECONDITION
   * for one that is not READY. Call `release` when done, also on failure paths.
   */
  async openForProcessing(organizationId: string, mediaId: string, options: { signal?: AbortSignal } = {}): Promise<MediaForProcessing> {
    const media = await this.items.find(this.items.tenant(organizationId), mediaId);
    if (media.status !== "ready") throw new FailedPreconditionError(`media ${mediaId} is ${describeState(media)}, not ready`);
    const spool = await Spool.create(this.settings.scratchDir);
    try {
      const blob = await this.blobs.get("media", media.storageKey);
      await copyInto(spool, blob.stream, { maxBytes: media.sizeBytes ?? 0, idleMs: this.settings.idleMs, signal: options.signal });
      const { size, sha256 } = await spool.finish();
      // The store is trusted, but a job transcribing other bytes than were checked would be a silent error.
      if (size !== media.sizeBytes || sha256 !== media.sha256) {
        throw new Error(`media ${mediaId}: the stored bytes no longer match their recorded size and SHA-256`);
      }
      const verdict = await judge(spool.path, Number.POSITIVE_INFINITY, options.signal, media.contentType);
      if (!verdict.ok) throw verdict.rejection;
      return { media, path: spool.path, probe: verdict.probe, release: () => spool.remove() };
    } catch (err) {
      await spool.remove();
      throw err;
    }
  }
}
