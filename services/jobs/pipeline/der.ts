// Diarization error rate, as NIST's md-eval scores it without a collar: over 10 ms frames, the reference
// speech time that is missed, the time the hypothesis says someone speaks when nobody does (false alarm),
// and the time given to the wrong speaker (confusion) under the one-to-one mapping of hypothesis to reference
// speakers that overlaps most, divided by the reference speech time. Overlapped speech counts once per
// speaker, as md-eval counts it. Used by `npm run bench:diarization` and the diarization tests.

/** Someone speaking from `start` to `end` seconds. */
export interface SpeakerTurn {
  speaker: string;
  start: number;
  end: number;
}

export interface DiarizationScore {
  /** (missed + falseAlarm + confusion) / referenceSeconds; 0 when there is no reference speech. */
  der: number;
  missed: number;
  falseAlarm: number;
  confusion: number;
  referenceSeconds: number;
  /** Hypothesis speaker → the reference speaker it was mapped to. */
  mapping: Record<string, string>;
}

const STEP = 0.01;

/** The turns of an RTTM file's SPEAKER lines (`SPEAKER file 1 start duration <NA> <NA> name <NA> <NA>`). */
export function parseRttm(text: string): SpeakerTurn[] {
  return text
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[0] === "SPEAKER" && f.length >= 8)
    .map((f) => ({ speaker: f[7]!, start: Number(f[3]), end: Number(f[3]) + Number(f[4]) }));
}

/** Frame-by-frame speaker sets of `turns`. */
function frames(turns: readonly SpeakerTurn[], count: number, ids: Map<string, number>): Uint8Array[] {
  const out = Array.from({ length: count }, () => new Uint8Array(0));
  const sets = Array.from({ length: count }, () => new Set<number>());
  for (const t of turns) {
    if (!ids.has(t.speaker)) ids.set(t.speaker, ids.size);
    const id = ids.get(t.speaker)!;
    for (let f = Math.max(0, Math.round(t.start / STEP)); f < Math.min(count, Math.round(t.end / STEP)); f++) sets[f]!.add(id);
  }
  sets.forEach((s, f) => (out[f] = Uint8Array.from(s)));
  return out;
}

export function diarizationErrorRate(reference: readonly SpeakerTurn[], hypothesis: readonly SpeakerTurn[]): DiarizationScore {
  const end = Math.max(0, ...reference.map((t) => t.end), ...hypothesis.map((t) => t.end));
  const count = Math.ceil(end / STEP) + 1;
  const refIds = new Map<string, number>();
  const hypIds = new Map<string, number>();
  const ref = frames(reference, count, refIds);
  const hyp = frames(hypothesis, count, hypIds);
  // Overlap of every hypothesis speaker with every reference speaker, in frames.
  const overlap = Array.from({ length: hypIds.size }, () => new Float64Array(refIds.size));
  for (let f = 0; f < count; f++) for (const h of hyp[f]!) for (const r of ref[f]!) overlap[h]![r]! += 1;
  const assigned = bestMapping(overlap, refIds.size);

  let missed = 0;
  let falseAlarm = 0;
  let confusion = 0;
  let total = 0;
  for (let f = 0; f < count; f++) {
    const r = ref[f]!;
    const h = hyp[f]!;
    total += r.length;
    missed += Math.max(0, r.length - h.length);
    falseAlarm += Math.max(0, h.length - r.length);
    const correct = [...h].filter((x) => assigned[x] !== undefined && r.includes(assigned[x]!)).length;
    confusion += Math.min(r.length, h.length) - correct;
  }
  const refNames = [...refIds.keys()];
  const mapping: Record<string, string> = {};
  for (const [name, id] of hypIds) if (assigned[id] !== undefined) mapping[name] = refNames[assigned[id]!]!;
  const seconds = (frameCount: number) => Math.round(frameCount * STEP * 1000) / 1000;
  return {
    der: total === 0 ? 0 : (missed + falseAlarm + confusion) / total,
    missed: seconds(missed),
    falseAlarm: seconds(falseAlarm),
    confusion: seconds(confusion),
    referenceSeconds: seconds(total),
    mapping,
  };
}

/**
 * The one-to-one assignment of hypothesis speakers (rows) to reference speakers (columns) with the most
 * overlap: exhaustive over the assignments for up to 8 speakers a side (what recordings have), greedy beyond.
 */
function bestMapping(overlap: readonly Float64Array[], refCount: number): (number | undefined)[] {
  const rows = overlap.length;
  if (rows <= 8 && refCount <= 8) {
    let best: (number | undefined)[] = new Array(rows).fill(undefined);
    let bestScore = -1;
    const current: (number | undefined)[] = new Array(rows).fill(undefined);
    const used = new Array<boolean>(refCount).fill(false);
    const walk = (row: number, score: number) => {
      if (row === rows) {
        if (score > bestScore) {
          bestScore = score;
          best = [...current];
        }
        return;
      }
      current[row] = undefined;
      walk(row + 1, score);
      for (let c = 0; c < refCount; c++) {
        if (used[c]) continue;
        used[c] = true;
        current[row] = c;
        walk(row + 1, score + overlap[row]![c]!);
        used[c] = false;
      }
      current[row] = undefined;
    };
    walk(0, 0);
    return best;
  }
  const pairs = overlap.flatMap((row, h) => [...row].map((v, r) => ({ h, r, v }))).sort((a, b) => b.v - a.v);
  const out: (number | undefined)[] = new Array(rows).fill(undefined);
  const taken = new Set<number>();
  for (const { h, r, v } of pairs) {
    if (v <= 0 || out[h] !== undefined || taken.has(r)) continue;
    out[h] = r;
    taken.add(r);
  }
  return out;
}
