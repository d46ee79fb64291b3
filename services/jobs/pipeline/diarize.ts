// Stage 5: who spoke each word.
//   - Multichannel audio: one speaker per channel (a call recorded with each party on its own
//     channel is diarized exactly by its wiring).
//   - Mono: the speech (the recognised segments) is cut into windows of 1.5 s every 0.75 s, each window
//     gets a voice print, the prints are clustered (average linkage, cosine distance) until the closest
//     clusters are further apart than the threshold, held within the speaker counts asked, then refined by
//     moving each window to its nearest cluster centre and smoothing lone windows. Each word takes the
//     speaker of the window nearest its middle, so a segment in which the speaker changes is split.
//     Voice prints come from the `speaker_embedding` model when it is ready ("embedding"), else, when the
//     job asked for diarization, from spectral statistics that need no weights ("spectral",
//     services/audio/speakers/features.ts; weaker).
//   - Otherwise one speaker, and the metadata says plainly that no diarization was done and why.
import type { InferenceClient } from "../../../inference/client/index.js";
import { PIPELINE_SAMPLE_RATE } from "./decode.js";
import { mapLimited } from "./recognize.js";
import type { TimeSpan } from "./segment.js";
import { cepstra, sliceAtLeast, standardize, windowFeatures } from "../../audio/speakers/features.js";
import { clusterEmbeddings, cosineDistance, DEFAULT_MAX_SPEAKERS, EMBEDDING_THRESHOLD, SPECTRAL_THRESHOLD, SPEAKER_MODEL, type ClusterBounds } from "../../audio/speakers/cluster.js";

export { clusterEmbeddings, cosineDistance, SPECTRAL_THRESHOLD, SPEAKER_MODEL };

export interface Speaker {
  /** "S1", "S2", ... in order of first appearance. */
  id: string;
  /** The channel the speaker was recorded on, when diarized by channel (or the audio is mono). */
  channel?: number;
}

export interface Diarization {
  method: "channel" | "embedding" | "spectral" | "none";
  /** Why this method: said in the transcript's metadata so that users know what labels mean. */
  reason?: string;
}

export interface DiarizeResult {
  speakers: Speaker[];
  /** The speaker id of each input segment (of most of its words), in the input's order. */
  segmentSpeakers: string[];
  /** The speaker id of each word of each input segment. */
  wordSpeakers: string[][];
  diarization: Diarization;
}

export interface DiarizeOptions {
  /** Clusters further apart than this (cosine distance, 0–2) stay separate. Default 0.6 for the model's embeddings, SPECTRAL_THRESHOLD for spectral ones. */
  threshold?: number;
  /** Never more speakers than this (clusters keep merging past the threshold). Default 6 (recognition.proto). */
  maxSpeakers?: number;
  /** Never fewer speakers than this, when there are enough windows. Default 1. */
  minSpeakers?: number;
  /** The job asked for diarization (diarization_config): without the model, the spectral fallback runs. Default false. */
  requested?: boolean;
  /** Windows shorter than this are widened around their middle before embedding. Default 0.5 s (the model's minimum). */
  minEmbedSeconds?: number;
  /** Window length and step. Default 1.5 s and 0.75 s. */
  windowSeconds?: number;
  hopSeconds?: number;
  /** Embedding requests in flight. Default 4. */
  concurrency?: number;
  signal?: AbortSignal;
}

/** A segment to label: where it is in which channel, and its words' times when it has words. */
export interface DiarizeSegment extends TimeSpan {
  channel: number;
  words?: readonly TimeSpan[];
}

/** Windows clustered directly; the rest of a longer recording joins its nearest cluster. */
const MAX_CLUSTERED_WINDOWS = 1500;

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
  const audio = channels[0] ?? new Float32Array(0);
  if (!ready && !options.requested) {
    return { speakers: [{ id: "S1", channel: 0 }], segmentSpeakers: segments.map(() => "S1"), wordSpeakers: segments.map((s) => (s.words ?? []).map(() => "S1")), diarization: { method: "none", reason: why } };
  }
  const minSamples = Math.round((options.minEmbedSeconds ?? 0.5) * PIPELINE_SAMPLE_RATE);
  const print: VoicePrinter = ready
    ? { threshold: EMBEDDING_THRESHOLD, prints: (windows) => mapLimited(windows, options.concurrency ?? 4, options.signal, (w, signal) => client.embed(sliceAtLeast(audio, w, minSamples), { signal })) }
    : spectralPrinter(audio);
  const turns = await speakerTurns(segments, print, options);
  const speakerAt = (t: number) => nearestTurn(turns, t)?.speaker ?? 0;
  const wordSpeakers = segments.map((s) => (s.words ?? []).map((w) => speakerAt((w.start + w.end) / 2)));
  const segmentSpeakers = segments.map((s, i) => (wordSpeakers[i]!.length > 0 ? majority(wordSpeakers[i]!) : speakerAt((s.start + s.end) / 2)));
  // Numbered by first appearance in the segments' order.
  const numbering = new Map<number, string>();
  const name = (label: number) => {
    if (!numbering.has(label)) numbering.set(label, `S${numbering.size + 1}`);
    return numbering.get(label)!;
  };
  segments.forEach((_, i) => {
    for (const w of wordSpeakers[i]!) name(w);
    name(segmentSpeakers[i]!);
  });
  const speakers = [...numbering.values()].map((id) => ({ id, channel: 0 }));
  const method = ready ? "embedding" : "spectral";
  const source = ready ? `${SPEAKER_MODEL} embeddings` : `spectral voice prints (no ${SPEAKER_MODEL} model is ready; weaker than its embeddings)`;
  return {
    speakers,
    segmentSpeakers: segmentSpeakers.map(name),
    wordSpeakers: wordSpeakers.map((ws) => ws.map(name)),
    diarization: { method, reason: `mono audio: ${source} of ${turns.windows} windows of ${segments.length} segments clustered into ${speakers.length} speakers` },
  };
}

/** How windows get their voice prints, and the distance past which their clusters stay apart. */
export interface VoicePrinter {
  threshold: number;
  prints(windows: readonly TimeSpan[]): Promise<Float32Array[]>;
}

/** Voice prints from spectral statistics of `audio` (services/audio/speakers/features.ts), standardised over the recording's windows. */
export function spectralPrinter(audio: Float32Array): VoicePrinter {
  let features: ReturnType<typeof cepstra> | undefined;
  return {
    threshold: SPECTRAL_THRESHOLD,
    prints: async (windows) => {
      features ??= cepstra(audio);
      return standardize(windows.map((w) => windowFeatures(features!, w.start, w.end)));
    },
  };
}

/** Who speaks when: windows over `spans`, each with a speaker number (0, 1, ... by first appearance). */
export interface SpeakerTurns {
  turns: Array<TimeSpan & { speaker: number }>;
  /** Windows that were printed. */
  windows: number;
}

/** The speaker turns of `spans` (speech, in any order): windows printed, clustered, refined and smoothed. */
export async function speakerTurns(spans: readonly TimeSpan[], printer: VoicePrinter, options: DiarizeOptions = {}): Promise<SpeakerTurns> {
  const ordered = [...spans].filter((s) => s.end > s.start).sort((a, b) => a.start - b.start);
  const windows = ordered.flatMap((span, spanIndex) => windowsOf(span, options.windowSeconds ?? 1.5, options.hopSeconds ?? 0.75).map((w) => ({ ...w, spanIndex })));
  if (windows.length === 0) return { turns: [], windows: 0 };
  const prints = await printer.prints(windows);
  const bounds = { threshold: options.threshold ?? printer.threshold, maxSpeakers: options.maxSpeakers ?? DEFAULT_MAX_SPEAKERS, minSpeakers: options.minSpeakers };
  let labels = clusterMany(prints, bounds);
  labels = refine(prints, labels);
  labels = smooth(labels, windows.map((w) => w.spanIndex));
  // Each window owns the time nearest its middle within its span.
  const turns: Array<TimeSpan & { speaker: number }> = [];
  windows.forEach((w, i) => {
    const previous = windows[i - 1];
    const next = windows[i + 1];
    const start = previous && previous.spanIndex === w.spanIndex ? (previous.start + previous.end + w.start + w.end) / 4 : ordered[w.spanIndex]!.start;
    const end = next && next.spanIndex === w.spanIndex ? (next.start + next.end + w.start + w.end) / 4 : ordered[w.spanIndex]!.end;
    const last = turns[turns.length - 1];
    if (last && last.speaker === labels[i] && Math.abs(last.end - start) < 1e-9) last.end = end;
    else turns.push({ start, end, speaker: labels[i]! });
  });
  return { turns: renumber(turns), windows: windows.length };
}

/** Windows of `length` every `hop` seconds covering `span`; a span shorter than a window is one window. */
function windowsOf(span: TimeSpan, length: number, hop: number): TimeSpan[] {
  if (span.end - span.start <= length) return [{ start: span.start, end: span.end }];
  const out: TimeSpan[] = [];
  for (let start = span.start; start + length < span.end + hop / 2; start += hop) out.push({ start, end: Math.min(span.end, start + length) });
  return out;
}

/** clusterEmbeddings over at most MAX_CLUSTERED_WINDOWS evenly spread prints; the others join their nearest cluster. */
function clusterMany(prints: readonly Float32Array[], options: ClusterBounds): number[] {
  if (prints.length <= MAX_CLUSTERED_WINDOWS) return clusterEmbeddings(prints, options);
  const step = prints.length / MAX_CLUSTERED_WINDOWS;
  const sample = Array.from({ length: MAX_CLUSTERED_WINDOWS }, (_, i) => Math.floor(i * step));
  const sampled = clusterEmbeddings(sample.map((i) => prints[i]!), options);
  const labels = new Array<number>(prints.length).fill(-1);
  sample.forEach((p, i) => (labels[p] = sampled[i]!));
  const centres = centroids(prints, labels);
  return labels.map((l, i) => (l >= 0 ? l : nearest(prints[i]!, centres)));
}

/** Each window moved to its nearest cluster centre, a few times over (k-means steps from the clustering). */
function refine(prints: readonly Float32Array[], labels: number[], rounds = 5): number[] {
  let current = labels;
  for (let round = 0; round < rounds; round++) {
    const centres = centroids(prints, current);
    const next = prints.map((p) => nearest(p, centres));
    if (next.every((l, i) => l === current[i])) break;
    current = next;
  }
  return current;
}

/** A window whose neighbours in its span agree with each other and not with it takes their speaker. */
function smooth(labels: readonly number[], spanOf: readonly number[]): number[] {
  return labels.map((l, i) => {
    const before = labels[i - 1];
    const after = labels[i + 1];
    if (before === undefined || after === undefined || spanOf[i - 1] !== spanOf[i] || spanOf[i + 1] !== spanOf[i]) return l;
    return before === after && before !== l ? before : l;
  });
}

/** The mean print of each label (undefined for a label no window has). */
function centroids(prints: readonly Float32Array[], labels: readonly number[]): (Float32Array | undefined)[] {
  const count = Math.max(-1, ...labels) + 1;
  const sums = Array.from({ length: count }, () => new Float32Array(prints[0]!.length));
  const sizes = new Array<number>(count).fill(0);
  prints.forEach((p, i) => {
    const l = labels[i]!;
    if (l < 0) return;
    sizes[l]!++;
    for (let d = 0; d < p.length; d++) sums[l]![d]! += p[d]!;
  });
  return sums.map((s, l) => (sizes[l]! > 0 ? s.map((v) => v / sizes[l]!) : undefined));
}

function nearest(print: Float32Array, centres: readonly (Float32Array | undefined)[]): number {
  let best = 0;
  let distance = Infinity;
  centres.forEach((c, l) => {
    if (!c) return;
    const d = cosineDistance(print, c);
    if (d < distance) {
      distance = d;
      best = l;
    }
  });
  return best;
}

/** Speakers renumbered 0, 1, ... by first appearance in time. */
function renumber<T extends { speaker: number }>(turns: T[]): T[] {
  const numbering = new Map<number, number>();
  return turns.map((t) => {
    if (!numbering.has(t.speaker)) numbering.set(t.speaker, numbering.size);
    return { ...t, speaker: numbering.get(t.speaker)! };
  });
}

function nearestTurn(result: SpeakerTurns, t: number): { speaker: number } | undefined {
  let best: { speaker: number } | undefined;
  let distance = Infinity;
  for (const turn of result.turns) {
    const d = t < turn.start ? turn.start - t : t > turn.end ? t - turn.end : 0;
    if (d < distance) {
      distance = d;
      best = turn;
    }
  }
  return best;
}

function majority(labels: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || labels.indexOf(a[0]) - labels.indexOf(b[0]))[0]![0];
}

function byChannel(channelCount: number, segments: readonly DiarizeSegment[]): DiarizeResult {
  return {
    speakers: Array.from({ length: channelCount }, (_, c) => ({ id: `S${c + 1}`, channel: c })),
    segmentSpeakers: segments.map((s) => `S${s.channel + 1}`),
    wordSpeakers: segments.map((s) => (s.words ?? []).map(() => `S${s.channel + 1}`)),
    diarization: { method: "channel", reason: `${channelCount}-channel audio: one speaker per channel` },
  };
}

