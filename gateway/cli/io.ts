// What the CLI writes: results on stdout (plain lines, or JSON with --json), everything about progress on
// stderr, so `arabicstt transcribe call.wav > call.txt` keeps only the transcript. Arabic lines are wrapped in
// Unicode isolates on a terminal, so a line mixing Arabic words with digits or Latin ids reads right to left as
// one unit; a pipe or file gets the text unchanged.

/** A stream the CLI writes to: process.stdout/stderr, or a test's capture. */
export interface Output {
  write(chunk: string | Uint8Array): boolean;
  once(event: "drain", listener: () => void): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Io {
  stdout: Output;
  stderr: Output;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
}

/** RIGHT-TO-LEFT ISOLATE and POP DIRECTIONAL ISOLATE (Unicode 6.3, UAX #9). */
const RLI = "\u2067";
const PDI = "\u2069";
/** Letters of the right-to-left scripts: Hebrew, Arabic, Syriac, Thaana, NKo, and the Arabic presentation forms. */
const RTL_LETTER = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;

/** The line wrapped in an RTL isolate when it holds right-to-left letters and goes to a terminal. */
export function isolate(text: string, output: Pick<Output, "isTTY">): string {
  return output.isTTY && RTL_LETTER.test(text) ? `${RLI}${text}${PDI}` : text;
}

/** Writes, then waits for the stream to drain when it asked to (large exports to a pipe). */
export async function writeAll(output: Output, chunk: string | Uint8Array): Promise<void> {
  if (!output.write(chunk)) await new Promise<void>((resolve) => output.once("drain", resolve));
}

/** A line on stdout, isolated when it is Arabic on a terminal. */
export function printLine(io: Io, text: string): void {
  io.stdout.write(`${isolate(text, io.stdout)}\n`);
}

/** A line on stderr (what the CLI is doing), isolated the same way. */
export function note(io: Io, text: string): void {
  io.stderr.write(`${isolate(text, io.stderr)}\n`);
}

/** Rows as columns padded to their widest cell (tabs, which a terminal aligns badly, would not do). */
export function printTable(io: Io, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  io.stdout.write(`${line(header)}\n`);
  for (const row of rows) io.stdout.write(`${isolate(line(row), io.stdout)}\n`);
}

/**
 * One line of stderr rewritten in place (`\r` and erase-line) on a terminal: a progress bar or a partial
 * result. Off a terminal nothing is drawn, so logs of a script hold only the lines that matter.
 */
export class StatusLine {
  private shown = "";

  constructor(private readonly output: Output) {}

  get live(): boolean {
    return Boolean(this.output.isTTY);
  }

  show(text: string): void {
    if (!this.live || text === this.shown) return;
    const width = Math.max(20, (this.output.columns ?? 80) - 1);
    // Cut to the terminal's width: a wrapped line cannot be rewritten with one `\r`.
    const cut = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    this.output.write(`\r\x1b[2K${isolate(cut, this.output)}`);
    this.shown = text;
  }

  clear(): void {
    if (!this.live || !this.shown) return;
    this.output.write("\r\x1b[2K");
    this.shown = "";
  }
}

/** `[#########-----------]  45% label`: a bar of `width` cells for a fraction from 0 to 1. */
export function progressBar(fraction: number, label: string, width = 24): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(f * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.floor(f * 100)).padStart(3)}% ${label}`;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
