// The live-session bus contract, held against the in-process bus and, with REDIS_URL, the Redis
// streams bus: idempotent numbered audio with gaps and backlog reported, close after the audio,
// outputs readable from any index and ending at the end mark, sessions forgotten on removal.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { InProcessBus, type AudioEntry, type LiveSessionBus, type PublishedOutput, type SessionRecord } from "./bus.js";
import { testEnvironment } from "../platform/config/test-environment.js";
import { RedisBus } from "./redis-bus.js";

const { redisUrl } = testEnvironment();
const connections: Redis[] = [];
afterAll(() => connections.forEach((c) => c.disconnect()));

const buses: Array<[string, () => LiveSessionBus]> = [["in-process", () => new InProcessBus()]];
if (redisUrl) {
  buses.push([
    "Redis streams",
    () => {
      const redis = new Redis(redisUrl);
      connections.push(redis);
      return new RedisBus(redis, { blockMs: 100 });
    },
  ]);
}

function record(): SessionRecord {
  const now = Date.now();
  return { id: randomUUID(), organizationId: randomUUID(), state: "active", config: "{}", nextSequence: 0, bytesReceived: 0, nextResultIndex: 0, processedSeconds: 0, channels: 2, createdAt: now, lastActivityAt: now, lastAudioAt: now, expiresAt: now + 60_000 };
}

async function take<T>(iterable: AsyncIterable<T>, count: number, signal: AbortController): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) {
    out.push(item);
    if (out.length === count) break;
  }
  signal.abort();
  return out;
}

describe.each(buses)("the %s bus", (_name, open) => {
  it("takes numbered audio once, in order, reporting duplicates, gaps and a full backlog", async () => {
    const bus = open();
    const r = record();
    await bus.create(r);
    const chunk = (n: number) => new Uint8Array([n, n, n]);
    expect(await bus.send(r.id, 0, chunk(0), false, 1, 3)).toEqual({ status: "accepted", nextSequence: 1, state: "active" });
    expect(await bus.send(r.id, 0, chunk(0), false, 2, 3)).toEqual({ status: "duplicate", nextSequence: 1, state: "active" });
    expect(await bus.send(r.id, 5, chunk(5), false, 3, 3)).toEqual({ status: "out_of_order", nextSequence: 1, state: "active" });
    expect((await bus.send(r.id, 1, chunk(1), true, 4, 3))?.status).toBe("accepted");
    expect((await bus.send(r.id, 2, chunk(2), false, 5, 3))?.status).toBe("accepted");
    // Three chunks wait for the owner: the fourth is refused, not queued.
    expect(await bus.send(r.id, 3, chunk(3), false, 6, 3)).toEqual({ status: "busy", nextSequence: 3, state: "active" });
    expect(await bus.send(randomUUID(), 0, chunk(0), false, 7, 3)).toBeUndefined();

    const stop = new AbortController();
    const first = await take(bus.audio(r.id, stop.signal), 3, stop);
    expect(first).toEqual([
      { kind: "audio", sequence: 0, audio: chunk(0), finalize: false },
      { kind: "audio", sequence: 1, audio: chunk(1), finalize: true },
      { kind: "audio", sequence: 2, audio: chunk(2), finalize: false },
    ]);
    // Taken audio frees the backlog.
    expect((await bus.send(r.id, 3, chunk(3), false, 8, 3))?.status).toBe("accepted");
    const stored = await bus.get(r.id);
    expect(stored).toMatchObject({ nextSequence: 4, bytesReceived: 12, lastActivityAt: 8, lastAudioAt: 8, channels: 2 });

    // Closing: no more audio, and the close comes after the audio already sent. A close is activity, not audio.
    expect((await bus.requestClose(r.id, 9))?.state).toBe("closing");
    expect(await bus.get(r.id)).toMatchObject({ lastActivityAt: 9, lastAudioAt: 8 });
    expect((await bus.send(r.id, 4, chunk(4), false, 10, 3))?.status).toBe("not_active");
    expect((await bus.send(r.id, 3, chunk(3), false, 10, 3))?.status).toBe("duplicate");
    const rest: AudioEntry[] = [];
    for await (const entry of bus.audio(r.id, new AbortController().signal)) rest.push(entry);
    expect(rest).toEqual([{ kind: "audio", sequence: 3, audio: chunk(3), finalize: false }, { kind: "close" }]);
    await bus.remove(r.id);
    expect(await bus.get(r.id)).toBeUndefined();
  });

  it("keeps outputs readable from any index until the end mark, also for a reader waiting before they come", async () => {
    const bus = open();
    const r = record();
    await bus.create(r);
    const output = (index: number): PublishedOutput => ({ index, output: JSON.stringify({ index, n: `o${index}` }) });
    await bus.publish(r.id, output(0));
    await bus.publish(r.id, output(1));
    const early = (async () => {
      const got: number[] = [];
      for await (const o of bus.outputs(r.id, 1, new AbortController().signal)) got.push(o.index);
      return got;
    })();
    const waiting = (async () => {
      const got: number[] = [];
      for await (const o of bus.outputs(r.id, 4, new AbortController().signal)) got.push(o.index);
      return got;
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const i of [2, 3, 4]) await bus.publish(r.id, output(i));
    await bus.patch(r.id, { state: "closed" });
    await bus.end(r.id);
    expect(await early).toEqual([1, 2, 3, 4]);
    expect(await waiting).toEqual([4]);
    const all: PublishedOutput[] = [];
    for await (const o of bus.outputs(r.id, 0, new AbortController().signal)) all.push(o);
    expect(all).toEqual([0, 1, 2, 3, 4].map(output));
    expect(await bus.get(r.id)).toMatchObject({ state: "closed", nextResultIndex: 5 });
    // A reader stops when its signal aborts, even while it waits.
    const r2 = record();
    await bus.create(r2);
    const stop = new AbortController();
    const stopped = (async () => {
      for await (const _ of bus.outputs(r2.id, 0, stop.signal)) void _;
    })();
    setTimeout(() => stop.abort(), 30);
    await stopped;
    await bus.remove(r.id);
    await bus.remove(r2.id);
  });
});
