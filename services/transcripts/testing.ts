// Fixtures for the transcript, export and usage suites: a transcript as Transcripts.create receives it
// from the job runner and the live-session engine (services/app/testing.ts seeds the job or session).
import type { NewTranscript } from "./transcripts.js";

/**
 * A two-party call on a stereo recording, as the batch pipeline returns it (seconds, channels from 0,
 * one speaker per channel): the agent on channel 0, the customer on channel 1.
 */
export function stereoCall(source: { jobId?: string; liveSessionId?: string }, texts?: string[]): NewTranscript {
  const lines = texts ?? [
    "السلام عليكم، معك خدمة العملاء",
    "وعليكم السلام، عندي مشكلة في الفاتورة",
    "تفضل، ما هو رقم الحساب؟",
    "رقم الحساب 12345",
    "شكرا لك، سأراجع الفاتورة الآن",
  ];
  return {
    ...source,
    language: "ar",
    durationSeconds: lines.length * 3,
    channels: 2,
    title: "مكالمة-خدمة-العملاء.wav",
    model: "whisper",
    speakers: [
      { label: "S1", channel: 0 },
      { label: "S2", channel: 1 },
    ],
    segments: lines.map((text, i) => {
      const words = text.split(" ");
      const start = i * 3;
      const step = 2.5 / words.length;
      return {
        channel: i % 2,
        speaker: i % 2 === 0 ? "S1" : "S2",
        start,
        end: start + 2.5,
        text,
        confidence: 0.9,
        words: words.map((word, w) => ({ word, start: start + w * step, end: start + (w + 1) * step, confidence: 0.9 })),
      };
    }),
    metadata: { diarization: { method: "channel" } },
  };
}
