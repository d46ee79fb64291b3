// ExportService over the wire.
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate, type Duration } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { ProcessingErrorSchema } from "../../proto/gen/arabicstt/v1/common_pb.js";
import {
  ExportFormat as FormatMessage,
  ExportOptionsSchema,
  ExportSchema,
  ExportState,
  type Export as ExportMessage,
  type ExportOptions as OptionsMessage,
  type ExportService,
} from "../../proto/gen/arabicstt/v1/export_pb.js";
import { principalOf } from "../identity/model/context.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import type { Export, ExportStatus } from "./export.entity.js";
import type { Exports } from "./exports.js";
import { exportFormatNames, type ExportFormat, type ExportOptions } from "./format/index.js";

/** The proto value of a format: the one of the same name (EXPORT_FORMAT_SRT for "srt"). */
function toProtoFormat(format: ExportFormat): FormatMessage {
  return FormatMessage[format.toUpperCase() as Uppercase<ExportFormat>];
}

function fromFormat(value: FormatMessage): ExportFormat {
  const found = exportFormatNames.find((format) => toProtoFormat(format) === value);
  if (!found) {
    const names = exportFormatNames.map((format) => format.toUpperCase());
    throw new InvalidArgumentError("format", `must be ${names.slice(0, -1).join(", ")} or ${names.at(-1)}`);
  }
  return found;
}

const stateToProto = { pending: ExportState.PENDING, ready: ExportState.SUCCEEDED, failed: ExportState.FAILED } as const;

function seconds(d: Duration): number {
  return Number(d.seconds) + d.nanos / 1e9;
}

/** Proto options → the renderers' options; fields left unset keep the renderers' defaults. */
export function fromOptions(o: OptionsMessage | undefined): ExportOptions {
  if (!o) return {};
  const options: ExportOptions = {};
  if (o.includeSpeakers !== undefined) options.includeSpeakers = o.includeSpeakers;
  if (o.includeTimestamps !== undefined) options.includeTimestamps = o.includeTimestamps;
  if (o.includeWords !== undefined) options.includeWords = o.includeWords;
  if (o.maxLineLength) options.maxLineLength = o.maxLineLength;
  if (o.maxLinesPerCue) options.maxLinesPerCue = o.maxLinesPerCue;
  if (o.maxCueDuration) options.maxCueDurationSeconds = seconds(o.maxCueDuration);
  if (o.addRtlMarks !== undefined) options.addRtlMarks = o.addRtlMarks;
  return options;
}

function toOptions(o: ExportOptions): OptionsMessage {
  return create(ExportOptionsSchema, {
    includeSpeakers: o.includeSpeakers,
    includeTimestamps: o.includeTimestamps,
    includeWords: o.includeWords,
    maxLineLength: o.maxLineLength ?? 0,
    maxLinesPerCue: o.maxLinesPerCue ?? 0,
    maxCueDuration: o.maxCueDurationSeconds === undefined ? undefined : durationFromMs(o.maxCueDurationSeconds * 1000),
    addRtlMarks: o.addRtlMarks,
  });
}

function optionalTimestamp(date: Date | null) {
  return date ? timestampFromDate(date) : undefined;
}

async function toExport(exports: Exports, row: Export): Promise<ExportMessage> {
  const download = await exports.downloadUrl(row);
  return create(ExportSchema, {
    exportId: row.id,
    transcriptId: row.transcript.id,
    format: toProtoFormat(row.format),
    options: toOptions(row.options as ExportOptions),
    state: stateToProto[row.status as ExportStatus],
    downloadUrl: download?.url ?? "",
    downloadUrlExpiresAt: download ? timestampFromDate(download.expiresAt) : undefined,
    filename: row.filename,
    sizeBytes: BigInt(row.sizeBytes ?? 0),
    error: row.error
      ? create(ProcessingErrorSchema, { code: "EXPORT_FAILED", message: row.error, occurredAt: row.completedAt ? timestampFromDate(row.completedAt) : undefined, retryable: true })
      : undefined,
    createdAt: timestampFromDate(row.createdAt),
    completedAt: row.completedAt ? timestampFromDate(row.completedAt) : undefined,
    expiresAt: optionalTimestamp(exports.expiresAt(row)),
  });
}

export function exportHandler(exports: Exports): Partial<ServiceImpl<typeof ExportService>> {
  return {
    async createExport(req, ctx) {
      const row = await exports.create(principalOf(ctx.values).organizationId, req.transcriptId, fromFormat(req.format), fromOptions(req.options));
      return { export: await toExport(exports, row) };
    },
    async getExport(req, ctx) {
      return { export: await toExport(exports, await exports.get(principalOf(ctx.values).organizationId, req.exportId)) };
    },
  };
}
