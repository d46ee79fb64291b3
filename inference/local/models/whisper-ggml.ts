// The whisper.cpp model file format ("ggml-*.bin", the legacy GGML container that
// whisper.cpp's convert-pt-to-ggml.py and convert-h5-to-ggml.py write and its loader reads):
//
//   u32 magic 0x67676d6c ("ggml")
//   i32 × 11 hparams: n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer,
//                     n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype
//   mel filters:      i32 n_mel, i32 n_fft, f32 × n_mel·n_fft
//   vocabulary:       i32 n, then n × (u32 len, len bytes)   (token bytes, ids 0..n-1)
//   tensors until EOF: i32 n_dims, i32 name_len, i32 ttype, i32 × n_dims ne (innermost first),
//                      name bytes, data (ggml_nbytes of the tensor)
//
// inspectWhisperGgml() walks a file the way whisper.cpp's whisper_model_load() does, with the
// same checks and more, without reading tensor data. The native loader dereferences a null
// context or aborts (GGML_ASSERT) on several malformed files, and silently accepts a file
// truncated inside its last tensor; checking first turns those into a clear not-ready reason.
// It also returns the vocabulary, so token bytes can be decoded exactly (an Arabic letter is two
// UTF-8 bytes, and BPE tokens may split it).
import { open } from "node:fs/promises";

export const GGML_FILE_MAGIC = 0x67676d6c;
/** whisper.cpp stores ftype + GGML_QNT_VERSION * 1000 for quantized files. */
const GGML_QNT_VERSION_FACTOR = 1000;

/** Hyper-parameters of a whisper model, in the file's order. */
export interface WhisperHparams {
  nVocab: number;
  nAudioCtx: number;
  nAudioState: number;
  nAudioHead: number;
  nAudioLayer: number;
  nTextCtx: number;
  nTextState: number;
  nTextHead: number;
  nTextLayer: number;
  nMels: number;
  /** ftype modulo the quantization-version factor. */
  ftype: number;
}

export const HPARAM_ORDER: readonly (keyof WhisperHparams)[] = [
  "nVocab",
  "nAudioCtx",
  "nAudioState",
  "nAudioHead",
  "nAudioLayer",
  "nTextCtx",
  "nTextState",
  "nTextHead",
  "nTextLayer",
  "nMels",
  "ftype",
];

/** ggml tensor types the validator knows: block size (elements) and bytes per block. */
export const GGML_TYPES: ReadonlyMap<number, { name: string; blck: number; size: number }> = new Map([
  [0, { name: "f32", blck: 1, size: 4 }],
  [1, { name: "f16", blck: 1, size: 2 }],
  [2, { name: "q4_0", blck: 32, size: 18 }],
  [3, { name: "q4_1", blck: 32, size: 20 }],
  [6, { name: "q5_0", blck: 32, size: 22 }],
  [7, { name: "q5_1", blck: 32, size: 24 }],
  [8, { name: "q8_0", blck: 32, size: 34 }],
  [10, { name: "q2_K", blck: 256, size: 84 }],
  [11, { name: "q3_K", blck: 256, size: 110 }],
  [12, { name: "q4_K", blck: 256, size: 144 }],
  [13, { name: "q5_K", blck: 256, size: 176 }],
  [14, { name: "q6_K", blck: 256, size: 210 }],
  [30, { name: "bf16", blck: 1, size: 2 }],
]);

/** File ftype → ggml type of the big matrices (ggml_ftype_to_ggml_type), for the types above. */
export const FTYPE_TO_TYPE: ReadonlyMap<number, number> = new Map([
  [0, 0],
  [1, 1],
  [2, 2],
  [3, 3],
  [7, 8],
  [8, 6],
  [9, 7],
  [10, 10],
  [11, 11],
  [12, 12],
  [13, 13],
  [14, 14],
  [24, 30],
]);

/** Which storage class a tensor has: always f32, the model's weight type, or the conv type. */
export type TensorClass = "f32" | "weight" | "conv";

export interface ExpectedTensor {
  /** ggml shape, innermost dimension first, as the file stores it. */
  ne: number[];
  cls: TensorClass;
}

/** Every tensor whisper.cpp's loader creates for these hparams, by name (its exact list). */
export function expectedWhisperTensors(h: WhisperHparams): Map<string, ExpectedTensor> {
  const t = new Map<string, ExpectedTensor>();
  const a = h.nAudioState;
  const s = h.nTextState;
  t.set("encoder.positional_embedding", { ne: [a, h.nAudioCtx], cls: "f32" });
  t.set("encoder.conv1.weight", { ne: [3, h.nMels, a], cls: "conv" });
  t.set("encoder.conv1.bias", { ne: [1, a], cls: "f32" });
  t.set("encoder.conv2.weight", { ne: [3, a, a], cls: "conv" });
  t.set("encoder.conv2.bias", { ne: [1, a], cls: "f32" });
  t.set("encoder.ln_post.weight", { ne: [a], cls: "f32" });
  t.set("encoder.ln_post.bias", { ne: [a], cls: "f32" });
  const block = (prefix: string, n: number, cross: boolean) => {
    t.set(`${prefix}.mlp_ln.weight`, { ne: [n], cls: "f32" });
    t.set(`${prefix}.mlp_ln.bias`, { ne: [n], cls: "f32" });
    t.set(`${prefix}.mlp.0.weight`, { ne: [n, 4 * n], cls: "weight" });
    t.set(`${prefix}.mlp.0.bias`, { ne: [4 * n], cls: "f32" });
    t.set(`${prefix}.mlp.2.weight`, { ne: [4 * n, n], cls: "weight" });
    t.set(`${prefix}.mlp.2.bias`, { ne: [n], cls: "f32" });
    for (const attn of cross ? ["attn", "cross_attn"] : ["attn"]) {
      t.set(`${prefix}.${attn}_ln.weight`, { ne: [n], cls: "f32" });
      t.set(`${prefix}.${attn}_ln.bias`, { ne: [n], cls: "f32" });
      t.set(`${prefix}.${attn}.query.weight`, { ne: [n, n], cls: "weight" });
      t.set(`${prefix}.${attn}.query.bias`, { ne: [n], cls: "f32" });
      t.set(`${prefix}.${attn}.key.weight`, { ne: [n, n], cls: "weight" });
      t.set(`${prefix}.${attn}.value.weight`, { ne: [n, n], cls: "weight" });
      t.set(`${prefix}.${attn}.value.bias`, { ne: [n], cls: "f32" });
      t.set(`${prefix}.${attn}.out.weight`, { ne: [n, n], cls: "weight" });
      t.set(`${prefix}.${attn}.out.bias`, { ne: [n], cls: "f32" });
    }
  };
  for (let i = 0; i < h.nAudioLayer; i++) block(`encoder.blocks.${i}`, a, false);
  t.set("decoder.positional_embedding", { ne: [s, h.nTextCtx], cls: "f32" });
  t.set("decoder.token_embedding.weight", { ne: [s, h.nVocab], cls: "weight" });
  t.set("decoder.ln.weight", { ne: [s], cls: "f32" });
  t.set("decoder.ln.bias", { ne: [s], cls: "f32" });
  for (let i = 0; i < h.nTextLayer; i++) block(`decoder.blocks.${i}`, s, true);
  return t;
}

/** ggml type id a tensor of this class has in a model whose weight type is `wtype`. */
export function tensorType(cls: TensorClass, wtype: number): number {
  if (cls === "f32") return 0;
  if (cls === "conv") return wtype === 0 ? 0 : 1;
  return wtype;
}

/** Bytes of a tensor with `nelements` elements of ggml type `type` (ggml_nbytes for contiguous data). */
export function ggmlBytes(type: number, nelements: number): number {
  const info = GGML_TYPES.get(type);
  if (!info) throw new Error(`unknown ggml type ${type}`);
  return (nelements / info.blck) * info.size;
}

/** What a valid file holds, minus the tensor data. */
export interface WhisperGgmlInfo {
  path: string;
  bytes: number;
  hparams: WhisperHparams;
  /** Quantization version stored in ftype (0 for f32/f16 files). */
  qntVersion: number;
  /** ggml type name of the big matrices (f16, q5_0, ...). */
  weightType: string;
  /** Token bytes for ids 0..vocab.length-1 as stored in the file. */
  vocab: Uint8Array[];
  /** Token ids of the special tokens, as whisper.cpp numbers them for these hparams. */
  specials: WhisperSpecialTokens;
  nTensors: number;
  /** Human name: tiny, base, small, medium, large, large-v3, large-v3-turbo, or "custom". */
  modelType: string;
}

export interface WhisperSpecialTokens {
  eot: number;
  sot: number;
  translate: number;
  transcribe: number;
  solm: number;
  prev: number;
  nosp: number;
  not: number;
  beg: number;
  nLanguages: number;
}

/** whisper.cpp's whisper_vocab token numbering (is_multilingual / num_languages). */
export function whisperSpecialTokens(nVocab: number): WhisperSpecialTokens {
  const multilingual = nVocab >= 51865;
  const nLanguages = nVocab - 51765 - (multilingual ? 1 : 0);
  const dt = multilingual ? nLanguages - 98 : 0;
  const base = multilingual ? 1 : 0;
  return {
    eot: 50256 + base,
    sot: 50257 + base,
    translate: 50357 + dt,
    transcribe: 50358 + dt,
    solm: 50359 + dt,
    prev: 50360 + dt,
    nosp: 50361 + dt,
    not: 50362 + dt,
    beg: 50363 + dt,
    nLanguages,
  };
}

/** A model file that whisper.cpp would reject or mis-load; `reason` says what is wrong with it. */
export class WhisperModelFileError extends Error {
  override readonly name = "WhisperModelFileError";
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

const MAX_TOKEN_BYTES = 4096;
const MAX_NAME_BYTES = 256;

/** Sequential reader over a file handle with a read-ahead window; skip() moves without reading. */
class FileReader {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  pos = 0;
  constructor(
    private readonly fh: import("node:fs/promises").FileHandle,
    readonly size: number,
    private readonly fail: (reason: string) => never,
  ) {}

  remaining(): number {
    return this.size - this.pos;
  }

  async bytes(n: number, what: string): Promise<Buffer> {
    if (n > this.remaining()) {
      this.fail(`truncated: ${what} needs ${n} bytes at offset ${this.pos}, the file ends ${this.remaining()} bytes later`);
    }
    const end = this.pos + n;
    if (this.pos < this.bufStart || end > this.bufStart + this.buf.length) {
      const want = Math.min(Math.max(n, 1 << 20), this.size - this.pos);
      const b = Buffer.alloc(want);
      const { bytesRead } = await this.fh.read(b, 0, want, this.pos);
      if (bytesRead < n) this.fail(`short read at offset ${this.pos}`);
      this.buf = b.subarray(0, bytesRead);
      this.bufStart = this.pos;
    }
    const out = this.buf.subarray(this.pos - this.bufStart, end - this.bufStart);
    this.pos = end;
    return out;
  }

  async i32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readInt32LE(0);
  }

  async u32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readUInt32LE(0);
  }

  skip(n: number, what: string): void {
    if (n > this.remaining()) {
      this.fail(`truncated: ${what} needs ${n} bytes at offset ${this.pos}, the file ends ${this.remaining()} bytes later`);
    }
    this.pos += n;
  }
}

function modelTypeName(h: WhisperHparams): string {
  const known: Record<string, string> = {
    "4/4/384": "tiny",
    "6/6/512": "base",
    "12/12/768": "small",
    "24/24/1024": "medium",
    "32/32/1280": "large",
    "32/4/1280": "large-v3-turbo",
  };
  const name = known[`${h.nAudioLayer}/${h.nTextLayer}/${h.nAudioState}`] ?? "custom";
  if (name === "large" && h.nVocab === 51866) return "large-v3";
  return name;
}

/**
 * Reads and checks a whisper.cpp model file without loading its tensor data. Throws
 * WhisperModelFileError with a precise reason for anything whisper.cpp would reject, crash on,
 * or load wrongly (bad magic, impossible hparams, unknown ftype, bad mel filters, a vocabulary
 * or tensor directory that runs past the end, unknown/duplicate/missing tensors, wrong shapes
 * or types, truncated tensor data, trailing bytes).
 */
export async function inspectWhisperGgml(path: string): Promise<WhisperGgmlInfo> {
  const fail = (reason: string): never => {
    throw new WhisperModelFileError(path, reason);
  };
  let fh: import("node:fs/promises").FileHandle;
  try {
    fh = await open(path, "r");
  } catch (err) {
    return fail(`cannot open: ${(err as Error).message}`);
  }
  try {
    const { size } = await fh.stat();
    if (size < 4) fail(`truncated: ${size} bytes is not a whisper.cpp model`);
    const r = new FileReader(fh, size, fail);
    const { h, qntVersion, wtypeId } = await readHeader(r, fail);
    await readMelFilters(r, h, fail);
    const vocab = await readVocabulary(r, h, fail);
    const nTensors = await checkTensors(r, h, wtypeId, fail);
    return {
      path,
      bytes: size,
      hparams: h,
      qntVersion,
      weightType: GGML_TYPES.get(wtypeId)!.name,
      vocab,
      specials: whisperSpecialTokens(h.nVocab),
      nTensors,
      modelType: modelTypeName(h),
    };
  } finally {
    await fh.close();
  }
}

type Fail = (reason: string) => never;

/** Magic and hparams, checked; the quantization version split off ftype; the weights' ggml type. */
async function readHeader(r: FileReader, fail: Fail): Promise<{ h: WhisperHparams; qntVersion: number; wtypeId: number }> {
  const magic = await r.u32("magic");
  if (magic !== GGML_FILE_MAGIC) {
    fail(
      `bad magic 0x${magic.toString(16).padStart(8, "0")} (expected 0x67676d6c "ggml"): not a whisper.cpp ggml model` +
        (magic === 0x46554747 ? " (this is a GGUF file; whisper.cpp reads the ggml-*.bin files)" : ""),
    );
  }
  const raw: number[] = [];
  for (const key of HPARAM_ORDER) raw.push(await r.i32(`hparam ${key}`));
  const h = Object.fromEntries(HPARAM_ORDER.map((k, i) => [k, raw[i]])) as unknown as WhisperHparams;
  const qntVersion = Math.floor(h.ftype / GGML_QNT_VERSION_FACTOR);
  h.ftype = h.ftype % GGML_QNT_VERSION_FACTOR;

  const positive: (keyof WhisperHparams)[] = HPARAM_ORDER.filter((k) => k !== "ftype");
  for (const k of positive) {
    if (!(h[k] > 0) || h[k] > 1 << 20) fail(`hparam ${k} = ${h[k]} is out of range`);
  }
  if (h.nVocab < 51864 || h.nVocab > 51866) {
    fail(`hparam nVocab = ${h.nVocab}: whisper vocabularies have 51864 (English), 51865 or 51866 (large-v3) tokens`);
  }
  if (h.nMels !== 80 && h.nMels !== 128) fail(`hparam nMels = ${h.nMels}: whisper uses 80 or 128 mel bins`);
  if (h.nTextState !== h.nAudioState) fail(`n_text_state ${h.nTextState} differs from n_audio_state ${h.nAudioState}`);
  if (h.nAudioState % h.nAudioHead !== 0 || h.nTextState % h.nTextHead !== 0) {
    fail(`the state size ${h.nAudioState} is not divisible by the head counts ${h.nAudioHead}/${h.nTextHead}`);
  }
  const wtype = FTYPE_TO_TYPE.get(h.ftype);
  if (wtype === undefined) fail(`ftype ${h.ftype} is not a weight type this runtime supports`);
  return { h, qntVersion, wtypeId: wtype as number };
}

/** Mel filters: whisper.cpp computes features with these (n_fft = 1 + 400/2 bins). */
async function readMelFilters(r: FileReader, h: WhisperHparams, fail: Fail): Promise<void> {
  const nMel = await r.i32("mel filters n_mel");
  const nFft = await r.i32("mel filters n_fft");
  if (nMel !== h.nMels || nFft !== 201) {
    fail(`mel filter bank is ${nMel}×${nFft}, expected ${h.nMels}×201`);
  }
  r.skip(nMel * nFft * 4, "mel filter bank");
}

/** The token bytes, by id. */
async function readVocabulary(r: FileReader, h: WhisperHparams, fail: Fail): Promise<Uint8Array[]> {
  const nVocabFile = await r.i32("vocabulary size");
  if (nVocabFile <= 0 || nVocabFile > h.nVocab) fail(`vocabulary size ${nVocabFile} is out of range 1..${h.nVocab}`);
  const vocab: Uint8Array[] = new Array(nVocabFile);
  for (let i = 0; i < nVocabFile; i++) {
    const len = await r.u32(`length of token ${i}`);
    if (len > MAX_TOKEN_BYTES) fail(`token ${i} claims ${len} bytes`);
    vocab[i] = len > 0 ? Uint8Array.from(await r.bytes(len, `token ${i}`)) : new Uint8Array(0);
  }
  return vocab;
}

/** Walks the tensor directory to the end of the file, checking each tensor; returns how many there are. */
async function checkTensors(r: FileReader, h: WhisperHparams, wtypeId: number, fail: Fail): Promise<number> {
  const expected = expectedWhisperTensors(h);
  const seen = new Set<string>();
  while (r.remaining() > 0) {
    if (r.remaining() < 12) fail(`truncated: ${r.remaining()} stray bytes after the last tensor`);
    const at = r.pos;
    const nDims = await r.i32("tensor n_dims");
    const nameLen = await r.i32("tensor name length");
    const ttype = await r.i32("tensor type");
    if (nDims < 1 || nDims > 4) fail(`tensor at offset ${at}: n_dims ${nDims} out of range`);
    if (nameLen < 1 || nameLen > MAX_NAME_BYTES) fail(`tensor at offset ${at}: name length ${nameLen} out of range`);
    const ne: number[] = [];
    for (let i = 0; i < nDims; i++) ne.push(await r.i32("tensor dims"));
    const name = (await r.bytes(nameLen, "tensor name")).toString("latin1");
    const exp = expected.get(name);
    if (!exp) fail(`unknown tensor '${name}' at offset ${at}`);
    if (seen.has(name)) fail(`tensor '${name}' appears twice`);
    seen.add(name);
    const nelements = checkTensorShape(name, ne, exp as ExpectedTensor, fail);
    const declared = checkTensorType(name, ttype, nelements, tensorType((exp as ExpectedTensor).cls, wtypeId), fail);
    r.skip(ggmlBytes(declared, nelements), `data of tensor '${name}'`);
  }
  const missing = [...expected.keys()].filter((n) => !seen.has(n));
  if (missing.length > 0) {
    fail(
      `truncated or incomplete: ${missing.length} of ${expected.size} tensors missing (first: '${missing[0]}')`,
    );
  }
  return seen.size;
}

/** The tensor's element count, once its dims are the expected ones. */
function checkTensorShape(name: string, ne: number[], e: ExpectedTensor, fail: Fail): number {
  const full = [...ne, 1, 1, 1].slice(0, 3);
  const want = [...e.ne, 1, 1, 1].slice(0, 3);
  const nelements = ne.reduce((p, d) => p * d, 1);
  if (ne.some((d) => d <= 0) || full.join() !== want.join() || nelements !== e.ne.reduce((p, d) => p * d, 1)) {
    fail(`tensor '${name}' has shape [${ne.join(", ")}], expected [${e.ne.join(", ")}]`);
  }
  return nelements;
}

/** The type whisper.cpp will read the tensor as (`declared`), once the stored type `ttype` fits it. */
function checkTensorType(name: string, ttype: number, nelements: number, declared: number, fail: Fail): number {
  const fileType = GGML_TYPES.get(ttype);
  if (!fileType) fail(`tensor '${name}' has unsupported ggml type ${ttype}`);
  const declaredInfo = GGML_TYPES.get(declared)!;
  // whisper.cpp: (nelements * type_size(ttype)) / blck_size(declared) must equal nbytes(declared).
  if (
    (nelements * fileType!.size) / declaredInfo.blck !== ggmlBytes(declared, nelements) ||
    nelements % declaredInfo.blck !== 0
  ) {
    fail(`tensor '${name}' is stored as ${fileType!.name}, the model's ftype needs ${declaredInfo.name}`);
  }
  return declared;
}

/**
 * The mel filter bank whisper uses: librosa.filters.mel(sr=16000, n_fft=400, n_mels) with
 * Slaney's mel scale and area normalisation, as whisper's mel_filters.npz holds. Row-major
 * [nMels][201] float32.
 */
export function whisperMelFilters(nMels: number, sampleRate = 16000, nFft = 400): Float32Array {
  const nBins = 1 + nFft / 2;
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logStep = Math.log(6.4) / 27;
  const hzToMel = (f: number) => (f >= minLogHz ? minLogMel + Math.log(f / minLogHz) / logStep : f / fSp);
  const melToHz = (m: number) => (m >= minLogMel ? minLogHz * Math.exp(logStep * (m - minLogMel)) : fSp * m);
  const maxMel = hzToMel(sampleRate / 2);
  const melF: number[] = [];
  for (let i = 0; i < nMels + 2; i++) melF.push(melToHz((maxMel * i) / (nMels + 1)));
  const out = new Float32Array(nMels * nBins);
  for (let m = 0; m < nMels; m++) {
    const lo = melF[m]!;
    const ce = melF[m + 1]!;
    const hi = melF[m + 2]!;
    const enorm = 2 / (hi - lo);
    for (let k = 0; k < nBins; k++) {
      const f = (k * sampleRate) / nFft;
      const lower = (f - lo) / (ce - lo);
      const upper = (hi - f) / (hi - ce);
      out[m * nBins + k] = Math.max(0, Math.min(lower, upper)) * enorm;
    }
  }
  return out;
}

/** Whisper's languages in token order (whisper.cpp g_lang); large-v3 adds "yue". */
export const WHISPER_LANGUAGES: readonly string[] = (
  "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg lt la mi ml " +
  "cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so af oc ka be tg sd gu am " +
  "yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su yue"
).split(" ");
