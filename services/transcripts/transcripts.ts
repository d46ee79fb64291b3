// Transcripts: written once by the job runner or the live-session engine, then read, corrected, searched
// and deleted by users. `create` is the one writer for both: it fills what a producer leaves out the same
// way for each (the title from the source, the default language, a speaker for every label used) and
// refuses a transcript that does not say which model recognised it. Every query runs inside the caller's organisation (TenantScope for entities, an
// explicit `organization_id = ?` in the raw SQL below).
import { type EntityManager, type FilterQuery, LockMode, UniqueConstraintViolationException } from "@mikro-orm/core";
import type { Database } from "../platform/database/database.js";
import { decodeOffset, encodeOffset, pageSize, type Page } from "../platform/database/paging.js";
import { TenantScope } from "../platform/database/tenant-scope.js";
import { AbortedError, InvalidArgumentError, NotFoundError } from "../platform/errors/errors.js";
import type { Principal } from "../identity/model/principal.js";
import { languageOrDefault } from "../arabic-text/language.js";
import { Segment, type SegmentEdit, type SegmentWord } from "./segment.entity.js";
import { Speaker } from "./speaker.entity.js";
import { Transcript } from "./transcript.entity.js";

/** A recognised word, times in seconds from the start of the audio (as the batch pipeline returns them). */
export interface NewWord {
  word: string;
  start: number;
  end: number;
  confidence?: number;
}

/** One utterance, times in seconds; `channel` from 0, as the pipeline numbers them. */
export interface NewSegment {
  channel?: number;
  /** A `NewSpeaker.label`; a label not listed in `speakers` adds a speaker. */
  speaker?: string;
  start: number;
  end: number;
  text: string;
  confidence?: number;
  words?: NewWord[];
  /** The recogniser's runner-up texts (a job's max_alternatives), most probable first, after the text chain; none by default. */
  alternatives?: string[];
}

export interface NewSpeaker {
  /** As diarization named it ("S1", "S2"…). */
  label: string;
  /** From 0; set when the speaker is a channel's party. */
  channel?: number;
}

/** What Transcripts.create takes: the result of one job or one live session. */
export interface NewTranscript {
  /** Exactly one of jobId and liveSessionId: the transcript is written once per source. */
  jobId?: string;
  liveSessionId?: string;
  /** BCP-47, e.g. "ar" or "ar-EG"; empty: the default language. */
  language: string;
  durationSeconds: number;
  /** Channels of the audio (1 for mono). */
  channels: number;
  speakers: NewSpeaker[];
  /** In time order; stored with `index` in the order given. */
  segments: NewSegment[];
  /** Free-form producer facts (model, diarization method, denoise...), returned unchanged. */
  metadata?: Record<string, unknown>;
  /**
   * Shown in lists and exports. Left out, the writer names it after its source: a job's media file name,
   * or a live session's start time.
   */
  title?: string;
  /** The model that recognised it; required, since a transcript's readers weigh it by its model. */
  model: string;
  /** Word and character error rates against a reference transcript, when the job was scored. */
  wer?: number | null;
  cer?: number | null;
}

/**
 * `metadata.wordFields` of a job's transcript: which parts of its words the job asked for
 * (enable_word_time_offsets, enable_word_confidence, speaker labels). The words are stored whole, and the
 * API leaves out what was not asked (see wordFieldsOf), so editing, search and subtitles keep their times.
 */
export interface WordFields {
  timeOffsets: boolean;
  confidence: boolean;
  speakerLabels: boolean;
}

/** What a transcript's words show through the API; a transcript without `wordFields` (live sessions, older jobs) shows all. */
export function wordFieldsOf(metadata: Record<string, unknown>): WordFields {
  const asked = metadata.wordFields as Partial<WordFields> | undefined;
  if (!asked || typeof asked !== "object") return { timeOffsets: true, confidence: true, speakerLabels: true };
  return { timeOffsets: asked.timeOffsets === true, confidence: asked.confidence === true, speakerLabels: asked.speakerLabels === true };
}

/** Work that commits with a transcript's write, on the same transaction; see Transcripts.create. */
export type CommitWith = (em: EntityManager) => Promise<void>;

export interface CreateTranscriptOptions {
  commitWith?: CommitWith;
  /**
   * The caller inserted the transcript's live session row itself, in this organisation, just now (its insert
   * returned the row), with `startedAt` as its created_at: no transcript of it can exist yet (a transcript
   * references its row), and neither the owner check nor the title needs the row read back.
   */
  newLiveSession?: { startedAt: Date };
}

/** Per transcript, what its segments add up to (for the Transcript message). */
export interface TranscriptStats {
  segmentCount: number;
  wordCount: number;
  /** Mean confidence of the words that have one; 0 when none do. */
  confidence: number;
  editCount: number;
  speakers: Array<{ label: string; displayName: string | null; channel: number | null; talkMs: number; wordCount: number }>;
  channels: Array<{ channel: number; talkMs: number; segmentCount: number }>;
  mediaId: string | null;
}

export interface TranscriptView {
  transcript: Transcript;
  stats: TranscriptStats;
}

export interface SegmentFilter {
  pageSize: number;
  pageToken: string;
  /** From 0; undefined for every channel. */
  channel?: number;
  speakerLabel?: string;
  /** Only segments that end after this offset. */
  fromMs?: number;
}

export interface SegmentChange {
  text?: string;
  speakerLabel?: string;
  expectedRevision?: number;
}

/** Longest transcript one create accepts; a 10-hour recording has a few thousand segments. */
export const MAX_SEGMENTS_PER_TRANSCRIPT = 100_000;

/** Told after a transcript is deleted, e.g. so its export files go with it. */
export type TranscriptDeletedListener = (organizationId: string, transcriptId: string) => Promise<void>;

export class Transcripts {
  private readonly deletedListeners: TranscriptDeletedListener[] = [];

  constructor(private readonly database: Database) {}

  onDeleted(listener: TranscriptDeletedListener): void {
    this.deletedListeners.push(listener);
  }

  /**
   * Writes a job's or live session's transcript with its speakers and segments, in one transaction.
   * Idempotent on the source: a second call for the same job or session (a worker that died after the
   * write and ran the step again, or two racing) returns the transcript already written and writes nothing.
   * `commitWith` is the caller's own bookkeeping that must commit with the transcript or not at all (the job
   * runner marks its job succeeded): it runs in the transaction that writes, or, when the transcript was
   * already written, in a transaction of its own. An error it throws rolls the write back and is rethrown.
   */
  async create(organizationId: string, input: NewTranscript, options: CreateTranscriptOptions = {}): Promise<Transcript> {
    validateNewTranscript(input);
    const known = options.newLiveSession && input.liveSessionId ? { title: liveSessionTitle(options.newLiveSession.startedAt) } : undefined;
    const existing = known ? null : await this.bySource(organizationId, input);
    if (existing) return this.alreadyWritten(existing, options.commitWith);
    try {
      return await this.database.fork().transactional(async (em) => {
        const transcript = await write(new TenantScope(em, organizationId), input, known);
        await options.commitWith?.(em);
        return transcript;
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) {
        const winner = await this.bySource(organizationId, input);
        if (winner) return this.alreadyWritten(winner, options.commitWith);
      }
      throw err;
    }
  }

  private async alreadyWritten(transcript: Transcript, commitWith: CommitWith | undefined): Promise<Transcript> {
    if (commitWith) await this.database.fork().transactional(commitWith);
    return transcript;
  }

  /** The transcript of a source, deleted or not: deleting it must not let the source write it again. */
  private async bySource(organizationId: string, input: NewTranscript): Promise<Transcript | null> {
    const tenant = new TenantScope(this.database.fork(), organizationId);
    const where = input.jobId ? { job: input.jobId } : { liveSession: input.liveSessionId };
    return tenant.findOne(Transcript, where, { filters: { notDeleted: false } });
  }

  async get(organizationId: string, transcriptId: string): Promise<TranscriptView> {
    const transcript = await this.find(organizationId, transcriptId);
    const [stats] = await this.stats(organizationId, [transcript]);
    return { transcript, stats: stats! };
  }

  /** One page of a transcript's segments in time order, with the filters of GetTranscript. */
  async segments(organizationId: string, transcriptId: string, filter: SegmentFilter): Promise<Page<Segment>> {
    await this.find(organizationId, transcriptId);
    const tenant = new TenantScope(this.database.fork(), organizationId);
    const limit = pageSize(filter.pageSize);
    const offset = decodeOffset(filter.pageToken);
    const rows = await tenant.find(
      Segment,
      {
        transcript: transcriptId,
        ...(filter.channel === undefined ? {} : { channel: filter.channel }),
        ...(filter.speakerLabel ? { speakerLabel: filter.speakerLabel } : {}),
        ...(filter.fromMs ? { endMs: { $gt: filter.fromMs } } : {}),
      },
      { orderBy: { startMs: "asc", index: "asc" }, limit: limit + 1, offset },
    );
    return { items: rows.slice(0, limit), nextPageToken: rows.length > limit ? encodeOffset(offset + limit) : "" };
  }

  async segmentCount(organizationId: string, transcriptId: string): Promise<number> {
    return new TenantScope(this.database.fork(), organizationId).count(Segment, { transcript: transcriptId });
  }

  /** Every segment, for exports. */
  async allSegments(organizationId: string, transcriptId: string): Promise<Segment[]> {
    const tenant = new TenantScope(this.database.fork(), organizationId);
    return tenant.find(Segment, { transcript: transcriptId }, { orderBy: { startMs: "asc", index: "asc" } });
  }

  async speakers(organizationId: string, transcriptId: string): Promise<Speaker[]> {
    const tenant = new TenantScope(this.database.fork(), organizationId);
    return tenant.find(Speaker, { transcript: transcriptId }, { orderBy: { label: "asc" } });
  }

  async list(
    organizationId: string,
    input: { pageSize: number; pageToken: string; mediaId?: string; createdAfter?: Date; createdBefore?: Date },
  ): Promise<Page<TranscriptView>> {
    const tenant = new TenantScope(this.database.fork(), organizationId);
    const limit = pageSize(input.pageSize);
    const offset = decodeOffset(input.pageToken);
    const createdAt = {
      ...(input.createdAfter ? { $gte: input.createdAfter } : {}),
      ...(input.createdBefore ? { $lt: input.createdBefore } : {}),
    };
    const rows = await tenant.find(
      Transcript,
      { ...(input.mediaId ? { job: { media: input.mediaId } } : {}), ...(Object.keys(createdAt).length ? { createdAt } : {}) } as FilterQuery<Transcript>,
      { orderBy: { createdAt: "desc", id: "desc" }, limit: limit + 1, offset },
    );
    const page = rows.slice(0, limit);
    const stats = await this.stats(organizationId, page);
    return {
      items: page.map((transcript, i) => ({ transcript, stats: stats[i]! })),
      nextPageToken: rows.length > limit ? encodeOffset(offset + limit) : "",
    };
  }

  /**
   * Corrects a segment's text and/or speaker. The previous version goes into the edit history, the
   * recogniser's text is kept in `originalText`, the words are re-timed across the segment by estimate
   * (they lose their confidence), the recogniser's runner-ups are dropped (they were other readings of what
   * the person just corrected; the edit history keeps the text they stood beside), and the search columns
   * follow the new text (they are generated from it).
   */
  async updateSegment(principal: Principal, transcriptId: string, segmentId: string, change: SegmentChange): Promise<Segment> {
    if (change.text === undefined && change.speakerLabel === undefined) {
      throw new InvalidArgumentError("text", "set text or speaker_label");
    }
    const text = change.text?.trim();
    if (text !== undefined && text === "") throw new InvalidArgumentError("text", "must not be blank");
    return this.database.fork().transactional(async (em) => {
      const tenant = new TenantScope(em, principal.organizationId);
      await this.find(principal.organizationId, transcriptId, tenant);
      const segment = await tenant.findOne(Segment, { id: segmentId, transcript: transcriptId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!segment) throw new NotFoundError("segment", segmentId);
      const revision = segment.editHistory.length;
      if (change.expectedRevision !== undefined && change.expectedRevision !== revision) {
        throw new AbortedError(`segment is at revision ${revision}, not ${change.expectedRevision}: reload it and edit again`);
      }
      const textChanged = text !== undefined && text !== segment.text;
      const speakerChanged = change.speakerLabel !== undefined && change.speakerLabel !== (segment.speakerLabel ?? "");
      if (!textChanged && !speakerChanged) return segment;
      const edit: SegmentEdit = {
        revision: revision + 1,
        previousText: segment.text,
        previousSpeakerLabel: segment.speakerLabel,
        editedAt: new Date().toISOString(),
        editedByUserId: principal.kind === "user" ? principal.userId : null,
        editedByApiKeyId: principal.kind === "api_key" ? principal.apiKeyId : null,
      };
      segment.editHistory = [...segment.editHistory, edit];
      if (speakerChanged) {
        const label = change.speakerLabel!;
        if (!(await tenant.findOne(Speaker, { transcript: transcriptId, label }))) {
          tenant.create(Speaker, { transcript: transcriptId, label, channel: null });
        }
        segment.speakerLabel = label;
      }
      if (textChanged) {
        segment.originalText ??= segment.text;
        segment.text = text;
        segment.confidence = null;
        segment.words = realignWords(text, segment.startMs, segment.endMs, segment.speakerLabel);
        segment.alternatives = [];
      } else if (speakerChanged) {
        segment.words = segment.words.map((w) => ({ ...w, speakerLabel: segment.speakerLabel ?? undefined }));
      }
      await tenant.flush();
      if (textChanged) {
        await em.execute(
          `update transcripts t
              set text = coalesce((select string_agg(s.text, ' ' order by s.index) from segments s where s.transcript_id = t.id), ''),
                  updated_at = now()
            where t.id = ? and t.organization_id = ?`,
          [transcriptId, principal.organizationId],
        );
      } else {
        await em.execute(`update transcripts set updated_at = now() where id = ? and organization_id = ?`, [
          transcriptId,
          principal.organizationId,
        ]);
      }
      return segment;
    });
  }

  /** Sets (or, with an empty name, clears) the name shown for a speaker. */
  async renameSpeaker(organizationId: string, transcriptId: string, label: string, displayName: string): Promise<Speaker> {
    const tenant = new TenantScope(this.database.fork(), organizationId);
    await this.find(organizationId, transcriptId, tenant);
    const speaker = await tenant.findOne(Speaker, { transcript: transcriptId, label });
    if (!speaker) throw new NotFoundError("speaker", label);
    speaker.displayName = displayName.trim() || null;
    await tenant.flush();
    return speaker;
  }

  /** Soft delete: the row stays for retention (and so its job cannot write it again); every read skips it. */
  async delete(organizationId: string, transcriptId: string): Promise<void> {
    const tenant = new TenantScope(this.database.fork(), organizationId);
    const transcript = await this.find(organizationId, transcriptId, tenant);
    transcript.deletedAt = new Date();
    await tenant.flush();
    // The delete has happened and is what the caller asked for; what a listener fails to tidy (a file
    // the store would not delete just now) is still reachable from the deleted row by the cleanup job.
    await Promise.allSettled(this.deletedListeners.map((listener) => listener(organizationId, transcriptId)));
  }

  /** A live transcript of the organisation, or NOT_FOUND. */
  async find(organizationId: string, transcriptId: string, tenant = new TenantScope(this.database.fork(), organizationId)): Promise<Transcript> {
    const transcript = await tenant.findOne(Transcript, { id: transcriptId });
    if (!transcript) throw new NotFoundError("transcript", transcriptId);
    return transcript;
  }

  /** Speakers, channels and totals of each transcript, from its segments, in one query each. */
  async stats(organizationId: string, transcripts: Transcript[]): Promise<TranscriptStats[]> {
    if (transcripts.length === 0) return [];
    const ids = transcripts.map((t) => t.id);
    const connection = this.database.fork().getConnection();
    const groups = await connection.execute<
      Array<{ transcript_id: string; channel: number; speaker_label: string | null; segments: string; talk_ms: string; words: string; edits: string; conf_sum: string; conf_words: string }>
    >(
      `select transcript_id, channel, speaker_label, count(*) as segments, sum(end_ms - start_ms) as talk_ms,
              sum(jsonb_array_length(words)) as words, sum(jsonb_array_length(edit_history)) as edits,
              sum(coalesce(confidence, 0) * jsonb_array_length(words)) as conf_sum,
              sum(case when confidence is null then 0 else jsonb_array_length(words) end) as conf_words
         from segments
        where organization_id = ? and transcript_id in (${ids.map(() => "?").join(", ")})
        group by transcript_id, channel, speaker_label`,
      [organizationId, ...ids],
    );
    const speakerRows = await connection.execute<Array<{ transcript_id: string; label: string; display_name: string | null; channel: number | null }>>(
      `select transcript_id, label, display_name, channel from speakers
        where organization_id = ? and transcript_id in (${ids.map(() => "?").join(", ")}) order by label`,
      [organizationId, ...ids],
    );
    const media = await connection.execute<Array<{ id: string; media_id: string }>>(
      `select t.id, j.media_id from transcripts t join jobs j on j.id = t.job_id
        where t.organization_id = ? and t.id in (${ids.map(() => "?").join(", ")})`,
      [organizationId, ...ids],
    );
    return transcripts.map((t) => {
      const mine = groups.filter((g) => g.transcript_id === t.id);
      const sum = (rows: typeof mine, key: "segments" | "talk_ms" | "words" | "edits" | "conf_sum" | "conf_words") =>
        rows.reduce((total, row) => total + Number(row[key] ?? 0), 0);
      const confWords = sum(mine, "conf_words");
      const channels = Array.from({ length: Math.max(t.channelCount, 1) }, (_, channel) => {
        const rows = mine.filter((g) => g.channel === channel);
        return { channel, talkMs: sum(rows, "talk_ms"), segmentCount: sum(rows, "segments") };
      });
      const speakers = speakerRows
        .filter((s) => s.transcript_id === t.id)
        .map((s) => {
          const rows = mine.filter((g) => g.speaker_label === s.label);
          return { label: s.label, displayName: s.display_name, channel: s.channel, talkMs: sum(rows, "talk_ms"), wordCount: sum(rows, "words") };
        });
      return {
        segmentCount: sum(mine, "segments"),
        wordCount: sum(mine, "words"),
        confidence: confWords > 0 ? sum(mine, "conf_sum") / confWords : 0,
        editCount: sum(mine, "edits"),
        speakers,
        channels,
        mediaId: media.find((m) => m.id === t.id)?.media_id ?? null,
      };
    });
  }
}

function toMs(seconds: number): number {
  return Math.round(seconds * 1000);
}

/**
 * Words for corrected text: the segment's time shared among the new words in proportion to their length.
 * An estimate (the audio is not re-aligned), so the words carry no confidence.
 */
export function realignWords(text: string, startMs: number, endMs: number, speakerLabel: string | null): SegmentWord[] {
  const words = text.split(/\s+/u).filter(Boolean);
  const total = words.reduce((n, w) => n + [...w].length, 0);
  const span = endMs - startMs;
  let consumed = 0;
  return words.map((word) => {
    const from = startMs + Math.round((span * consumed) / total);
    consumed += [...word].length;
    const to = startMs + Math.round((span * consumed) / total);
    return { word, startMs: from, endMs: to, ...(speakerLabel ? { speakerLabel } : {}) };
  });
}

/**
 * The transcript, its speakers and its segments, created in the caller's transaction (flushed at its commit);
 * `known`: the source as its caller vouches for it (CreateTranscriptOptions.newLiveSession), not read again.
 */
async function write(tenant: TenantScope, input: NewTranscript, known?: Source): Promise<Transcript> {
  const source = known ?? (await sourceOf(tenant, input));
  const transcript = tenant.create(Transcript, {
    job: input.jobId ?? null,
    liveSession: input.liveSessionId ?? null,
    languageCode: languageOrDefault(input.language),
    title: input.title?.trim() || source.title,
    model: input.model.trim(),
    channelCount: input.channels,
    text: input.segments.map((s) => s.text.trim()).filter(Boolean).join(" "),
    durationMs: toMs(input.durationSeconds),
    metadata: input.metadata ?? {},
    wer: input.wer ?? null,
    cer: input.cer ?? null,
  });
  const speakers = new Map(input.speakers.map((s) => [s.label, s.channel ?? null] as const));
  for (const segment of input.segments) {
    if (segment.speaker && !speakers.has(segment.speaker)) speakers.set(segment.speaker, segment.channel ?? null);
  }
  for (const [label, channel] of speakers) tenant.create(Speaker, { transcript, label, channel });
  input.segments.forEach((segment, index) =>
    tenant.create(Segment, {
      transcript,
      index,
      channel: segment.channel ?? 0,
      speakerLabel: segment.speaker || null,
      startMs: toMs(segment.start),
      endMs: toMs(segment.end),
      text: segment.text.trim(),
      confidence: segment.confidence ?? null,
      words: (segment.words ?? []).map(
        (w): SegmentWord => ({
          word: w.word,
          startMs: toMs(w.start),
          endMs: toMs(w.end),
          ...(w.confidence === undefined ? {} : { confidence: w.confidence }),
          ...(segment.speaker ? { speakerLabel: segment.speaker } : {}),
        }),
      ),
      alternatives: segment.alternatives ?? [],
    }),
  );
  return transcript;
}

function validateNewTranscript(input: NewTranscript): void {
  if (Boolean(input.jobId) === Boolean(input.liveSessionId)) {
    throw new InvalidArgumentError("source", "give exactly one of jobId and liveSessionId");
  }
  if (typeof input.model !== "string" || input.model.trim() === "") throw new InvalidArgumentError("model", "is required: say which model recognised the transcript");
  if (!Number.isInteger(input.channels) || input.channels < 1) throw new InvalidArgumentError("channels", "must be a whole number of at least 1");
  if (!(input.durationSeconds >= 0)) throw new InvalidArgumentError("durationSeconds", "must be 0 or more");
  if (input.segments.length > MAX_SEGMENTS_PER_TRANSCRIPT) {
    throw new InvalidArgumentError("segments", `at most ${MAX_SEGMENTS_PER_TRANSCRIPT} per transcript`);
  }
  input.segments.forEach((s, i) => {
    if (!(s.start >= 0 && s.end >= s.start)) throw new InvalidArgumentError(`segments[${i}]`, "needs 0 <= start <= end");
    const channel = s.channel ?? 0;
    if (!Number.isInteger(channel) || channel < 0 || channel >= input.channels) {
      throw new InvalidArgumentError(`segments[${i}].channel`, `must be from 0 to ${input.channels - 1}`);
    }
  });
}

/** What the writer takes from a transcript's source: the title it has when its producer gives none. */
interface Source {
  title: string;
}

/**
 * The organisation's job or live session that produced the transcript (NOT_FOUND otherwise), read by table:
 * the jobs and speech capabilities sit above this one. A job is titled after its media's file name, a live
 * session after when it started (UTC), as the console lists them.
 */
async function sourceOf(tenant: TenantScope, input: NewTranscript): Promise<Source> {
  if (input.jobId) {
    const rows = await tenant.em.execute<Array<{ filename: string }>>(
      `select m.filename from jobs j join media m on m.id = j.media_id where j.id = ? and j.organization_id = ?`,
      [input.jobId, tenant.organizationId],
    );
    if (rows.length === 0) throw new NotFoundError("job", input.jobId);
    return { title: rows[0]!.filename };
  }
  const rows = await tenant.em.execute<Array<{ created_at: Date | string }>>(`select created_at from live_sessions where id = ? and organization_id = ?`, [
    input.liveSessionId,
    tenant.organizationId,
  ]);
  if (rows.length === 0) throw new NotFoundError("live session", input.liveSessionId!);
  return { title: liveSessionTitle(new Date(rows[0]!.created_at)) };
}

function liveSessionTitle(startedAt: Date): string {
  const started = startedAt.toISOString();
  return `Live session ${started.slice(0, 10)} ${started.slice(11, 16)} UTC`;
}
