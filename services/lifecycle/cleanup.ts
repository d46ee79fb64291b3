// Lifecycle cleanup (issue 6, item 9): deletes export files past their retention, purges rows soft-deleted
// longer ago than the retention period (after their blobs are gone), and purges old webhook deliveries.
// Media past an organisation's retention and abandoned uploads are the media sweep's work
// (MediaLibrary.sweep, scheduled by the media capability); the rows it soft-deletes are purged here later.
//
// The cleanup works across organisations, so it uses the EntityManager directly instead of a TenantScope:
// a scope exists to keep one caller inside its own organisation, and this job acts for no caller, on every
// organisation's expired rows alike. It only ever deletes, by age, rows that no request can reach anymore.
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Database } from "../platform/database/database.js";
import { Export } from "../exports/export.entity.js";
import type { Logger } from "../platform/logger.js";
import type { BlobStore } from "../platform/blobs/index.js";
import { Transcript } from "../transcripts/transcript.entity.js";
import { Media } from "../media/media.entity.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Rows one step handles per run, so a run stays short; the next run takes the rest. */
export const CLEANUP_BATCH = 500;

/**
 * One key for pg_try_advisory_xact_lock: replicas that start a run together find it taken and skip theirs.
 * Any constant works as long as nothing else locks it ("lcyc" in ASCII).
 */
const LOCK_KEY = 0x6c637963;

export interface CleanupOptions {
  /** Export files (and their rows) are deleted this long after completion. */
  exportRetentionDays: number;
  /** Rows soft-deleted longer ago than this are purged. */
  softDeleteRetentionDays: number;
  /** Finished webhook deliveries older than this are purged. Default 30. */
  deliveryRetentionDays?: number;
  /** Rows per step and run. Default CLEANUP_BATCH. */
  batchSize?: number;
}

export interface CleanupReport {
  /** False when another replica held the lock and this run did nothing. */
  ran: boolean;
  exportsExpired: number;
  transcriptsPurged: number;
  mediaPurged: number;
  deliveriesPurged: number;
}

/** What the cleanup needs of the webhooks domain. */
export interface DeliveryPurger {
  purgeDeliveries(before: Date): Promise<number>;
}

export class Cleanup {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly database: Database,
    private readonly blobs: BlobStore,
    private readonly webhooks: DeliveryPurger,
    private readonly options: CleanupOptions,
    private readonly logger?: Logger,
  ) {}

  /**
   * One pass. Every step deletes blobs before rows (a row without its blob is harmless and retried; a blob
   * without its row would leak), so a run cut short is finished by the next one.
   */
  async run(now = new Date()): Promise<CleanupReport> {
    const report: CleanupReport = { ran: false, exportsExpired: 0, transcriptsPurged: 0, mediaPurged: 0, deliveriesPurged: 0 };
    const softDeleteCutoff = new Date(now.getTime() - this.options.softDeleteRetentionDays * DAY_MS);
    await this.database.fork().transactional(async (em) => {
      // A transaction-scoped lock: released by the commit (or by the connection dying), never left behind.
      const [lock] = await em.execute<{ locked: boolean }[]>(`select pg_try_advisory_xact_lock(${LOCK_KEY}) as locked`);
      if (!lock?.locked) return;
      report.ran = true;
      report.exportsExpired = await this.expireExports(em, new Date(now.getTime() - this.options.exportRetentionDays * DAY_MS));
      report.transcriptsPurged = await this.purgeTranscripts(em, softDeleteCutoff);
      report.mediaPurged = await this.purgeMedia(em, softDeleteCutoff);
    });
    if (!report.ran) return report;
    // After the commit: the purge takes a connection of its own (PGlite has only one). Without the lock it is
    // still safe, a plain DELETE by age that a concurrent one only makes find fewer rows.
    report.deliveriesPurged = await this.webhooks.purgeDeliveries(new Date(now.getTime() - (this.options.deliveryRetentionDays ?? 30) * DAY_MS));
    this.logger?.info({ lifecycle_cleanup: report }, "lifecycle cleanup");
    return report;
  }

  /** Runs every `intervalMs` (0: never) on an unref'd timer; a run still going when the next is due is not doubled. */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.run()
        .catch((err: unknown) => this.logger?.error({ err }, "lifecycle cleanup failed"))
        .finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * Exports completed (or, never completed, created) before the cutoff: the file goes, then the row, so
   * GetExport answers NOT_FOUND, as for an export that never existed; export.proto's `expires_at` told the
   * client when.
   */
  private async expireExports(em: EntityManager, cutoff: Date): Promise<number> {
    const rows = await em.find(
      Export,
      { $or: [{ completedAt: { $lt: cutoff } }, { completedAt: null, createdAt: { $lt: cutoff } }] },
      { fields: ["id", "storageKey"], orderBy: { createdAt: "asc" }, limit: this.batchSize },
    );
    for (const row of rows) {
      if (row.storageKey) await this.blobs.delete("exports", row.storageKey);
    }
    return rows.length === 0 ? 0 : em.nativeDelete(Export, { id: { $in: rows.map((r) => r.id) } });
  }

  /**
   * Transcripts soft-deleted before the cutoff. DeleteTranscript already removed their export files; they are
   * deleted again here in case that was cut short. The row's delete cascades to segments, speakers and exports.
   */
  private async purgeTranscripts(em: EntityManager, cutoff: Date): Promise<number> {
    const rows = await em.find(
      Transcript,
      { deletedAt: { $lt: cutoff } },
      { fields: ["id"], filters: { notDeleted: false }, orderBy: { deletedAt: "asc" }, limit: this.batchSize },
    );
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    const exports = await em.find(Export, { transcript: { $in: ids }, storageKey: { $ne: null } }, { fields: ["id", "storageKey"] });
    for (const row of exports) await this.blobs.delete("exports", row.storageKey!);
    return em.nativeDelete(Transcript, { id: { $in: ids } }, { filters: { notDeleted: false } });
  }

  /**
   * Media soft-deleted before the cutoff. Their bytes went when they were deleted; deleted again here (and an
   * open multipart upload aborted) in case that was cut short. Items a job points at stay: the job's row keeps
   * its media (jobs.media_id has no cascade), so purging those is a decision for the jobs' own retention.
   */
  private async purgeMedia(em: EntityManager, cutoff: Date): Promise<number> {
    const rows = await em.execute<{ id: string; storage_key: string; upload_id: string | null }[]>(
      `select m."id", m."storage_key", m."upload_id" from "media" m
        where m."deleted_at" < ? and not exists (select 1 from "jobs" j where j."media_id" = m."id")
        order by m."deleted_at" limit ?`,
      [cutoff, this.batchSize],
    );
    if (rows.length === 0) return 0;
    for (const row of rows) {
      if (row.upload_id) await this.blobs.abortMultipartUpload("media", row.storage_key, row.upload_id);
      await this.blobs.delete("media", row.storage_key);
    }
    return em.nativeDelete(Media, { id: { $in: rows.map((r) => r.id) } }, { filters: { notDeleted: false } });
  }

  private get batchSize(): number {
    return this.options.batchSize ?? CLEANUP_BATCH;
  }
}
