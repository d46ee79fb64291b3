// Clustering voice prints into speakers: the distance between prints, and the agglomerative clustering the
// batch pipeline runs over a whole recording (services/jobs/pipeline/diarize.ts). Live recognition assigns
// prints one at a time instead (online.ts). Shared, with the voice prints (features.ts), by both.

/** The voice-print model of the repository (inference/models/speaker_embedding). */
export const SPEAKER_MODEL = "speaker_embedding";
/** Clusters of the model's embeddings further apart than this (cosine distance) are different speakers. */
export const EMBEDDING_THRESHOLD = 0.6;
/**
 * The spectral prints' threshold: standardised statistics sit further apart than trained embeddings do. Picked
 * on the one real two-speaker recording at hand (../shared/data/telephone-two-speakers: 1.1 to 1.2 find its
 * two speakers, 1.0 finds four, 1.3 one), so a speaker count left open is a guess on other audio; give
 * min/max_speaker_count when they are known.
 */
export const SPECTRAL_THRESHOLD = 1.15;
/** max_speaker_count when unset (recognition.proto). */
export const DEFAULT_MAX_SPEAKERS = 6;

/** How many speakers a clustering may find, and how far apart two must be. */
export interface ClusterBounds {
  /** Clusters further apart than this (cosine distance, 0–2) stay separate. Default EMBEDDING_THRESHOLD. */
  threshold?: number;
  /** Never more speakers than this (clusters keep merging past the threshold). */
  maxSpeakers?: number;
  /** Never fewer speakers than this, when there are enough prints. Default 1. */
  minSpeakers?: number;
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
export function clusterEmbeddings(embeddings: readonly Float32Array[], options: ClusterBounds = {}): number[] {
  const n = embeddings.length;
  if (n === 0) return [];
  const threshold = options.threshold ?? EMBEDDING_THRESHOLD;
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
