// Exports: a transcript rendered to a file (services/exports/format) and stored in the exports bucket,
// downloaded through a presigned GET. Rendering happens inside CreateExport: even a long transcript renders
// in well under a second, so the export is SUCCEEDED when the call returns. The bound on segments keeps one
// call from holding a gateway's CPU and memory; a queued renderer can take over past it when one is needed.
import type { BlobStore } from "../platform/blobs/index.js";
import type { Database } from "../platform/database/database.js";
import { TenantScope } from "../platform/database/tenant-scope.js";
import { FailedPreconditionError, NotFoundError } from "../platform/errors/errors.js";
import type { Transcript } from "../transcripts/transcript.entity.js";
import type { Transcripts } from "../transcripts/transcripts.js";
import { Export } from "./export.entity.js";
import { EXPORT_FORMATS, renderExport, type ExportFormat, type ExportOptions, type ExportTranscript } from "./format/index.js";
import { resolveExportOptions } from "./format/export-options.js";

/** Segments one synchronous export renders at most (a 10-hour call has a few thousand). */
export const MAX_EXPORT_SEGMENTS = 50_000;
/** How long a download URL works (export.proto: 15 minutes). */
export const DOWNLOAD_URL_TTL_SECONDS = 15 * 60;
/** Days an export's file is kept after completion when none are configured (EXPORT_RETENTION_DAYS' default). */
export const DEFAULT_EXPORT_RETENTION_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface ExportDownload {
  url: string;
  expiresAt: Date;
}

export class Exports {
  constructor(
    private readonly database: Database,
    private readonly blobs: BlobStore,
    private readonly transcripts: Transcripts,
    private readonly maxSegments = MAX_EXPORT_SEGMENTS,
    /** EXPORT_RETENTION_DAYS: the lifecycle cleanup deletes a file this long after completion. */
    private readonly retentionDays = DEFAULT_EXPORT_RETENTION_DAYS,
  ) {}

  /** When the cleanup deletes this export's file (and row): `retentionDays` after completion; null before. */
  expiresAt(row: Pick<Export, "completedAt">): Date | null {
    return row.completedAt ? new Date(row.completedAt.getTime() + this.retentionDays * DAY_MS) : null;
  }

  async create(organizationId: string, transcriptId: string, format: ExportFormat, options: ExportOptions): Promise<Export> {
    // Bad options are the caller's mistake: refused before anything is written.
    resolveExportOptions(options);
    const tenant = new TenantScope(this.database.fork(), organizationId);
    const transcript = await this.transcripts.find(organizationId, transcriptId, tenant);
    const segmentCount = await this.transcripts.segmentCount(organizationId, transcriptId);
    if (segmentCount > this.maxSegments) {
      throw new FailedPreconditionError(`the transcript has ${segmentCount} segments; exports render at most ${this.maxSegments}`);
    }
    const row = tenant.create(Export, {
      transcript,
      format,
      options: JSON.parse(JSON.stringify(options)) as Record<string, unknown>,
      filename: `${fileStem(transcript)}.${EXPORT_FORMATS[format].extension}`,
    });
    await tenant.flush();
    try {
      const rendered = await renderExport(format, await this.exportTranscript(organizationId, transcript), options);
      const key = `orgs/${organizationId}/exports/${row.id}.${rendered.fileExtension}`;
      await this.blobs.put("exports", key, Buffer.from(rendered.bytes), { contentType: rendered.contentType });
      row.storageKey = key;
      row.sizeBytes = rendered.bytes.byteLength;
      row.status = "ready";
    } catch (err) {
      row.status = "failed";
      row.error = "the export could not be rendered or stored; try again";
      row.completedAt = new Date();
      await tenant.flush();
      throw err;
    }
    row.completedAt = new Date();
    await tenant.flush();
    return row;
  }

  /** Deletes the files of a deleted transcript's exports; the rows stay, unreachable, for the cleanup job. */
  async discardFiles(organizationId: string, transcriptId: string): Promise<void> {
    const tenant = new TenantScope(this.database.fork(), organizationId);
    // The transcript is deleted by now, so its notDeleted filter must not hide the exports that point at it.
    const rows = await tenant.find(Export, { transcript: transcriptId, storageKey: { $ne: null } }, { filters: { notDeleted: false } });
    for (const row of rows) {
      await this.blobs.delete("exports", row.storageKey!);
      row.storageKey = null;
    }
    await tenant.flush();
  }

  /** An export of a transcript that still exists. */
  async get(organizationId: string, exportId: string): Promise<Export> {
    const tenant = new TenantScope(this.database.fork(), organizationId);
    const row = await tenant.findOne(Export, { id: exportId, transcript: { deletedAt: null } });
    if (!row) throw new NotFoundError("export", exportId);
    return row;
  }

  /** A fresh presigned GET for a ready export; null otherwise. */
  async downloadUrl(row: Export): Promise<ExportDownload | null> {
    if (row.status !== "ready" || !row.storageKey) return null;
    const url = await this.blobs.presignGet("exports", row.storageKey, { expiresInSeconds: DOWNLOAD_URL_TTL_SECONDS, downloadFileName: row.filename });
    return { url, expiresAt: new Date(Date.now() + DOWNLOAD_URL_TTL_SECONDS * 1000) };
  }

  /** The transcript as the renderers take it: seconds, 1-based channels, speakers by display name. */
  private async exportTranscript(organizationId: string, transcript: Transcript): Promise<ExportTranscript> {
    const [segments, speakers] = await Promise.all([
      this.transcripts.allSegments(organizationId, transcript.id),
      this.transcripts.speakers(organizationId, transcript.id),
    ]);
    return {
      id: transcript.id,
      title: transcript.title || undefined,
      language: transcript.languageCode,
      durationSeconds: (transcript.durationMs ?? segments.reduce((end, s) => Math.max(end, s.endMs), 0)) / 1000,
      channels: transcript.channelCount,
      speakers: speakers.map((s) => ({ id: s.label, label: s.displayName || s.label, ...(s.channel === null ? {} : { channel: s.channel + 1 }) })),
      segments: segments.map((s) => ({
        start: s.startMs / 1000,
        end: s.endMs / 1000,
        text: s.text,
        ...(s.speakerLabel ? { speakerId: s.speakerLabel } : {}),
        channel: s.channel + 1,
        ...(s.confidence === null ? {} : { confidence: s.confidence }),
        words: s.words.map((w) => ({ word: w.word, start: w.startMs / 1000, end: w.endMs / 1000, ...(w.confidence === undefined ? {} : { confidence: w.confidence }) })),
        ...(s.alternatives.length > 0 ? { alternatives: s.alternatives } : {}),
      })),
      metadata: transcript.metadata,
    };
  }
}

/** A file name from the title: letters (Arabic too), digits, dots and dashes; the date when there is no title. */
function fileStem(transcript: Transcript): string {
  const fromTitle = transcript.title
    .replace(/\.[A-Za-z0-9]{1,5}$/, "")
    .replace(/[^\p{L}\p{N}._-]+/gu, "-")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 100);
  return fromTitle || `transcript-${transcript.createdAt.toISOString().slice(0, 10)}`;
}
