// Live-stream slots per organisation, in memory and (with REDIS_URL) in Redis.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { ResourceExhaustedError } from "../errors/errors.js";
import { MemoryStreamSlots, RedisStreamSlots, type StreamSlots } from "./stream-slots.js";
import { testEnvironment } from "../config/test-environment.js";

const { redisUrl } = testEnvironment();
const redis = redisUrl ? new Redis(redisUrl) : undefined;
afterAll(() => redis?.disconnect());

const kinds: Array<[string, (limit: number) => StreamSlots]> = [["memory", (limit) => new MemoryStreamSlots(limit)]];
if (redis) kinds.push(["redis", (limit) => new RedisStreamSlots(redis, { limit, keyPrefix: `test:${randomUUID()}` })]);

describe.each(kinds)("stream slots (%s)", (_name, make) => {
  it("allow up to the limit per organisation, give slots back on release, and count organisations apart", async () => {
    const slots = make(2);
    const [org, other] = [randomUUID(), randomUUID()];
    const a = await slots.acquire(org);
    await slots.acquire(org);
    const refused = await slots.acquire(org).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ResourceExhaustedError);
    expect((refused as ResourceExhaustedError).retryAfterSeconds).toBeGreaterThan(0);
    expect((refused as ResourceExhaustedError).message).toMatch(/2 live streams/);
    await slots.acquire(other);
    await a.release();
    await a.release(); // twice is once
    await slots.acquire(org);
    await expect(slots.acquire(org)).rejects.toBeInstanceOf(ResourceExhaustedError);
  });

  it("count the slots held now across organisations (the operators' open streams)", async () => {
    const slots = make(5);
    expect(await slots.openCount()).toBe(0);
    const a = await slots.acquire(randomUUID());
    await slots.acquire(randomUUID());
    await slots.acquire(randomUUID());
    expect(await slots.openCount()).toBe(3);
    await a.release();
    expect(await slots.openCount()).toBe(2);
  });
});

describe.runIf(redis)("stream slots in Redis", () => {
  it("free the lease of a holder that stopped renewing it (a crashed gateway)", async () => {
    let now = 1_000_000;
    const slots = new RedisStreamSlots(redis!, { limit: 1, leaseMs: 60_000, keyPrefix: `test:${randomUUID()}`, now: () => now, heartbeat: false });
    const org = randomUUID();
    await slots.acquire(org);
    await expect(slots.acquire(org)).rejects.toBeInstanceOf(ResourceExhaustedError);
    now += 60_001;
    await expect(slots.acquire(org)).resolves.toBeDefined();
  });
});
