// A tiny random-weight whisper model in whisper.cpp's own file format, so that tests (and a
// machine without downloadable weights) exercise the real runtime end to end: model loading,
// whisper.cpp's own log-mel feature extraction with the real mel filter bank, the encoder, the
// decode loop with its timestamp rules, temperature fallback and token-level timestamps. The
// architecture is whisper's (multilingual 51865-token vocabulary with every special and
// timestamp token, 1500 audio positions = 30 s windows, 80 or 128 mels); only the widths and
// depths are small and the weights random, so the text is meaningless while the shapes, the
// timing and the error handling are real.
//
// The vocabulary is synthetic but byte-level like whisper's: ids 0..255 are the single bytes,
// the rest are Arabic letter sequences (two UTF-8 bytes per letter), half with a leading space,
// so decoded text is Arabic-looking and words split the way whisper's do.
import { writeFile } from "node:fs/promises";
import { rng } from "../../testing/random.js";
import {
  expectedWhisperTensors,
  GGML_FILE_MAGIC,
  HPARAM_ORDER,
  tensorType,
  whisperMelFilters,
  whisperSpecialTokens,
  type ExpectedTensor,
  type WhisperHparams,
  type WhisperSpecialTokens,
} from "./whisper-ggml.js";

export interface RandomWhisperOptions {
  /** Seed of the weights; the same seed gives the same file. Default 1. */
  seed?: number;
  /** Width of encoder and decoder (n_audio_state = n_text_state). Default 64. */
  state?: number;
  heads?: number;
  audioLayers?: number;
  textLayers?: number;
  /** Decoder context; whisper's is 448. Smaller bounds the tokens per window (n_text_ctx/2 - 4). */
  textCtx?: number;
  nMels?: 80 | 128;
  /** 51865 (multilingual) or 51866 (large-v3 numbering). */
  nVocab?: 51865 | 51866;
  /** 0 = f32, 1 = f16 weights. Default 1. */
  ftype?: 0 | 1;
  /**
   * Standard deviation of the text-token rows of the (tied) token embedding. Larger makes the
   * decoder prefer text tokens over timestamps and end-of-text; the default gives segments
   * with several words.
   */
  textTokenScale?: number;
  timestampScale?: number;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** IEEE half from float (round to nearest even), for f16 tensors. */
export function toHalf(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

const ARABIC_LETTERS = Array.from({ length: 0x064a - 0x0621 + 1 }, (_, i) => String.fromCodePoint(0x0621 + i)).filter(
  (c) => !"\u063b\u063c\u063d\u063e\u063f\u0640".includes(c),
);

/** Token bytes for ids 0..n-1: single bytes, then Arabic pieces (half with a leading space). */
export function syntheticVocab(n: number, seed: number): Uint8Array[] {
  const r = rng(seed ^ 0x5eed);
  const enc = new TextEncoder();
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < 256 && i < n; i++) out.push(Uint8Array.of(i));
  for (let i = 0; i < 256; i++) seen.add(String.fromCharCode(i));
  while (out.length < n) {
    const len = 1 + Math.floor(r.uniform() * 4);
    let s = r.uniform() < 0.5 ? " " : "";
    for (let k = 0; k < len; k++) s += ARABIC_LETTERS[Math.floor(r.uniform() * ARABIC_LETTERS.length)];
    if (seen.has(s)) continue;
    seen.add(s);
    out.push(enc.encode(s));
  }
  return out;
}

/** Writes a random-weight whisper.cpp model to `path`; returns its hparams and size in bytes. */
export async function writeRandomWhisperModel(
  path: string,
  options: RandomWhisperOptions = {},
): Promise<{ hparams: WhisperHparams; bytes: number }> {
  const seed = options.seed ?? 1;
  const h = hparamsOf(options);
  const out = new ChunkWriter();
  out.u32(GGML_FILE_MAGIC);
  out.i32(...HPARAM_ORDER.map((k) => h[k]));

  const mel = whisperMelFilters(h.nMels);
  out.i32(h.nMels, 201);
  out.bytes(Buffer.from(mel.buffer, mel.byteOffset, mel.byteLength));

  const specials = whisperSpecialTokens(h.nVocab);
  const vocab = syntheticVocab(specials.eot, seed); // ids below end-of-text are text tokens
  out.i32(vocab.length);
  for (const t of vocab) {
    out.u32(t.length);
    out.bytes(Buffer.from(t));
  }

  const weights = randomWeights(h, specials, rng(seed), options);
  for (const [name, exp] of expectedWhisperTensors(h)) writeTensor(out, name, exp, tensorType(exp.cls, h.ftype === 0 ? 0 : 1), weights(name, exp));
  const data = Buffer.concat(out.chunks);
  await writeFile(path, data);
  return { hparams: h, bytes: data.length };
}

function hparamsOf(options: RandomWhisperOptions): WhisperHparams {
  const state = options.state ?? 64;
  return {
    nVocab: options.nVocab ?? 51865,
    nAudioCtx: 1500,
    nAudioState: state,
    nAudioHead: options.heads ?? 2,
    nAudioLayer: options.audioLayers ?? 2,
    nTextCtx: options.textCtx ?? 448,
    nTextState: state,
    nTextHead: options.heads ?? 2,
    nTextLayer: options.textLayers ?? 2,
    nMels: options.nMels ?? 80,
    ftype: options.ftype ?? 1,
  };
}

/** The file's bytes, as a list of chunks written in order. */
class ChunkWriter {
  readonly chunks: Buffer[] = [];

  i32(...values: number[]): void {
    const b = Buffer.alloc(4 * values.length);
    values.forEach((x, i) => b.writeInt32LE(x, 4 * i));
    this.chunks.push(b);
  }

  u32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0, 0);
    this.chunks.push(b);
  }

  bytes(...buffers: Buffer[]): void {
    this.chunks.push(...buffers);
  }
}

/**
 * The values of each tensor, drawn from `r` in the order the tensors are asked for: norms 1,
 * biases 0, whisper's sinusoids for the encoder positions, scaled normal values for the rest.
 */
function randomWeights(h: WhisperHparams, specials: WhisperSpecialTokens, r: ReturnType<typeof rng>, options: RandomWhisperOptions) {
  const state = h.nAudioState;
  const textScale = options.textTokenScale ?? 0.35;
  const tsScale = options.timestampScale ?? 0.15;
  return (name: string, exp: ExpectedTensor): Float32Array => {
    const n = exp.ne.reduce((p, d) => p * d, 1);
    const values = new Float32Array(n);
    const fanIn = exp.ne[0]! * (exp.ne.length === 3 ? exp.ne[1]! : 1);
    if (name.endsWith("ln.weight") || name.endsWith("ln_post.weight") || /_ln\.weight$/.test(name)) {
      values.fill(1);
    } else if (name.endsWith(".bias")) {
      values.fill(0);
    } else if (name === "encoder.positional_embedding") {
      // whisper's sinusoids(n_ctx, n_state)
      const half = state / 2;
      const inc = Math.log(10000) / (half - 1);
      for (let p = 0; p < h.nAudioCtx; p++) {
        for (let c = 0; c < half; c++) {
          const a = p * Math.exp(-inc * c);
          values[p * state + c] = Math.sin(a);
          values[p * state + half + c] = Math.cos(a);
        }
      }
    } else if (name === "decoder.token_embedding.weight") {
      for (let tok = 0; tok < h.nVocab; tok++) {
        const scale =
          tok < specials.eot ? textScale : tok >= specials.beg ? tsScale : tok === specials.eot ? 0.05 : 0.02;
        for (let c = 0; c < state; c++) values[tok * state + c] = r.normal() * scale;
      }
    } else if (name === "decoder.positional_embedding") {
      for (let k = 0; k < n; k++) values[k] = r.normal() * 0.01;
    } else {
      const std = 1 / Math.sqrt(fanIn);
      for (let k = 0; k < n; k++) values[k] = r.normal() * std;
    }
    return values;
  };
}

/** One tensor: its header (dims, name length, type, dims), its name, then its data as f32 or f16. */
function writeTensor(out: ChunkWriter, name: string, exp: ExpectedTensor, type: number, values: Float32Array): void {
  const header = Buffer.alloc(12 + 4 * exp.ne.length);
  header.writeInt32LE(exp.ne.length, 0);
  header.writeInt32LE(Buffer.byteLength(name), 4);
  header.writeInt32LE(type, 8);
  exp.ne.forEach((d, i) => header.writeInt32LE(d, 12 + 4 * i));
  out.bytes(header, Buffer.from(name, "latin1"));
  if (type === 0) {
    out.bytes(Buffer.from(values.buffer));
  } else {
    const half = new Uint16Array(values.length);
    for (let k = 0; k < values.length; k++) half[k] = toHalf(values[k]!);
    out.bytes(Buffer.from(half.buffer));
  }
}
