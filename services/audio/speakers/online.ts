// Live diarization of one channel: who is speaking, decided as the audio arrives and never revised, since
// a final result, once sent, keeps its labels. The speech of each utterance is cut into the windows the
// batch path uses (1.5 s every 0.75 s), each window gets a voice print, and each print, in stream order,
// joins the nearest speaker known so far, or opens a new one when it is further than the threshold from
// every one of them (and fewer than max_speaker_count exist). A lone window whose neighbours in the
// utterance agree with each other takes their speaker, as in the batch path. Words take the speaker of the
// window nearest their middle.
//
// Prints: the speaker_embedding model's when it is ready (cosine distance to each speaker's mean
// embedding), else the weights-free spectral statistics of features.ts. Those need a scale per dimension
// that the batch path gets by standardising over the whole recording; live, the first windows would be
// standardised by themselves (two windows are always ±1 apart), so each dimension is scaled instead by the
// spread of the MFCCs over every voiced frame heard so far (stable after a second of speech), and
// compared by Euclidean distance, which needs no mean: the recording's mean cancels out.
import { MODEL_SAMPLE_RATE } from "../rates.js";
import { clusterEmbeddings, cosineDistance, DEFAULT_MAX_SPEAKERS, EMBEDDING_THRESHOLD, SPECTRAL_THRESHOLD, type ClusterBounds } from "./cluster.js";
import { cepstra, sliceAtLeast, standardize, windowFeatures } from "./features.js";

/** A stretch of stream time, in seconds. */
export interface Span {
  start: number;
  end: number;
}

/** The speaker_embedding model: one embedding for a stretch of 16 kHz audio. */
export type Embedder = (samples: Float32Array, options: { signal?: AbortSignal }) => Promise<Float32Array>;

export interface OnlineDiarizerOptions extends ClusterBounds {
  /** The model's embeddings when given; else spectral prints. */
  embed?: Embedder;
  /** Recent prints clustered again with each utterance's. Default HISTORY_PRINTS. */
  historyPrints?: number;
  /**
   * Audio kept for labelling results that come later than their audio, in seconds. Default 60: an utterance
   * is at most 30 s (max_utterance_duration), and its final may lag its audio by as much again (about 4 MB
   * per stream).
   */
  historySeconds?: number;
  windowSeconds?: number;
  hopSeconds?: number;
}

/** Spectral prints before which everything is the first speaker: about 4 s of speech, the fewest to standardise by. */
const SPECTRAL_WARM_UP = 5;
/** While fewer speakers than min_speaker_count are named, clusters this much closer than the threshold are told apart. */
const BELOW_MIN_FACTOR = 0.75;
/** Prints clustered again at each utterance: about 4 minutes of speech (clustering is cubic in them at worst). */
const HISTORY_PRINTS = 300;
/** The shortest audio the model embeds (its minimum, as the batch path widens to). */
const MIN_EMBED_SAMPLES = MODEL_SAMPLE_RATE / 2;

/**
 * Speakers of prints that arrive a few at a time, each labelled once. Every new batch is clustered together
 * with the recent prints before it (the batch path's clustering, within the counts asked): new prints that
 * form a cluster no named speaker's prints mostly sit in, further than the threshold from theirs, are a new speaker
 * (while fewer than max_speaker_count are named); the others go to the named speaker whose earlier prints
 * they are nearest. So a voice heard again keeps its speaker, and labels once given are never revised.
 * Spectral prints are standardised over the prints held, like the batch path's; below `warmUp` prints
 * there is too little to standardise by, and the prints go to the first speaker. Held prints are bounded
 * (`history`): older ones leave the clustering, their speakers stay named.
 */
export class OnlineClusterer {
  private readonly prints: Float32Array[] = [];
  private readonly labels: number[] = [];
  private named = 0;
  private readonly maxSpeakers: number;
  private readonly minSpeakers: number;

  constructor(
    private readonly options: { threshold: number; standardize: boolean; warmUp: number; history: number } & Pick<ClusterBounds, "minSpeakers" | "maxSpeakers">,
  ) {
    this.maxSpeakers = Math.max(1, options.maxSpeakers || DEFAULT_MAX_SPEAKERS);
    this.minSpeakers = Math.min(this.maxSpeakers, Math.max(1, options.minSpeakers || 1));
  }

  /** Speakers named so far. */
  get speakers(): number {
    return this.named;
  }

  /** The speakers (0, 1, ... in order of first appearance) of the next prints, in order. */
  assign(batch: readonly Float32Array[]): number[] {
    if (batch.length === 0) return [];
    const past = this.prints.length;
    this.prints.push(...batch);
    if (this.prints.length < this.options.warmUp) {
      this.named = 1;
      return this.commit(batch.map(() => 0));
    }
    const vectors = this.options.standardize ? standardize(this.prints) : this.prints;
    // Speakers who have not spoken yet cannot be forced out of the prints held (they would be cut from the
    // voices heard): min_speaker_count lowers the bar for a new one instead until that many are named, and
    // from then on holds the clustering at that many.
    const below = this.named < this.minSpeakers;
    const clusters = clusterEmbeddings(vectors, {
      threshold: below ? this.options.threshold * BELOW_MIN_FACTOR : this.options.threshold,
      maxSpeakers: this.maxSpeakers,
      minSpeakers: below ? 1 : this.minSpeakers,
    });
    // A cluster that is no named speaker's home (new prints alone, or with a few earlier ones the warm-up
    // gave the first speaker) is a new speaker, while there is room for one; one window (1.5 s) of a longer utterance is too little to tell a new voice from an odd stretch of
    // a known one (a cough, a laugh), but a short utterance, one window in all, may be a new speaker's.
    // A speaker's home is the cluster that holds most of their earlier prints.
    const homes = new Set<number>();
    const bySpeaker = new Map<number, Map<number, number>>();
    for (let i = 0; i < past; i++) {
      const row = bySpeaker.get(this.labels[i]!) ?? new Map<number, number>();
      row.set(clusters[i]!, (row.get(clusters[i]!) ?? 0) + 1);
      bySpeaker.set(this.labels[i]!, row);
    }
    for (const row of bySpeaker.values()) homes.add([...row.entries()].sort((x, y) => y[1] - x[1])[0]![0]);
    const fresh = new Map<number, number>();
    for (const c of clusters.slice(past)) if (!homes.has(c)) fresh.set(c, (fresh.get(c) ?? 0) + 1);
    const newSpeaker = new Map<number, number>();
    for (const [cluster, size] of fresh) {
      if ((size >= 2 || batch.length === 1) && this.named < this.maxSpeakers) newSpeaker.set(cluster, this.named++);
    }
    // Every other print goes to the speaker whose earlier prints it is nearest (their mean, in the same space).
    const centres = new Map<number, Float64Array>();
    const sizes = new Map<number, number>();
    for (let i = 0; i < past; i++) {
      const centre = centres.get(this.labels[i]!) ?? new Float64Array(vectors[i]!.length);
      vectors[i]!.forEach((v, d) => (centre[d]! += v));
      centres.set(this.labels[i]!, centre);
      sizes.set(this.labels[i]!, (sizes.get(this.labels[i]!) ?? 0) + 1);
    }
    const means = [...centres.entries()].map(([speaker, sum]) => ({ speaker, mean: Float32Array.from(sum, (v) => v / sizes.get(speaker)!) }));
    const labels = batch.map((_, j) => {
      const own = newSpeaker.get(clusters[past + j]!);
      if (own !== undefined) return own;
      let best = 0;
      let distance = Infinity;
      for (const { speaker, mean } of means) {
        const d = cosineDistance(vectors[past + j]!, mean);
        if (d < distance) {
          distance = d;
          best = speaker;
        }
      }
      return best;
    });
    return this.commit(labels);
  }

  /** Records the batch's labels and drops the oldest prints past the history. */
  private commit(labels: number[]): number[] {
    this.labels.push(...labels);
    const excess = this.prints.length - this.options.history;
    if (excess > 0) {
      this.prints.splice(0, excess);
      this.labels.splice(0, excess);
    }
    return labels;
  }
}

/** Who speaks when on one channel, decided utterance by utterance as recognition goes. */
export class OnlineDiarizer {
  readonly method: "embedding" | "spectral";
  private readonly clusterer: OnlineClusterer;
  /** The last historySeconds of audio: `ring` holds stream samples [ringStart, ringStart + ringLength). */
  private ring: Float32Array;
  private ringStart = 0;
  private ringLength = 0;
  private readonly windowSeconds: number;
  private readonly hopSeconds: number;
  /** The speaker of the last window assigned: audio no longer held is given to them. */
  private lastSpeaker = 0;

  constructor(private readonly options: OnlineDiarizerOptions = {}) {
    this.method = options.embed ? "embedding" : "spectral";
    this.windowSeconds = options.windowSeconds ?? 1.5;
    this.hopSeconds = options.hopSeconds ?? 0.75;
    this.ring = new Float32Array(Math.round((options.historySeconds ?? 60) * MODEL_SAMPLE_RATE));
    this.clusterer = new OnlineClusterer({
      threshold: options.threshold ?? (options.embed ? EMBEDDING_THRESHOLD : SPECTRAL_THRESHOLD),
      standardize: !options.embed,
      warmUp: options.embed ? 1 : SPECTRAL_WARM_UP,
      history: options.historyPrints ?? HISTORY_PRINTS,
      minSpeakers: options.minSpeakers,
      maxSpeakers: options.maxSpeakers,
    });
  }

  /** Speakers found so far. */
  get speakers(): number {
    return this.clusterer.speakers;
  }

  /** The channel's next audio, 16 kHz, in stream order. */
  push(samples: Float32Array): void {
    const capacity = this.ring.length;
    if (samples.length >= capacity) {
      this.ring.set(samples.subarray(samples.length - capacity));
      this.ringStart += this.ringLength + samples.length - capacity;
      this.ringLength = capacity;
      return;
    }
    const overflow = Math.max(0, this.ringLength + samples.length - capacity);
    if (overflow > 0) {
      this.ring.copyWithin(0, overflow, this.ringLength);
      this.ringStart += overflow;
      this.ringLength -= overflow;
    }
    this.ring.set(samples, this.ringLength);
    this.ringLength += samples.length;
  }

  /**
   * The speaker turns of one utterance's speech (`span`, stream seconds, after every earlier one): its
   * windows, printed and assigned in order, lone windows smoothed. Speakers are numbered 0, 1, ... in order
   * of first appearance over the whole stream. Audio no longer held (older than historySeconds) is not
   * printed: its span takes the last speaker assigned, or 0.
   */
  async turns(span: Span, signal?: AbortSignal): Promise<Array<Span & { speaker: number }>> {
    const from = Math.max(this.ringStart, Math.floor(span.start * MODEL_SAMPLE_RATE));
    const to = Math.min(this.ringStart + this.ringLength, Math.ceil(span.end * MODEL_SAMPLE_RATE));
    if (to - from < MODEL_SAMPLE_RATE / 10) return [{ start: span.start, end: span.end, speaker: this.lastSpeaker }];
    const audio = this.ring.slice(from - this.ringStart, to - this.ringStart);
    const offset = from / MODEL_SAMPLE_RATE;
    const windows = windowsOf({ start: 0, end: audio.length / MODEL_SAMPLE_RATE }, this.windowSeconds, this.hopSeconds);
    const prints = await this.prints(audio, offset, windows, signal);
    const labels = smooth(this.clusterer.assign(prints));
    this.lastSpeaker = labels.at(-1) ?? this.lastSpeaker;
    const turns: Array<Span & { speaker: number }> = [];
    windows.forEach((w, i) => {
      // Each window owns the time nearest its middle.
      const start = i === 0 ? span.start : offset + (windows[i - 1]!.start + windows[i - 1]!.end + w.start + w.end) / 4;
      const end = i === windows.length - 1 ? span.end : offset + (windows[i + 1]!.start + windows[i + 1]!.end + w.start + w.end) / 4;
      const last = turns.at(-1);
      if (last && last.speaker === labels[i]) last.end = end;
      else turns.push({ start, end, speaker: labels[i]! });
    });
    return turns;
  }

  /** Prints of `windows` (seconds from `offset`) of the utterance's `audio`. */
  private async prints(audio: Float32Array, offset: number, windows: readonly Span[], signal?: AbortSignal): Promise<Float32Array[]> {
    const { embed } = this.options;
    if (embed) {
      const held = this.ring.subarray(0, this.ringLength);
      const at = offset - this.ringStart / MODEL_SAMPLE_RATE;
      const out: Float32Array[] = [];
      // One at a time: an utterance has a few windows, and the model serves every session's. A short one is
      // widened within the audio held, past the utterance's edges if need be.
      for (const w of windows) out.push(await embed(sliceAtLeast(held, { start: w.start + at, end: w.end + at }, MIN_EMBED_SAMPLES), { signal }));
      return out;
    }
    const features = cepstra(audio, { meanNormalise: false });
    return windows.map((w) => windowFeatures(features, w.start, w.end));
  }
}

/** Windows of `length` every `hop` seconds covering `span`; a span shorter than a window is one window. */
export function windowsOf(span: Span, length: number, hop: number): Span[] {
  if (span.end - span.start <= length) return [{ start: span.start, end: span.end }];
  const out: Span[] = [];
  for (let start = span.start; start + length < span.end + hop / 2; start += hop) out.push({ start, end: Math.min(span.end, start + length) });
  return out;
}

/**
 * A window whose two neighbours agree with each other and not with it takes their speaker; so does a window
 * at either end of the utterance whose next two agree (a turn is not taken by the onset or the tail alone).
 */
function smooth(labels: readonly number[]): number[] {
  return labels.map((l, i) => {
    const before = labels[i - 1];
    const after = labels[i + 1];
    if (before !== undefined && before === after) return before;
    if (i === 0 && labels.length >= 3 && labels[1] === labels[2]) return labels[1]!;
    if (i === labels.length - 1 && labels.length >= 3 && labels[i - 1] === labels[i - 2]) return labels[i - 1]!;
    return l;
  });
}


/** The speaker of the turn nearest `t` (a word's middle), or undefined when there are no turns. */
export function speakerAt(turns: ReadonlyArray<Span & { speaker: number }>, t: number): number | undefined {
  let best: number | undefined;
  let distance = Infinity;
  for (const turn of turns) {
    const d = t < turn.start ? turn.start - t : t > turn.end ? t - turn.end : 0;
    if (d < distance) {
      distance = d;
      best = turn.speaker;
    }
  }
  return best;
}
