// The typed face of each model: how a helper's arguments become tensors and how the output
// tensors become domain values. Pure functions of the model's signature (from its config), so
// the contract test can hold the very requests the client sends against every config.pbtxt.
import { z } from "zod";
import { asrContract, EMBEDDING_SIZE, speakerEmbeddingContract, vadContract, type ModelSignature } from "./contract.js";
import { InferenceFailedPreconditionError, InferenceInternalError, Status } from "./errors.js";
import { stringElements, utf8, type Datatype, type Tensor, type TensorData } from "./tensors.js";

/** Audio every model takes: 16 kHz mono, FP32 samples in [-1, 1]. */
export const SAMPLE_RATE = 16_000;

export type InferParameterValue = string | number | boolean;

/** One ModelInfer request in the client's terms. */
export interface InferRequest {
  model: string;
  /** Empty lets the server choose (normally the latest). */
  version?: string;
  inputs: Tensor[];
  /** Outputs to return; all of them when left out. */
  outputs?: string[];
  /** Request-level parameters. */
  parameters?: Record<string, InferParameterValue>;
}

export interface InferResult {
  model: string;
  version: string;
  outputs: Map<string, Tensor>;
}

export interface VadResult {
  /** Duration of one frame: the model's `frame_samples` over the sample rate. */
  frameSeconds: number;
  /** Speech probability of each frame, in order. */
  probabilities: Float32Array;
}

export interface TranscribeOptions {
  /** Language code ("ar", "en"); the model detects it when left out. */
  language?: string;
  /** "transcribe" (default) or "translate". */
  task?: string;
  /** Text that conditions the decoder: earlier context, names, vocabulary. */
  prompt?: string;
  /** Hypotheses wanted, 1 to 10; sent only above 1. A model without an n-best returns one. */
  maxAlternatives?: number;
  /**
   * For a model that declares sequence batching: the request belongs to this sequence, and its
   * audio follows the audio of the sequence's previous request. Left out, the request is a
   * sequence of its own.
   */
  sequence?: SequenceStep;
}

/** One request's place in a sequence (Triton's sequence batching). */
export interface SequenceStep {
  /** The correlation id: a positive integer, the same for every request of the sequence. */
  id: number;
  /** The first request: the model starts the sequence afresh (an id in use is restarted). */
  start: boolean;
  /** The last request: the model frees the sequence. */
  end: boolean;
}

/** A correlation id for a new sequence: random, so that clients that share a server do not collide. */
export function newSequenceId(): number {
  return 1 + Math.floor(Math.random() * (Number.MAX_SAFE_INTEGER - 1));
}

/** The request parameters of a sequence step, as Triton reads them. */
export function sequenceParameters(step: SequenceStep): Record<string, InferParameterValue> {
  return { sequence_id: step.id, sequence_start: step.start, sequence_end: step.end };
}

export interface TranscriptWord {
  word: string;
  /** Seconds from the start of the audio. */
  start: number;
  end: number;
  probability: number;
}

export interface TranscriptSegment {
  start: number;
  end: number;
  text: string;
  avgLogprob: number;
  noSpeechProb: number;
  words: TranscriptWord[];
}

export interface Transcription {
  text: string;
  /** Language the model used, detected or as asked. */
  language: string;
  /** Seconds of audio the model saw. */
  duration: number;
  segments: TranscriptSegment[];
  /**
   * The n-best texts, most probable first, at least one: the first is `text`, the others have no
   * words or times (the models time only their best hypothesis).
   */
  alternatives: string[];
}

/** The request's shape for a per-item shape: a leading batch dimension of 1 when the model batches. */
export function batchShape(signature: ModelSignature, itemShape: number[]): number[] {
  return signature.maxBatchSize > 0 ? [1, ...itemShape] : itemShape;
}

function audioTensor(signature: ModelSignature, audio: Float32Array): Tensor {
  return { name: "AUDIO", datatype: "FP32", shape: batchShape(signature, [audio.length]), data: audio };
}

function stringTensor(signature: ModelSignature, name: string, value: string): Tensor {
  return { name, datatype: "BYTES", shape: batchShape(signature, [1]), data: stringElements([value]) };
}

const names = (specs: readonly { name: string }[]) => specs.map((s) => s.name);

/** The repository's VAD model that keeps its state per sequence (a live channel), beside the stateless "vad". */
export const VAD_STREAM_MODEL = "vad_stream";

export interface VadOptions {
  /** The VAD model: "vad" when left out; "vad_stream" keeps its state per sequence. */
  model?: string;
  /**
   * For a model that declares sequence batching: the request belongs to this sequence, and its audio
   * (whole frames) follows the audio of the sequence's previous request. Left out, the request is a
   * sequence of its own.
   */
  sequence?: SequenceStep;
}

export function vadRequest(signature: ModelSignature, audio: Float32Array, options: VadOptions = {}): InferRequest {
  const request: InferRequest = { model: signature.name, inputs: [audioTensor(signature, audio)], outputs: names(vadContract.outputs) };
  return withSequence(request, signature, options.sequence);
}

/** The request as part of `sequence` (or as a sequence of its own) when the model declares sequence batching. */
function withSequence(request: InferRequest, signature: ModelSignature, sequence: SequenceStep | undefined): InferRequest {
  if (sequence && !signature.sequenceBatching) {
    throw new InferenceFailedPreconditionError(`inference model ${signature.name} does not declare sequence batching, so a request cannot belong to a sequence`, { model: signature.name });
  }
  if (signature.sequenceBatching) request.parameters = sequenceParameters(sequence ?? { id: newSequenceId(), start: true, end: true });
  return request;
}

export function vadResult(signature: ModelSignature, result: InferResult): VadResult {
  const frameSamples = Number(signature.parameters.frame_samples);
  if (!Number.isInteger(frameSamples) || frameSamples <= 0) {
    throw malformed(result, `config parameter frame_samples is ${JSON.stringify(signature.parameters.frame_samples)}, not a positive integer`);
  }
  return { frameSeconds: frameSamples / SAMPLE_RATE, probabilities: output(result, "PROBS", "FP32") as Float32Array };
}

export function transcribeRequest(signature: ModelSignature, audio: Float32Array, options: TranscribeOptions = {}): InferRequest {
  const inputs = [audioTensor(signature, audio)];
  if (options.language !== undefined) inputs.push(stringTensor(signature, "LANGUAGE", options.language));
  if (options.task !== undefined) inputs.push(stringTensor(signature, "TASK", options.task));
  if (options.prompt !== undefined) inputs.push(stringTensor(signature, "PROMPT", options.prompt));
  if (options.maxAlternatives !== undefined && options.maxAlternatives > 1) {
    const count = Int32Array.of(options.maxAlternatives);
    inputs.push({ name: "MAX_ALTERNATIVES", datatype: "INT32", shape: batchShape(signature, [1]), data: count });
  }
  return withSequence({ model: signature.name, inputs, outputs: names(asrContract.outputs) }, signature, options.sequence);
}

const segmentsSchema = z.object({
  language: z.string(),
  duration: z.number(),
  segments: z.array(
    z.object({
      start: z.number(),
      end: z.number(),
      text: z.string(),
      avg_logprob: z.number(),
      no_speech_prob: z.number(),
      words: z.array(z.object({ word: z.string(), start: z.number(), end: z.number(), probability: z.number() })).default([]),
    }),
  ),
});

const alternativesSchema = z.array(z.string()).min(1);

export function transcription(result: InferResult): Transcription {
  const [text] = output(result, "TRANSCRIPT", "BYTES") as Uint8Array[];
  const [segmentsJson] = output(result, "SEGMENTS", "BYTES") as Uint8Array[];
  const [alternativesJson] = output(result, "ALTERNATIVES", "BYTES") as Uint8Array[];
  if (text === undefined || segmentsJson === undefined || alternativesJson === undefined) {
    throw malformed(result, "TRANSCRIPT, SEGMENTS and ALTERNATIVES must hold one element each");
  }
  let alternatives: string[];
  try {
    alternatives = alternativesSchema.parse(JSON.parse(utf8(alternativesJson)));
  } catch (err) {
    throw malformed(result, `ALTERNATIVES is not a JSON array of texts: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (alternatives[0] !== utf8(text)) throw malformed(result, "ALTERNATIVES does not start with TRANSCRIPT");
  let parsed: z.infer<typeof segmentsSchema>;
  try {
    parsed = segmentsSchema.parse(JSON.parse(utf8(segmentsJson)));
  } catch (err) {
    throw malformed(result, `SEGMENTS is not the segments JSON of the ASR contract: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    text: utf8(text),
    language: parsed.language,
    duration: parsed.duration,
    segments: parsed.segments.map((s) => ({
      start: s.start,
      end: s.end,
      text: s.text,
      avgLogprob: s.avg_logprob,
      noSpeechProb: s.no_speech_prob,
      words: s.words,
    })),
    alternatives,
  };
}

export function embedRequest(signature: ModelSignature, segment: Float32Array): InferRequest {
  return { model: signature.name, inputs: [audioTensor(signature, segment)], outputs: names(speakerEmbeddingContract.outputs) };
}

export function embedding(result: InferResult): Float32Array {
  const vector = output(result, "EMBEDDING", "FP32") as Float32Array;
  if (vector.length !== EMBEDDING_SIZE) throw malformed(result, `EMBEDDING has ${vector.length} elements, the contract says ${EMBEDDING_SIZE}`);
  return vector;
}

function output(result: InferResult, name: string, datatype: Datatype): TensorData {
  const tensor = result.outputs.get(name);
  if (!tensor) throw malformed(result, `the response has no output ${name}`);
  if (tensor.datatype !== datatype) throw malformed(result, `output ${name} is ${tensor.datatype}, expected ${datatype}`);
  return tensor.data;
}

function malformed(result: InferResult, reason: string): InferenceInternalError {
  return new InferenceInternalError(Status.INTERNAL, `inference model ${result.model} returned a malformed response: ${reason}`, { model: result.model });
}
