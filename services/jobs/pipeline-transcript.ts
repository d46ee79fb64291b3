// What the job runner hands Transcripts.create: the batch pipeline's result in the transcript's terms.
// Kept here, beside the shape it produces, so the runner stays a list of steps.
import type { AudioPipelineResult } from "./pipeline/index.js";
import type { NewTranscript } from "../transcripts/transcripts.js";
import { languageOrDefault } from "../speech/language.js";

export function transcriptFromPipeline(
  result: AudioPipelineResult,
  job: { jobId: string; title?: string; model: string; language?: string },
): NewTranscript {
  return {
    jobId: job.jobId,
    language: result.language ?? languageOrDefault(job.language),
    durationSeconds: result.probe.durationSeconds,
    // Identical channels were recognised once, as mono: the segments then all say channel 0.
    channels: Math.max(1, result.channels.length),
    title: job.title,
    model: job.model,
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
      diarization: result.diarization,
      gate: result.gate,
      identicalChannels: result.identicalChannels,
      audio: { codec: result.probe.codec, channels: result.probe.channels, sampleRate: result.probe.sampleRate },
    },
  };
}

/** Billed audio of a job, as usage.proto defines it: seconds of audio times the channels recognised. */
export function billableSeconds(result: AudioPipelineResult): number {
  return result.probe.durationSeconds * Math.max(1, result.channels.length);
}
