// The ASR tensor contract shared by every recogniser of the repository (whisper, dtmf): AUDIO plus
// optional LANGUAGE, TASK, PROMPT and MAX_ALTERNATIVES in; TRANSCRIPT, SEGMENTS (JSON) and
// ALTERNATIVES (JSON array of the n-best texts) out. These helpers read the inputs of each batch item
// and write the outputs, so each model only recognises.
import type { ModelConfig } from "../../../proto/gen/inference/model_config_pb.js";
import { InferenceInputError, type InferParameters, type Tensor } from "./model.js";

/** One recognised word (a key, for dtmf), times in seconds from the start of AUDIO. */
export interface AsrWord {
  word: string;
  start: number;
  end: number;
  probability: number;
}

export interface AsrSegment {
  start: number;
  end: number;
  text: string;
  avg_logprob: number;
  no_speech_prob: number;
  words: AsrWord[];
}

/** What SEGMENTS carries, as JSON. */
export interface AsrResult {
  language: string;
  /** Seconds of audio recognised. */
  duration: number;
  segments: AsrSegment[];
}

/** One item of an ASR request. */
export interface AsrItem {
  audio: Float32Array;
  /** LANGUAGE, or the request parameter `language`; undefined when neither is set or empty. */
  language?: string;
  task?: string;
  prompt?: string;
  /** MAX_ALTERNATIVES, or the request parameter `max_alternatives`: 1 to MAX_ALTERNATIVES, default 1. */
  maxAlternatives: number;
}

/** The most hypotheses a request may ask for (RecognitionConfig.max_alternatives allows 10). */
export const MAX_ALTERNATIVES = 10;

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The items of an ASR request: one per batch row when the model batches, else one. The optional
 * string inputs fall back to request parameters of the same name in lower case, so a client can
 * send either.
 */
export function asrItems(config: ModelConfig, inputs: ReadonlyMap<string, Tensor>, parameters: InferParameters): AsrItem[] {
  const audio = inputs.get("AUDIO");
  if (!audio || !(audio.data instanceof Float32Array)) throw new InferenceInputError("AUDIO", "missing or not FP32");
  const batched = config.maxBatchSize > 0;
  const rows = batched ? (audio.shape[0] as number) : 1;
  const length = audio.data.length / rows;
  const text = (name: string, row: number): string | undefined => {
    const tensor = inputs.get(name);
    if (tensor) {
      const element = (tensor.data as Uint8Array[])[row];
      if (!element) throw new InferenceInputError(name, "has no element for every batch row");
      try {
        const value = decoder.decode(element);
        return value === "" ? undefined : value;
      } catch {
        throw new InferenceInputError(name, "is not valid UTF-8");
      }
    }
    const parameter = parameters[name.toLowerCase()];
    return typeof parameter === "string" && parameter !== "" ? parameter : undefined;
  };
  const count = (row: number): number => {
    const tensor = inputs.get("MAX_ALTERNATIVES");
    let value: unknown = parameters.max_alternatives ?? 1;
    if (tensor) {
      if (!(tensor.data instanceof Int32Array)) throw new InferenceInputError("MAX_ALTERNATIVES", "is not INT32");
      if (row >= tensor.data.length) throw new InferenceInputError("MAX_ALTERNATIVES", "has no element for every batch row");
      value = tensor.data[row];
    }
    if (typeof value === "bigint") value = Number(value); // an int64_param parameter
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_ALTERNATIVES) {
      throw new InferenceInputError("MAX_ALTERNATIVES", `is ${JSON.stringify(value)}; it must be an integer from 1 to ${MAX_ALTERNATIVES}`);
    }
    return value;
  };
  const items: AsrItem[] = [];
  for (let row = 0; row < rows; row++) {
    items.push({
      audio: audio.data.subarray(row * length, (row + 1) * length),
      language: text("LANGUAGE", row),
      task: text("TASK", row),
      prompt: text("PROMPT", row),
      maxAlternatives: count(row),
    });
  }
  return items;
}

const encoder = new TextEncoder();

/**
 * TRANSCRIPT, SEGMENTS and ALTERNATIVES for the results of `asrItems`, shaped [rows, 1] when batched,
 * else [1]. The local recognisers give one hypothesis (whisper.cpp keeps only its winning beam; a key
 * sequence has one reading), so ALTERNATIVES holds the transcript alone, whatever MAX_ALTERNATIVES asked.
 */
export function asrOutputs(config: ModelConfig, results: AsrResult[]): Tensor[] {
  const shape = config.maxBatchSize > 0 ? [results.length, 1] : [1];
  const transcripts = results.map((r) => r.segments.map((s) => s.text).join(" "));
  return [
    { name: "TRANSCRIPT", datatype: "BYTES", shape, data: transcripts.map((t) => encoder.encode(t)) },
    { name: "SEGMENTS", datatype: "BYTES", shape, data: results.map((r) => encoder.encode(JSON.stringify(r))) },
    { name: "ALTERNATIVES", datatype: "BYTES", shape, data: transcripts.map((t) => encoder.encode(JSON.stringify([t]))) },
  ];
}
