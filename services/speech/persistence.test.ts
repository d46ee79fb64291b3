// What an ended live recognition is turned into: the transcript's shape per channel, the billed
// seconds, a failure that is logged rather than thrown, and (on a real database) that writing the
// same session again, even at the same time, writes nothing twice.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../platform/database/database.js";
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

  it("is not written for pure silence", () => {
    expect(transcriptFromLive({ ...ended, finals: [] })).toBeUndefined();
    expect(transcriptFromLive({ ...ended, finals: [{ ...final(1, "", 0), transcript: " " }] })).toBeUndefined();
  });

  it("bills seconds times the channels recognised", () => {
    expect(liveBillableSeconds(ended)).toBe(5);
    expect(liveBillableSeconds({ processedSeconds: 3, channels: 1 })).toBe(3);
  });
});

describe("LivePersistence", () => {
  function fakes(failAt?: "row" | "transcript" | "usage") {
    const calls: string[] = [];
    const errors: unknown[] = [];
    const database = {
      fork: () => ({
        getConnection: () => ({
          execute: async () => {
            calls.push("row");
            if (failAt === "row") throw new Error("database down");
            return [];
          },
        }),
      }),
    } as unknown as Database;
    const persistence = new LivePersistence({
      database,
      transcripts: {
        create: async () => {
          calls.push("transcript");
          if (failAt === "transcript") throw new Error("transcripts down");
        },
      },
      usage: {
        record: async (_org, _kind, seconds) => {
          calls.push(`usage ${seconds}`);
          if (failAt === "usage") throw new Error("usage down");
          return true;
        },
      },
      logger: { error: (obj: unknown) => void errors.push(obj) } as never,
    });
    return { persistence, calls, errors };
  }

  it("writes the row, then the transcript and the usage", async () => {
    const { persistence, calls, errors } = fakes();
    await persistence.persist(ended);
    expect(calls.sort()).toEqual(["row", "transcript", "usage 5"]);
    expect(errors).toEqual([]);
  });

  it("writes the row and usage but no transcript for silence", async () => {
    const { persistence, calls } = fakes();
    await persistence.persist({ ...ended, finals: [] });
    expect(calls).toEqual(["row", "usage 5"]);
  });

  it("logs a failure instead of throwing it, and bills the seconds even when the transcript fails", async () => {
    for (const failAt of ["row", "transcript", "usage"] as const) {
      const { persistence, errors } = fakes(failAt);
      await expect(persistence.persist(ended)).resolves.toBeUndefined();
      expect(errors).toHaveLength(1);
    }
    const { persistence, calls } = fakes("transcript");
    await persistence.persist(ended);
    expect(calls).toContain("usage 5");
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
});
