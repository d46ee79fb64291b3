import { describe, expect, it } from "vitest";
import { InboundMessages } from "./inbound-messages.js";

/** The transport's side, recording what the queue asked of it. */
function flow() {
  const calls: string[] = [];
  return { calls, pause: () => void calls.push("pause"), resume: () => void calls.push("resume") };
}

const bytes = (n: number) => Uint8Array.of(n);
const parse = (data: Uint8Array) => data[0]!;

describe("InboundMessages", () => {
  it("hands over queued messages in order, then the end", async () => {
    const messages = new InboundMessages(parse, flow());
    messages.push(bytes(1));
    messages.push(bytes(2));
    messages.end();
    const seen: number[] = [];
    for await (const m of messages) seen.push(m);
    expect(seen).toEqual([1, 2]);
  });

  it("wakes a waiting reader with the message that arrives", async () => {
    const messages = new InboundMessages(parse, flow());
    const first = messages.next();
    messages.push(bytes(7));
    expect(await first).toEqual({ done: false, value: 7 });
    const second = messages.next();
    messages.end();
    expect(await second).toEqual({ done: true, value: undefined });
  });

  it("pauses the transport at the high-water mark and resumes it once read down to half, dropping nothing", async () => {
    const transport = flow();
    const messages = new InboundMessages(parse, transport, 4);
    for (let i = 0; i < 5; i++) messages.push(bytes(i));
    expect(transport.calls).toEqual(["pause"]);
    await messages.next();
    await messages.next();
    expect(transport.calls).toEqual(["pause"]);
    await messages.next();
    expect(transport.calls).toEqual(["pause", "resume"]);
    messages.end();
    const rest: number[] = [];
    for await (const m of messages) rest.push(m);
    expect(rest).toEqual([3, 4]);
  });

  it("fails a read in its turn: the messages before the failure first, then the error, then the end", async () => {
    const messages = new InboundMessages(parse, flow());
    messages.push(bytes(1));
    messages.fail(new Error("oversize"));
    messages.push(bytes(2));
    expect(await messages.next()).toEqual({ done: false, value: 1 });
    await expect(messages.next()).rejects.toThrow("oversize");
    expect(await messages.next()).toEqual({ done: true, value: undefined });
  });

  it("fails a waiting reader at once", async () => {
    const messages = new InboundMessages(parse, flow());
    const waiting = messages.next();
    messages.fail(new Error("reset"));
    await expect(waiting).rejects.toThrow("reset");
  });

  it("fails the read that reaches an unparsable message, not the ones before it", async () => {
    const messages = new InboundMessages((data) => {
      if (data[0] === 0) throw new Error("parse binary: premature EOF");
      return data[0]!;
    }, flow());
    messages.push(bytes(1));
    messages.push(bytes(0));
    messages.push(bytes(3));
    expect(await messages.next()).toEqual({ done: false, value: 1 });
    await expect(messages.next()).rejects.toThrow("premature EOF");
    expect(await messages.next()).toEqual({ done: true, value: undefined });
  });

  it("resumes a paused transport when the reader stops early, and ignores what comes after", async () => {
    const transport = flow();
    const messages = new InboundMessages(parse, transport, 2);
    messages.push(bytes(1));
    messages.push(bytes(2));
    await messages.return();
    expect(transport.calls).toEqual(["pause", "resume"]);
    messages.push(bytes(3));
    expect(await messages.next()).toEqual({ done: true, value: undefined });
  });
});
