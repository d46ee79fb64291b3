// The queue between a session's writer and each channel: the `ready`/`poll` consumer's side, which
// the channels use so that an item already queued costs no promise.
import { describe, expect, it } from "vitest";
import { BoundedQueue, QueueClosedError } from "./bounded-queue.js";

describe("BoundedQueue ready and poll", () => {
  it("answers at once while items are queued, and waits (one promise) only when none is", async () => {
    const queue = new BoundedQueue<number>(4);
    const waiting = queue.ready();
    expect(waiting).toBeInstanceOf(Promise);
    expect(queue.poll()).toBeUndefined();
    expect(queue.offer(1)).toBe(true);
    await waiting;
    expect(queue.offer(2)).toBe(true);
    expect(queue.ready()).toBeUndefined();
    expect([queue.poll(), queue.poll(), queue.poll()]).toEqual([1, 2, undefined]);
  });

  it("makes room for a waiting push as an item is polled", async () => {
    const queue = new BoundedQueue<number>(1);
    expect(queue.offer(1)).toBe(true);
    expect(queue.offer(2)).toBe(false);
    let pushed = false;
    const pushing = queue.push(2).then(() => (pushed = true));
    expect(queue.poll()).toBe(1);
    await pushing;
    expect(pushed).toBe(true);
    expect(queue.poll()).toBe(2);
  });

  it("after a close, gives what is queued, then is ready with nothing; after a failure, throws it once empty", async () => {
    const closed = new BoundedQueue<number>(2);
    closed.offer(1);
    const waiting = new BoundedQueue<number>(2);
    const woken = waiting.ready();
    waiting.close();
    await woken;
    closed.close();
    expect(closed.ready()).toBeUndefined();
    expect(closed.poll()).toBe(1);
    expect(closed.ready()).toBeUndefined();
    expect(closed.poll()).toBeUndefined();
    await expect(closed.push(3)).rejects.toBeInstanceOf(QueueClosedError);

    const failed = new BoundedQueue<number>(2);
    failed.offer(1);
    failed.fail(new Error("gone"));
    expect(failed.poll()).toBe(1);
    expect(() => failed.poll()).toThrow("gone");
  });
});
