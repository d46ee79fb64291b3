// A batch job's n-best (max_alternatives) per transcript segment. The model answers one call, a chunk of up
// to 30 s, with segments and an n-best of whole-chunk texts; a transcript keeps its runner-ups per segment.
// A runner-up of a beam search differs from the first hypothesis in a few words: where those words fall
// within one segment, that segment's runner-up is its own text with them replaced, and the other segments
// read as the first hypothesis anyway. A runner-up that differs across two segments belongs to neither: no
// word times say where it would split, and guessing would show a client text nobody recognised.

/**
 * For each of a call's segments (their texts, in order), its runner-up texts: at most `limit`, most
 * probable first, none equal to the segment's own text or to an earlier one. `runnerUps` are the call's
 * n-best texts after the first (which is the segments' texts joined).
 */
export function segmentRunnerUps(segmentTexts: readonly string[], runnerUps: readonly string[], limit: number): string[][] {
  const out = segmentTexts.map((): string[] => []);
  if (segmentTexts.length === 0 || limit <= 0) return out;
  const own = segmentTexts.map(words);
  // Every word of the first hypothesis with the segment it is in.
  const first = own.flatMap((segment, k) => segment.map((word) => ({ word, k })));
  for (const runnerUp of runnerUps) {
    const mapped = segmentTexts.length === 1 ? { k: 0, text: runnerUp.trim() } : within(own, first, words(runnerUp));
    if (!mapped || !mapped.text) continue;
    const kept = out[mapped.k]!;
    if (kept.length < limit && mapped.text !== segmentTexts[mapped.k]!.trim() && !kept.includes(mapped.text)) kept.push(mapped.text);
  }
  return out;
}

/** The one segment whose words the runner-up changes, with its text as the runner-up reads it; undefined when none or several. */
function within(own: readonly string[][], first: ReadonlyArray<{ word: string; k: number }>, other: readonly string[]): { k: number; text: string } | undefined {
  let prefix = 0;
  while (prefix < first.length && prefix < other.length && first[prefix]!.word === other[prefix]) prefix++;
  let suffix = 0;
  while (suffix < first.length - prefix && suffix < other.length - prefix && first[first.length - 1 - suffix]!.word === other[other.length - 1 - suffix]) suffix++;
  const from = prefix;
  const to = first.length - suffix;
  let k: number | undefined;
  if (from < to) {
    k = first[from]!.k;
    if (first[to - 1]!.k !== k) return undefined;
  } else {
    // Words only inserted: into the segment of the words on either side; at a boundary between two, no one's.
    const before = first[from - 1]?.k;
    const after = first[from]?.k;
    k = before === undefined ? after : after === undefined || after === before ? before : undefined;
    if (k === undefined) return undefined;
  }
  const start = first.findIndex((w) => w.k === k);
  const segment = own[k]!;
  const replaced = [...segment.slice(0, from - start), ...other.slice(from, other.length - suffix), ...segment.slice(to - start)];
  return { k, text: replaced.join(" ") };
}

const words = (text: string) => text.split(/\s+/u).filter(Boolean);
