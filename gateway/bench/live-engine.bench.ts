// npx tsx gateway/bench/live-engine.bench.ts [-- --streams 32 --rounds 5 --frame-ms 20 --model-ms 0 --realtime]
//
// The live path below the transport, in this one process: stereo 8 kHz μ-law keypad streams (as
// bench:streams sends) through LiveRecognition (services/audio's decoder and resampler, the energy
// gate, the session and its channels) with interim results on, to a model that answers after
// --model-ms with one key (so each utterance has a final; the engine's own work is what is timed). Without --realtime the frames
// go in as fast as the engine takes them and the figure is CPU per stream-second of audio, which a
// busy machine disturbs far less than bench:streams' wall-clock lags; with --realtime they are
// paced at 1x and the figure to read is the final latency (endpoint to final, as the engine's
// observer reports it). An AsyncLocalStorage is entered first, as the platform's ORM does, so
// promises cost what they cost in the gateway.
import { AsyncLocalStorage } from "node:async_hooks";
import { parseArgs } from "node:util";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { createStreamDecoder } from "../../services/audio/index.js";
import { mulawOf } from "../../services/audio/g711.js";
import { energyGate } from "../../services/speech/engine/gate.js";
import { RecognitionSession } from "../../services/speech/engine/session.js";
import { defaultEngineSettings, type AsrFunction } from "../../services/speech/engine/types.js";
import { LiveRecognition, type LiveRecognitionConfig } from "../../services/speech/live-recognition.js";

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "32" },
    rounds: { type: "string", default: "5" },
    "frame-ms": { type: "string", default: "20" },
    "model-ms": { type: "string", default: "0" },
    realtime: { type: "boolean", default: false },
  },
});
const streams = Number(values.streams);
const frameMs = Number(values["frame-ms"]);
const modelMs = Number(values["model-ms"]);
const RATE = 8000;
const SECONDS = 8;

new AsyncLocalStorage().enterWith({});

function keypad(keys: string, leadMs: number): Float32Array {
  const { audio } = dtmfSequence(keys, { sampleRate: RATE, leadMs, toneMs: 100, gapMs: 100 });
  const samples = new Float32Array(RATE * SECONDS);
  samples.set(audio.subarray(0, samples.length));
  return samples;
}
const [left, right] = [keypad("1593", 300), keypad("2486", 1500)];
const stereo = new Uint8Array(RATE * SECONDS * 2);
for (let i = 0; i < RATE * SECONDS; i++) {
  stereo[2 * i] = mulawOf(left[i]!);
  stereo[2 * i + 1] = mulawOf(right[i]!);
}
const frameBytes = (RATE * frameMs * 2) / 1000;

const finalLatencies: number[] = [];
/** Answers one key after --model-ms, or fails as soon as its call is cancelled. */
const asr: AsrFunction = (_audio, { signal }) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve([{ word: "1", start: 0, end: 0.1, probability: 1, separator: "" }]), modelMs);
    signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

const config: LiveRecognitionConfig = {
  model: "dtmf",
  languageCode: "",
  format: { encoding: "MULAW", sampleRateHertz: RATE, channels: 2 },
  separateChannels: true,
  interimResults: true,
  voiceActivityEvents: false,
  singleUtterance: false,
};

async function stream(): Promise<void> {
  const session = new RecognitionSession(
    { ...defaultEngineSettings, channels: 2, interimResults: true },
    { asr, gate: () => energyGate(), observer: { finalLatency: (seconds) => finalLatencies.push(seconds * 1000) } },
  );
  const recognition = new LiveRecognition("bench", "dtmf", "ar", config, createStreamDecoder(config.format), session, 1024 * 1024);
  const reading = (async () => {
    for await (const _ of recognition.outputs);
  })();
  const begin = performance.now();
  for (let at = 0, n = 0; at < stereo.length; at += frameBytes, n++) {
    if (values.realtime) {
      const wait = begin + n * frameMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await recognition.write(Buffer.from(stereo.subarray(at, at + frameBytes)));
  }
  await recognition.close();
  await reading;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
for (let round = 0; round < Number(values.rounds); round++) {
  finalLatencies.length = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: streams }, stream));
  const { user, system } = process.cpuUsage(cpu);
  console.log(
    `round ${round}: ${streams} streams of ${SECONDS} s, ${frameMs} ms frames, model ${modelMs} ms: ${((user + system) / 1000 / streams / SECONDS).toFixed(3)} ms CPU per stream-second ` +
      `(${((performance.now() - started) / 1000).toFixed(1)} s wall), final latency median ${median(finalLatencies).toFixed(0)} ms`,
  );
}
