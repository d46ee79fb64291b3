// Composes what users do with finished work (transcripts, their search and exports, and usage with its
// quota) from the config and the adapters, for the composition root. The jobs runner and the live-session
// engine write through `transcripts.create` and `usage.record`, and check `usage.assertWithinQuota`.
import type { Config } from "../platform/config/config.js";
import type { Database } from "../platform/database/database.js";
import type { BlobStore } from "../platform/blobs/index.js";
import { Transcripts } from "../transcripts/transcripts.js";
import { TranscriptSearch } from "../transcripts/search.js";
import { transcriptHandler } from "../transcripts/handler.js";
import { Exports, MAX_EXPORT_SEGMENTS } from "../exports/exports.js";
import { exportHandler } from "../exports/handler.js";
import { Usage } from "../usage/usage.js";
import type { StreamSlots } from "../platform/limits/stream-slots.js";
import { usageHandler } from "../usage/handler.js";
import type { ProductHandlers } from "./product-services.js";
import type { OrganizationSnapshots } from "../identity/orgs/organization-snapshots.js";

export interface TranscriptCapabilities {
  transcripts: Transcripts;
  search: TranscriptSearch;
  exports: Exports;
  usage: Usage;
  handlers: ProductHandlers;
}

export function createTranscriptCapabilities(
  config: Pick<Config, "usage" | "lifecycle" | "replicaCacheTtlMs">,
  adapters: { database: Database; blobs: BlobStore },
  deps: { streamSlots?: Pick<StreamSlots, "held" | "limit">; organizations?: Pick<OrganizationSnapshots, "get"> } = {},
): TranscriptCapabilities {
  const transcripts = new Transcripts(adapters.database);
  const search = new TranscriptSearch(adapters.database);
  // GetExport's expires_at is when the lifecycle cleanup, on the same setting, deletes the file.
  const exports = new Exports(adapters.database, adapters.blobs, transcripts, MAX_EXPORT_SEGMENTS, config.lifecycle.exportRetentionDays);
  transcripts.onDeleted((organizationId, transcriptId) => exports.discardFiles(organizationId, transcriptId));
  const usage = new Usage(adapters.database, config.usage, { streams: deps.streamSlots, organizations: deps.organizations, usedCacheTtlMs: config.replicaCacheTtlMs });
  return {
    transcripts,
    search,
    exports,
    usage,
    handlers: {
      "arabicstt.v1.TranscriptService": transcriptHandler(transcripts, search),
      "arabicstt.v1.ExportService": exportHandler(exports),
      "arabicstt.v1.UsageService": usageHandler(usage),
    },
  };
}
