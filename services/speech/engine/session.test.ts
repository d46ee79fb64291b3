// The session engine on synthetic audio with a scripted recogniser: each burst of sound is one
// "word" named after its amplitude (0.3 → "w3"), timed where the burst is. The gate is the real
// energy gate. What is checked is the engine's own logic: endpoints, finals, partials, events,
// indexes, trimming, coalescing under a slow model, limits. The recogniser stays scripted on purpose: a
// real model cannot be made slow, hung or exact to the burst on demand (the sidecar path is
// live-recognition.test.ts and live-sessions.test.ts).
import { describe, expect, it } from "vitest";
import { DeadlineExceededError } from "../../platform/errors/errors.js";
import { energyGate, type SpeechGate } from "./gate.js";
import type { TimedWord } from "./local-agreement.js";
import { KEYPAD_FRAME_SAMPLES, RecognitionSession } from "./session.js";
import { defaultEngineSettings, type AsrFunction, type EngineObserver, type EngineOutput, type EngineSettings } from "./types.js";

const RATE = 16_000;

/** Audio of [amplitude, milliseconds] pieces; amplitude 0 is silence, others a 440 Hz sine. */
function audio(...pieces: Array<[number, number]>): Float32Array {
  const total = pieces.reduce((n, [, ms]) => n + (ms * RATE) / 1000, 0);
  const out = new Float32Array(total);
  let at = 0;
  for (const [amp, ms] of pieces) {
    const n = (ms * RATE) / 1000;
    for (let i = 0; i < n; i++) out[at + i] = amp * Math.sin((2 * Math.PI * 440 * i) / RATE);
    at += n;
  }
  return out;
}

/** Words spoken as bursts of `wordMs` with `gapMs` between: amplitudes 0.1..0.9. */
function speech(amplitudes: number[], wordMs = 200, gapMs = 150): Array<[number, number]> {
  return amplitudes.flatMap((a, i): Array<[number, number]> => (i === 0 ? [[a, wordMs]] : [[0, gapMs], [a, wordMs]]));
}

interface ScriptedAsr {
  asr: AsrFunction;
  calls: Array<{ seconds: number; prompt?: string }>;
}

/** Finds bursts in 10 ms windows; `delayMs` makes it a slow model. */
function scriptedAsr(delayMs = 0): ScriptedAsr {
  const calls: ScriptedAsr["calls"] = [];
  const asr: AsrFunction = async (samples, { prompt }) => {
    calls.push({ seconds: samples.length / RATE, prompt });
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const win = 160;
    const words: TimedWord[] = [];
    let current: { start: number; peak: number } | undefined;
    for (let w = 0; w * win < samples.length; w++) {
      let peak = 0;
      for (let i = w * win; i < Math.min((w + 1) * win, samples.length); i++) peak = Math.max(peak, Math.abs(samples[i]!));
      if (peak > 0.05) current = current ? { start: current.start, peak: Math.max(current.peak, peak) } : { start: w * win, peak };
      if ((peak <= 0.05 || (w + 1) * win >= samples.length) && current) {
        const end = peak <= 0.05 ? w * win : samples.length;
        words.push({ word: `w${Math.round(current.peak * 10)}`, start: current.start / RATE, end: end / RATE, probability: 0.9, separator: " " });
        current = undefined;
      }
    }
    return words;
  };
  return { asr, calls };
}

function session(overrides: Partial<EngineSettings>, asr: AsrFunction, observer?: EngineObserver): RecognitionSession {
  return new RecognitionSession({ ...defaultEngineSettings, ...overrides }, { asr, gate: () => energyGate(), observer });
}

/** Sends each channel's audio in 20 ms chunks (as fast as the engine takes it), then closes. */
async function feed(s: RecognitionSession, channels: Float32Array[], options: { close?: boolean } = {}): Promise<void> {
  const chunk = RATE / 50;
  const length = Math.max(...channels.map((c) => c.length));
  for (let at = 0; at < length; at += chunk) {
    await s.write(channels.map((c) => {
      const piece = new Float32Array(Math.min(chunk, length - at));
      piece.set(c.subarray(at, at + piece.length));
      return piece;
    }));
  }
  if (options.close ?? true) await s.close();
}

async function collect(s: RecognitionSession): Promise<EngineOutput[]> {
  const out: EngineOutput[] = [];
  for await (const o of s.outputs) out.push(o);
  return out;
}

const finals = (outs: EngineOutput[]) => outs.flatMap((o) => (o.kind === "result" && o.result.isFinal ? [o.result] : []));
const interims = (outs: EngineOutput[]) => outs.flatMap((o) => (o.kind === "result" && !o.result.isFinal ? [o.result] : []));
const events = (outs: EngineOutput[]) => outs.flatMap((o) => (o.kind === "event" ? [o.event] : []));

describe("the recognition session", () => {
  it("closes each channel's gate once its channel is done, whether the session closes or is aborted", async () => {
    for (const end of ["close", "abort"] as const) {
      let closed = 0;
      const gate = () => ({ ...energyGate(), close: () => void closed++ });
      const s = new RecognitionSession({ ...defaultEngineSettings, channels: 2 }, { asr: scriptedAsr().asr, gate });
      const outputs = collect(s).catch(() => []);
      await feed(s, [audio([0.3, 400]), audio([0, 400])], { close: false });
      expect(closed).toBe(0);
      if (end === "close") await s.close();
      else s.abort();
      await outputs;
      await expect.poll(() => closed).toBe(2);
    }
  });

  it("ends utterances at the silence, with finals in stream time, speech events and gapless indexes", async () => {
    const { asr } = scriptedAsr();
    const timings = { firstInterim: [] as number[], finalLatency: [] as number[], decodes: [] as string[] };
    const s = session({ voiceActivityEvents: true, interimResults: true, stepMs: 300 }, asr, {
      firstInterim: (t) => timings.firstInterim.push(t),
      finalLatency: (t) => timings.finalLatency.push(t),
      decode: (kind) => timings.decodes.push(kind),
    });
    const outputs = collect(s);
    await feed(s, [audio([0, 500], ...speech([0.3, 0.5, 0.7]), [0, 1500], ...speech([0.9, 0.2]), [0, 1000])]);
    const outs = await outputs;

    expect(outs.map((o) => o.index)).toEqual(outs.map((_, i) => i));
    const f = finals(outs);
    expect(f.map((r) => r.transcript)).toEqual(["w3 w5 w7", "w9 w2"]);
    // Word times in stream time: the first word starts at 0.5 s, the fourth at 0.5 + 0.9 + 1.5.
    expect(f[0]!.words[0]!.start).toBeCloseTo(0.5, 1);
    expect(f[0]!.words[2]!.end).toBeCloseTo(1.4, 1);
    expect(f[1]!.words[0]!.start).toBeCloseTo(2.9, 1);
    expect(f.every((r) => r.channel === 1 && r.confidence > 0.8)).toBe(true);

    const e = events(outs);
    expect(e.map((x) => x.type)).toEqual(["speech_begin", "speech_end", "speech_begin", "speech_end"]);
    expect(e[0]!.offsetSeconds).toBeCloseTo(0.5, 1);
    expect(e[1]!.offsetSeconds).toBeCloseTo(1.4, 1);
    expect(e[2]!.offsetSeconds).toBeCloseTo(2.9, 1);
    // Order: begin, (partials), end, final for each utterance.
    const kinds = outs.map((o) => (o.kind === "event" ? o.event.type : o.result.isFinal ? "final" : "partial"));
    expect(kinds.indexOf("speech_end")).toBeLessThan(kinds.indexOf("final"));

    const p = interims(outs);
    expect(p.length).toBeGreaterThan(0);
    for (const r of p) {
      expect(r.stability).toBeGreaterThan(0);
      expect(r.stability).toBeLessThan(1);
      expect(r.confidence).toBe(0);
    }
    expect(p.some((r) => r.transcript.startsWith("w3"))).toBe(true);

    // Timings for the metrics: one first partial and one final per utterance, every model call.
    expect(timings.firstInterim).toHaveLength(2);
    expect(timings.finalLatency).toHaveLength(2);
    expect(timings.decodes.filter((k) => k === "final")).toHaveLength(2);
    expect(timings.decodes.filter((k) => k === "interim").length).toBeGreaterThanOrEqual(2);
  });

  it("reports the end of a turn after utterance_end_silence without speech, not after a shorter pause", async () => {
    const { asr } = scriptedAsr();
    const s = session({ voiceActivityEvents: true, utteranceEndSilenceMs: 1500 }, asr);
    const outputs = collect(s);
    await feed(s, [audio([0, 200], ...speech([0.3, 0.5]), [0, 1200], ...speech([0.7]), [0, 2000])]);
    const outs = await outputs;
    const kinds = outs.map((o) => (o.kind === "event" ? o.event.type : o.result.isFinal ? "final" : "partial"));
    expect(kinds).toEqual(["speech_begin", "speech_end", "final", "speech_begin", "speech_end", "final", "utterance_end"]);
    const turnEnd = events(outs).at(-1)!;
    // 1.5 s after the end of the last final word (w7 ends at 0.2 + 0.55 + 1.2 + 0.2 s).
    expect(turnEnd.offsetSeconds).toBeCloseTo(finals(outs)[1]!.words.at(-1)!.end + 1.5, 2);
    expect(finals(outs)[1]!.words.at(-1)!.end).toBeCloseTo(2.15, 1);
  });

  it("with a keypad recogniser beside each channel, reports each key it finds as a DTMF event", async () => {
    const speechAsr = scriptedAsr();
    const keypadAsr = scriptedAsr();
    const s = new RecognitionSession(
      { ...defaultEngineSettings, channels: 2 },
      { asr: speechAsr.asr, gate: () => energyGate(), keypad: { asr: keypadAsr.asr, gate: () => energyGate() } },
    );
    const outputs = collect(s);
    await feed(s, [audio([0, 300], ...speech([0.2, 0.4]), [0, 1000]), audio([0, 900], ...speech([0.6]), [0, 1000])]);
    const outs = await outputs;
    expect(outs.map((o) => o.index)).toEqual(outs.map((_, i) => i));
    const keys = events(outs).filter((e) => e.type === "dtmf");
    expect(keys.map((k) => [k.channel, k.dtmfDigit])).toEqual(expect.arrayContaining([[1, "w2"], [1, "w4"], [2, "w6"]]));
    expect(keys).toHaveLength(3);
    expect(keys.find((k) => k.dtmfDigit === "w6")!.offsetSeconds).toBeCloseTo(0.9, 1);
    // The channels' own results are unchanged.
    expect(finals(outs).map((r) => [r.channel, r.transcript])).toEqual(expect.arrayContaining([[1, "w2 w4"], [2, "w6"]]));
  });

  it("reports each key within a keypad endpoint of its tone's end, however short the tones and gaps", async () => {
    // Keys as ITU-T Q.24's shortest (40 ms tones, 40 ms gaps) and as usual diallers send them.
    // The audio goes in one keypad gate frame at a time, and the next frame only once the keypad
    // recogniser has scored the last one, so the audio it had scored when it decoded a key is
    // exactly how much stream time past the tone's end its event needed.
    for (const [toneMs, gapMs] of [[40, 40], [80, 80], [100, 60]] as const) {
      const tones = Array.from({ length: 8 }, (_, k) => 0.1 + 0.1 * (k % 8));
      const pieces: Array<[number, number]> = [[0, 300], ...speech(tones, toneMs, gapMs), [0, 1000]];
      const toneEnds = tones.map((_, k) => 0.3 + k * ((toneMs + gapMs) / 1000) + toneMs / 1000);
      let scored = 0;
      let scoredWaiter: (() => void) | undefined;
      const keypadGate = (): SpeechGate => {
        const gate = energyGate({ frameSamples: KEYPAD_FRAME_SAMPLES });
        return {
          frameSamples: gate.frameSamples,
          async score(frames) {
            scored += frames.length;
            scoredWaiter?.();
            return gate.score(frames);
          },
        };
      };
      const keypad = scriptedAsr();
      const decodedAt: number[] = [];
      const keypadAsr: AsrFunction = async (samples, options) => {
        decodedAt.push(scored / RATE);
        return keypad.asr(samples, options);
      };
      const s = new RecognitionSession(defaultEngineSettings, { asr: scriptedAsr().asr, gate: () => energyGate(), keypad: { asr: keypadAsr, gate: keypadGate } });
      const outputs = collect(s);
      const all = audio(...pieces);
      for (let at = 0; at < all.length; at += KEYPAD_FRAME_SAMPLES) {
        const scoredNow = new Promise<void>((resolve) => (scoredWaiter = resolve));
        await s.write([all.subarray(at, at + KEYPAD_FRAME_SAMPLES)]);
        await scoredNow;
      }
      await s.close();
      const keys = events(await outputs).filter((e) => e.type === "dtmf");
      expect(keys.map((k) => k.dtmfDigit), `${toneMs}/${gapMs} ms`).toEqual(tones.map((a) => `w${Math.round(a * 10)}`));
      // One decode per key, each at most 50 ms of audio after its tone ended (the 30 ms keypad
      // endpoint, rounded up to the 10 ms gate frames it is measured in, and one frame of the tone's tail).
      expect(decodedAt).toHaveLength(tones.length);
      const delays = decodedAt.map((t, k) => t - toneEnds[k]!);
      for (const d of delays) expect(d, `${toneMs}/${gapMs} ms: ${delays.map((x) => x.toFixed(3)).join(", ")}`).toBeLessThanOrEqual(0.05);
      keys.forEach((key, k) => expect(key.offsetSeconds).toBeCloseTo(toneEnds[k]! - toneMs / 1000, 2));
    }
  });

  it("sends UTTERANCE_END after the keys pressed before it, however far behind the keypad recogniser is", async () => {
    // Loud speech for the channel's gate (it lets nothing quieter than -20 dBFS through), then two
    // quiet keys that only the keypad's gate hears, then silence. The keypad's model is slow, so
    // left to itself the channel would be well past the turn's end before the keys came out.
    const slowKeypad = scriptedAsr(200);
    const s = new RecognitionSession(
      { ...defaultEngineSettings, voiceActivityEvents: true, utteranceEndSilenceMs: 600 },
      {
        asr: scriptedAsr().asr,
        gate: () => energyGate({ thresholdDbfs: -20 }),
        keypad: { asr: slowKeypad.asr, gate: () => energyGate({ frameSamples: KEYPAD_FRAME_SAMPLES }) },
      },
    );
    const outputs = collect(s);
    await feed(s, [audio([0, 200], [0.9, 300], [0, 200], [0.06, 60], [0, 60], [0.07, 60], [0, 2000])]);
    const outs = await outputs;
    const order = outs.flatMap((o) =>
      o.kind === "result" ? ["final"] : o.event.type === "dtmf" ? [`dtmf ${o.event.dtmfDigit}`] : o.event.type === "utterance_end" ? ["utterance_end"] : [],
    );
    // The speech (0.2 to 0.5 s; the keypad hears it too, as a key "w9") has its final after 800 ms
    // of silence, at 1.3 s; the keys end at 0.76 s; the turn ends at 0.5 + 0.6 s.
    expect(order.filter((x) => x !== "final")).toEqual(["dtmf w9", "dtmf w1", "dtmf w1", "utterance_end"]);
    expect(order.indexOf("final")).toBeLessThan(order.indexOf("utterance_end"));
  });

  it("waits for the keypad before UTTERANCE_END without ever waiting for audio not yet written (tiny writes, full queues)", async () => {
    // 1 ms writes and queues of two: the channel at its turn's end has at most 2 ms of audio
    // queued ahead of it, far less than the keypad's endpoint. Waiting for the keypad to score
    // audio that has not been written would stop the writes, and so everything.
    const s = new RecognitionSession(
      { ...defaultEngineSettings, voiceActivityEvents: true, utteranceEndSilenceMs: 300, silenceMs: 200, inputCapacity: 2 },
      { asr: scriptedAsr().asr, gate: () => energyGate(), keypad: { asr: scriptedAsr().asr, gate: () => energyGate({ frameSamples: KEYPAD_FRAME_SAMPLES }) } },
    );
    const outputs = collect(s);
    const all = audio([0, 200], [0.5, 200], [0, 800]);
    for (let at = 0; at < all.length; at += 16) await s.write([all.subarray(at, at + 16)]);
    await s.close();
    const kinds = (await outputs).map((o) => (o.kind === "event" ? o.event.type : "final"));
    expect(kinds.slice(-2)).toEqual(["final", "utterance_end"]);
  }, 10_000);

  it("takes a chunk without a promise while its queues have room, and hands back the wait once one is full", async () => {
    const { asr } = scriptedAsr();
    const s = session({ channels: 2, inputCapacity: 2 }, asr);
    const outputs = collect(s);
    const frame = () => [new Float32Array(320), new Float32Array(320)];
    // The channels have not run yet: the first two chunks fill their queues, the third must wait.
    expect(s.writeNow(frame())).toBeUndefined();
    expect(s.writeNow(frame())).toBeUndefined();
    const waiting = s.writeNow(frame());
    expect(waiting).toBeInstanceOf(Promise);
    await waiting;
    await s.close();
    expect(await outputs).toEqual([]);
    expect(s.processedSeconds).toBeCloseTo((3 * 320) / RATE, 6);
  });

  it("gives the same results and events whether the audio comes in 20 ms frames, odd pieces or all at once", async () => {
    const sound = audio([0, 400], ...speech([0.3, 0.6]), [0, 1200], ...speech([0.9]), [0, 1000]);
    const run = async (piece: number, gate: () => SpeechGate = () => energyGate()) => {
      const settings = { ...defaultEngineSettings, voiceActivityEvents: true, utteranceEndSilenceMs: 500 };
      const s = new RecognitionSession(settings, { asr: scriptedAsr().asr, gate });
      const outputs = collect(s);
      for (let at = 0; at < sound.length; at += piece) {
        const writing = s.writeNow([sound.slice(at, at + piece)]);
        if (writing) await writing;
      }
      await s.close();
      return outputs;
    };
    const framed = await run(320);
    expect(finals(framed).map((r) => r.transcript)).toEqual(["w3 w6", "w9"]);
    expect(events(framed).map((e) => e.type)).toEqual(["speech_begin", "speech_end", "utterance_end", "speech_begin", "speech_end", "utterance_end"]);
    for (const piece of [77, 1000, sound.length]) expect(await run(piece)).toEqual(framed);
    // A gate that always answers with a promise (as the VAD does) steps through the same frames.
    const awaited = (): SpeechGate => {
      const energy = energyGate();
      return { frameSamples: energy.frameSamples, score: (frames) => energy.score(frames) };
    };
    expect(await run(320, awaited)).toEqual(framed);
  });

  it("sends nothing to the model and returns nothing for pure silence", async () => {
    const { asr, calls } = scriptedAsr();
    const s = session({ interimResults: true, voiceActivityEvents: true }, asr);
    const outputs = collect(s);
    await feed(s, [audio([0, 5000])]);
    expect(await outputs).toEqual([]);
    expect(calls).toEqual([]);
  });

  it("trims the buffer at confirmed words, so long utterances are not decoded from the start again", async () => {
    const { asr, calls } = scriptedAsr();
    const amps = Array.from({ length: 40 }, (_, i) => [0.2, 0.4, 0.6, 0.8][i % 4]!);
    const s = session({ interimResults: true, stepMs: 500, trimAfterMs: 3000, maxUtteranceMs: 30_000 }, asr);
    const outputs = collect(s);
    await feed(s, [audio([0, 300], ...speech(amps), [0, 1000])]);
    const outs = await outputs;
    const f = finals(outs);
    expect(f).toHaveLength(1);
    expect(f[0]!.words.map((w) => w.word)).toEqual(amps.map((a) => `w${Math.round(a * 10)}`));
    // Times stay in stream time across trims: word k starts at 0.3 + k * 0.35 s.
    f[0]!.words.forEach((w, k) => expect(w.start).toBeCloseTo(0.3 + k * 0.35, 1));
    // 14 s of speech, yet no decode saw much more than the trim length plus a step or two.
    expect(Math.max(...calls.map((c) => c.seconds))).toBeLessThan(5);
    // After a trim the confirmed text goes along as the prompt.
    expect(calls.some((c) => c.prompt?.startsWith("w2 w4"))).toBe(true);
  });

  it("coalesces re-decodes when the model lags, and still loses no audio", async () => {
    const slow = scriptedAsr(150);
    const amps = Array.from({ length: 12 }, (_, i) => [0.3, 0.6, 0.9][i % 3]!);
    const s = session({ interimResults: true, stepMs: 100 }, slow.asr);
    const outputs = collect(s);
    await feed(s, [audio(...speech(amps), [0, 1000])]);
    const outs = await outputs;
    // 4.2 s of utterance at a 100 ms step would be ~40 re-decodes; the slow model gets far fewer.
    expect(slow.calls.length).toBeLessThan(20);
    expect(finals(outs).map((r) => r.transcript)).toEqual([amps.map((a) => `w${Math.round(a * 10)}`).join(" ")]);
  });

  it("cancels the re-decode in flight at an endpoint instead of waiting for it before the final", async () => {
    const scripted = scriptedAsr();
    let hung: AbortSignal | undefined;
    // The first call (an interim re-decode) answers only by being cancelled; the rest as usual.
    const asr: AsrFunction = (samples, options) => {
      if (hung) return scripted.asr(samples, options);
      hung = options.signal;
      return new Promise((_, reject) => options.signal?.addEventListener("abort", () => reject(options.signal?.reason), { once: true }));
    };
    const s = session({ interimResults: true, stepMs: 100 }, asr);
    const outputs = collect(s);
    await feed(s, [audio(...speech([0.3, 0.6]), [0, 1000])]);
    const outs = await outputs;
    expect(hung?.aborted).toBe(true);
    expect(finals(outs).map((r) => r.transcript)).toEqual(["w3 w6"]);
  });

  it("forces a final at the maximum utterance length and carries on without a new speech begin", async () => {
    const { asr } = scriptedAsr();
    const amps = Array.from({ length: 20 }, () => 0.5);
    const s = session({ maxUtteranceMs: 2000, voiceActivityEvents: true }, asr);
    const outputs = collect(s);
    await feed(s, [audio(...speech(amps), [0, 1000])]);
    const outs = await outputs;
    const f = finals(outs);
    expect(f.length).toBeGreaterThanOrEqual(3);
    for (const r of f) expect(r.endSeconds - r.startSeconds).toBeLessThanOrEqual(2.05);
    // Every word once: cuts may split a burst, so count audio covered rather than names.
    expect(f.flatMap((r) => r.words).length).toBeGreaterThanOrEqual(20);
    expect(events(outs).map((e) => e.type)).toEqual(["speech_begin", "speech_end"]);
  });

  it("recognises channels separately, each result with its channel tag", async () => {
    const { asr } = scriptedAsr();
    const s = session({ channels: 2 }, asr);
    const outputs = collect(s);
    await feed(s, [audio([0, 300], ...speech([0.1, 0.2]), [0, 1500]), audio([0, 1000], ...speech([0.8, 0.9, 0.7]), [0, 1000])]);
    const f = finals(await outputs);
    expect(f.filter((r) => r.channel === 1).map((r) => r.transcript)).toEqual(["w1 w2"]);
    expect(f.filter((r) => r.channel === 2).map((r) => r.transcript)).toEqual(["w8 w9 w7"]);
  });

  it("finalises on request in a pause and goes on recognising", async () => {
    const { asr } = scriptedAsr();
    const s = session({ voiceActivityEvents: true }, asr);
    const outputs = collect(s);
    // FINALIZE 100 ms after the last word: a pause, shorter than the 800 ms endpoint.
    await feed(s, [audio([0, 200], ...speech([0.4, 0.6]), [0, 100])], { close: false });
    await s.finalize();
    await feed(s, [audio([0, 1000], ...speech([0.8]), [0, 1000])]);
    const outs = await outputs;
    expect(finals(outs).map((r) => r.transcript)).toEqual(["w4 w6", "w8"]);
    expect(events(outs).map((e) => e.type)).toEqual(["speech_begin", "speech_end", "speech_begin", "speech_end"]);
  });

  it("finalises in the middle of a word without dropping or repeating it: the word goes to the next final, whole", async () => {
    const { asr, calls } = scriptedAsr();
    const s = session({ voiceActivityEvents: true }, asr);
    const outputs = collect(s);
    // w6 is 200 ms long (0.55 to 0.75 s); FINALIZE arrives 100 ms into it.
    await feed(s, [audio([0, 200], [0.4, 200], [0, 150], [0.6, 100])], { close: false });
    await s.finalize();
    await feed(s, [audio([0.6, 100], [0, 1000], ...speech([0.8]), [0, 1000])]);
    const outs = await outputs;
    const f = finals(outs);
    expect(f.map((r) => r.transcript)).toEqual(["w4", "w6", "w8"]);
    // The first final ends where the held-back word starts, and the next one starts there.
    expect(f[0]!.endSeconds).toBeCloseTo(0.55, 2);
    expect(f[1]!.startSeconds).toBeCloseTo(0.55, 2);
    expect(f[1]!.words[0]!.start).toBeCloseTo(0.55, 2);
    expect(f[1]!.words[0]!.end).toBeCloseTo(0.75, 2);
    // The speaker never paused at the cut: no SPEECH_END / SPEECH_BEGIN there.
    expect(events(outs).map((e) => e.type)).toEqual(["speech_begin", "speech_end", "speech_begin", "speech_end"]);
    expect(events(outs)[1]!.offsetSeconds).toBeCloseTo(0.75, 1);
    // The FINALIZE made one decode (0.65 s of audio), the next final one more.
    expect(calls.length).toBe(3);
  });

  it("closes with a word sounding to the very end of the audio: it is in the last final, whole", async () => {
    // No silence after w6: the audio (a recording, a console's file) ends inside it.
    const s = session({}, scriptedAsr().asr);
    const outputs = collect(s);
    await feed(s, [audio([0, 200], [0.4, 200], [0, 150], [0.6, 200])]);
    const f = finals(await outputs);
    expect(f.map((r) => r.transcript)).toEqual(["w4 w6"]);
    expect(f[0]!.words[1]!.end).toBeCloseTo(0.75, 2);
  });

  it("at a FINALIZE right before the close, holds a word sounding at the cut for a final of its own", async () => {
    // What a client that sent FINALIZE and then closed got: nothing lost, but the last word split off.
    const s = session({}, scriptedAsr().asr);
    const outputs = collect(s);
    await feed(s, [audio([0, 200], [0.4, 200], [0, 150], [0.6, 200])], { close: false });
    await s.finalize();
    await s.close();
    expect(finals(await outputs).map((r) => r.transcript)).toEqual(["w4", "w6"]);
  });

  it("cuts a key's tone at FINALIZE without reporting the key twice", async () => {
    // The keypad recogniser beside a channel is cut by FINALIZE like the channel itself.
    const speechAsr = scriptedAsr();
    const keypadAsr = scriptedAsr();
    const s = new RecognitionSession(
      { ...defaultEngineSettings },
      { asr: speechAsr.asr, gate: () => energyGate(), keypad: { asr: keypadAsr.asr, gate: () => energyGate({ frameSamples: KEYPAD_FRAME_SAMPLES }) } },
    );
    const outputs = collect(s);
    await feed(s, [audio([0, 200], [0.2, 80], [0, 80], [0.3, 50])], { close: false });
    await s.finalize();
    await feed(s, [audio([0.3, 30], [0, 80], [0.4, 80], [0, 1000])]);
    const keys = events(await outputs).filter((e) => e.type === "dtmf");
    expect(keys.map((k) => k.dtmfDigit)).toEqual(["w2", "w3", "w4"]);
    expect(keys[1]!.offsetSeconds).toBeCloseTo(0.36, 2);
  });

  it("forces a final at the maximum utterance length without splitting a word across two finals", async () => {
    const { asr } = scriptedAsr();
    // Words of 200 ms every 350 ms; cuts every 2 s fall inside words as often as not.
    const amps = Array.from({ length: 20 }, () => 0.5);
    const s = session({ maxUtteranceMs: 2000 }, asr);
    const outputs = collect(s);
    await feed(s, [audio(...speech(amps), [0, 1000])]);
    const words = finals(await outputs).flatMap((r) => r.words);
    expect(words).toHaveLength(20);
    // Whole: each word's times are its burst's (to the scripted model's 10 ms windows).
    words.forEach((w, k) => {
      expect(Math.abs(w.start - k * 0.35)).toBeLessThan(0.011);
      expect(Math.abs(w.end - (k * 0.35 + 0.2))).toBeLessThan(0.011);
    });
  });

  it("with single_utterance, ends after the first utterance and reads no more audio", async () => {
    const { asr } = scriptedAsr();
    const s = session({ singleUtterance: true, voiceActivityEvents: true }, asr);
    const outputs = collect(s);
    await feed(s, [audio([0, 200], ...speech([0.4, 0.6]), [0, 1500], ...speech([0.8]), [0, 1000])]);
    const outs = await outputs;
    expect(finals(outs).map((r) => r.transcript)).toEqual(["w4 w6"]);
    expect(events(outs).map((e) => e.type)).toEqual(["speech_begin", "speech_end", "end_of_single_utterance"]);
    expect(s.acceptsAudio).toBe(false);
  });

  it("fails with DEADLINE_EXCEEDED after the idle timeout, and keepalives hold it off", async () => {
    const { asr } = scriptedAsr();
    const s = session({ idleTimeoutMs: 150 }, asr);
    const outputs = collect(s);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 80));
      s.keepalive();
    }
    await expect(outputs).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(s.acceptsAudio).toBe(false);
  });

  it("at the idle timeout, sends the final of what it heard before DEADLINE_EXCEEDED", async () => {
    const { asr } = scriptedAsr();
    const s = session({ idleTimeoutMs: 150 }, asr);
    const received: EngineOutput[] = [];
    const outputs = (async () => {
      for await (const o of s.outputs) received.push(o);
    })();
    // The client stops sending in the middle of its utterance.
    await feed(s, [audio([0, 200], ...speech([0.5, 0.7]))], { close: false });
    await expect(outputs).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(finals(received).map((r) => r.transcript)).toEqual(["w5 w7"]);
  });

  it("does not count its own slowness as the client's silence", async () => {
    // A model far slower than the idle timeout: writes wait for room, which is not idleness.
    const slow = scriptedAsr(250);
    const s = session({ idleTimeoutMs: 150, inputCapacity: 2 }, slow.asr);
    const outputs = collect(s);
    await feed(s, [audio([0, 200], ...speech([0.5]), [0, 900], ...speech([0.7]), [0, 900], ...speech([0.9]), [0, 900])]);
    expect(finals(await outputs).map((r) => r.transcript)).toEqual(["w5", "w7", "w9"]);
    // Nor the work left after the client closed.
    const closing = session({ idleTimeoutMs: 100 }, scriptedAsr(300).asr);
    const closed = collect(closing);
    await feed(closing, [audio([0, 200], ...speech([0.3]))]);
    expect(finals(await closed).map((r) => r.transcript)).toEqual(["w3"]);
  });

  it("ends at the maximum session length after finalising what it heard", async () => {
    const { asr } = scriptedAsr();
    const s = session({ maxSessionMs: 300 }, asr);
    const received: EngineOutput[] = [];
    const outputs = (async () => {
      for await (const o of s.outputs) received.push(o);
    })();
    await feed(s, [audio([0, 200], ...speech([0.5]))], { close: false });
    await expect(outputs).rejects.toThrow(/maximum length/);
    expect(finals(received).map((r) => r.transcript)).toEqual(["w5"]);
  });

  it("frees everything at once when aborted", async () => {
    const slow = scriptedAsr(1000);
    const s = session({ interimResults: true, stepMs: 100 }, slow.asr);
    const outputs = collect(s);
    await feed(s, [audio(...speech([0.5, 0.5, 0.5]))], { close: false });
    const started = Date.now();
    s.abort();
    await expect(outputs).rejects.toThrow(/aborted/);
    expect(Date.now() - started).toBeLessThan(200);
    await s.write([audio([0.5, 100])]);
  });
});
