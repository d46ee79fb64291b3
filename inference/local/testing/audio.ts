// Test audio made the way STYLE.md asks: generated with sox and espeak-ng (both Debian packages on
// every build machine) into a temporary folder, then read back as the models take it, 16 kHz mono
// FP32. sox does every conversion and resampling, so a test exercises the same kind of signal
// path a real upload takes (8 kHz telephone audio, μ-law, 22.05 kHz TTS) rather than audio that
// was already ideal when it was made.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** The rate every model of the repository takes. */
export const MODEL_SAMPLE_RATE = 16_000;

/** A temporary folder for one test file's audio; `remove()` it in afterAll. */
export interface AudioDir {
  readonly dir: string;
  /** A path inside the folder. */
  path(name: string): string;
  remove(): Promise<void>;
}

export async function createAudioDir(prefix = "arabicstt-audio-"): Promise<AudioDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs sox with these arguments; its stderr becomes the error message when it fails. */
export async function sox(...args: string[]): Promise<void> {
  await run("sox", args);
}

/** Speaks Arabic text with espeak-ng's Arabic voice into a WAV file (22.05 kHz mono). */
export async function speakArabic(text: string, path: string): Promise<void> {
  await run("espeak-ng", ["-v", "ar", "-w", path, text]);
}

/** Row and column frequencies (Hz) of each telephone key, ITU-T Q.23. */
const KEYPAD: Record<string, [number, number]> = {};
["123A", "456B", "789C", "*0#D"].forEach((keys, r) =>
  [...keys].forEach((key, c) => (KEYPAD[key] = [[697, 770, 852, 941][r]!, [1209, 1336, 1477, 1633][c]!])),
);

export interface SoxDtmfOptions {
  /** Sample rate of the file. Default 8000 (telephone). */
  rate?: number;
  /** "signed-integer" (16-bit PCM, default) or "u-law" (8-bit G.711). */
  encoding?: "signed-integer" | "u-law";
  toneMs?: number;
  gapMs?: number;
  /** Silence before the first key. */
  leadMs?: number;
}

/**
 * Dials `keys` into a WAV file with sox: each key's two sines (each peaking at 0.35 of full scale) for
 * `toneMs`, then `gapMs` of silence. Returns where sox put each tone, in seconds.
 */
export async function soxDtmf(keys: string, path: string, options: SoxDtmfOptions = {}): Promise<{ key: string; start: number; end: number }[]> {
  const { rate = 8000, encoding = "signed-integer", toneMs = 100, gapMs = 100, leadMs = 200 } = options;
  const tone = toneMs / 1000;
  const gap = gapMs / 1000;
  const lead = leadMs / 1000;
  // One file per key (its tone, then the gap; the lead before the first), joined by one last sox run.
  const parts: string[] = [];
  const times: { key: string; start: number; end: number }[] = [];
  for (const [i, key] of [...keys].entries()) {
    const pair = KEYPAD[key];
    if (!pair) throw new Error(`no DTMF key ${JSON.stringify(key)}`);
    const part = `${path}.${i}.wav`;
    const before = i === 0 ? lead : 0;
    await sox("-D", "-n", "-r", String(rate), "-c", "1", "-b", "16", part, "synth", String(tone), "sine", String(pair[0]), "sine", String(pair[1]), "channels", "1", "pad", String(before), String(gap));
    parts.push(part);
    const start = lead + i * (tone + gap);
    times.push({ key, start, end: start + tone });
  }
  const format = encoding === "u-law" ? ["-e", "u-law", "-b", "8"] : ["-e", "signed-integer", "-b", "16"];
  await sox("-D", ...parts, ...format, path);
  await Promise.all(parts.map((part) => rm(part, { force: true })));
  return times;
}

/** Length of an audio file in seconds, as sox reads its header. */
export async function audioSeconds(path: string): Promise<number> {
  return Number((await run("sox", ["--i", "-D", path])).toString("utf8").trim());
}

/** Any audio file sox reads, as 16 kHz mono FP32 samples (resampled by sox, without dither). */
export async function readAudio16k(path: string): Promise<Float32Array> {
  const bytes = await run("sox", ["-D", path, "-t", "raw", "-r", String(MODEL_SAMPLE_RATE), "-c", "1", "-e", "floating-point", "-b", "32", "-"]);
  // A copy: the child's buffer need not be 4-byte aligned.
  return new Float32Array(new Uint8Array(bytes).buffer, 0, bytes.length / 4);
}

/** Runs a tool to completion; its stdout, or its stderr as the error. */
async function run(command: string, args: string[]): Promise<Buffer> {
  try {
    return (await exec(command, args, { encoding: "buffer", maxBuffer: 512 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as Error & { stderr?: Buffer; code?: string };
    if (e.code === "ENOENT") throw new Error(`${command} is not installed; the tests generate audio with it (apt-get install ${command})`);
    throw new Error(`${command} ${args.join(" ")} failed: ${(e.stderr?.toString("utf8") || e.message).trim()}`);
  }
}
