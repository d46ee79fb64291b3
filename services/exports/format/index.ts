// Renders a transcript to the bytes of an export file. Pure: no storage, no database; the export service
// stores the bytes under the content type and extension given here. EXPORT_FORMATS is the one table of the
// formats: the stored `exports.format`, the proto's ExportFormat, file names and content types all come
// from it.

import { renderDocx } from "./docx.js";
import { resolveExportOptions, type ExportOptions, type ResolvedExportOptions } from "./export-options.js";
import type { ExportTranscript } from "./export-transcript.js";
import { renderJson } from "./json.js";
import { renderSrt } from "./srt.js";
import { renderTxt } from "./txt.js";
import { renderVtt } from "./vtt.js";

export type { ExportOptions } from "./export-options.js";
export type { ExportSegment, ExportSpeaker, ExportTranscript, ExportWord } from "./export-transcript.js";
export type { TranscriptJsonV1 } from "./json.js";

/** One export file format. */
export interface ExportFileFormat {
  /** Without the dot. */
  extension: string;
  /** MIME type, with the charset for text formats. */
  contentType: string;
  render(transcript: ExportTranscript, options: ResolvedExportOptions): Uint8Array | Promise<Uint8Array>;
}

const utf8 = new TextEncoder();

function utf8Text(render: (transcript: ExportTranscript, options: ResolvedExportOptions) => string): ExportFileFormat["render"] {
  return (transcript, options) => utf8.encode(render(transcript, options));
}

/**
 * The formats, by name: the value stored in `exports.format`, and in upper case the proto's ExportFormat
 * value (EXPORT_FORMAT_SRT is "srt"). In the proto's order.
 */
export const EXPORT_FORMATS = {
  txt: { extension: "txt", contentType: "text/plain; charset=utf-8", render: utf8Text(renderTxt) },
  srt: { extension: "srt", contentType: "application/x-subrip; charset=utf-8", render: utf8Text(renderSrt) },
  vtt: { extension: "vtt", contentType: "text/vtt; charset=utf-8", render: utf8Text(renderVtt) },
  docx: { extension: "docx", contentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", render: renderDocx },
  json: { extension: "json", contentType: "application/json", render: utf8Text(renderJson) },
} satisfies Record<string, ExportFileFormat>;

export type ExportFormat = keyof typeof EXPORT_FORMATS;

export const exportFormatNames = Object.keys(EXPORT_FORMATS) as ExportFormat[];

export interface RenderedExport {
  bytes: Uint8Array;
  /** MIME type, with the charset for text formats. */
  contentType: string;
  /** Without the dot. */
  fileExtension: string;
}

/** Throws InvalidArgumentError for options outside the ranges export.proto allows. */
export async function renderExport(format: ExportFormat, transcript: ExportTranscript, options: ExportOptions = {}): Promise<RenderedExport> {
  const resolved = resolveExportOptions(options);
  const { extension, contentType, render }: ExportFileFormat = EXPORT_FORMATS[format];
  return { bytes: await render(transcript, resolved), contentType, fileExtension: extension };
}
