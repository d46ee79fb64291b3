// Resumable streams on a scripted recognition: outputs kept while the client is away (finals and
// events, not interim results), replayed from the index asked, then live ones; the grace period.
import { describe, expect, it } from "vitest";
import { NotFoundError } from "../platform/errors/errors.js";
import { BoundedQueue } from "./engine/bounded-queue.js";
import type { EngineOutput } from "./engine/types.js";
import type { LiveRecognition } from "./live-recognition.js";
import { ResumableStreams } from "./resumable.js";

function output(index: number, kind: "interim" | "final" | "event"): EngineOutput {
  if (kind === "event") return { index, kind: "event", event: { type: "speech_begin", offsetSeconds: index, channel: 1 } };
  const result = { channel: 1, isFinal: kind === "final", transcript: `t${index}`, words: [], stability: 0.5, confidence: 0.9, startSeconds: 0, endSeconds: index };
  return { index, kind: "result", result };
}

function scripted(id: string) {
  const outputs = new BoundedQueue<EngineOutput>(100);
  let aborted = false;
  let closed = false;
  const recognition = {
    id,
    outputs,
    abort: () => (aborted = true),
    close: async () => {
      closed = true;
      outputs.close();
    },
    commit: { bytes: 0, seconds: 0, nextIndex: 0 },
    onCommit: () => undefined,
    config: { format: { encoding: "LINEAR16", sampleRateHertz: 16000, channels: 1 } },
  } as unknown as LiveRecognition;
  return { recognition, outputs, aborted: () => aborted, closed: () => closed };
}

async function read(iterable: AsyncIterable<EngineOutput>, count: number): Promise<number[]> {
  const got: number[] = [];
  const it = iterable[Symbol.asyncIterator]();
  while (got.length < count) {
    const next = await it.next();
    if (next.done) break;
    got.push(next.value.index);
  }
  return got;
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe("resumable streams", () => {
  it("lets only the organisation that started a stream resume it", async () => {
    const streams = new ResumableStreams();
    const { recognition, outputs } = scripted("s-org");
    const first = await streams.start(recognition, "org-a");
    await outputs.push(output(0, "final"));
    expect(await read(first.outputs, 1)).toEqual([0]);
    first.detach("cancelled");
    await expect(streams.resume("s-org", 0, "org-b")).rejects.toThrow(NotFoundError);
    await expect(streams.resume("s-org", 0)).rejects.toThrow(NotFoundError);
    const again = await streams.resume("s-org", 0, "org-a");
    expect(await read(again.attachment.outputs, 1)).toEqual([0]);
    streams.stop();
  });

  it("keeps finals and events while detached and replays them from the index asked, then goes live", async () => {
    const streams = new ResumableStreams();
    const { recognition, outputs } = scripted("s1");
    const first = await streams.start(recognition);
    await outputs.push(output(0, "interim"));
    await outputs.push(output(1, "final"));
    await outputs.push(output(2, "event"));
    expect(await read(first.outputs, 3)).toEqual([0, 1, 2]);
    first.detach("cancelled");
    await outputs.push(output(3, "interim"));
    await outputs.push(output(4, "final"));
    await tick();
    const { attachment } = await streams.resume("s1", 2);
    await outputs.push(output(5, "interim"));
    await outputs.push(output(6, "final"));
    outputs.close();
    const all: number[] = [];
    for await (const o of attachment.outputs) all.push(o.index);
    // 3 was an interim result nobody heard: superseded, not kept.
    expect(all).toEqual([2, 4, 5, 6]);
    streams.release("s1");
    await expect(streams.resume("s1", 0)).rejects.toThrow(NotFoundError);
  });

  it("closes a recognition nobody came back for after the grace period (what was heard is finalised)", async () => {
    const streams = new ResumableStreams({ graceMs: 30 });
    const { recognition, closed } = scripted("s2");
    (await streams.start(recognition)).detach("cancelled");
    await new Promise((r) => setTimeout(r, 80));
    expect(closed()).toBe(true);
    await expect(streams.resume("s2", 0)).rejects.toThrow(/grace period is over/);
  });

  it("hands a recognition that ended while detached its end, or its failure, on resume", async () => {
    const streams = new ResumableStreams();
    const { recognition, outputs } = scripted("s3");
    (await streams.start(recognition)).detach("cancelled");
    await outputs.push(output(0, "final"));
    outputs.fail(new Error("model gone"));
    await tick();
    const { attachment } = await streams.resume("s3", 0);
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const o of attachment.outputs) got.push(o.index);
      })(),
    ).rejects.toThrow("model gone");
    expect(got).toEqual([0]);
  });
});
