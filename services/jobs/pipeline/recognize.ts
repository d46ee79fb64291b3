// Stage 4: speech recognition of the chunks through the inference client, a bounded number at a
// time, with every segment and word moved from chunk time to file time. Retries, deadlines and
// failover are the client's job; this stage stops at the first failure (the job runner retries the
// stage) and on abort.
import type { InferenceClient, TranscriptSegment } from "../../../inference/client/index.js";
import { PIPELINE_SAMPLE_RATE } from "./decode.js";
import type { TimeSpan } from "./segment.js";
import { segmentRunnerUps } from "./runner-ups.js";

export interface RecognitionChunk extends TimeSpan {
  /** Which decoded channel the chunk is cut from. */
  channel: number;
}

export interface RecognizedChunk {
  chunk: RecognitionChunk;
  /** Language the model used, detected or as asked. */
  language: string;
  /** Segments and words in file time (seconds from the start of the file), each with its runner-up texts (max_alternatives). */
  segments: Array<TranscriptSegment & { alternatives: string[] }>;
}

export interface RecognizeOptions {
  model: string;
  /** Language code ("ar"); the model detects it when left out. */
  language?: string;
  /** Decoder conditioning (names, vocabulary), the same for every chunk. */
  prompt?: string;
  /** max_alternatives above 1: hypotheses asked of the model for every chunk; undefined: one. */
  maxAlternatives?: number;
  /** Chunks in flight at once. Default 4: enough to fill a Triton dynamic batch of a few. */
  concurrency?: number;
  signal?: AbortSignal;
  /** Chunks finished so far, of all. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Recognises every chunk of `channels` (16 kHz, one array per channel) and returns the results
 * in the chunks' order (by channel, then start), whatever order they finished in.
 */
export async function recognizeChunks(
  client: Pick<InferenceClient, "transcribe">,
  channels: readonly Float32Array[],
  chunks: readonly RecognitionChunk[],
  options: RecognizeOptions,
): Promise<RecognizedChunk[]> {
  const ordered = [...chunks].sort((a, b) => a.channel - b.channel || a.start - b.start);
  let done = 0;
  options.onProgress?.(0, ordered.length);
  return mapLimited(ordered, options.concurrency ?? 4, options.signal, async (chunk, signal) => {
    const audio = channels[chunk.channel];
    if (!audio) throw new Error(`chunk of channel ${chunk.channel}, but the audio has ${channels.length} channels`);
    const from = Math.max(0, Math.floor(chunk.start * PIPELINE_SAMPLE_RATE));
    const to = Math.min(audio.length, Math.ceil(chunk.end * PIPELINE_SAMPLE_RATE));
    // The chunk's own first sample is time zero for the model.
    const offset = from / PIPELINE_SAMPLE_RATE;
    const { maxAlternatives } = options;
    const result = await client.transcribe(options.model, audio.subarray(from, to), { language: options.language, prompt: options.prompt, signal, maxAlternatives });
    done++;
    options.onProgress?.(done, ordered.length);
    const end = to / PIPELINE_SAMPLE_RATE;
    // The first hypothesis is the segments; a model without an n-best gives no others.
    const runnerUps = maxAlternatives && maxAlternatives > 1 ? segmentRunnerUps(result.segments.map((s) => s.text), result.alternatives.slice(1), maxAlternatives - 1) : [];
    return {
      chunk,
      language: result.language,
      segments: result.segments.map((s, i) => ({ ...shiftSegment(s, offset, end), alternatives: runnerUps[i] ?? [] })),
    };
  });
}

/**
 * `segment` moved from chunk time to file time (`offset` is the chunk's start), its times kept
 * within the chunk: a recogniser may time a last word past the audio it was given (Whisper's
 * timestamps run to its 30 s window), and the file's timeline must not overlap the next chunk.
 */
export function shiftSegment(segment: TranscriptSegment, offset: number, end = Infinity): TranscriptSegment {
  const at = (t: number) => round(Math.min(end, Math.max(offset, t + offset)));
  return {
    ...segment,
    start: at(segment.start),
    end: at(segment.end),
    words: segment.words.map((w) => ({ ...w, start: at(w.start), end: at(w.end) })),
  };
}

/**
 * `work` over `items` with at most `limit` running at once; results in the items' order. The
 * first failure aborts the others (through the signal `work` gets) and is what rejects. Written
 * here rather than taken from p-limit: it is a dozen lines, the package would be a new dependency
 * for them, and p-limit does not cancel the siblings of a failed task, which is the part that
 * matters for a job that must stop promptly.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal | undefined,
  work: (item: T, signal: AbortSignal) => Promise<R>,
): Promise<R[]> {
  signal?.throwIfAborted();
  const controller = new AbortController();
  const forward = () => controller.abort(signal!.reason);
  signal?.addEventListener("abort", forward, { once: true });
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      controller.signal.throwIfAborted();
      const index = next++;
      results[index] = await work(items[index]!, controller.signal);
    }
  };
  try {
    const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () =>
      worker().catch((err: unknown) => {
        if (!controller.signal.aborted) controller.abort(err);
        throw err;
      }),
    );
    const settled = await Promise.allSettled(workers);
    if (controller.signal.aborted) throw signal?.aborted ? signal.reason : controller.signal.reason;
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    return results;
  } finally {
    signal?.removeEventListener("abort", forward);
  }
}

const round = (seconds: number) => Math.round(seconds * 1000) / 1000;
