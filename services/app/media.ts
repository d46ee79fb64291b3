// Composes MediaService for the composition root: the library over the database and the blob store,
// its handlers, and the sweeper that discards abandoned uploads, resumes interrupted checks and applies
// retention.
import type { Logger } from "pino";
import type { Config } from "../platform/config/config.js";
import type { Database } from "../platform/database/database.js";
import type { AuditLog } from "../identity/audit/audit-log.js";
import type { BlobStore } from "../platform/blobs/index.js";
import { MediaLibrary } from "../media/media-library.js";
import { mediaHandler } from "../media/handler.js";
import { activeJobsOfMedia } from "../jobs/active-jobs.js";
import type { ProductHandlers } from "./product-services.js";

export interface MediaCapability {
  library: MediaLibrary;
  handlers: ProductHandlers;
  /** Stops the sweeper, then stops and waits for the checks in flight. */
  close(): Promise<void>;
}

export interface MediaCapabilityOptions {
  /** How often the sweeper runs; 0 turns it off (tests call `library.sweep()` themselves). Default 10 minutes. */
  sweepIntervalMs?: number;
  /** See MediaLibraryOptions.completeWaitMs. */
  completeWaitMs?: number;
}

export function createMedia(
  config: Pick<Config, "media">,
  adapters: { database: Database; blobs: BlobStore; logger?: Logger },
  audit: AuditLog,
  options: MediaCapabilityOptions = {},
): MediaCapability {
  const library = new MediaLibrary(adapters.database, adapters.blobs, audit, {
    ...config.media,
    completeWaitMs: options.completeWaitMs,
    logger: adapters.logger,
    activeJobs: activeJobsOfMedia(adapters.database),
  });
  const intervalMs = options.sweepIntervalMs ?? 10 * 60 * 1000;
  let sweeping: Promise<void> | undefined;
  const sweep = () => {
    // One run at a time: a slow store must not stack runs up.
    sweeping ??= library
      .sweep()
      .then(
        (report) => {
          if (Object.values(report).some((n) => n > 0)) adapters.logger?.info({ media_sweep: report }, "media sweep");
        },
        (err: unknown) => adapters.logger?.error({ err }, "media sweep failed"),
      )
      .finally(() => (sweeping = undefined));
  };
  // Soon after start as well, so checks a restart interrupted resume without waiting a whole interval.
  const first = intervalMs > 0 ? setTimeout(sweep, Math.min(intervalMs, 30_000)) : undefined;
  const timer = intervalMs > 0 ? setInterval(sweep, intervalMs) : undefined;
  first?.unref();
  timer?.unref();
  return {
    library,
    handlers: { "arabicstt.v1.MediaService": mediaHandler(library) },
    close: async () => {
      clearTimeout(first);
      clearInterval(timer);
      await sweeping;
      await library.close();
    },
  };
}
