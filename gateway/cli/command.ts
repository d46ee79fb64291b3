// What every command is: its name, its help, its options (node:util parseArgs), and what it runs with.
import type { ParseArgsConfig } from "node:util";
import type { Connection } from "./connection.js";
import type { Io } from "./io.js";
import type { ProfileStore } from "./profile.js";

export type Options = NonNullable<ParseArgsConfig["options"]>;
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Context {
  io: Io;
  env: Readonly<Record<string, string | undefined>>;
  /** `--json`: machine-readable results on stdout. */
  json: boolean;
  connection: Connection;
  store: ProfileStore;
  /** Aborted on the first SIGINT: a command finishes what it has (a live stream gets its finals) and stops. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The full `--help` text, after the usage line. */
  help: string;
  usage: string;
  options: Options;
  run(ctx: Context, values: Values, positionals: string[]): Promise<void>;
}

/** A string option's value, undefined when absent. */
export function stringOption(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/** Every value of a repeatable string option, comma lists split (`--scope a,b --scope c`). */
export function listOption(values: Values, name: string): string[] {
  const value = values[name];
  const raw = Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
  return raw.flatMap((v) => String(v).split(",")).map((v) => v.trim()).filter(Boolean);
}
