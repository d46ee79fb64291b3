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
//
// Each round also prints the CPU per stereo frame, next to a baseline timed in the same round: the
// same frames, each copied into a Buffer as the transport does and handed through a bounded queue
// to a reader that answers it (a frame in, a frame out: what an echo server does per frame, less
// the transport). The ratio of the two is the engine's own cost per frame, in a figure a busy
// machine disturbs less than either time alone.
import { AsyncLocalStorage, createHook } from "node:async_hooks";
import { parseArgs } from "node:util";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { createStreamDecoder } from "../../services/audio/index.js";
import { BoundedQueue } from "../../services/speech/engine/bounded-queue.js";
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

/** The baseline: each frame through a bounded queue to a reader that answers it through another. */
async function echo(): Promise<void> {
  const requests = new BoundedQueue<Buffer>(16);
  const responses = new BoundedQueue<Buffer>(16);
  const serving = (async () => {
    for await (const frame of requests) await responses.push(frame);
    responses.close();
  })();
  const reading = (async () => {
    for await (const _ of responses);
  })();
  for (let at = 0; at < stereo.length; at += frameBytes) await requests.push(Buffer.from(stereo.subarray(at, at + frameBytes)));
  requests.close();
  await Promise.all([serving, reading]);
}

/** CPU microseconds per stereo frame of `run` over every stream at once. */
async function cpuPerFrame(run: () => Promise<void>): Promise<{ us: number; wall: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: streams }, run));
  const { user, system } = process.cpuUsage(cpu);
  return { us: (user + system) / streams / Math.ceil(stereo.length / frameBytes), wall: (performance.now() - started) / 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
const engineUs: number[] = [];
const echoUs: number[] = [];
const ratios: number[] = [];
for (let round = 0; round < Number(values.rounds); round++) {
  finalLatencies.length = 0;
  const live = await cpuPerFrame(stream);
  const base = await cpuPerFrame(echo);
  engineUs.push(live.us);
  echoUs.push(base.us);
  ratios.push(live.us / base.us);
  console.log(
    `round ${round}: ${streams} streams of ${SECONDS} s, ${frameMs} ms frames, model ${modelMs} ms: ${((live.us * 1000) / frameMs / 1000).toFixed(3)} ms CPU per stream-second ` +
      `(${live.wall.toFixed(1)} s wall), final latency median ${median(finalLatencies).toFixed(0)} ms; ` +
      `per frame ${live.us.toFixed(1)} µs CPU, baseline ${base.us.toFixed(1)} µs, ratio ${(live.us / base.us).toFixed(2)}`,
  );
}
console.log(`median per frame: ${median(engineUs).toFixed(1)} µs CPU, baseline ${median(echoUs).toFixed(1)} µs, ratio ${median(ratios).toFixed(2)}`);

// Promises made per stereo frame: a count that machine load does not blur (each costs more than its
// allocation while the promise hooks are on). The hook is on for this last pass only.
async function promisesPerFrame(run: () => Promise<void>): Promise<number> {
  let promises = 0;
  const hook = createHook({ init: (_id, type) => void (type === "PROMISE" && promises++) }).enable();
  await Promise.all(Array.from({ length: streams }, run));
  hook.disable();
  return promises / streams / Math.ceil(stereo.length / frameBytes);
}
console.log(`promises per frame: ${(await promisesPerFrame(stream)).toFixed(2)}, baseline ${(await promisesPerFrame(echo)).toFixed(2)}`);
