import { InvalidArgumentError } from "../../platform/errors/errors.js";

/** How an export is laid out (ExportOptions in export.proto); options that do not apply to a format are ignored. */
export interface ExportOptions {
  /** Speaker names before their words (TXT, SRT, DOCX) or as WebVTT voices. Default true. */
  includeSpeakers?: boolean;
  /** Each paragraph's start time. TXT and DOCX. Default true. */
  includeTimestamps?: boolean;
  /** Per-word times and confidence. JSON. Default true. */
  includeWords?: boolean;
  /** Longest subtitle line, in characters as a reader counts them (a letter with its diacritics is one). 20 to 80; default 42. */
  maxLineLength?: number;
  /** Most lines per subtitle cue. 1 to 3; default 2. */
  maxLinesPerCue?: number;
  /** Longest time a subtitle cue stays on screen, in seconds. 1 to 10; default 7. */
  maxCueDurationSeconds?: number;
  /** Wrap subtitle lines that hold right-to-left text in U+200F RIGHT-TO-LEFT MARKs. SRT and VTT. Default true. */
  addRtlMarks?: boolean;
}

export type ResolvedExportOptions = Required<ExportOptions>;

export const DEFAULT_EXPORT_OPTIONS: ResolvedExportOptions = {
  includeSpeakers: true,
  includeTimestamps: true,
  includeWords: true,
  maxLineLength: 42,
  maxLinesPerCue: 2,
  maxCueDurationSeconds: 7,
  addRtlMarks: true,
};

/** Fills in defaults and rejects values outside the ranges export.proto allows (field names as in the proto). */
export function resolveExportOptions(options: ExportOptions = {}): ResolvedExportOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const resolved: ResolvedExportOptions = { ...DEFAULT_EXPORT_OPTIONS, ...given };
  requireInteger("options.max_line_length", resolved.maxLineLength, 20, 80);
  requireInteger("options.max_lines_per_cue", resolved.maxLinesPerCue, 1, 3);
  if (!(resolved.maxCueDurationSeconds >= 1 && resolved.maxCueDurationSeconds <= 10)) {
    throw new InvalidArgumentError("options.max_cue_duration", "must be between 1 and 10 seconds");
  }
  return resolved;
}

function requireInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(field, `must be a whole number from ${min} to ${max}`);
  }
}
