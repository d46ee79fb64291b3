// What an ended live recognition is turned into: the transcript's shape per channel, the billed
// seconds, and, on the platform's database, transcripts and usage, that writing the same session again,
// even at the same time, writes nothing twice, and that a part that fails is logged rather than thrown
// without stopping the others.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startIdentityGateway, type IdentityGateway } from "../../gateway/testing/identity-gateway.js";
import { registerOwner } from "../../gateway/testing/accounts.js";
import { UsageRecord } from "../usage/usage-record.entity.js";
import { Transcript } from "../transcripts/transcript.entity.js";
import { LiveSession } from "./live-session.entity.js";
import type { RecognitionResult } from "./engine/types.js";
import { LivePersistence, liveBillableSeconds, transcriptFromLive, type EndedLiveSession } from "./persistence.js";

function final(channel: number, text: string, start: number): RecognitionResult {
  const words = [...text].map((w, i) => ({ word: w, start: start + i * 0.2, end: start + i * 0.2 + 0.1, probability: 0.9, separator: "" }));
  return { channel, isFinal: true, transcript: text, words, stability: 0, confidence: 0.9, startSeconds: start, endSeconds: start + text.length * 0.2 };
}

const ended: EndedLiveSession = {
  sessionId: "6f1c1c1e-4d7a-4a4e-9b1a-0a0a0a0a0a0a",
  organizationId: "0b8f1c1e-4d7a-4a4e-9b1a-0a0a0a0a0a0a",
  model: "dtmf",
  languageCode: "",
  channels: 2,
  processedSeconds: 2.5,
  finals: [final(2, "34", 0.6), final(1, "12", 0.2)],
  startedAt: new Date(0),
  outcome: "closed",
  transport: "streaming_recognize",
};

describe("a live session's transcript", () => {
  it("has one speaker per channel and the finals in time order, channels from 0", () => {
    const transcript = transcriptFromLive(ended)!;
    expect(transcript.liveSessionId).toBe(ended.sessionId);
    expect(transcript.language).toBe("ar");
    expect(transcript.channels).toBe(2);
    expect(transcript.speakers).toEqual([
      { label: "S1", channel: 0 },
      { label: "S2", channel: 1 },
    ]);
    expect(transcript.segments.map((s) => [s.channel, s.speaker, s.text])).toEqual([
      [0, "S1", "12"],
      [1, "S2", "34"],
    ]);
    expect(transcript.segments[0]!.words!.map((w) => w.word)).toEqual(["1", "2"]);
  });

  it("keeps a diarized session's speakers, splitting a final where its speaker changes", () => {
    const spoken = (words: Array<[string, string]>, start: number): RecognitionResult => {
      const timed = words.map(([word, speaker], i) => ({ word, start: start + i * 0.5, end: start + i * 0.5 + 0.4, probability: 0.8, separator: " ", speaker }));
      return { channel: 1, isFinal: true, transcript: words.map(([w]) => w).join(" "), words: timed, stability: 0, confidence: 0.8, startSeconds: start, endSeconds: start + words.length * 0.5 };
    };
    const mono: EndedLiveSession = {
      ...ended,
      channels: 1,
      finals: [
        spoken([["السلام", "S1"], ["عليكم", "S1"], ["وعليكم", "S2"], ["السلام", "S2"]], 0),
        spoken([["كيف", "S1"], ["حالك", "S1"]], 3),
      ],
    };
    const transcript = transcriptFromLive(mono)!;
    expect(transcript.speakers).toEqual([
      { label: "S1", channel: 0 },
      { label: "S2", channel: 0 },
    ]);
    expect(transcript.segments.map((s) => [s.speaker, s.text, s.start, s.end])).toEqual([
      ["S1", "السلام عليكم", 0, 0.9],
      ["S2", "وعليكم السلام", 1, 2],
      ["S1", "كيف حالك", 3, 4],
    ]);
    expect(transcript.segments[1]!.words!.map((w) => w.word)).toEqual(["وعليكم", "السلام"]);
  });

  it("is not written for pure silence", () => {
    expect(transcriptFromLive({ ...ended, finals: [] })).toBeUndefined();
    expect(transcriptFromLive({ ...ended, finals: [{ ...final(1, "", 0), transcript: " " }] })).toBeUndefined();
  });

  it("bills seconds times the channels recognised", () => {
    expect(liveBillableSeconds(ended)).toBe(5);
    expect(liveBillableSeconds({ processedSeconds: 3, channels: 1 })).toBe(3);
  });
});

describe("LivePersistence on a database", () => {
  let h: IdentityGateway;
  beforeAll(async () => {
    h = await startIdentityGateway();
  });
  afterAll(() => h?.stop());

  it("writes one row, one transcript and one usage record however often a session is persisted", async () => {
    const owner = await registerOwner(h);
    const errors: unknown[] = [];
    const persistence = new LivePersistence({
      database: h.testDb.db,
      transcripts: h.transcripts!.transcripts,
      usage: h.transcripts!.usage,
      logger: { error: (obj: unknown) => void errors.push(obj) } as never,
    });
    const session = { ...ended, sessionId: randomUUID(), organizationId: owner.organizationId };
    await Promise.all([persistence.persist(session), persistence.persist(session)]);
    await persistence.persist(session);

    const em = h.testDb.db.fork();
    const rows = await em.find(LiveSession, { id: session.sessionId }, { filters: false });
    expect(rows.map((r) => [r.status, Number(r.audioSeconds)])).toEqual([["closed", 2.5]]);
    expect(await em.count(Transcript, { liveSession: session.sessionId }, { filters: false })).toBe(1);
    const usage = await em.find(UsageRecord, { liveSession: session.sessionId }, { filters: false });
    expect(usage.map((u) => u.seconds)).toEqual([5]);
    // Two racing writers may each try the transcript; only the loser's duplicate is refused, and logged.
    expect(errors.length).toBeLessThanOrEqual(1);
  });

  /** Persistence on the platform's own transcripts and usage, its log lines kept. */
  function persistenceLogging() {
    const errors: Array<{ liveSessionId?: string }> = [];
    const persistence = new LivePersistence({
      database: h.testDb.db,
      transcripts: h.transcripts!.transcripts,
      usage: h.transcripts!.usage,
      logger: { error: (obj: { liveSessionId?: string }) => void errors.push(obj) } as never,
    });
    return { persistence, errors };
  }
  const written = async (sessionId: string) => {
    const em = h.testDb.db.fork();
    return {
      rows: await em.count(LiveSession, { id: sessionId }, { filters: false }),
      transcripts: await em.count(Transcript, { liveSession: sessionId }, { filters: false }),
      usage: (await em.find(UsageRecord, { liveSession: sessionId }, { filters: false })).map((u) => u.seconds),
    };
  };

  it("logs a row it cannot write instead of throwing, and writes nothing after it", async () => {
    const { persistence, errors } = persistenceLogging();
    // An organisation that does not exist (erased while the session ran): the row breaks its foreign key.
    const session = { ...ended, sessionId: randomUUID(), organizationId: randomUUID() };
    await expect(persistence.persist(session)).resolves.toBeUndefined();
    expect(errors.map((e) => e.liveSessionId)).toEqual([session.sessionId]);
    expect(await written(session.sessionId)).toEqual({ rows: 0, transcripts: 0, usage: [] });
  });

  it("bills the seconds even when the transcript cannot be written, and logs the transcript's failure", async () => {
    const owner = await registerOwner(h);
    const { persistence, errors } = persistenceLogging();
    // A recogniser that names no model: the transcripts refuse it, the row and the usage do not need it.
    const session = { ...ended, sessionId: randomUUID(), organizationId: owner.organizationId, model: "" };
    await expect(persistence.persist(session)).resolves.toBeUndefined();
    expect(errors.map((e) => e.liveSessionId)).toEqual([session.sessionId]);
    expect(await written(session.sessionId)).toEqual({ rows: 1, transcripts: 0, usage: [5] });
  });

  it("keeps the row when the usage cannot be recorded, and logs the usage's failure", async () => {
    const owner = await registerOwner(h);
    const { persistence, errors } = persistenceLogging();
    // Seconds below 0 (a recogniser's bookkeeping gone wrong): the row keeps them, the usage refuses them.
    const session = { ...ended, sessionId: randomUUID(), organizationId: owner.organizationId, processedSeconds: -1, finals: [] };
    await expect(persistence.persist(session)).resolves.toBeUndefined();
    expect(errors.map((e) => e.liveSessionId)).toEqual([session.sessionId]);
    expect(await written(session.sessionId)).toEqual({ rows: 1, transcripts: 0, usage: [] });
  });

  it("writes a silent session's row and usage without a transcript", async () => {
    const owner = await registerOwner(h);
    const persistence = new LivePersistence({ database: h.testDb.db, transcripts: h.transcripts!.transcripts, usage: h.transcripts!.usage, logger: { error: () => undefined } as never });
    const session = { ...ended, sessionId: randomUUID(), organizationId: owner.organizationId, finals: [] };
    await persistence.persist(session);
    const em = h.testDb.db.fork();
    expect(await em.count(LiveSession, { id: session.sessionId }, { filters: false })).toBe(1);
    expect(await em.count(Transcript, { liveSession: session.sessionId }, { filters: false })).toBe(0);
    expect((await em.find(UsageRecord, { liveSession: session.sessionId }, { filters: false })).map((u) => u.seconds)).toEqual([5]);
  });

  it("titles a new session's transcript after its start without reading its row back, and a row already there the same way", async () => {
    const owner = await registerOwner(h);
    const { persistence, errors } = persistenceLogging();
    const title = async (sessionId: string) => (await h.testDb.db.fork().findOneOrFail(Transcript, { liveSession: sessionId }, { filters: false })).title;
    const fresh = { ...ended, sessionId: randomUUID(), organizationId: owner.organizationId, startedAt: new Date("2026-12-07T21:05:30Z") };
    await persistence.persist(fresh);
    expect(await title(fresh.sessionId)).toBe("Live session 2026-12-07 21:05 UTC");
    // A persist that died after the row (the transcript and usage never written) is done again by the next one.
    const retried = { ...ended, sessionId: randomUUID(), organizationId: owner.organizationId, startedAt: new Date("2026-12-07T22:40:00Z") };
    await h.testDb.db.fork().getConnection().execute(
      `insert into live_sessions (id, organization_id, status, config, expires_at, closed_at, created_at, updated_at) values (?, ?, 'closed', '{}', now(), now(), ?, now())`,
      [retried.sessionId, owner.organizationId, new Date("2026-12-07T22:39:00Z")],
    );
    await persistence.persist(retried);
    await persistence.persist(retried);
    expect(await title(retried.sessionId)).toBe("Live session 2026-12-07 22:39 UTC");
    expect(await written(retried.sessionId)).toEqual({ rows: 1, transcripts: 1, usage: [5] });
    expect(errors).toEqual([]);
  });
});
