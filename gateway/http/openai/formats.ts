// What a transcription becomes in each of OpenAI's `response_format`s: `json` ({text, usage}), `text`,
// `srt` and `vtt` (the exports' subtitle renderers, services/exports/format), and `verbose_json` (task,
// language, duration, text, segments[] and, when asked for, words[]).
import { renderSrt } from "../../../services/exports/format/srt.js";
import { renderVtt } from "../../../services/exports/format/vtt.js";
import { resolveExportOptions } from "../../../services/exports/format/export-options.js";
import type { ExportTranscript } from "../../../services/exports/format/export-transcript.js";

export const RESPONSE_FORMATS = ["json", "text", "srt", "vtt", "verbose_json"] as const;
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

export interface TranscribedWord {
  word: string;
  /** Seconds from the start of the audio. */
  start: number;
  end: number;
}

export interface TranscribedSegment {
  start: number;
  end: number;
  text: string;
  /** 0 to 1; 0 when the recogniser gave none. */
  confidence: number;
  words: TranscribedWord[];
}

/** A recognised file, from Recognize or from a batch job's transcript. */
export interface Transcription {
  /** BCP-47 ("ar", "ar-EG"). */
  language: string;
  /** Seconds of audio. */
  duration: number;
  /** Seconds billed, as UsageService counts them. */
  billedSeconds: number;
  segments: TranscribedSegment[];
}

export function fullText(t: Transcription): string {
  return t.segments
    .map((s) => s.text.trim())
    .filter((text) => text !== "")
    .join(" ");
}

export interface Rendered {
  contentType: string;
  body: string;
}

export function render(t: Transcription, format: ResponseFormat, options: { words: boolean; segments: boolean; temperature: number }): Rendered {
  const text = fullText(t);
  // OpenAI's usage for audio billed by time; `seconds` is what this platform bills.
  const usage = { type: "duration", seconds: Math.ceil(t.billedSeconds) };
  switch (format) {
    case "json":
      return json({ text, usage });
    case "text":
      return { contentType: "text/plain; charset=utf-8", body: `${text}\n` };
    case "srt":
      return { contentType: "application/x-subrip; charset=utf-8", body: renderSrt(subtitles(t), subtitleOptions) };
    case "vtt":
      return { contentType: "text/vtt; charset=utf-8", body: renderVtt(subtitles(t), subtitleOptions) };
    case "verbose_json":
      return json({
        task: "transcribe",
        language: t.language,
        duration: t.duration,
        text,
        ...(options.segments
          ? {
              segments: t.segments.map((s, id) => ({
                id,
                // Whisper's own decoding details; this platform's models report a confidence only.
                seek: 0,
                start: s.start,
                end: s.end,
                text: s.text,
                tokens: [],
                temperature: options.temperature,
                avg_logprob: s.confidence > 0 ? Math.log(s.confidence) : 0,
                compression_ratio: 0,
                no_speech_prob: 0,
              })),
            }
          : {}),
        ...(options.words ? { words: t.segments.flatMap((s) => s.words.map((w) => ({ word: w.word, start: w.start, end: w.end }))) } : {}),
        usage,
      });
  }
}

const subtitleOptions = resolveExportOptions({ includeSpeakers: false });

function subtitles(t: Transcription): ExportTranscript {
  return {
    id: "transcription",
    language: t.language,
    durationSeconds: t.duration,
    channels: 1,
    speakers: [],
    segments: t.segments.map((s) => ({ start: s.start, end: s.end, text: s.text, confidence: s.confidence, words: s.words })),
    metadata: {},
  };
}

function json(value: unknown): Rendered {
  return { contentType: "application/json", body: JSON.stringify(value) };
}

/** Server-sent events: one `transcript.text.delta` per segment, then `transcript.text.done` with the whole text. */
export function streamEvents(t: Transcription): string[] {
  const events: string[] = [];
  const texts = t.segments.map((s) => s.text.trim()).filter((text) => text !== "");
  texts.forEach((text, i) => events.push(sse({ type: "transcript.text.delta", delta: i === 0 ? text : ` ${text}` })));
  events.push(sse({ type: "transcript.text.done", text: texts.join(" "), usage: { type: "duration", seconds: Math.ceil(t.billedSeconds) } }));
  return events;
}

function sse(event: unknown): string {
  return `data: ${JSON.stringify(event)}\n\n`;
}
