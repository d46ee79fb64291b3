// mapStream, which every message of a streaming call passes through once per interceptor: it
// ends exactly once however the stream ends, maps errors, and closes its source when the
// consumer stops early or a message is refused.
import { describe, expect, it } from "vitest";
import { mapStream } from "./streams.js";

/** A source of `items` that records whether it was closed, and throws `failAt` at that index. */
function source(items: number[], failAt?: number) {
  const state = { closed: false };
  const iterable: AsyncIterable<number> = {
    [Symbol.asyncIterator]() {
      let i = 0;
      return {
        async next() {
          if (i === failAt) throw new Error(`source failed at ${i}`);
          return i < items.length ? { done: false, value: items[i++]! } : { done: true, value: undefined };
        },
        async return() {
          state.closed = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { iterable, state };
}

describe("mapStream", () => {
  it("passes every message through `each` in order and ends once, without an error", async () => {
    const seen: number[] = [];
    const ends: unknown[] = [];
    const out: number[] = [];
    for await (const m of mapStream(source([1, 2, 3]).iterable, { each: (m) => seen.push(m), onEnd: (err) => ends.push(err) })) out.push(m);
    expect(out).toEqual([1, 2, 3]);
    expect(seen).toEqual([1, 2, 3]);
    expect(ends).toEqual([undefined]);
  });

  it("replaces a source's error with onError's, and ends once with it", async () => {
    const ends: unknown[] = [];
    const mapped = new Error("mapped");
    const consume = async () => {
      for await (const _ of mapStream(source([1, 2], 1).iterable, { onError: () => mapped, onEnd: (err) => ends.push(err) })) void _;
    };
    await expect(consume()).rejects.toBe(mapped);
    expect(ends).toEqual([mapped]);
  });

  it("closes the source and ends once when the consumer stops early", async () => {
    const { iterable, state } = source([1, 2, 3]);
    const ends: unknown[] = [];
    for await (const m of mapStream(iterable, { onEnd: (err) => ends.push(err) })) if (m === 1) break;
    expect(state.closed).toBe(true);
    expect(ends).toEqual([undefined]);
  });

  it("refuses a message that `each` throws on: the error goes through onError and the source is closed", async () => {
    const { iterable, state } = source([1, 2, 3]);
    const ends: unknown[] = [];
    const refused = new Error("message 2 is invalid");
    const out: number[] = [];
    const consume = async () => {
      for await (const m of mapStream(iterable, {
        each: (m) => {
          if (m === 2) throw refused;
        },
        onError: (err) => err,
        onEnd: (err) => ends.push(err),
      })) {
        out.push(m);
      }
    };
    await expect(consume()).rejects.toBe(refused);
    expect(out).toEqual([1]);
    expect(state.closed).toBe(true);
    expect(ends).toEqual([refused]);
  });

  it("holds the stream's end until an async onEnd settles, on every kind of end", async () => {
    const order: string[] = [];
    const slowEnd = (what: string) => () => new Promise<void>((resolve) => setTimeout(() => (order.push(`${what} released`), resolve()), 5));
    for await (const _ of mapStream(source([1]).iterable, { onEnd: slowEnd("done") })) void _;
    order.push("done seen");
    const failing = async () => {
      for await (const _ of mapStream(source([1, 2], 1).iterable, { onEnd: slowEnd("error") })) void _;
    };
    await failing().catch(() => order.push("error seen"));
    for await (const _ of mapStream(source([1, 2]).iterable, { onEnd: slowEnd("break") })) break;
    order.push("break seen");
    expect(order).toEqual(["done released", "done seen", "error released", "error seen", "break released", "break seen"]);
  });
});
