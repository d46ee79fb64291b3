// Stage 5: who spoke each segment.
//   - Multichannel audio: one speaker per channel (a call recorded with each party on its own
//     channel is diarized exactly by its wiring).
//   - Mono, with the `speaker_embedding` model ready: one embedding per segment, agglomerative
//     clustering (average linkage, cosine distance) until the closest clusters are further apart
//     than `threshold`, or while there are more than `maxSpeakers`.
//   - Otherwise one speaker, and the metadata says plainly that no diarization was done and why.
import type { InferenceClient } from "../../../inference/client/index.js";
import { PIPELINE_SAMPLE_RATE } from "./decode.js";
import { mapLimited } from "./recognize.js";
import type { TimeSpan } from "./segment.js";

export const SPEAKER_MODEL = "speaker_embedding";

export interface Speaker {
  /** "S1", "S2", ... in order of first appearance. */
  id: string;
  /** The channel the speaker was recorded on, when diarized by channel (or the audio is mono). */
  channel?: number;
}

export interface Diarization {
  method: "channel" | "embedding" | "none";
  /** Why this method: said in the transcript's metadata so that users know what labels mean. */
  reason?: string;
}

export interface DiarizeResult {
  speakers: Speaker[];
  /** The speaker id of each input segment, in the input's order. */
  segmentSpeakers: string[];
  diarization: Diarization;
}

export interface DiarizeOptions {
  /** Clusters further apart than this (cosine distance, 0–2) stay separate. Default 0.6. */
  threshold?: number;
  /** Never more speakers than this (clusters keep merging past the threshold). */
  maxSpeakers?: number;
  /** Never fewer speakers than this, when there are enough segments. Default 1. */
  minSpeakers?: number;
  /** Segments shorter than this are widened around their middle before embedding. Default 0.5 s (the model's minimum). */
  minEmbedSeconds?: number;
  /** Embedding requests in flight. Default 4. */
  concurrency?: number;
  signal?: AbortSignal;
}

/** A segment to label: where it is in which channel. */
export interface DiarizeSegment extends TimeSpan {
  channel: number;
}

export async function diarize(
  client: Pick<InferenceClient, "modelReady" | "embed">,
  channels: readonly Float32Array[],
  segments: readonly DiarizeSegment[],
  options: DiarizeOptions = {},
): Promise<DiarizeResult> {
  if (channels.length > 1) return byChannel(channels.length, segments);

  let ready = false;
  let why = `the ${SPEAKER_MODEL} model is not ready (no weights installed), so all speech is attributed to one speaker`;
  try {
    ready = await client.modelReady(SPEAKER_MODEL, { signal: options.signal });
  } catch (err) {
    options.signal?.throwIfAborted();
    why = `the ${SPEAKER_MODEL} model could not be reached (${(err as Error).message}), so all speech is attributed to one speaker`;
  }
  if (!ready) return { speakers: [{ id: "S1", channel: 0 }], segmentSpeakers: segments.map(() => "S1"), diarization: { method: "none", reason: why } };

  const audio = channels[0] ?? new Float32Array(0);
  const minSamples = Math.round((options.minEmbedSeconds ?? 0.5) * PIPELINE_SAMPLE_RATE);
  const embeddings = await mapLimited(segments, options.concurrency ?? 4, options.signal, (segment, signal) =>
    client.embed(sliceAtLeast(audio, segment, minSamples), { signal }),
  );
  const labels = clusterEmbeddings(embeddings, options);
  const ids = labels.map((l) => `S${l + 1}`);
  const speakers = [...new Set(ids)].map((id) => ({ id, channel: 0 }));
  return {
    speakers,
    segmentSpeakers: ids,
    diarization: { method: "embedding", reason: `mono audio: speaker embeddings of ${segments.length} segments clustered into ${speakers.length} speakers` },
  };
}

function byChannel(channelCount: number, segments: readonly DiarizeSegment[]): DiarizeResult {
  return {
    speakers: Array.from({ length: channelCount }, (_, c) => ({ id: `S${c + 1}`, channel: c })),
    segmentSpeakers: segments.map((s) => `S${s.channel + 1}`),
    diarization: { method: "channel", reason: `${channelCount}-channel audio: one speaker per channel` },
  };
}

/** The segment's samples, widened around its middle to at least `minSamples` (within the audio). */
function sliceAtLeast(audio: Float32Array, span: TimeSpan, minSamples: number): Float32Array {
  let from = Math.max(0, Math.floor(span.start * PIPELINE_SAMPLE_RATE));
  let to = Math.min(audio.length, Math.ceil(span.end * PIPELINE_SAMPLE_RATE));
  if (to - from < minSamples) {
    const middle = (from + to) / 2;
    from = Math.max(0, Math.round(middle - minSamples / 2));
    to = Math.min(audio.length, from + minSamples);
    from = Math.max(0, to - minSamples);
  }
  return audio.subarray(from, to);
}

export function cosineDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  const norms = Math.sqrt(aa * bb);
  return norms === 0 ? 1 : 1 - dot / norms;
}

/**
 * Agglomerative clustering with average linkage over cosine distances. Returns a cluster number
 * per embedding, numbered 0, 1, ... in order of first appearance. O(n²) memory and O(n³) time in
 * the worst case: fine for the few hundred segments of an hour-long recording; beyond a couple of
 * thousand segments, cluster a sample and assign the rest to the nearest centroid.
 */
export function clusterEmbeddings(embeddings: readonly Float32Array[], options: Pick<DiarizeOptions, "threshold" | "maxSpeakers" | "minSpeakers"> = {}): number[] {
  const n = embeddings.length;
  if (n === 0) return [];
  const threshold = options.threshold ?? 0.6;
  const maxClusters = Math.max(1, options.maxSpeakers ?? Infinity);
  const minClusters = Math.max(1, options.minSpeakers ?? 1);

  const distance = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) distance[i]![j] = distance[j]![i] = cosineDistance(embeddings[i]!, embeddings[j]!);
  const size = new Array<number>(n).fill(1);
  const alive = new Array<boolean>(n).fill(true);
  const owner = Array.from({ length: n }, (_, i) => i);
  let clusters = n;

  while (clusters > minClusters) {
    let best = Infinity;
    let a = -1;
    let b = -1;
    for (let i = 0; i < n; i++) {
      if (!alive[i]) continue;
      for (let j = i + 1; j < n; j++) {
        if (alive[j] && distance[i]![j]! < best) {
          best = distance[i]![j]!;
          a = i;
          b = j;
        }
      }
    }
    if (best > threshold && clusters <= maxClusters) break;
    // Merge b into a; Lance–Williams update for average linkage.
    for (let k = 0; k < n; k++) {
      if (!alive[k] || k === a || k === b) continue;
      const merged = (size[a]! * distance[a]![k]! + size[b]! * distance[b]![k]!) / (size[a]! + size[b]!);
      distance[a]![k] = distance[k]![a] = merged;
    }
    size[a]! += size[b]!;
    alive[b] = false;
    for (let i = 0; i < n; i++) if (owner[i] === b) owner[i] = a;
    clusters--;
  }

  const numbering = new Map<number, number>();
  return owner.map((root) => {
    if (!numbering.has(root)) numbering.set(root, numbering.size);
    return numbering.get(root)!;
  });
}
