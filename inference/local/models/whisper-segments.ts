// From whisper.cpp's tokens to the SEGMENTS of the ASR contract (inference/models/whisper/config.pbtxt).
import type { AsrSegment, AsrWord } from "./asr.js";
import type { HostSegment } from "./whisper-host.js";

const utf8 = new TextDecoder("utf-8", { fatal: false });
const encoder = new TextEncoder();

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const round3 = (x: number) => Math.round(x * 1000) / 1000;
const round4 = (x: number) => Math.round(x * 10000) / 10000;
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/**
 * Turns whisper.cpp's detailed segments into the contract's segments: text from the token bytes
 * of the model's own vocabulary (so Arabic letters split across tokens decode exactly), words
 * split at tokens that begin with a space, word times from the token timestamps, and every time
 * clamped into [0, duration], monotone, and inside its segment. Segments without text are left
 * out. whisper.cpp 1.6 computes no no-speech probability; it is reported as 0.
 */
export function buildSegments(
  raw: readonly HostSegment[],
  vocab: readonly Uint8Array[],
  eot: number,
  duration: number,
): AsrSegment[] {
  const out: AsrSegment[] = [];
  let prevEnd = 0;
  for (const seg of raw) {
    const tokens = seg.tokens.filter((t) => t.id < eot);
    const bytesOf = (t: HostSegment["tokens"][number]) => vocab[t.id] ?? encoder.encode(t.text);
    const text = (tokens.length ? utf8.decode(concatBytes(tokens.map(bytesOf))) : seg.text).trim();
    if (!text) continue;
    const rawStart = Number.isFinite(seg.from) && seg.from >= 0 ? seg.from / 1000 : prevEnd;
    const start = clamp(rawStart, prevEnd, duration);
    const rawEnd = Number.isFinite(seg.to) ? seg.to / 1000 : duration;
    const end = clamp(rawEnd, start, duration);

    // Group tokens into words.
    const groups: (typeof tokens)[] = [];
    for (const t of tokens) {
      const b = bytesOf(t);
      const last = groups[groups.length - 1];
      if (!last || b[0] === 0x20) groups.push([t]);
      else last.push(t);
    }
    const words: AsrWord[] = [];
    let wordEnd = start;
    groups.forEach((g, gi) => {
      const word = utf8.decode(concatBytes(g.map(bytesOf))).trim();
      if (!word) return;
      const froms = g.map((t) => t.from).filter((x): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0);
      const tos = g.map((t) => t.to).filter((x): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0);
      // Without token times, spread the words evenly over the segment.
      const evenStart = start + ((end - start) * gi) / groups.length;
      const evenEnd = start + ((end - start) * (gi + 1)) / groups.length;
      let ws = froms.length ? Math.min(...froms) / 1000 : evenStart;
      let we = tos.length ? Math.max(...tos) / 1000 : evenEnd;
      ws = clamp(ws, Math.max(start, wordEnd), end);
      we = clamp(we, ws, end);
      wordEnd = we;
      const p = g.reduce((s, t) => s + clamp(Number.isFinite(t.p) ? t.p : 0, 0, 1), 0) / g.length;
      words.push({ word, start: round3(ws), end: round3(we), probability: round4(p) });
    });
    const logprob = tokens.length
      ? tokens.reduce((s, t) => s + Math.log(clamp(Number.isFinite(t.p) ? t.p : 0, 1e-10, 1)), 0) / tokens.length
      : 0;
    out.push({
      start: round3(start),
      end: round3(end),
      text,
      avg_logprob: round4(logprob),
      no_speech_prob: 0,
      words,
    });
    prevEnd = end;
  }
  return out;
}
