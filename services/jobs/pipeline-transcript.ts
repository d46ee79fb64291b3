// What the job runner hands Transcripts.create: the batch pipeline's result in the transcript's terms.
// Kept here, beside the shape it produces, so the runner stays a list of steps. What every transcript
// gets whoever produced it (the title after the media's file name, the default language) the writer,
// Transcripts.create, fills for live and batch alike.
import type { AudioPipelineResult } from "./pipeline/index.js";
import type { NewTranscript, WordFields } from "../transcripts/transcripts.js";
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
  job: { jobId: string; model: string; language?: string; accuracy?: JobAccuracy; wordFields?: WordFields },
): NewTranscript {
  // Speakers turned off (diarization_config with enable_speaker_diarization false) are dropped here, at
  // storage: a transcript without speakers lists none, its segments and words carry none, and renaming or
  // filtering by speaker has nothing to find. Word times and confidence are kept and left out at the
  // response (services/transcripts/handler.ts#toSegment), where `wordFields` below is read (absent: all shown).
  const speakers = job.wordFields?.speakerLabels ?? true;
  return {
    jobId: job.jobId,
    language: result.language ?? languageOrDefault(job.language),
    durationSeconds: result.probe.durationSeconds,
    // Identical channels were recognised once, as mono: the segments then all say channel 0.
    channels: Math.max(1, result.channels.length),
    model: job.model,
    wer: job.accuracy?.wer ?? null,
    cer: job.accuracy?.cer ?? null,
    speakers: speakers ? result.speakers.map((s) => ({ label: s.id, channel: s.channel })) : [],
    segments: result.segments.map((s) => ({
      channel: s.channel,
      ...(speakers ? { speaker: s.speaker } : {}),
      start: s.start,
      end: s.end,
      text: s.text,
      confidence: s.confidence,
      words: s.words.map((w) => ({ word: w.word, start: w.start, end: w.end, confidence: w.confidence })),
      ...(s.alternatives ? { alternatives: s.alternatives } : {}),
    })),
    metadata: {
      model: job.model,
      diarization: speakers ? result.diarization : { method: "none", reason: "diarization_config.enable_speaker_diarization is false: no speaker labels" },
      ...(job.wordFields ? { wordFields: job.wordFields } : {}),
      channels: result.channels.map((c) => ({ channel: c.channel, chunks: c.chunks })),
      identicalChannels: result.identicalChannels,
      gate: result.gate,
      ...(job.accuracy ? { accuracy: job.accuracy.details } : {}),
    },
  };
}
