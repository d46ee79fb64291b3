// .env.example, the README's settings table and the config reader name the same variables, and every
// default .env.example writes out is the README's and the one loadConfig applies when the variable is unset.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { configVariables, loadConfig } from "./config.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

interface ExampleEntry {
  name: string;
  /** The value when the line is active; undefined when it is commented out (no fixed default). */
  value: string | undefined;
}

/** `NAME=value` lines, and `# NAME=` lines that stand for a variable with no fixed default. */
function exampleEntries(): ExampleEntry[] {
  return readFileSync(path.join(root, ".env.example"), "utf8")
    .split("\n")
    .flatMap((line): ExampleEntry[] => {
      const active = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      if (active) return [{ name: active[1]!, value: active[2]! }];
      const commented = /^# ([A-Z][A-Z0-9_]*)=/.exec(line);
      return commented ? [{ name: commented[1]!, value: undefined }] : [];
    });
}

/** Each variable of README.md's settings table with the default its row gives, when that is a plain literal. */
function readmeDefaults(): Map<string, string | undefined> {
  const lines = readFileSync(path.join(root, "README.md"), "utf8").split("\n");
  const header = lines.indexOf("| variable | default | meaning |");
  expect(header, "README.md has the settings table").toBeGreaterThan(0);
  const rows: string[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line);
  }
  const defaults = new Map<string, string | undefined>();
  for (const row of rows) {
    const [names = "", fallback = ""] = row.replace(/^\|/, "").split(" | ").map((cell) => cell.trim());
    const variables = [...names.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!);
    // `a`, `b`, `c` defaults line up with the row's variables; a default naming another setting or DATA_DIR is derived.
    const literals = fallback.startsWith("`") ? [...fallback.matchAll(/`([^`]*)`/g)].map((m) => m[1]!) : [];
    variables.forEach((name, i) => {
      const literal = literals.length === variables.length ? literals[i] : undefined;
      defaults.set(name, literal !== undefined && !/[A-Z_]{4,}|\$/.test(literal) ? literal : undefined);
    });
  }
  return defaults;
}

describe(".env.example", () => {
  const entries = exampleEntries();
  const readme = readmeDefaults();

  it("names each variable once", () => {
    const names = entries.map((e) => e.name);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
  });

  it("holds every variable of the README's settings table, in its order, and no other", () => {
    expect(entries.map((e) => e.name)).toEqual([...readme.keys()]);
  });

  it("the README documents every variable the config reader reads", () => {
    expect([...configVariables].filter((name) => !readme.has(name))).toEqual([]);
  });

  it("writes out exactly the README's literal defaults, and comments out the rest", () => {
    const mismatches = entries.filter((e) => e.value !== readme.get(e.name)).map((e) => `${e.name}: .env.example ${e.value ?? "(commented)"}, README ${readme.get(e.name) ?? "(no literal default)"}`);
    expect(mismatches).toEqual([]);
  });

  it("its values are the config reader's defaults: loading them changes nothing", () => {
    const written = Object.fromEntries(entries.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    expect(Object.keys(written).length).toBeGreaterThan(40);
    expect(loadConfig(written)).toEqual(loadConfig({}));
  });
});
