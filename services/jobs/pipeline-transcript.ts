// What the job runner hands Transcripts.create: the batch pipeline's result in the transcript's terms.
// Kept here, beside the shape it produces, so the runner stays a list of steps. What every transcript
// gets whoever produced it (the title after the media's file name, the default language) the writer,
// Transcripts.create, fills for live and batch alike.
import type { AudioPipelineResult } from "./pipeline/index.js";
import type { NewTranscript } from "../transcripts/transcripts.js";
import { languageOrDefault } from "../arabic-text/language.js";

/** A job's scores against its reference transcript, with the error counts behind the word error rate. */
export interface JobAccuracy {
  wer: number | null;
  cer: number | null;
  /** Kept in the transcript's metadata, where JobService reads the counts back (AccuracyMetrics). */
  details: Record<string, number>;
}

export function transcriptFromPipeline(
  result: AudioPipelineResult,
  job: { jobId: string; model: string; language?: string; accuracy?: JobAccuracy },
): NewTranscript {
  return {
    jobId: job.jobId,
    language: result.language ?? languageOrDefault(job.language),
    durationSeconds: result.probe.durationSeconds,
    // Identical channels were recognised once, as mono: the segments then all say channel 0.
    channels: Math.max(1, result.channels.length),
    model: job.model,
    wer: job.accuracy?.wer ?? null,
    cer: job.accuracy?.cer ?? null,
    speakers: result.speakers.map((s) => ({ label: s.id, channel: s.channel })),
    segments: result.segments.map((s) => ({
      channel: s.channel,
      speaker: s.speaker,
      start: s.start,
      end: s.end,
      text: s.text,
      confidence: s.confidence,
      words: s.words.map((w) => ({ word: w.word, start: w.start, end: w.end, confidence: w.confidence })),
    })),
    metadata: {
      model: job.model,
      diarization: result.diarization,
      channels: result.channels.map((c) => ({ channel: c.channel, chunks: c.chunks })),
      identicalChannels: result.identicalChannels,
      gate: result.gate,
      ...(job.accuracy ? { accuracy: job.accuracy.details } : {}),
    },
  };
}
