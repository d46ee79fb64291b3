// From the items of an ASR request to the decodes whisper.cpp runs, and back: each item's input
// checks (the ones config.pbtxt cannot express), the language and task, the decode parameters,
// and the SEGMENTS result of each decode.
import { InferenceInputError } from "./model.js";
import type { AsrItem, AsrResult } from "./asr.js";
import type { HostRequest, HostSegment } from "./whisper-host.js";
import { WHISPER_LANGUAGES } from "./whisper-ggml.js";
import { buildSegments, round3 } from "./whisper-segments.js";

export const SAMPLE_RATE = 16000;

/** One decode: one item of a request. */
export interface DecodeRequest {
  pcm: Float32Array;
  language: string;
  translate: boolean;
  prompt: string;
}

/** The settings of the model that shape its decodes. */
export interface DecodeSettings {
  maxAudioSeconds: number;
  /** Language when an item names none ("auto" detects). */
  defaultLanguage: string;
  threads: number;
  beamSize: number;
  temperatureIncrement: number;
}

/** Whisper language code from "ar", "ar-EG", "AR_sa", "auto" or "". */
export function normalizeLanguage(value: string, nLanguages: number, tensor = "LANGUAGE"): string {
  const v = value.trim().toLowerCase();
  if (v === "" || v === "auto") return "auto";
  const code = v.split(/[-_]/)[0]!;
  const known = WHISPER_LANGUAGES.slice(0, nLanguages);
  if (!known.includes(code)) {
    throw new InferenceInputError(tensor, `language "${value}" is not one whisper knows (e.g. ar, en, fr; or auto)`);
  }
  return code;
}

/** The decode of each item; throws InferenceInputError for the first item whisper cannot take. */
export function decodeRequests(items: readonly AsrItem[], settings: DecodeSettings, nLanguages: number): DecodeRequest[] {
  return items.map((item, row) => {
    const n = item.audio.length;
    if (n === 0) throw new InferenceInputError("AUDIO", "is empty");
    if (n / SAMPLE_RATE > settings.maxAudioSeconds) {
      throw new InferenceInputError("AUDIO", `${(n / SAMPLE_RATE).toFixed(1)} s is longer than the ${settings.maxAudioSeconds} s this server accepts`);
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(item.audio[i]!)) throw new InferenceInputError("AUDIO", `sample ${i} of row ${row} is not a finite number`);
    }
    const language = normalizeLanguage(item.language ?? settings.defaultLanguage, nLanguages);
    const task = (item.task ?? "transcribe").trim().toLowerCase();
    if (task !== "transcribe" && task !== "translate") {
      throw new InferenceInputError("TASK", `"${item.task}" is neither transcribe nor translate`);
    }
    // A copy: the row may be a view of the whole batch, which would travel to the runtime whole.
    return { pcm: item.audio.slice(), language, translate: task === "translate", prompt: item.prompt ?? "" };
  });
}

/** whisper.cpp's parameters for one decode. */
export function decodeParams(request: DecodeRequest, settings: DecodeSettings): Extract<HostRequest, { op: "transcribe" }>["params"] {
  return {
    language: request.language,
    translate: request.translate,
    ...(request.prompt ? { initial_prompt: request.prompt } : {}),
    token_timestamps: true as const,
    n_threads: settings.threads,
    strategy: settings.beamSize > 1 ? 1 : 0,
    beam_size: settings.beamSize,
    best_of: 5,
    temperature: 0,
    temperature_inc: settings.temperatureIncrement,
    suppress_non_speech_tokens: true,
  };
}

/** What SEGMENTS says of one decode: the language it used, the audio's duration, its segments. */
export function decodeResult(request: DecodeRequest, segments: readonly HostSegment[], vocab: readonly Uint8Array[], eot: number): AsrResult {
  const duration = request.pcm.length / SAMPLE_RATE;
  const detected = segments.find((s) => s.lang)?.lang;
  return {
    language: detected || (request.language === "auto" ? "" : request.language),
    duration: round3(duration),
    segments: buildSegments(segments, vocab, eot, duration),
  };
}
