// Runs NIST sclite (Debian package `sctk`, through its `sctk` wrapper) on .trn files and reads back
// what it counted, so tests can hold our WER/CER to it. Only tests import this file.

import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { childEnvironment } from "../../platform/config/test-environment.js";

const run = promisify(execFile);

export interface ScliteCounts {
  correct: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  /** N: reference tokens. */
  referenceLength: number;
}

export interface ScliteAlignedPair {
  op: "correct" | "substitution" | "deletion" | "insertion";
  ref: string | null;
  hyp: string | null;
}

export interface ScliteReport {
  /** The command line that produced it, for a failing test's message. */
  command: string;
  /** The "Sum" line of `-o rsum`. */
  total: ScliteCounts;
  /** Per utterance id (without parentheses), from `-o pra`. */
  utterances: Map<string, ScliteCounts>;
  /** Per utterance id, the alignment from `-o sgml`. */
  alignments: Map<string, ScliteAlignedPair[]>;
}

export type ScliteMode = "words" | "characters-noascii" | "characters";

/**
 * Whether `sctk` is on the PATH; if not, installs it with apt-get where that needs no password (root or
 * passwordless sudo). Returns why it is unavailable, or null when it is ready.
 */
export async function ensureSctk(): Promise<string | null> {
  if (await hasSctk()) return null;
  const root = process.getuid?.() === 0;
  const sudo = !root && (await succeeds("sudo", ["-n", "true"]));
  if (!root && !sudo) return "sctk is not installed and apt-get needs a password: apt-get install sctk";
  const env = childEnvironment({ DEBIAN_FRONTEND: "noninteractive" });
  const aptGet = (...args: string[]) =>
    root ? run("apt-get", args, { env }) : run("sudo", ["-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", ...args]);
  const install = () => aptGet("install", "-y", "-qq", "--no-install-recommends", "sctk");
  try {
    // A fresh machine may have no package lists yet; update only when the first try fails.
    await install().catch(async () => {
      await aptGet("update", "-qq");
      await install();
    });
  } catch (error) {
    return `sctk is not installed and apt-get install sctk failed: ${(error as Error).message.split("\n")[0]}`;
  }
  return (await hasSctk()) ? null : "apt-get install sctk succeeded but `sctk` is not on the PATH";
}

async function hasSctk(): Promise<boolean> {
  // `sctk sclite` with no arguments prints its usage to stderr and exits 1; the usage names its version.
  const result = await run("sctk", ["sclite"]).catch((error: { stderr?: string }) => error);
  return typeof result.stderr === "string" && result.stderr.includes("sclite Version");
}

async function succeeds(file: string, args: string[]): Promise<boolean> {
  return run(file, args).then(
    () => true,
    () => false,
  );
}

/** One `.trn` line per utterance: `text (id)`. The id's part before `_` is the speaker (`-i rm`). */
export function toTrn(utterances: ReadonlyArray<{ id: string; text: string }>): string {
  return utterances.map((u) => `${u.text} (${u.id})\n`).join("");
}

/**
 * Scores hyp.trn against ref.trn in `dir` and parses the reports. `mode` picks words, `-c NOASCII`
 * (characters, ASCII runs kept whole) or plain `-c`.
 */
export async function runSclite(dir: string, refTrn: string, hypTrn: string, mode: ScliteMode): Promise<ScliteReport> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "ref.trn"), refTrn, "utf8");
  await writeFile(join(dir, "hyp.trn"), hypTrn, "utf8");
  const name = mode;
  const args = ["sclite", "-r", "ref.trn", "trn", "-h", "hyp.trn", "trn", "-e", "utf-8", "-i", "rm"];
  if (mode === "characters-noascii") args.push("-c", "NOASCII");
  if (mode === "characters") args.push("-c");
  args.push("-o", "rsum", "pra", "sgml", "-O", dir, "-n", name);
  await run("sctk", args, { cwd: dir });
  const [raw, pra, sgml] = await Promise.all(
    ["raw", "pra", "sgml"].map((ext) => readFile(join(dir, `${name}.${ext}`), "utf8")),
  );
  return {
    command: `sctk ${args.join(" ")}`,
    total: parseRsumTotal(raw!),
    utterances: parsePra(pra!),
    alignments: parseSgml(sgml!),
  };
}

/** `| Sum  |    4     17 |   13      2      2      3      7      3 |`: #Snt #Wrd | Corr Sub Del Ins Err S.Err. */
export function parseRsumTotal(raw: string): ScliteCounts {
  const line = raw.split("\n").find((l) => /^\s*\|\s*Sum(\/Avg)?\s*\|/u.test(l));
  if (!line) throw new Error(`no Sum line in sclite's rsum report:\n${raw}`);
  const [, , sizes, scores] = line.split("|");
  const [, words] = sizes!.trim().split(/\s+/u).map(Number);
  const [correct, substitutions, deletions, insertions] = scores!.trim().split(/\s+/u).map(Number);
  return { correct: correct!, substitutions: substitutions!, deletions: deletions!, insertions: insertions!, referenceLength: words! };
}

/** `id: (spk_u1)` followed by `Scores: (#C #S #D #I) 1 1 1 0`. */
export function parsePra(pra: string): Map<string, ScliteCounts> {
  const utterances = new Map<string, ScliteCounts>();
  for (const match of pra.matchAll(/^id: \((.*)\)\n(?:.*\n)*?Scores: \(#C #S #D #I\) (\d+) (\d+) (\d+) (\d+)/gmu)) {
    const [c, s, d, i] = match.slice(2, 6).map(Number) as [number, number, number, number];
    utterances.set(match[1]!, { correct: c, substitutions: s, deletions: d, insertions: i, referenceLength: c + s + d });
  }
  return utterances;
}

const SGML_OPS = { C: "correct", S: "substitution", D: "deletion", I: "insertion" } as const;

/** `<PATH id="(spk_u1)" ...>` then `C,"a","a":D,"b",:I,,"c"`. Tokens hold no `"` after normalisation. */
export function parseSgml(sgml: string): Map<string, ScliteAlignedPair[]> {
  const alignments = new Map<string, ScliteAlignedPair[]>();
  for (const path of sgml.matchAll(/<PATH id="\((.*?)\)"[^>]*>\n(.*)\n<\/PATH>/gu)) {
    const pairs: ScliteAlignedPair[] = [];
    for (const step of path[2]!.matchAll(/([CSDI]),(?:"([^"]*)")?,(?:"([^"]*)")?(?::|$)/gu)) {
      pairs.push({ op: SGML_OPS[step[1] as keyof typeof SGML_OPS], ref: step[2] ?? null, hyp: step[3] ?? null });
    }
    alignments.set(path[1]!, pairs);
  }
  return alignments;
}
