// Segmentation: the chunking algorithm on synthetic probabilities whose right answers are known,
// the energy gate on generated tones, and the VAD path on espeak-ng Arabic speech with silences
// through a real sidecar.
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInferenceClient, type InferenceClient } from "../../../inference/client/index.js";
import { startSidecar, type Sidecar } from "../../../inference/local/server.js";
import { audioSeconds, createAudioDir, readAudio16k, sox, speakArabic, type AudioDir } from "../../../inference/local/testing/audio.js";
import { chunkRegions, detectSpeech, energyProbabilities, segmentChannel, speechRegions, type FrameProbabilities, type TimeSpan } from "./segment.js";

const FRAME = 0.032;

/** Probabilities at FRAME seconds per frame: `speech` where a span covers the frame's middle, else `silence`. */
function probabilitiesOf(duration: number, spans: TimeSpan[], speech = 0.9, silence = 0.05): FrameProbabilities {
  const probabilities = new Float32Array(Math.ceil(duration / FRAME));
  probabilities.forEach((_, i) => {
    const t = (i + 0.5) * FRAME;
    probabilities[i] = spans.some((s) => t >= s.start && t < s.end) ? speech : silence;
  });
  return { frameSeconds: FRAME, probabilities };
}

/** Sets frames in [start, end) to `value`. */
function dip(input: FrameProbabilities, start: number, end: number, value: number): FrameProbabilities {
  for (let i = Math.round(start / FRAME); i < Math.round(end / FRAME); i++) input.probabilities[i] = value;
  return input;
}

const near = (actual: number, expected: number, tolerance = 2 * FRAME) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance);

describe("speechRegions", () => {
  it("finds speech between silences, bridging short pauses and dropping blips", () => {
    const input = probabilitiesOf(10, [
      { start: 1, end: 2 },
      { start: 2.15, end: 3 }, // a 0.15 s pause: one region with the previous
      { start: 5, end: 5.05 }, // a click
      { start: 7, end: 8.5 },
    ]);
    const regions = speechRegions(input);
    expect(regions).toHaveLength(2);
    near(regions[0]!.start, 1);
    near(regions[0]!.end, 3);
    near(regions[1]!.start, 7);
    near(regions[1]!.end, 8.5);
  });

  it("keeps speech that runs to the end of the audio", () => {
    const regions = speechRegions(probabilitiesOf(4, [{ start: 3, end: 4 }]));
    expect(regions).toHaveLength(1);
    near(regions[0]!.end, 4);
  });
});

describe("chunkRegions", () => {
  it("cuts 75 s of speech into chunks of at most 30 s, each cut in the longest pause of its window", () => {
    // One long region (pauses too short to end it), with pauses of different lengths.
    const input = probabilitiesOf(80, [{ start: 2, end: 77 }]);
    dip(input, 12, 12.2, 0.3); // short pause
    dip(input, 25, 25.25, 0.1); // longer: the first cut belongs here
    dip(input, 40, 40.1, 0.2);
    dip(input, 50, 50.2, 0.2); // the longest of the second window [~25.4 + 5, ~25.4 + 29.6]
    dip(input, 70, 70.15, 0.2);
    const regions = speechRegions(input);
    expect(regions).toHaveLength(1);
    const chunks = chunkRegions(regions, input, 80);
    for (const chunk of chunks) expect(chunk.end - chunk.start).toBeLessThanOrEqual(30);
    expect(chunks.length).toBe(3);
    // Cuts fall inside the chosen pauses (the pieces' shared boundary).
    const cuts = chunks.slice(1).map((c) => c.regions[0]!.start);
    expect(cuts[0]).toBeGreaterThanOrEqual(25);
    expect(cuts[0]).toBeLessThanOrEqual(25.25);
    expect(cuts[1]).toBeGreaterThanOrEqual(50);
    expect(cuts[1]).toBeLessThanOrEqual(50.2);
    // The chunks cover all the speech, in order.
    near(chunks[0]!.regions[0]!.start, 2);
    near(chunks.at(-1)!.regions.at(-1)!.end, 77);
  });

  it("cuts speech without any pause at its least speech-like frame", () => {
    const input = probabilitiesOf(40, [{ start: 0, end: 40 }]);
    dip(input, 21, 21.064, 0.6); // still speech, but the weakest moment
    const chunks = chunkRegions(speechRegions(input), input, 40);
    expect(chunks).toHaveLength(2);
    expect(chunks[0]!.end - chunks[0]!.start).toBeLessThanOrEqual(30);
    expect(chunks[1]!.regions[0]!.start).toBeGreaterThanOrEqual(21);
    expect(chunks[1]!.regions[0]!.start).toBeLessThanOrEqual(21.064);
  });

  it("merges regions separated by short pauses while the chunk fits, and not across long silences", () => {
    // Eleven 2 s phrases 1 s apart (1 s to 33 s), a 7 s silence, then two more phrases.
    const phrases = Array.from({ length: 11 }, (_, i) => ({ start: 1 + 3 * i, end: 3 + 3 * i }));
    phrases.push({ start: 40, end: 42 }, { start: 43, end: 45 });
    const input = probabilitiesOf(46, phrases);
    const regions = speechRegions(input);
    expect(regions).toHaveLength(13);
    const chunks = chunkRegions(regions, input, 46);
    for (const chunk of chunks) expect(chunk.end - chunk.start).toBeLessThanOrEqual(30);
    // 32 s of speech and pauses: ten phrases fill the first chunk, the eleventh starts the next.
    expect(chunks.map((c) => c.regions.length)).toEqual([10, 1, 2]);
    expect(chunks[2]!.start).toBeGreaterThan(38);
  });

  it("pads chunks within the audio and without overlapping each other", () => {
    const input = probabilitiesOf(10, [
      { start: 0.05, end: 1 },
      { start: 4, end: 5 },
      { start: 5.3, end: 6 }, // 0.3 s pause: a new region, but merged into the same chunk
      { start: 9.5, end: 10 },
    ]);
    const chunks = chunkRegions(speechRegions(input), input, 10, { maxMergeGapSeconds: 0.2, paddingSeconds: 0.2 });
    expect(chunks[0]!.start).toBe(0);
    expect(chunks.at(-1)!.end).toBeLessThanOrEqual(10);
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.start).toBeGreaterThanOrEqual(chunks[i - 1]!.end);
    // A region's padding is 0.2 s where there is room.
    const second = chunks.find((c) => Math.abs(c.regions[0]!.start - 4) < 0.1)!;
    near(second.start, 3.8);
  });
});

describe("energyProbabilities", () => {
  it("marks frames with a tone and not those of silence or faint noise", () => {
    const audio = new Float32Array(16_000);
    for (let i = 4_000; i < 8_000; i++) audio[i] = 0.3 * Math.sin((2 * Math.PI * 697 * i) / 16_000);
    for (let i = 10_000; i < 12_000; i++) audio[i] = 0.001 * Math.sin(i); // −63 dBFS
    const { frameSeconds, probabilities } = energyProbabilities(audio);
    expect(frameSeconds).toBe(0.032);
    const regions = speechRegions({ frameSeconds, probabilities }, { threshold: 0.5, negativeThreshold: 0.5, minSpeechSeconds: 0.03 });
    expect(regions).toHaveLength(1);
    near(regions[0]!.start, 0.25);
    near(regions[0]!.end, 0.5);
  });
});

describe("VAD segmentation on espeak-ng Arabic speech", () => {
  let dir: AudioDir;
  let sidecar: Sidecar;
  let client: InferenceClient;
  let speech: Float32Array;
  let phrases: TimeSpan[];

  beforeAll(async () => {
    dir = await createAudioDir("pipeline-vad-");
    sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir: "inference/models", weightsDir: dir.path("weights"), logger: pino({ level: "silent" }) });
    client = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`] });
    // 1.5 s of silence, a sentence, 3 s of silence, another sentence, 1.5 s of silence.
    await speakArabic("مرحبا بكم في خدمة العملاء", dir.path("one.wav"));
    await speakArabic("كيف يمكنني مساعدتك اليوم", dir.path("two.wav"));
    // espeak-ng leaves some silence at the ends of its own files: trim it, so that the phrase times are exact.
    for (const name of ["one", "two"]) await sox("-D", dir.path(`${name}.wav`), dir.path(`${name}-trim.wav`), "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse");
    const one = await audioSeconds(dir.path("one-trim.wav"));
    const two = await audioSeconds(dir.path("two-trim.wav"));
    await sox("-D", dir.path("one-trim.wav"), dir.path("one-pad.wav"), "pad", "1.5", "3");
    await sox("-D", dir.path("two-trim.wav"), dir.path("two-pad.wav"), "pad", "0", "1.5");
    await sox("-D", dir.path("one-pad.wav"), dir.path("two-pad.wav"), dir.path("call.wav"));
    speech = await readAudio16k(dir.path("call.wav"));
    phrases = [
      { start: 1.5, end: 1.5 + one },
      { start: 4.5 + one, end: 4.5 + one + two },
    ];
  });

  afterAll(async () => {
    client?.close();
    await sidecar?.close();
    await dir?.remove();
  });

  it("finds the two sentences and nothing in the silences", async () => {
    const { regions, chunks } = await segmentChannel(client, speech, { gate: "vad" });
    expect(regions.length).toBeGreaterThanOrEqual(2);
    // Every region lies within a sentence (give or take the model's onset and offset).
    for (const region of regions) expect(phrases.some((p) => region.start >= p.start - 0.3 && region.end <= p.end + 0.3)).toBe(true);
    // Each sentence is mostly covered.
    for (const phrase of phrases) {
      const covered = regions.reduce((sum, r) => sum + Math.max(0, Math.min(r.end, phrase.end) - Math.max(r.start, phrase.start)), 0);
      expect(covered / (phrase.end - phrase.start)).toBeGreaterThan(0.6);
    }
    // The 3 s silence is longer than the merge gap: the sentences are recognised as separate chunks.
    expect(chunks).toHaveLength(2);
  });

  it("asks the model window by window, with the same frames as one request", async () => {
    const whole = await detectSpeech(client, speech);
    const fractions: number[] = [];
    const windowed = await detectSpeech(client, speech, { windowSeconds: 2, onProgress: (f) => fractions.push(f) });
    expect(fractions.length).toBeGreaterThan(3);
    expect(fractions.at(-1)).toBe(1);
    expect(windowed.probabilities.length).toBe(whole.probabilities.length);
    expect(windowed.probabilities.length).toBe(Math.ceil(speech.length / 512));
    // Only the frames after each window's start differ (the model's state starts afresh): the
    // regions are the same to within a frame or two.
    const a = speechRegions(whole);
    const b = speechRegions(windowed);
    expect(b.length).toBe(a.length);
    b.forEach((r, i) => near(r.start, a[i]!.start, 0.1));
  });
});
