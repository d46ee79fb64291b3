// Fixtures for the transcript, export and usage suites: a job or live session as the jobs and live
// branches would leave it, and a transcript written through Transcripts.create as their runners will.
import type { Database } from "../database/database.js";
import { Job } from "../jobs/job.entity.js";
import { LiveSession } from "../live-sessions/live-session.entity.js";
import { Media } from "../media/media.entity.js";
import type { NewTranscript } from "./transcripts.js";

/** A queued job over a fresh media row of the organisation; returns the job id. */
export async function seedJob(database: Database, organizationId: string, filename = "مكالمة-خدمة-العملاء.wav"): Promise<{ jobId: string; mediaId: string }> {
  const em = database.fork();
  const media = em.create(Media, { organization: organizationId, filename, contentType: "audio/wav", storageKey: `orgs/${organizationId}/media/${crypto.randomUUID()}.wav` });
  const job = em.create(Job, { organization: organizationId, media });
  await em.flush();
  return { jobId: job.id, mediaId: media.id };
}

export async function seedLiveSession(database: Database, organizationId: string): Promise<string> {
  const em = database.fork();
  const session = em.create(LiveSession, { organization: organizationId, expiresAt: new Date(Date.now() + 60_000) });
  await em.flush();
  return session.id;
}

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
