// The JSON export: a stable, versioned document for programs. Every key is always present (null when a
// value is unknown), keys come in a fixed order, times are seconds rounded to the millisecond. A change
// that would break a reader of version 1 (a key removed, renamed or retyped) makes version 2; adding a key
// does not.

import { inTimeOrder, type ExportTranscript } from "./export-transcript.js";
import type { ResolvedExportOptions } from "./export-options.js";
import { toMilliseconds } from "./timecode.js";

export const JSON_EXPORT_SCHEMA = "arabicstt.transcript-export";
export const JSON_EXPORT_VERSION = 1;

/** Version 1 of the JSON export. */
export interface TranscriptJsonV1 {
  schema: typeof JSON_EXPORT_SCHEMA;
  version: 1;
  transcript: {
    id: string;
    title: string | null;
    /** BCP-47, e.g. "ar-EG". */
    language: string;
    durationSeconds: number;
    /** Number of audio channels. */
    channels: number;
    /** As stored with the transcript (for example how speakers were found). */
    metadata: Record<string, unknown>;
  };
  speakers: {
    /** The label segments refer to in `speakerId`. */
    id: string;
    /** The name to show: the display name, or else the label. */
    label: string;
    channel: number | null;
  }[];
  /** In order of start time, every segment including those with empty text. */
  segments: {
    /** Position in `segments`, from 0. */
    index: number;
    /** Seconds. */
    start: number;
    /** Seconds. */
    end: number;
    speakerId: string | null;
    channel: number | null;
    /** In logical order; render it right-to-left. */
    text: string;
    /** 0.0 to 1.0. */
    confidence: number | null;
    /** Null when the export was made without words; [] when the recogniser gave none. */
    words: { word: string; start: number; end: number; confidence: number | null }[] | null;
    /**
     * The recogniser's runner-up texts for the segment, most probable first, when the job asked for
     * max_alternatives above 1; [] otherwise. `text` is the first hypothesis and is not repeated.
     */
    alternatives: string[];
  }[];
}

export function toTranscriptJson(transcript: ExportTranscript, options: ResolvedExportOptions): TranscriptJsonV1 {
  return {
    schema: JSON_EXPORT_SCHEMA,
    version: JSON_EXPORT_VERSION,
    transcript: {
      id: transcript.id,
      title: transcript.title ?? null,
      language: transcript.language,
      durationSeconds: seconds(transcript.durationSeconds),
      channels: transcript.channels,
      metadata: transcript.metadata,
    },
    speakers: transcript.speakers.map((speaker) => ({ id: speaker.id, label: speaker.label, channel: speaker.channel ?? null })),
    segments: inTimeOrder(transcript.segments).map((segment, index) => ({
      index,
      start: seconds(segment.start),
      end: seconds(segment.end),
      speakerId: segment.speakerId ?? null,
      channel: segment.channel ?? null,
      text: segment.text,
      confidence: segment.confidence ?? null,
      words: options.includeWords
        ? (segment.words ?? []).map((word) => ({ word: word.word, start: seconds(word.start), end: seconds(word.end), confidence: word.confidence ?? null }))
        : null,
      alternatives: segment.alternatives ?? [],
    })),
  };
}

export function renderJson(transcript: ExportTranscript, options: ResolvedExportOptions): string {
  return `${JSON.stringify(toTranscriptJson(transcript, options), null, 2)}\n`;
}

function seconds(value: number): number {
  return toMilliseconds(value) / 1000;
}
