// The VAD gate over `vad_stream`, against the real sidecar and its Silero model: a channel scored in
// parts gives the scores of one continuous run, for a fraction of the audio the stateless gate sends;
// a lost sequence is restarted with run-up, as the stateless gate would score that call.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInferenceClient, type InferenceClient } from "../../../inference/client/index.js";
import { addNoise } from "../../../inference/client/testing/signals.js";
import { startSidecar, type Sidecar } from "../../../inference/local/server.js";
import { createAudioDir, readAudio16k, sox, speakArabic, type AudioDir } from "../../../inference/local/testing/audio.js";
import { withWrappedInfer } from "../../../inference/local/testing/wrapped-models.js";
import { vadGate } from "./gate.js";
import { vadSequenceGate } from "./vad-sequence-gate.js";

const modelsDir = fileURLToPath(new URL("../../../inference/models", import.meta.url));
const FRAME = 512;

describe("vadSequenceGate", () => {
  let sidecar: Sidecar;
  let client: InferenceClient;
  let weightsDir: string;
  let audio: AudioDir;
  let channel: Float32Array;
  /** Samples each VAD model was sent, and how many of the next vad_stream calls fail. */
  const sent = { vad: 0, vad_stream: 0 };
  let failures = 0;
  /** The sequence parameters of every vad_stream request, in order. */
  const requests: Array<{ id: unknown; start: unknown; end: unknown; samples: number }> = [];

  beforeAll(async () => {
    weightsDir = await mkdtemp(join(tmpdir(), "arabicstt-vad-gate-"));
    audio = await createAudioDir();
    const counted = (name: "vad" | "vad_stream") => (factories: ReturnType<typeof withWrappedInfer>) =>
      new Map(factories).set(
        name,
        withWrappedInfer(name, (infer) => async (inputs, parameters, signal) => {
          const samples = (inputs.get("AUDIO")!.data as Float32Array).length;
          sent[name] += samples;
          if (name === "vad_stream") requests.push({ id: parameters.sequence_id, start: parameters.sequence_start, end: parameters.sequence_end, samples });
          if (name === "vad_stream" && failures > 0) {
            failures--;
            throw new Error("injected: the server lost the sequence");
          }
          return infer(inputs, parameters, signal);
        }).get(name)!,
      );
    const models = counted("vad_stream")(counted("vad")(withWrappedInfer("dtmf", (infer) => infer)));
    sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir, weightsDir, logger: pino({ level: "silent" }), models });
    client = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`], deadlineMs: 30_000 });
    // Two phrases with pauses, over a noise floor: the scores rise and fall.
    await speakArabic("السلام عليكم", audio.path("a.wav"));
    await sox(audio.path("a.wav"), audio.path("b.wav"), "pad", "0.6", "0.8", "repeat", "1");
    const speech = await readAudio16k(audio.path("b.wav"));
    channel = speech.slice(0, FRAME * Math.floor(speech.length / FRAME));
    addNoise(channel, 0.003);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await sidecar?.close();
    await audio?.remove();
    if (weightsDir) await rm(weightsDir, { recursive: true, force: true });
  });

  /** Scores `channel` through `gate` in parts of 1 to 4 frames, as live audio arrives. */
  async function scoreInParts(gate: ReturnType<typeof vadGate>, parts: number[]): Promise<number[]> {
    const scores: number[] = [];
    let at = 0;
    for (let i = 0; at < channel.length; i++) {
      const frames = parts[i % parts.length]!;
      const piece = channel.subarray(at, Math.min(channel.length, at + frames * FRAME));
      scores.push(...(await gate.score(piece)));
      at += piece.length;
    }
    return scores;
  }

  it("scores a channel fed in parts exactly as one continuous run, sending each frame once", async () => {
    const continuous = [...(await client.vad(channel)).probabilities];
    expect(Math.max(...continuous)).toBeGreaterThan(0.5);
    expect(Math.min(...continuous)).toBeLessThan(0.5);

    sent.vad = sent.vad_stream = 0;
    const streamed = await scoreInParts(vadSequenceGate(client), [1, 3, 1, 1, 4, 2]);
    expect(streamed).toEqual(continuous);
    expect(sent.vad_stream).toBe(channel.length);

    // The stateless gate, for comparison: every call resends up to 16 frames of run-up.
    const stateless = await scoreInParts(vadGate(client), [1, 3, 1, 1, 4, 2]);
    expect(stateless).toHaveLength(continuous.length);
    expect(sent.vad).toBeGreaterThan(5 * channel.length);
  });

  it("restarts a lost sequence with the frames before as run-up, and carries on from there", async () => {
    const gate = vadSequenceGate(client);
    const first = channel.subarray(0, 30 * FRAME);
    const scores = [...(await gate.score(first.subarray(0, 20 * FRAME))), ...(await gate.score(first.subarray(20 * FRAME)))];
    expect(scores).toEqual([...(await client.vad(first)).probabilities]);

    failures = 1;
    const next = channel.subarray(30 * FRAME, 33 * FRAME);
    const afterLoss = await gate.score(next);
    expect(failures).toBe(0);
    // Scored as the stateless gate scores a call: the 16 frames before, then the new ones.
    const restarted = channel.subarray(14 * FRAME, 33 * FRAME);
    const expected = (await client.vad(restarted)).probabilities;
    expect([...afterLoss]).toEqual([...expected.slice(expected.length - 3)]);

    // The new sequence goes on from its run-up: the next frames score as that run continued.
    const more = await gate.score(channel.subarray(33 * FRAME, 36 * FRAME));
    const continued = (await client.vad(channel.subarray(14 * FRAME, 36 * FRAME))).probabilities;
    expect([...more]).toEqual([...continued.slice(continued.length - 3)]);
  });

  it("ends its sequence when the channel is done with it, so the server frees the state", async () => {
    const gate = vadSequenceGate(client);
    requests.length = 0;
    await gate.score(channel.subarray(0, 2 * FRAME));
    const id = requests[0]!.id;
    gate.close!();
    await expect.poll(() => requests.at(-1)).toEqual({ id, start: false, end: true, samples: 0 });
    const after = await client.vad(channel.subarray(0, FRAME), { model: "vad_stream", sequence: { id: Number(id), start: false, end: false } }).catch((err: unknown) => err);
    expect((after as Error).message).toMatch(/sequence_id: names no sequence in progress/);
  });

  it("fails the call when the restart fails too, and starts afresh on the next", async () => {
    const gate = vadSequenceGate(client);
    await gate.score(channel.subarray(0, 4 * FRAME));
    failures = 2;
    await expect(gate.score(channel.subarray(4 * FRAME, 5 * FRAME))).rejects.toThrow(/vad_stream failed with INTERNAL/);
    expect(failures).toBe(0);
    const after = await gate.score(channel.subarray(5 * FRAME, 6 * FRAME));
    // Its run-up is the frames scored before the failed call: the one that failed was never scored.
    const runUp = (await client.vad(Float32Array.of(...channel.subarray(0, 4 * FRAME), ...channel.subarray(5 * FRAME, 6 * FRAME)))).probabilities;
    expect([...after]).toEqual([runUp.at(-1)]);
  });
});
