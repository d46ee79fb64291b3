// What an ended live recognition is turned into: the transcript's shape per channel, the billed
// seconds, and a failure that is logged rather than thrown.
import { describe, expect, it } from "vitest";
import type { Database } from "../database/database.js";
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
  function fakes(failAt?: "row" | "usage") {
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
      transcripts: { create: async () => void calls.push("transcript") },
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

  it("writes the row, then the transcript, then the usage", async () => {
    const { persistence, calls, errors } = fakes();
    await persistence.persist(ended);
    expect(calls).toEqual(["row", "transcript", "usage 5"]);
    expect(errors).toEqual([]);
  });

  it("writes the row and usage but no transcript for silence", async () => {
    const { persistence, calls } = fakes();
    await persistence.persist({ ...ended, finals: [] });
    expect(calls).toEqual(["row", "usage 5"]);
  });

  it("logs a failure instead of throwing it", async () => {
    for (const failAt of ["row", "usage"] as const) {
      const { persistence, errors } = fakes(failAt);
      await expect(persistence.persist(ended)).resolves.toBeUndefined();
      expect(errors).toHaveLength(1);
    }
  });
});
