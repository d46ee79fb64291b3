// Cross-replica job events are a wake-up call, never the truth: when Redis refuses them the job goes on, and
// the fault is heard (a warning with the job's id, and arabicstt_swallowed_failures_total{site}). The Redis
// here is a real client of a server that is not there, which is the fault under test.
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { RedisJobEvents } from "./events.js";
import { heardCount } from "../platform/failures.js";

/** A client of a closed port that fails every command at once instead of queueing it. */
const unreachable = () => new Redis({ host: "127.0.0.1", port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });

describe("RedisJobEvents when Redis refuses", () => {
  let events: RedisJobEvents | undefined;
  let redis: Redis | undefined;
  afterEach(async () => {
    await events?.close();
    redis?.disconnect();
  });

  it("publishes and subscribes without throwing, and each refusal is logged with what it carried and counted", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const before = { publish: await heardCount("job_events.publish"), subscribe: await heardCount("job_events.subscribe") };
    redis = unreachable();
    events = new RedisJobEvents(redis, { prefix: "events-test", logger });
    await events.whenReady();
    await expect(events.publish({ jobId: "0b9d6a52-4c1e-4d7e-9a55-6d0c1f0e2a11", kind: "cancelled" })).resolves.toBeUndefined();

    expect(await heardCount("job_events.publish")).toBe(before.publish + 1);
    expect(await heardCount("job_events.subscribe")).toBe(before.subscribe + 1);
    expect(lines.filter((l) => l.site === "job_events.publish").map((l) => [l.job_id, l.kind])).toEqual([["0b9d6a52-4c1e-4d7e-9a55-6d0c1f0e2a11", "cancelled"]]);
    expect(lines.filter((l) => l.site === "job_events.subscribe").map((l) => l.channel)).toEqual(["events-test:job-events"]);
  });
});
