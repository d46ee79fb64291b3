// Builds the privacy capability (data exports and erasures) for the composition root, and runs its sweep: at
// start (erasures and exports a crash interrupted are finished) and then every minute, on every replica (each
// row is claimed by one process at a time, by its lease).
import type { Logger } from "pino";
import type { Database } from "../platform/database/database.js";
import type { BlobStore } from "../platform/blobs/blob-store.js";
import type { AuditLog } from "../identity/audit/audit-log.js";
import { DataExports } from "./data-exports.js";
import { Erasures } from "./erasures.js";
import { privacyHandler } from "./handler.js";

export interface PrivacyOptions {
  scratchDir: string;
  /** Days a data-export archive is kept (EXPORT_RETENTION_DAYS). */
  retentionDays: number;
  /** How often the sweep runs; 0 runs it only at start. Default 60 s. */
  sweepIntervalMs?: number;
}

export interface PrivacyCapability {
  exports: DataExports;
  erasures: Erasures;
  handler: ReturnType<typeof privacyHandler>;
  /** Once: resumes what waits, deletes archives past their retention. */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

export function createPrivacy(adapters: { database: Database; blobs: BlobStore; audit: AuditLog; logger: Logger }, options: PrivacyOptions): PrivacyCapability {
  const logger = adapters.logger.child({ component: "privacy" });
  const exports = new DataExports(adapters.database, adapters.blobs, { scratchDir: options.scratchDir, retentionDays: options.retentionDays, logger });
  const erasures = new Erasures(adapters.database, adapters.blobs, adapters.audit, logger);
  const sweep = async () => {
    await erasures.sweep();
    await exports.sweep();
  };
  const sweepLogged = () => sweep().catch((err: unknown) => logger.error({ err }, "privacy sweep failed; the next one tries again"));
  void sweepLogged();
  const interval = options.sweepIntervalMs ?? 60_000;
  const timer = interval > 0 ? setInterval(() => void sweepLogged(), interval) : undefined;
  timer?.unref();
  return {
    exports,
    erasures,
    handler: privacyHandler(exports, erasures),
    sweep,
    close: async () => {
      clearInterval(timer);
      await erasures.close();
      await exports.close();
    },
  };
}
