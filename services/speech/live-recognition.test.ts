// Live recognition as both transports drive it. First, how model output becomes the engine's
// words: separators by the model's writing (whisper's spaced words, dtmf's run-together keys), and
// the repetition-loop guard for speech models only. Then the recognizer over a real local sidecar
// and the real audio decoder, with the `dtmf` model, whose output is exact: audio as a byte stream
// split anywhere, FINALIZE in the middle of a key, how soon keys come out, and the config checked
// against what the model repository declares.
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInferenceClient, type InferenceClient, type SequenceStep, type Transcription } from "../../inference/client/index.js";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { startSidecar, type Sidecar } from "../../inference/local/server.js";
import { createStreamDecoder } from "../audio/index.js";
import { soxConvert } from "../audio/test-audio.js";
import { ModelCatalog } from "../models/catalog.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import { asrOf, LiveRecognizer, wordsOf, type LiveRecognition, type LiveRecognitionConfig } from "./live-recognition.js";
import { joinWords } from "./engine/local-agreement.js";
import type { EngineOutput } from "./engine/types.js";

function transcription(segments: Array<{ text: string; words: string[] }>): Transcription {
  return {
    text: segments.map((s) => s.text).join(" "),
    language: "ar",
    duration: 10,
    segments: segments.map((s, k) => ({
      start: k,
      end: k + 1,
      text: s.text,
      avgLogprob: -0.2,
      noSpeechProb: 0,
      words: s.words.map((word, i) => ({ word, start: k + i * 0.1, end: k + i * 0.1 + 0.05, probability: 0.9 })),
    })),
    alternatives: [segments.map((s) => s.text).join(" ")],
  };
}

describe("model output as words", () => {
  it("joins whisper's words with spaces and keypad keys with nothing", () => {
    expect(joinWords(wordsOf(transcription([{ text: " السلام عليكم", words: ["السلام", "عليكم"] }, { text: "ورحمة الله", words: ["ورحمة", "الله"] }])))).toBe("السلام عليكم ورحمة الله");
    expect(joinWords(wordsOf(transcription([{ text: "159#", words: ["1", "5", "9", "#"] }])))).toBe("159#");
  });

  it("cuts repetition loops for speech models, and keeps repeated keys for keypad models", async () => {
    const looped: Pick<InferenceClient, "transcribe"> = {
      transcribe: async (model) =>
        model === "whisper"
          ? transcription([{ text: "شكرا شكرا شكرا شكرا شكرا", words: ["شكرا", "شكرا", "شكرا", "شكرا", "شكرا"] }])
          : transcription([{ text: "11111", words: ["1", "1", "1", "1", "1"] }]),
    };
    const audio = new Float32Array(16_000);
    expect(joinWords(await asrOf(looped, "whisper", "ar", { cutLoops: true })(audio, {}))).toBe("شكرا شكرا شكرا");
    expect(joinWords(await asrOf(looped, "dtmf", "ar")(audio, {}))).toBe("11111");
  });

  it("asks the model for max_alternatives on a final's decode only, and keeps its runner-up texts", async () => {
    const asked: Array<number | undefined> = [];
    const nBest: Pick<InferenceClient, "transcribe"> = {
      transcribe: async (_model, _audio, options) => {
        asked.push(options?.maxAlternatives);
        return { ...transcription([{ text: "خمسة وعشرين", words: ["خمسة", "وعشرين"] }]), alternatives: ["خمسة وعشرين", "خمس وعشرين"] };
      },
    };
    const asr = asrOf(nBest, "whisper", "ar", { maxAlternatives: 3 });
    const audio = new Float32Array(16_000);
    const interim = await asr(audio, {});
    const final = await asr(audio, { final: true });
    expect(asked).toEqual([undefined, 3]);
    expect(joinWords(final)).toBe("خمسة وعشرين");
    expect(final.alternatives).toEqual(["خمس وعشرين"]);
    expect(interim.alternatives).toEqual(["خمس وعشرين"]); // what the model gives is kept; the engine reads it from finals only
  });
});

/** 16-bit little-endian PCM of samples in [-1, 1], channels interleaved. */
function pcm16(...channels: Float32Array[]): Uint8Array {
  const length = Math.max(...channels.map((c) => c.length));
  const out = Buffer.alloc(length * channels.length * 2);
  for (let i = 0; i < length; i++) {
    channels.forEach((c, k) => out.writeInt16LE(Math.round(Math.max(-1, Math.min(1, c[i] ?? 0)) * 32767), (i * channels.length + k) * 2));
  }
  return new Uint8Array(out);
}

/** Splits `bytes` into chunks of `size` bytes (the last may be shorter). */
function split(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/** Pads audio with `ms` of silence at the end. */
function padded(audio: Float32Array, ms: number, rate: number): Float32Array {
  const out = new Float32Array(audio.length + Math.round((ms * rate) / 1000));
  out.set(audio);
  return out;
}

const finalsOf = (outs: EngineOutput[]) => outs.flatMap((o) => (o.kind === "result" && o.result.isFinal ? [o.result] : []));
const keysOf = (outs: EngineOutput[]) => outs.flatMap((o) => (o.kind === "event" && o.event.type === "dtmf" ? [o.event] : []));

describe("live recognition over a real sidecar (the dtmf model)", () => {
  let modelsDir: string;
  let weightsDir: string;
  let sidecar: Sidecar;
  let inference: InferenceClient;
  /** Every model call: the model, the language asked for, the seconds of audio and the words found (times within that audio). */
  const calls: Array<{ model: string; language?: string; seconds: number; words: Array<{ word: string; start: number; end: number }> }> = [];
  let recognizer: LiveRecognizer;

  beforeAll(async () => {
    modelsDir = await mkdtemp(join(tmpdir(), "arabicstt-live-recognition-models-"));
    weightsDir = await mkdtemp(join(tmpdir(), "arabicstt-live-recognition-weights-"));
    await cp(fileURLToPath(new URL("../../inference/models/dtmf", import.meta.url)), join(modelsDir, "dtmf"), { recursive: true });
    sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir, weightsDir, logger: pino({ level: "silent" }) });
    inference = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`] });
    const spied = new Proxy(inference, {
      get: (target, key) =>
        key === "transcribe"
          ? async (model: string, samples: Float32Array, options?: { language?: string }) => {
              const transcription = await target.transcribe(model, samples, options);
              calls.push({ model, language: options?.language, seconds: samples.length / 16_000, words: transcription.segments.flatMap((seg) => seg.words) });
              return transcription;
            }
          : Reflect.get(target, key),
    });
    recognizer = new LiveRecognizer({ inference: spied, models: new ModelCatalog(spied, { defaultModel: "dtmf" }), createDecoder: createStreamDecoder });
  }, 60_000);

  afterAll(async () => {
    inference?.close();
    await sidecar?.close();
    for (const dir of [modelsDir, weightsDir]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  function config(overrides: Partial<LiveRecognitionConfig> = {}): LiveRecognitionConfig {
    return {
      model: "dtmf",
      languageCode: "",
      format: { encoding: "LINEAR16", sampleRateHertz: 16_000, channels: 1 },
      separateChannels: false,
      interimResults: false,
      voiceActivityEvents: false,
      singleUtterance: false,
      ...overrides,
    };
  }

  /** Writes the chunks (FINALIZE where a chunk is "finalize") and closes; returns every output, and the error the outputs ended with. */
  async function run(recognition: LiveRecognition, chunks: Array<Uint8Array | "finalize">): Promise<{ outputs: EngineOutput[]; error?: unknown }> {
    const outputs: EngineOutput[] = [];
    const reading = (async () => {
      for await (const o of recognition.outputs) outputs.push(o);
    })();
    for (const chunk of chunks) {
      if (chunk === "finalize") await recognition.finalize();
      else await recognition.write(chunk);
    }
    await recognition.close();
    const error = await reading.then(
      () => undefined,
      (err: unknown) => err,
    );
    recognition.abort();
    return { outputs, error };
  }

  describe("audio is a byte stream: chunks may split a sample or a frame anywhere", () => {
    const keys = dtmfSequence("1590#", { sampleRate: 16_000, leadMs: 200 });
    const mono = pcm16(padded(keys.audio, 1000, 16_000));

    it("LINEAR16 in 20 ms frames, in 1001-byte chunks and byte by byte: the same keys at the same times", async () => {
      const results = [];
      for (const size of [640, 1001, 1]) {
        const { outputs, error } = await run(await recognizer.open(config()), split(mono, size));
        expect(error, `chunks of ${size}`).toBeUndefined();
        results.push(finalsOf(outputs).map((r) => ({ transcript: r.transcript, words: r.words.map((w) => [w.word, w.start, w.end]) })));
      }
      expect(results[0]!.map((r) => r.transcript)).toEqual(["1590#"]);
      // Chunking-blind: every split gives exactly what 20 ms frames give.
      expect(results[1]).toEqual(results[0]);
      expect(results[2]).toEqual(results[0]);
      results[0]![0]!.words.forEach(([, start], k) => expect(start as number).toBeCloseTo(keys.keys[k]!.start, 2));
    });

    it("stereo LINEAR16 at 8 kHz in 1001-byte chunks (partial frames of channels), each channel its own keys", async () => {
      const left = dtmfSequence("123", { sampleRate: 8000, leadMs: 200 });
      const right = dtmfSequence("789", { sampleRate: 8000, leadMs: 700 });
      const stereo = pcm16(padded(left.audio, 1500, 8000), padded(right.audio, 1000, 8000));
      const format = { encoding: "LINEAR16" as const, sampleRateHertz: 8000, channels: 2 };
      const { outputs, error } = await run(await recognizer.open(config({ format, separateChannels: true })), split(stereo, 1001));
      expect(error).toBeUndefined();
      expect(finalsOf(outputs).map((r) => [r.channel, r.transcript]).sort()).toEqual([[1, "123"], [2, "789"]]);
    });

    it("μ-law and A-law split anywhere (7-byte chunks)", async () => {
      const audio8k = pcm16(padded(dtmfSequence("4*6", { sampleRate: 8000, leadMs: 200 }).audio, 1000, 8000));
      for (const [encoding, sox] of [["MULAW", "u-law"], ["ALAW", "a-law"]] as const) {
        const bytes = soxConvert(audio8k, ["-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-r", "8000", "-c", "1"], ["-t", "raw", "-e", sox, "-b", "8"]);
        const { outputs, error } = await run(await recognizer.open(config({ format: { encoding, sampleRateHertz: 8000, channels: 1 } })), split(bytes, 7));
        expect(error, encoding).toBeUndefined();
        expect(finalsOf(outputs).map((r) => r.transcript), encoding).toEqual(["4*6"]);
      }
    });

    it("stereo μ-law in 20 ms frames through writeNow: queued without a promise while the engine keeps up, the same finals as write", async () => {
      const left = dtmfSequence("25", { sampleRate: 8000, leadMs: 200 });
      const right = dtmfSequence("#0", { sampleRate: 8000, leadMs: 600 });
      const linear = pcm16(padded(left.audio, 1400, 8000), padded(right.audio, 1000, 8000));
      const bytes = soxConvert(linear, ["-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-r", "8000", "-c", "2"], ["-t", "raw", "-e", "u-law", "-b", "8"]);
      const format = { encoding: "MULAW" as const, sampleRateHertz: 8000, channels: 2 };
      const recognition = await recognizer.open(config({ format, separateChannels: true }));
      const outputs: EngineOutput[] = [];
      const reading = (async () => {
        for await (const o of recognition.outputs) outputs.push(o);
      })();
      let waited = 0;
      const frames = split(bytes, 320);
      for (const frame of frames) {
        const writing = recognition.writeNow(frame);
        if (writing) {
          waited++;
          await writing;
        }
        // As the transport's read of the next message lets the engine run between frames.
        await new Promise((resolve) => setImmediate(resolve));
      }
      await recognition.close();
      await reading;
      recognition.abort();
      expect(waited).toBe(0);
      expect(recognition.bytesReceived).toBe(bytes.length);
      const viaWrite = await run(await recognizer.open(config({ format, separateChannels: true })), frames);
      expect(viaWrite.error).toBeUndefined();
      // Each channel's finals, word times and all (which channel's final is out first is the model's race).
      const byChannel = (outs: EngineOutput[]) => finalsOf(outs).sort((a, b) => a.channel - b.channel);
      expect(byChannel(outputs).map((r) => [r.channel, r.transcript])).toEqual([[1, "25"], [2, "#0"]]);
      expect(byChannel(outputs)).toEqual(byChannel(viaWrite.outputs));
    });

    it("a stream that ends inside a sample is refused at its end, naming audio_content, after the finals of what came before", async () => {
      // No silence after the keys: their final comes at the close, from the audio before the stray byte.
      const bytes = pcm16(keys.audio);
      const { outputs, error } = await run(await recognizer.open(config()), [...split(bytes, 640), new Uint8Array([7])]);
      expect(finalsOf(outputs).map((r) => r.transcript)).toEqual(["1590#"]);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).message).toMatch(/^audio_content: .*ended inside a sample/);
      // Stereo: a whole sample of the left channel only is half a frame.
      const stereo = pcm16(keys.audio, keys.audio);
      const half = await run(await recognizer.open(config({ format: { encoding: "LINEAR16", sampleRateHertz: 16_000, channels: 2 } })), [stereo, new Uint8Array([1, 2])]);
      expect(finalsOf(half.outputs).map((r) => r.transcript)).toEqual(["1590#"]);
      expect((half.error as InvalidArgumentError).message).toMatch(/^audio_content: the stream ended inside a frame/);
    });
  });

  it("carries a model's n-best on finals: runner-ups after the final's words, each through the text chain", async () => {
    // The keypad model has one reading; this recogniser adds a runner-up to each of its real answers (the
    // keys reversed), as a model with beams would, to show what the engine and the text chain do with one.
    const withRunnerUp = new Proxy(inference, {
      get: (target, key) =>
        key === "transcribe"
          ? async (model: string, samples: Float32Array, options?: { maxAlternatives?: number }) => {
              const t = await target.transcribe(model, samples, options);
              const runnerUp = [...t.text].reverse().join("");
              return (options?.maxAlternatives ?? 1) > 1 && runnerUp !== t.text ? { ...t, alternatives: [t.text, runnerUp] } : t;
            }
          : Reflect.get(target, key),
    });
    const nBest = new LiveRecognizer({ inference: withRunnerUp, models: new ModelCatalog(withRunnerUp, { defaultModel: "dtmf" }), createDecoder: createStreamDecoder });
    const bytes = pcm16(padded(dtmfSequence("4711", { sampleRate: 16_000, leadMs: 200 }).audio, 1000, 16_000));
    const text = { numeralStyle: "arabic-indic" as const };
    const { outputs, error } = await run(await nBest.open(config({ maxAlternatives: 3, text })), split(bytes, 640));
    expect(error).toBeUndefined();
    expect(finalsOf(outputs).map((r) => [r.transcript, r.alternatives])).toEqual([["٤٧١١", ["١١٧٤"]]]);
    // Without max_alternatives the model is asked for one, and a final carries none.
    const one = await run(await nBest.open(config({ text })), split(bytes, 640));
    expect(finalsOf(one.outputs).map((r) => [r.transcript, r.alternatives])).toEqual([["٤٧١١", undefined]]);
  });

  describe("a model with sequence batching (dtmf) is sent each utterance's audio once", () => {
    /** A recogniser over the same sidecar that records each model call, told the model batches sequences or not. */
    function recorded(sequenceBatching: boolean, engine: { stepMs: number; trimAfterMs?: number }) {
      const sent: Array<{ samples: number; sequence?: SequenceStep }> = [];
      const client = new Proxy(inference, {
        get: (target, key) => {
          if (key === "modelConfig") return async (model: string) => ({ ...(await target.modelConfig(model)), sequenceBatching });
          if (key === "transcribe") {
            return async (model: string, samples: Float32Array, options?: { sequence?: SequenceStep }) => {
              sent.push({ samples: samples.length, ...(options?.sequence ? { sequence: options.sequence } : {}) });
              return target.transcribe(model, samples, options);
            };
          }
          return Reflect.get(target, key);
        },
      });
      return { sent, recognizer: new LiveRecognizer({ inference: client, models: new ModelCatalog(client, { defaultModel: "dtmf" }), createDecoder: createStreamDecoder, engine }) };
    }
    // Two utterances (a pause over the silence endpoint between them), 80 ms keys 80 ms apart.
    const first = dtmfSequence("0123456789", { sampleRate: 16_000, leadMs: 200 });
    const second = dtmfSequence("*#ABCD", { sampleRate: 16_000, leadMs: 1500 });
    const bytes = pcm16(padded(Float32Array.of(...first.audio, ...second.audio), 1000, 16_000));
    const settings = config({ interimResults: true, voiceActivityEvents: true, dtmfEvents: true });
    // The transcript's and the keypad's recognisers run side by side: each one's outputs are in order, their interleaving is timing's.
    const deterministic = (outputs: EngineOutput[]) => ({
      finals: finalsOf(outputs),
      keys: keysOf(outputs),
      speech: outputs.flatMap((o) => (o.kind === "event" && o.event.type !== "dtmf" ? [o.event] : [])),
    });

    /** Writes 20 ms chunks at about four times real time, so that interim steps run as in a live stream, and closes. */
    async function paced(recognition: LiveRecognition): Promise<{ outputs: EngineOutput[]; error?: unknown }> {
      const outputs: EngineOutput[] = [];
      const reading = (async () => {
        for await (const o of recognition.outputs) outputs.push(o);
      })();
      for (const chunk of split(bytes, 640)) {
        await recognition.write(chunk);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await recognition.close();
      const error = await reading.then(
        () => undefined,
        (err: unknown) => err,
      );
      recognition.abort();
      return { outputs, error };
    }

    /** Calls by sequence id, in order. */
    const bySequence = (sent: Array<{ samples: number; sequence?: SequenceStep }>) => {
      const groups = new Map<number, Array<{ samples: number; start: boolean; end: boolean }>>();
      for (const { samples, sequence } of sent) {
        const list = groups.get(sequence!.id) ?? [];
        list.push({ samples, start: sequence!.start, end: sequence!.end });
        groups.set(sequence!.id, list);
      }
      return [...groups.values()];
    };
    const total = (calls: Array<{ samples: number }>) => calls.reduce((n, c) => n + c.samples, 0);

    it("interim steps send only the audio after the last call, and the finals and events are exactly those of whole-buffer calls", async () => {
      const whole = recorded(false, { stepMs: 100 });
      const streamed = recorded(true, { stepMs: 100 });
      const a = await paced(await whole.recognizer.open(settings));
      const b = await paced(await streamed.recognizer.open(settings));
      expect(a.error).toBeUndefined();
      expect(b.error).toBeUndefined();
      expect(finalsOf(b.outputs).map((r) => r.transcript)).toEqual(["0123456789", "*#ABCD"]);
      expect(keysOf(b.outputs).map((e) => e.dtmfDigit).join("")).toBe("0123456789*#ABCD");
      expect(deterministic(b.outputs)).toEqual(deterministic(a.outputs));

      expect(whole.sent.every((c) => c.sequence === undefined)).toBe(true);
      expect(streamed.sent.every((c) => c.sequence !== undefined)).toBe(true);
      // One sequence per utterance (the transcript's two, and the keypad recogniser's, whose
      // endpoint makes each key one), started by its first call only and ended by its last.
      const sequences = bySequence(streamed.sent);
      expect(sequences).toHaveLength(2 + 16);
      for (const calls of sequences) {
        expect(calls.map((c) => c.start)).toEqual(calls.map((_, i) => i === 0));
        expect(calls.map((c) => c.end)).toEqual(calls.map((_, i) => i === calls.length - 1));
      }
      // The transcript's utterances took several steps, each sample sent once.
      expect(sequences.filter((calls) => calls.length > 2)).toHaveLength(2);
      expect(total(streamed.sent)).toBeLessThan(total(whole.sent) / 2);
    });

    it("restarts the sequence when the buffer is trimmed, and still hears every key", async () => {
      const streamed = recorded(true, { stepMs: 100, trimAfterMs: 500 });
      const { outputs, error } = await paced(await streamed.recognizer.open(settings));
      expect(error).toBeUndefined();
      // The keys (a decode after a trim may hold a single key, which wordsOf joins with a space, as it
      // does for whole-buffer calls).
      expect(finalsOf(outputs).map((r) => r.words.map((w) => w.word).join(""))).toEqual(["0123456789", "*#ABCD"]);
      expect(keysOf(outputs).map((e) => e.dtmfDigit).join("")).toBe("0123456789*#ABCD");
      // A trim moves the buffer's start: the next call starts the sequence again from there.
      const restarted = bySequence(streamed.sent).filter((calls) => calls.slice(1).some((c) => c.start));
      expect(restarted.length).toBeGreaterThan(0);
    });
  });

  describe("FINALIZE in the middle of a key's tone", () => {
    // 80 ms tones, 80 ms gaps; "2" sounds from 0.26 to 0.34 s.
    const keys = dtmfSequence("1234", { sampleRate: 16_000, leadMs: 100 });
    const two = keys.keys[1]!;

    for (const intoMs of [10, 40, 70]) {
      it(`${intoMs} ms into the tone: every key once, in one final or the next, at its own time, as results and as DTMF events`, async () => {
        const bytes = pcm16(padded(keys.audio, 1000, 16_000));
        const cut = Math.round((two.start + intoMs / 1000) * 16_000) * 2;
        const { outputs, error } = await run(await recognizer.open(config({ dtmfEvents: true })), [...split(bytes.subarray(0, cut), 640), "finalize", ...split(bytes.subarray(cut), 640)]);
        expect(error).toBeUndefined();
        const finals = finalsOf(outputs);
        expect(finals.map((r) => r.transcript).join("")).toBe("1234");
        // The cut key went to the second final (today's FINALIZE gives "12" then "234").
        expect(finals.map((r) => r.transcript)).toEqual(["1", "234"]);
        finals.flatMap((r) => r.words).forEach((w, k) => {
          expect(Math.abs(w.start - keys.keys[k]!.start)).toBeLessThan(0.01);
          expect(Math.abs(w.end - keys.keys[k]!.end)).toBeLessThan(0.01);
        });
        expect(keysOf(outputs).map((e) => e.dtmfDigit)).toEqual(["1", "2", "3", "4"]);
      });
    }
  });

  it("reports each DTMF key within 50 ms of stream time after its tone ends (8 kHz μ-law, Q.24's shortest tones and gaps)", async () => {
    for (const [toneMs, gapMs] of [[40, 40], [80, 80]] as const) {
      const keys = dtmfSequence("0123456789*#", { sampleRate: 8000, leadMs: 300, toneMs, gapMs, amplitude: 0.2 });
      const bytes = soxConvert(pcm16(padded(keys.audio, 1000, 8000)), ["-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-r", "8000", "-c", "1"], ["-t", "raw", "-e", "u-law", "-b", "8"]);
      calls.length = 0;
      // The recognition model asked for English, so that its calls are told apart from the keypad's (asked for Arabic).
      const format = { encoding: "MULAW" as const, sampleRateHertz: 8000, channels: 1 };
      const { outputs, error } = await run(await recognizer.open(config({ format, languageCode: "en", dtmfEvents: true })), split(bytes, 160));
      expect(error).toBeUndefined();
      const events = keysOf(outputs);
      expect(events.map((e) => e.dtmfDigit).join("")).toBe("0123456789*#");
      // How much audio the keypad recogniser had scored when it decoded each key: its decode ends
      // at its stream position (the key's start in stream time, less its start in the decoded
      // audio, plus the length of that audio), and the key's event goes out right after it.
      const decodes = calls.filter((c) => c.model === "dtmf" && c.language === "ar" && c.words.length > 0);
      expect(decodes.flatMap((c) => c.words.map((w) => w.word)).join("")).toBe("0123456789*#");
      const delays = decodes.flatMap((c) => c.words.map((w) => ({ key: w.word, relativeStart: w.start, seconds: c.seconds }))).map((d, k) => {
        const position = events[k]!.offsetSeconds - d.relativeStart + d.seconds;
        return position - keys.keys[k]!.end;
      });
      const sorted = [...delays].sort((a, b) => a - b);
      expect(sorted[Math.floor(sorted.length / 2)]!, `${toneMs}/${gapMs} ms: ${delays.map((d) => d.toFixed(3)).join(" ")}`).toBeLessThanOrEqual(0.05);
      expect(sorted.at(-1)!).toBeLessThanOrEqual(0.06);
      events.forEach((e, k) => expect(Math.abs(e.offsetSeconds - keys.keys[k]!.start)).toBeLessThan(0.01));
    }
  });

  describe("the config is held to what the model's config.pbtxt declares", () => {
    it("refuses a language the model does not declare, naming the field and listing the languages it does (live and Recognize)", async () => {
      const live = await recognizer.open(config({ languageCode: "xx-YY" })).catch((e: unknown) => e);
      expect(live).toBeInstanceOf(InvalidArgumentError);
      expect((live as Error).message).toBe(
        'streaming_config.config.language_code: model "dtmf" does not serve "xx-YY"; it serves ar, en (ListModels lists the languages of each model)',
      );
      const recognize = await recognizer.recognizeAll(config({ languageCode: "fr-FR" }), pcm16(new Float32Array(1600))).catch((e: unknown) => e);
      expect(recognize).toBeInstanceOf(InvalidArgumentError);
      expect((recognize as Error).message).toMatch(/^config\.language_code: model "dtmf" does not serve "fr-FR"; it serves ar, en/);
      // A regional tag of a declared language is served.
      const regional = await recognizer.open(config({ languageCode: "en-GB" }));
      expect(regional.languageCode).toBe("en-GB");
      regional.abort();
    });
  });
});
