// Renders a transcript to the bytes of an export file. Pure: no storage, no database; the export service
// stores the bytes under the content type and extension given here.

import { renderDocx } from "./docx.js";
import { resolveExportOptions, type ExportOptions } from "./export-options.js";
import type { ExportTranscript } from "./export-transcript.js";
import { renderJson } from "./json.js";
import { renderSrt } from "./srt.js";
import { renderTxt } from "./txt.js";
import { renderVtt } from "./vtt.js";

export type { ExportOptions } from "./export-options.js";
export type { ExportSegment, ExportSpeaker, ExportTranscript, ExportWord } from "./export-transcript.js";
export type { TranscriptJsonV1 } from "./json.js";

export type ExportFileFormat = "TXT" | "SRT" | "VTT" | "DOCX" | "JSON";

export interface RenderedExport {
  bytes: Uint8Array;
  /** MIME type, with the charset for text formats. */
  contentType: string;
  /** Without the dot. */
  fileExtension: string;
}

const utf8 = new TextEncoder();

/** Throws InvalidArgumentError for options outside the ranges export.proto allows. */
export async function renderExport(format: ExportFileFormat, transcript: ExportTranscript, options: ExportOptions = {}): Promise<RenderedExport> {
  const resolved = resolveExportOptions(options);
  switch (format) {
    case "TXT":
      return { bytes: utf8.encode(renderTxt(transcript, resolved)), contentType: "text/plain; charset=utf-8", fileExtension: "txt" };
    case "SRT":
      return { bytes: utf8.encode(renderSrt(transcript, resolved)), contentType: "application/x-subrip; charset=utf-8", fileExtension: "srt" };
    case "VTT":
      return { bytes: utf8.encode(renderVtt(transcript, resolved)), contentType: "text/vtt; charset=utf-8", fileExtension: "vtt" };
    case "JSON":
      return { bytes: utf8.encode(renderJson(transcript, resolved)), contentType: "application/json", fileExtension: "json" };
    case "DOCX":
      return {
        bytes: await renderDocx(transcript, resolved),
        contentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        fileExtension: "docx",
      };
  }
}
