// The stream store's promises, held by both stores (memory, and Redis when REDIS_URL is set):
// a session is created at epoch 1 with nothing committed; writes under an epoch that no longer
// holds the session are refused (a takeover fences the old replica off); kept outputs come back
// from an index, in order; an ended session is neither written nor taken over; an untouched
// session lapses.
import { Redis } from "ioredis";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import type { EngineOutput } from "./engine/types.js";
import type { LiveRecognitionConfig } from "./live-recognition.js";
import { RedisStreamStore } from "./redis-stream-store.js";
import { MemoryStreamStore, type StreamStore } from "./stream-store.js";
import { testEnvironment } from "../platform/config/test-environment.js";

const { redisUrl } = testEnvironment();
const redis = redisUrl ? new Redis(redisUrl) : undefined;
afterAll(() => redis?.disconnect());

const config: LiveRecognitionConfig = {
  model: "dtmf",
  languageCode: "",
  format: { encoding: "MULAW", sampleRateHertz: 8000, channels: 2 },
  separateChannels: true,
  interimResults: true,
  voiceActivityEvents: false,
  singleUtterance: false,
};

const final = (index: number): EngineOutput => ({
  index,
  kind: "result",
  result: { channel: 1, isFinal: true, transcript: `t${index}`, words: [], stability: 0, confidence: 1, startSeconds: index, endSeconds: index + 1 },
});

const stores: Array<[string, () => StreamStore]> = [["memory", () => new MemoryStreamStore()]];
if (redis) stores.push(["redis", () => new RedisStreamStore(redis)]);

describe.each(stores)("%s stream store", (_, make) => {
  const newStream = async (store: StreamStore, ttlMs = 60_000, graceMs = 60_000) => {
    const id = randomUUID();
    await store.create({ id, organizationId: "org", apiKeyId: null, owner: "replica-a", config, model: "dtmf", languageCode: "ar", channels: 2, startedAt: 1_700_000_000_000, graceMs }, ttlMs);
    return id;
  };

  it("lets a client take a session over only within its grace period, and a sweep claim it only after, when its replica is dead", async () => {
    const store = make();
    const id = await newStream(store, 60_000, 100);
    expect(await store.takeOver(id, "replica-sweeper", 60_000, "orphan")).toBeUndefined();
    expect(await store.takeOver(id, "replica-b", 60_000, "resume")).toMatchObject({ owner: "replica-b", epoch: 2 });
    await new Promise((r) => setTimeout(r, 150));
    expect(await store.takeOver(id, "replica-c", 60_000, "resume")).toBeUndefined();
    if (store.shared) {
      // replica-b never sent a heartbeat: dead, so its lapsed session is an orphan; a live owner's is not.
      expect(await store.orphans()).toContain(id);
      await store.heartbeat("replica-b", 60_000);
      expect(await store.orphans()).not.toContain(id);
    } else {
      expect(await store.orphans()).toEqual([]);
    }
    expect(await store.takeOver(id, "replica-sweeper", 60_000, "orphan")).toMatchObject({ owner: "replica-sweeper", epoch: 3 });
  });

  it("creates a session at epoch 1 with nothing committed, and keeps its config", async () => {
    const store = make();
    const id = await newStream(store);
    const stored = await store.get(id);
    expect(stored).toMatchObject({ id, organizationId: "org", owner: "replica-a", epoch: 1, model: "dtmf", channels: 2, ended: false, committed: { bytes: 0, seconds: 0, nextIndex: 0 } });
    expect(stored!.config).toEqual(config);
    expect(await store.get(randomUUID())).toBeUndefined();
  });

  it("keeps outputs in index order and reads them from an index; commits move the resume point", async () => {
    const store = make();
    const id = await newStream(store);
    for (const i of [0, 2, 5]) expect(await store.append(id, 1, final(i))).toBe(true);
    expect((await store.outputs(id, 0)).map((o) => o.index)).toEqual([0, 2, 5]);
    expect((await store.outputs(id, 2)).map((o) => o.index)).toEqual([2, 5]);
    expect(await store.outputs(id, 2)).toEqual([final(2), final(5)]);
    expect(await store.commit(id, 1, { bytes: 3200, seconds: 0.2, nextIndex: 6 })).toBe(true);
    expect((await store.get(id))!.committed).toEqual({ bytes: 3200, seconds: 0.2, nextIndex: 6 });
  });

  it("fences the old replica off after a takeover: its outputs, commits and end are refused", async () => {
    const store = make();
    const id = await newStream(store);
    expect(await store.append(id, 1, final(0))).toBe(true);
    const taken = await store.takeOver(id, "replica-b", 60_000);
    expect(taken).toMatchObject({ owner: "replica-b", epoch: 2 });
    expect(await store.append(id, 1, final(1))).toBe(false);
    expect(await store.commit(id, 1, { bytes: 1, seconds: 0, nextIndex: 1 })).toBe(false);
    expect(await store.end(id, 1, 60_000)).toBe(false);
    expect(await store.append(id, 2, final(1))).toBe(true);
    expect((await store.outputs(id, 0)).map((o) => o.index)).toEqual([0, 1]);
    // The new owner ends it; then nobody writes or takes it over, but its outputs can still be read.
    expect(await store.end(id, 2, 60_000)).toBe(true);
    expect(await store.append(id, 2, final(2))).toBe(false);
    expect(await store.takeOver(id, "replica-c", 60_000)).toMatchObject({ ended: true, epoch: 2, owner: "replica-b" });
    expect((await store.outputs(id, 1)).map((o) => o.index)).toEqual([1]);
  });

  it("forgets a session nobody touches, and keeps one that is touched", async () => {
    const store = make();
    const lapsing = await newStream(store, 150);
    const touched = await newStream(store, 150);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 80));
      await store.touch([{ id: touched, epoch: 1 }], 150);
    }
    expect(await store.get(lapsing)).toBeUndefined();
    expect(await store.takeOver(lapsing, "replica-b", 1000)).toBeUndefined();
    expect(await store.get(touched)).toBeDefined();
  });
});
