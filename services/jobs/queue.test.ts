// The in-process queue of the embedded mode: priority first, then arrival; a key it holds is dropped; a
// delayed message waits; no more handlers run at once than asked.
import { describe, expect, it, vi } from "vitest";
import { MemoryJobQueue, queueKey } from "./queue.js";

describe("MemoryJobQueue", () => {
  it("hands out higher priority first, then first in first out, and drops a key it already holds", async () => {
    const queue = new MemoryJobQueue();
    const order: string[] = [];
    await queue.enqueue("low", { priority: 1, key: "low" });
    await queue.enqueue("normal-1", { priority: 2, key: "normal-1" });
    await queue.enqueue("high", { priority: 3, key: "high" });
    await queue.enqueue("normal-2", { priority: 2, key: "normal-2" });
    await queue.enqueue("high", { priority: 3, key: "high" });
    expect(queue.size).toBe(4);
    queue.consume(async (jobId) => void order.push(jobId), 1);
    await vi.waitFor(() => expect(order).toHaveLength(4));
    expect(order).toEqual(["high", "normal-1", "normal-2", "low"]);
    await queue.close();
  });

  it("runs at most `concurrency` handlers at once, and a delayed message only after its delay", async () => {
    const queue = new MemoryJobQueue();
    let running = 0;
    let most = 0;
    const done: string[] = [];
    let laterAfterMs = 0;
    const enqueuedAt = performance.now();
    queue.consume(async (jobId) => {
      if (jobId === "later") laterAfterMs = performance.now() - enqueuedAt;
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      done.push(jobId);
    }, 2);
    await queue.enqueue("later", { priority: 3, key: "later", delayMs: 150 });
    for (let i = 0; i < 5; i++) await queue.enqueue(`now-${i}`, { priority: 1, key: `now-${i}` });
    await vi.waitFor(() => expect(done).toHaveLength(6), { timeout: 5000 });
    expect(most).toBe(2);
    // A lower bound only: a timer never fires before its delay, however busy the machine.
    expect(laterAfterMs).toBeGreaterThanOrEqual(145);
    await queue.close();
  });

  it("keys a message by job and attempt, so a retry is never taken for the run before it", () => {
    expect(queueKey("6f1c", 0)).not.toBe(queueKey("6f1c", 1));
    expect(queueKey("6f1c", 1)).not.toContain(":");
  });
});
