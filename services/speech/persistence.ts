// What a live recognition leaves behind once it is over (a StreamingRecognize stream ended, a
// browser session closed or expired): one live_sessions row, its transcript from the final results,
// and its audio seconds as usage. Written after the fact and idempotent on the session id, so a
// repeat (two ends racing, a retry) writes nothing twice; a failure is logged and never reaches the
// client, whose stream is already over.
import type { Database } from "../platform/database/database.js";
import type { Logger } from "../platform/logger.js";
import type { CreateTranscriptOptions, NewTranscript } from "../transcripts/transcripts.js";
import { billableSeconds } from "../usage/billable.js";
import type { RecognitionResult } from "./engine/types.js";
import { languageOrDefault } from "../arabic-text/language.js";

/** One live recognition at its end. */
export interface EndedLiveSession {
  /** The recognition's id, which becomes the live_sessions row's. */
  sessionId: string;
  organizationId: string;
  model: string;
  languageCode: string;
  /** Channels recognised (1 when a stereo stream was mixed down). */
  channels: number;
  /** Seconds of audio recognised per channel. */
  processedSeconds: number;
  /** Final results in the order they came out; channels count from 1. */
  finals: RecognitionResult[];
  startedAt: Date;
  /** How it ended: closed by its client, closed for idleness (browser sessions), or failed / abandoned. */
  outcome: "closed" | "expired" | "failed";
  /** Which transport ran it, kept in the row's config. */
  transport: "streaming_recognize" | "live_session";
  /** The API key the recognition was opened with, kept on the row so that its usage is the key's; none for a user's token. */
  apiKeyId?: string | null;
}

/** Told once per recognition when it is over. */
export type LiveSessionEndListener = (ended: EndedLiveSession) => void;

export interface LivePersistenceDependencies {
  database: Database;
  transcripts: { create(organizationId: string, input: NewTranscript, options?: CreateTranscriptOptions): Promise<unknown> };
  usage: { record(organizationId: string, kind: "live", seconds: number, sourceId: string): Promise<boolean> };
  logger: Pick<Logger, "error">;
}

/** Billed audio of a live session: the billing rule of services/usage/billable.ts, on its seconds and channels. */
export function liveBillableSeconds(ended: Pick<EndedLiveSession, "processedSeconds" | "channels">): number {
  return billableSeconds(ended.processedSeconds, ended.channels);
}

/**
 * The transcript of a live session, or undefined when nothing was recognised (pure silence): such a
 * session keeps its row and its usage but has no transcript, as an empty one would only clutter lists.
 * A diarized session's finals carry a speaker on every word: a final in which the speaker changes becomes
 * one segment per run of words of one speaker. Otherwise one speaker per channel ("S1", "S2"...).
 */
export function transcriptFromLive(ended: EndedLiveSession): NewTranscript | undefined {
  const finals = ended.finals.filter((r) => r.isFinal && r.transcript.trim() !== "");
  if (finals.length === 0) return undefined;
  const channels = Math.max(1, ended.channels);
  const channelOf = (r: RecognitionResult) => Math.min(channels, Math.max(1, r.channel)) - 1;
  const segments = finals
    .flatMap((r) => {
      const words = r.words.map((w) => ({ word: w.word, start: w.start, end: Math.max(w.start, w.end), confidence: w.probability }));
      const whole = { channel: channelOf(r), speaker: `S${channelOf(r) + 1}`, start: r.startSeconds, end: Math.max(r.startSeconds, r.endSeconds), text: r.transcript, confidence: r.confidence, words };
      if (!r.words.some((w) => w.speaker)) return [whole];
      // Runs of words of one speaker; the first and last keep the final's edges.
      const runs: Array<{ speaker: string; from: number; to: number }> = [];
      r.words.forEach((w, i) => {
        const last = runs.at(-1);
        const speaker = w.speaker ?? last?.speaker ?? whole.speaker;
        if (last && last.speaker === speaker) last.to = i + 1;
        else runs.push({ speaker, from: i, to: i + 1 });
      });
      if (runs.length === 1) return [{ ...whole, speaker: runs[0]!.speaker }];
      return runs.map((run, k) => {
        const own = words.slice(run.from, run.to);
        return {
          ...whole,
          speaker: run.speaker,
          start: k === 0 ? whole.start : own[0]!.start,
          end: k === runs.length - 1 ? whole.end : own.at(-1)!.end,
          text: r.words.slice(run.from, run.to).map((w, j) => (j === 0 ? "" : w.separator) + w.word).join(""),
          confidence: own.reduce((sum, w) => sum + w.confidence, 0) / own.length,
          words: own,
        };
      });
    })
    .sort((a, b) => a.start - b.start || a.channel - b.channel);
  const diarized = finals.some((r) => r.words.some((w) => w.speaker));
  const speakers = diarized
    ? [...new Map(segments.map((s) => [s.speaker, { label: s.speaker, channel: s.channel }])).values()]
    : Array.from({ length: channels }, (_, c) => ({ label: `S${c + 1}`, channel: c }));
  return {
    liveSessionId: ended.sessionId,
    language: languageOrDefault(ended.languageCode),
    durationSeconds: ended.processedSeconds,
    channels,
    model: ended.model,
    speakers,
    segments,
    metadata: { source: "live", transport: ended.transport },
  };
}

export class LivePersistence {
  constructor(private readonly deps: LivePersistenceDependencies) {}

  /**
   * Writes the session's row, then its transcript and its usage, each on its own: a transcript that
   * cannot be written still leaves the seconds billed. Logs rather than throws.
   */
  async persist(ended: EndedLiveSession): Promise<void> {
    const context = { liveSessionId: ended.sessionId, organizationId: ended.organizationId };
    let inserted: boolean;
    try {
      inserted = await this.writeRow(ended);
    } catch (err) {
      this.deps.logger.error({ err, ...context }, "live session row could not be written");
      return;
    }
    const transcript = transcriptFromLive(ended);
    await Promise.all([
      transcript &&
        // A row this call inserted is new: its transcript is written without looking for an earlier one or
        // reading the row back. A repeat (the row was there) goes the careful way, and writes nothing twice.
        this.deps.transcripts.create(ended.organizationId, transcript, inserted ? { newLiveSession: { startedAt: ended.startedAt } } : {}).catch((err: unknown) => {
          this.deps.logger.error({ err, ...context }, "live session transcript could not be written");
        }),
      this.deps.usage.record(ended.organizationId, "live", liveBillableSeconds(ended), ended.sessionId).catch((err: unknown) => {
        this.deps.logger.error({ err, ...context }, "live session usage could not be recorded");
      }),
    ]);
  }

  /** The live_sessions row, once: a repeat finds it there and leaves it. Returns whether this call inserted it. */
  private async writeRow(ended: EndedLiveSession): Promise<boolean> {
    const now = new Date();
    const inserted = await this.deps.database.fork().getConnection().execute<Array<{ id: string }>>(
      `insert into live_sessions (id, organization_id, status, config, audio_seconds, api_key_id, expires_at, closed_at, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (id) do nothing
       returning id`,
      [
        ended.sessionId,
        ended.organizationId,
        ended.outcome,
        JSON.stringify({ transport: ended.transport, model: ended.model, languageCode: ended.languageCode, channels: ended.channels }),
        ended.processedSeconds,
        ended.apiKeyId ?? null,
        now,
        now,
        ended.startedAt,
        now,
      ],
    );
    return inserted.length > 0;
  }
}
