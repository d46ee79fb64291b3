// arabicstt_jobs_queue_depth{queue, state}: the worker autoscaler's signal (deploy/k8s/base/worker.yaml), read
// from the queue at each scrape; the in-process queue of the embedded mode, and BullMQ when REDIS_URL is set.
import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { Registry } from "prom-client";
import { testEnvironment } from "../platform/config/test-environment.js";
import { BullJobQueue, MemoryJobQueue, QUEUE_DEPTH_METRIC, exposeQueueDepth, type JobQueue } from "./queue.js";

async function depthSeries(registry: Registry): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(QUEUE_DEPTH_METRIC);
  if (!metric) throw new Error(`${QUEUE_DEPTH_METRIC} is not registered`);
  const { values } = await metric.get();
  return Object.fromEntries(values.map((v) => [`${v.labels.queue}/${v.labels.state}`, v.value]));
}

async function fill(queue: JobQueue): Promise<void> {
  for (let i = 0; i < 3; i++) await queue.enqueue(`job-${i}`, { priority: i % 3, key: `job-${i}` });
  await queue.enqueue("later", { priority: 1, key: "later", delayMs: 60_000 });
}

const { redisUrl } = testEnvironment();

describe(QUEUE_DEPTH_METRIC, () => {
  it("counts the in-process queue's waiting, running and delayed messages at each scrape", async () => {
    const queue = new MemoryJobQueue();
    const registry = new Registry();
    exposeQueueDepth(registry, queue);
    exposeQueueDepth(registry, queue); // once per registry
    await fill(queue);
    expect(await depthSeries(registry)).toEqual({ "memory/waiting": 3, "memory/active": 0, "memory/delayed": 1 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    queue.consume(() => held, 2);
    expect(await depthSeries(registry)).toEqual({ "memory/waiting": 1, "memory/active": 2, "memory/delayed": 1 });
    expect(await registry.metrics()).toContain(`${QUEUE_DEPTH_METRIC}{queue="memory",state="active"} 2`);
    release();
    await vi.waitFor(async () => expect((await depthSeries(registry))["memory/active"]).toBe(0));
    await queue.close();
  });

  it.skipIf(!redisUrl)("counts BullMQ's prioritised messages as waiting, and its delayed ones", async () => {
    const name = `depth-${randomUUID()}`;
    const queue = new BullJobQueue({ redisUrl: redisUrl!, name, prefix: "bull-test" });
    const registry = new Registry();
    exposeQueueDepth(registry, queue);
    try {
      await fill(queue);
      expect(await depthSeries(registry)).toEqual({ [`${name}/waiting`]: 3, [`${name}/active`]: 0, [`${name}/delayed`]: 1 });
      const text = await registry.metrics();
      expect(text).toContain(`${QUEUE_DEPTH_METRIC}{queue="${name}",state="waiting"} 3`);
    } finally {
      await queue.close();
    }
  });
});
