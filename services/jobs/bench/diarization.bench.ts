// npm run bench:diarization [-- --data ../shared/data/telephone-two-speakers --weights ./data/models]
//
// Diarization error rate of mono diarization (services/jobs/pipeline/diarize.ts) on a real recording with
// its reference RTTM: `sample.wav` and `sample.rttm` in --data. The audio is decoded as the batch pipeline
// decodes it (ffmpeg, 16 kHz, loudness normalised) and diarized twice over:
//   system speech   the pipeline's own segmentation (Silero VAD through a sidecar on loopback) gives the
//                   speech; misses and false alarms then count against the VAD as md-eval counts them.
//   oracle speech   the reference's speech regions are given, so the DER is the clustering's alone.
// each with the speaker count left open (1 to 6, the contract's default) and with it given (min = max = the
// reference's count). DER is md-eval's without a collar, overlapped speech scored per speaker (der.ts).
// Voice prints: spectral (weights-free, always), and the speaker_embedding model's when an export is
// installed under --weights (MODEL_WEIGHTS_DIR layout: speaker_embedding/model.onnx); otherwise that row
// says it was not measured.
// Live rows: the same audio streamed through live recognition's online diarizer
// (services/audio/speakers/online.ts), one utterance at a time as the live engine endpoints them (speech
// regions joined across pauses shorter than its 800 ms silence, cut at its 30 s maximum), each utterance
// labelled once when it ends and never revised.
import { access, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { createInferenceClient } from "../../../inference/client/index.js";
import { startSidecar } from "../../../inference/local/server.js";
import { probeMedia } from "../../audio/probe.js";
import { decodeAudio, segmentChannel, type TimeSpan } from "../pipeline/index.js";
import { diarizationErrorRate, parseRttm, type SpeakerTurn } from "../pipeline/der.js";
import { spectralPrinter, speakerTurns, type VoicePrinter } from "../pipeline/diarize.js";
import { OnlineDiarizer, type Embedder } from "../../audio/speakers/online.js";
import { mapLimited } from "../pipeline/recognize.js";

/** The live engine's defaults (services/speech/engine/types.ts, defaultEngineSettings: silenceMs, maxUtteranceMs), which jobs may not import. */
const LIVE_SILENCE_SECONDS = 0.8;
const LIVE_MAX_UTTERANCE_SECONDS = 30;

const { values } = parseArgs({ options: { data: { type: "string", default: "../shared/data/telephone-two-speakers" }, weights: { type: "string", default: "./data/models" } } });
const dir = resolve(values.data!);
const weightsDir = resolve(values.weights!);
const reference = parseRttm(await readFile(join(dir, "sample.rttm"), "utf8"));
const referenceSpeakers = new Set(reference.map((t) => t.speaker)).size;

const logger = pino({ level: "silent" });
const sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir: "inference/models", weightsDir, logger });
const client = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`], deadlineMs: 120_000 });
try {
  const file = join(dir, "sample.wav");
  const probe = await probeMedia(file);
  const audio = (await decodeAudio(file, { probe })).channels[0]!;
  const { regions } = await segmentChannel(client, audio, { gate: "vad" });
  // The live engine's utterances: regions joined across its silence, cut at its maximum length.
  const { regions: liveRegions } = await segmentChannel(client, audio, { gate: "vad", minSilenceSeconds: LIVE_SILENCE_SECONDS });
  const oracle = mergeTurns(reference);

  const printers: Array<[string, VoicePrinter | string]> = [["spectral", spectralPrinter(audio)]];
  const modelFile = join(weightsDir, "speaker_embedding", "model.onnx");
  const installed = await access(modelFile).then(
    () => true,
    () => false,
  );
  printers.push([
    "embedding",
    installed && (await client.modelReady("speaker_embedding"))
      ? { threshold: 0.6, prints: (windows: readonly TimeSpan[]) => mapLimited(windows, 4, undefined, (w) => client.embed(audio.subarray(Math.floor(w.start * 16_000), Math.max(Math.floor(w.start * 16_000) + 8000, Math.ceil(w.end * 16_000))))) }
      : `not measured: no speaker_embedding export at ${modelFile}`,
  ]);

  const embedder: Embedder | undefined = typeof printers[1]![1] === "string" ? undefined : (samples, { signal }) => client.embed(samples, { signal });

  console.log(`${dir}: ${probe.durationSeconds.toFixed(1)} s, ${referenceSpeakers} reference speakers, ${sum(oracle)} s of reference speech, ${sum(regions)} s found by VAD`);
  console.log("prints     speech   speakers      DER    missed  false alarm  confusion  found");
  for (const [name, printer] of printers) {
    if (typeof printer === "string") {
      console.log(`${name.padEnd(10)} ${printer}`);
      continue;
    }
    for (const [speech, spans] of [
      ["system", regions],
      ["oracle", oracle],
    ] as const) {
      for (const [counts, bounds] of [
        ["open 1–6", {}],
        [`given ${referenceSpeakers}`, { minSpeakers: referenceSpeakers, maxSpeakers: referenceSpeakers }],
      ] as const) {
        const { turns } = await speakerTurns(spans, printer, bounds);
        const hypothesis: SpeakerTurn[] = turns.map((t) => ({ speaker: `S${t.speaker + 1}`, start: t.start, end: t.end }));
        report(name, speech, counts, hypothesis);
      }
    }
    // Live: utterance by utterance through the online diarizer.
    if (name === "embedding" && !embedder) continue;
    for (const [speech, spans] of [
      ["live sys", utterances(liveRegions)],
      ["live orc", utterances(oracle)],
    ] as const) {
      for (const [counts, bounds] of [
        ["open 1–6", {}],
        [`given ${referenceSpeakers}`, { minSpeakers: referenceSpeakers, maxSpeakers: referenceSpeakers }],
      ] as const) {
        const diarizer = new OnlineDiarizer({ ...bounds, ...(name === "embedding" ? { embed: embedder } : {}) });
        const hypothesis: SpeakerTurn[] = [];
        let pushed = 0;
        for (const span of spans) {
          // The audio up to the utterance's end has arrived when its final is labelled.
          const until = Math.min(audio.length, Math.ceil(span.end * 16_000));
          if (until > pushed) diarizer.push(audio.subarray(pushed, until));
          pushed = Math.max(pushed, until);
          hypothesis.push(...(await diarizer.turns(span)).map((t) => ({ speaker: `S${t.speaker + 1}`, start: t.start, end: t.end })));
        }
        report(name, speech, counts, hypothesis);
      }
    }
  }
} finally {
  client.close();
  await sidecar.close();
}

function report(prints: string, speech: string, counts: string, hypothesis: SpeakerTurn[]): void {
  const score = diarizationErrorRate(reference, hypothesis);
  const found = new Set(hypothesis.map((t) => t.speaker)).size;
  console.log(
    `${prints.padEnd(10)} ${speech.padEnd(8)} ${counts.padEnd(10)} ${(score.der * 100).toFixed(1).padStart(6)} %  ${score.missed.toFixed(2).padStart(6)} s  ${score.falseAlarm.toFixed(2).padStart(9)} s  ${score.confusion.toFixed(2).padStart(7)} s  ${found}`,
  );
}

/** Spans cut at the live engine's longest utterance. */
function utterances(spans: readonly TimeSpan[]): TimeSpan[] {
  const max = LIVE_MAX_UTTERANCE_SECONDS;
  return spans.flatMap((s) => Array.from({ length: Math.ceil((s.end - s.start) / max) }, (_, k) => ({ start: s.start + k * max, end: Math.min(s.end, s.start + (k + 1) * max) })));
}

/** The reference's speech, speakers merged: where someone speaks. */
function mergeTurns(turns: readonly SpeakerTurn[]): TimeSpan[] {
  const sorted = [...turns].sort((a, b) => a.start - b.start);
  const out: TimeSpan[] = [];
  for (const t of sorted) {
    const last = out[out.length - 1];
    if (last && t.start <= last.end) last.end = Math.max(last.end, t.end);
    else out.push({ start: t.start, end: t.end });
  }
  return out;
}

function sum(spans: readonly TimeSpan[]): string {
  return spans.reduce((s, t) => s + t.end - t.start, 0).toFixed(1);
}
