// Resumable streams on real recognitions: the live recognizer over a local sidecar with the `dtmf` model
// (whose transcripts are the keys pressed, exactly) and the real audio decoder. Outputs are kept while the
// client is away (finals and events, not interim results), replayed from the index asked, then live ones;
// only the organisation that started a stream may resume it; the grace period.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { NotFoundError } from "../platform/errors/errors.js";
import type { EngineOutput } from "./engine/types.js";
import { LiveRecognizer, type LiveRecognition } from "./live-recognition.js";
import type { EndedLiveSession } from "./persistence.js";
import { ResumableStreams } from "./resumable.js";
import { startDtmfRecognizer } from "./testing/dtmf-recognizer.js";

let recognizer: LiveRecognizer;
let stopRecognizer: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ recognizer, stop: stopRecognizer } = await startDtmfRecognizer("arabicstt-resumable-"));
}, 60_000);

afterAll(() => stopRecognizer?.());

/** A keypad recognition with interim results and speech events, as a StreamingRecognize client opens one. */
const open = () =>
  recognizer.open({
    model: "dtmf",
    languageCode: "",
    format: { encoding: "LINEAR16", sampleRateHertz: 16_000, channels: 1 },
    separateChannels: false,
    interimResults: true,
    voiceActivityEvents: true,
    singleUtterance: false,
  });

/** `keys` on a keypad as 16 kHz PCM in 20 ms chunks, then their finals forced out (as a client's FINALIZE). */
async function press(recognition: LiveRecognition, keys: string): Promise<void> {
  const { audio } = dtmfSequence(keys, { sampleRate: 16_000, leadMs: 200, toneMs: 100, gapMs: 100 });
  const pcm = Buffer.alloc((audio.length + 3_200) * 2);
  audio.forEach((x, i) => pcm.writeInt16LE(Math.round(x * 32767), 2 * i));
  for (let at = 0; at < pcm.length; at += 640) await recognition.write(pcm.subarray(at, at + 640));
  await recognition.finalize();
}

/** Outputs read until (and with) the first final result. */
async function untilFinal(outputs: AsyncIterable<EngineOutput>): Promise<EngineOutput[]> {
  const got: EngineOutput[] = [];
  const it = outputs[Symbol.asyncIterator]();
  for (;;) {
    const next = await it.next();
    if (next.done) return got;
    got.push(next.value);
    if (next.value.kind === "result" && next.value.result.isFinal) return got;
  }
}

const isFinal = (o: EngineOutput) => o.kind === "result" && o.result.isFinal;
const finalText = (os: EngineOutput[]) => os.flatMap((o) => (o.kind === "result" && o.result.isFinal ? [o.result.transcript] : []));
/** Lets the session's pump take what the engine put out. */
const settle = () => new Promise((r) => setTimeout(r, 50));

describe("resumable streams", () => {
  it("lets only the organisation that started a stream resume it", async () => {
    const streams = new ResumableStreams();
    const recognition = await open();
    const first = await streams.start(recognition, "org-a");
    await press(recognition, "1");
    const heard = await untilFinal(first.outputs);
    expect(finalText(heard)).toEqual(["1"]);
    first.detach("cancelled");
    await expect(streams.resume(recognition.id, 0, "org-b")).rejects.toThrow(NotFoundError);
    await expect(streams.resume(recognition.id, 0)).rejects.toThrow(NotFoundError);
    const again = await streams.resume(recognition.id, heard.at(-1)!.index, "org-a");
    expect(finalText(await untilFinal(again.attachment.outputs))).toEqual(["1"]);
    streams.stop();
  });

  it("keeps finals and events while detached and replays them from the index asked, then goes live", async () => {
    const streams = new ResumableStreams();
    const recognition = await open();
    const first = await streams.start(recognition);
    await press(recognition, "1");
    const heard = await untilFinal(first.outputs);
    first.detach("cancelled");
    const detachedFrom = recognition.nextResultIndex;
    // Keyed while nobody listens: its interim results are superseded, its final and speech events kept.
    await press(recognition, "2");
    await settle();
    const detachedTo = recognition.nextResultIndex;
    expect(detachedTo).toBeGreaterThan(detachedFrom);
    const fromIndex = heard.at(-1)!.index;
    const { attachment } = await streams.resume(recognition.id, fromIndex);
    await press(recognition, "3");
    await recognition.close();
    const all: EngineOutput[] = [];
    for await (const o of attachment.outputs) all.push(o);

    expect(all[0]!.index).toBe(fromIndex);
    expect(finalText(all)).toEqual(["1", "2", "3"]);
    const whileAway = all.filter((o) => o.index >= detachedFrom && o.index < detachedTo);
    expect(whileAway.length).toBeGreaterThan(0);
    for (const o of whileAway) expect(o.kind === "event" || isFinal(o), `output ${o.index} kept while detached`).toBe(true);
    // Every output once, in order.
    const indexes = all.map((o) => o.index);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    expect(new Set(indexes).size).toBe(indexes.length);
    streams.release(recognition.id);
    await expect(streams.resume(recognition.id, 0)).rejects.toThrow(NotFoundError);
  });

  it("finalises and stores a recognition nobody came back for after the grace period", async () => {
    const ended: EndedLiveSession[] = [];
    const streams = new ResumableStreams({ graceMs: 30, onEnded: (e) => ended.push(e) });
    const recognition = await open();
    const attachment = await streams.start(recognition, "org-a", null);
    // Keys heard but not yet finalised when the client goes away.
    const { audio } = dtmfSequence("47", { sampleRate: 16_000, leadMs: 200, toneMs: 100, gapMs: 100 });
    const pcm = Buffer.alloc(audio.length * 2);
    audio.forEach((x, i) => pcm.writeInt16LE(Math.round(x * 32767), 2 * i));
    await recognition.write(pcm);
    attachment.detach("cancelled");
    for (let tries = 0; tries < 100 && ended.length === 0; tries++) await settle();
    expect(ended.map((e) => ({ outcome: e.outcome, finals: e.finals.map((f) => f.transcript).join("") }))).toEqual([{ outcome: "closed", finals: "47" }]);
    // Its last outputs wait one more grace period for a client that comes back, then it is forgotten.
    await settle();
    await expect(streams.resume(recognition.id, 0, "org-a")).rejects.toThrow(/grace period is over/);
  });

  it("hands a recognition that failed while detached its finals, then its failure, on resume", async () => {
    const streams = new ResumableStreams();
    const recognition = await open();
    (await streams.start(recognition)).detach("cancelled");
    await press(recognition, "9");
    await settle();
    // The failure comes through the recognition's own fail() (what a bad request message does to it): a real
    // sidecar cannot be made to fail between two decodes of this one stream without failing the others.
    recognition.fail(new Error("model gone"));
    await settle();
    const { attachment } = await streams.resume(recognition.id, 0);
    const got: EngineOutput[] = [];
    await expect(
      (async () => {
        for await (const o of attachment.outputs) got.push(o);
      })(),
    ).rejects.toThrow("model gone");
    expect(finalText(got)).toEqual(["9"]);
    for (const o of got) expect(o.kind === "event" || isFinal(o)).toBe(true);
  });
});
