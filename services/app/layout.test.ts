// The layout's rules hold the tree (npm run lint runs the same checks), and each rule catches what it is
// there for: a miniature tree with one deliberate violation per rule must fail with that rule's name.
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const depcruise = path.join(root, "node_modules/.bin/depcruise");
const rules = path.join(root, ".dependency-cruiser.cjs");
const envCheck = path.join(root, "services/platform/config/check-env-reads.sh");
const made: string[] = [];

afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

/** A tree of the given files (path → source), with the tsconfig the rules resolve imports through. */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "arabicstt-layout-"));
  made.push(dir);
  const all = { "tsconfig.json": JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext" } }), ...files };
  for (const [file, source] of Object.entries(all)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), source);
  }
  return dir;
}

/** Runs a command in `cwd`; its exit code and everything it printed. */
async function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

const cruise = async (files: Record<string, string>) => {
  const dir = await tree(files);
  const folders = [...new Set(Object.keys(files).map((f) => f.split("/")[0]!))];
  return run(depcruise, [...folders, "--config", rules], dir);
};

const imports = (...targets: string[]) => targets.map((t, i) => `import * as m${i} from "${t}";\nexport const v${i} = m${i};\n`).join("");

describe("the layout's rules", () => {
  it("hold on the repository", async () => {
    const { code, output } = await run(depcruise, ["gateway", "services", "inference", "deploy", "proto", "--config", rules], root);
    expect(output).toContain("no dependency violations found");
    expect(code).toBe(0);
    expect((await run("bash", [envCheck], root)).code).toBe(0);
  });

  it("are the levels the README's map shows, for every folder of services/", async () => {
    const LEVELS = JSON.parse(await readFile(path.join(root, "services/levels.json"), "utf8")) as Record<string, number>;
    const readme = await readFile(path.join(root, "README.md"), "utf8");
    const mapped: Record<string, number> = {};
    for (const row of readme.split("\n").filter((line) => /^\| `services\//.test(line))) {
      const [folders, level] = row.split("|").slice(1, 3).map((cell) => cell.trim());
      for (const [, name] of folders!.matchAll(/`services\/([a-z-]+)\/`/g)) mapped[name!] = Number(level);
    }
    expect(mapped).toEqual(LEVELS);
    // Folders git tracks (an emptied folder a move left behind in a checkout is not one).
    const tracked = (await exec("git", ["ls-files", "services"], { cwd: root })).stdout.split("\n").filter(Boolean);
    const folders = [...new Set(tracked.filter((f) => f.split("/").length > 2).map((f) => f.split("/")[1]!))];
    expect(folders.sort()).toEqual(Object.keys(LEVELS).sort());
  });

  it("accept imports that run down the layers", async () => {
    const { code, output } = await cruise({
      "gateway/main.ts": imports("../services/app/compose.js"),
      "services/app/compose.ts": imports("../media/media.js", "../platform/config.js"),
      "services/media/media.ts": imports("../identity/auth/accounts.js", "../platform/config.js"),
      "services/identity/auth/accounts.ts": imports("../../platform/config.js"),
      "services/platform/config.ts": imports("../../inference/client/client.js"),
      "inference/client/client.ts": "export const client = 1;\n",
    });
    expect(output).toContain("no dependency violations found");
    expect(code).toBe(0);
  });

  it.each([
    ["no-folder-cycle", { "services/media/a.ts": imports("../usage/b.js"), "services/usage/b.ts": imports("../media/c.js"), "services/media/c.ts": "export const c = 1;\n" }],
    ["no-module-cycle", { "services/media/a.ts": imports("./b.js"), "services/media/b.ts": imports("./a.js") }],
    ["inference-is-a-library", { "inference/client/a.ts": imports("../../services/platform/logger.js"), "services/platform/logger.ts": "export const l = 1;\n" }],
    ["services-below-gateway", { "services/media/a.ts": imports("../../gateway/testing/ports.js"), "gateway/testing/ports.ts": "export const p = 1;\n" }],
    ["services-platform-imports-only-lower-levels", { "services/platform/database/db.ts": imports("../../media/media.entity.js"), "services/media/media.entity.ts": "export const m = 1;\n" }],
    ["services-audio-imports-only-lower-levels", { "services/audio/a.ts": imports("../speech/b.js"), "services/speech/b.ts": "export const b = 1;\n" }],
    ["services-identity-imports-only-lower-levels", { "services/identity/auth/a.ts": imports("../../jobs/job.js"), "services/jobs/job.ts": "export const j = 1;\n" }],
    ["services-jobs-imports-only-lower-levels", { "services/jobs/a.ts": imports("../app/entities.js"), "services/app/entities.ts": "export const e = 1;\n" }],
    ["services-media-imports-only-lower-levels", { "services/media/a.ts": imports("../transcripts/b.js"), "services/transcripts/b.ts": "export const b = 1;\n" }],
    ["every-services-folder-has-a-level", { "services/newthing/a.ts": imports("../platform/b.js"), "services/platform/b.ts": "export const b = 1;\n" }],
    ["gateway-root-only-composes", { "gateway/server.ts": imports("../services/app/compose.js"), "services/app/compose.ts": "export const c = 1;\n" }],
    ["cli-is-a-client", { "gateway/cli/a.ts": imports("../../services/platform/logger.js"), "services/platform/logger.ts": "export const l = 1;\n" }],
    ["telemetry-is-a-leaf", { "inference/telemetry/spans.ts": imports("../../services/platform/logger.js"), "services/platform/logger.ts": "export const l = 1;\n" }],
  ])("fail on a deliberate violation of %s", async (rule, files) => {
    const { code, output } = await cruise(files);
    expect(output).toContain(`error ${rule}:`);
    expect(code).not.toBe(0);
  });

  it("fail on reading the environment outside the config modules, and only there", async () => {
    // Spelled in two pieces so this file itself does not trip the rule it tests.
    const read = `export const port = ${["process", "env"].join(".")}.PORT;\n`;
    const outside = await tree({ "services/media/a.ts": read });
    const failed = await run("bash", [envCheck, outside], outside);
    expect(failed.code).toBe(1);
    expect(failed.output).toContain("services/media/a.ts");
    const inside = await tree({ "services/platform/config/config.ts": read });
    expect((await run("bash", [envCheck, inside], inside)).code).toBe(0);
    // The CLI's entry point reads its own environment; the rest of the CLI takes it as an argument.
    const cli = await tree({ "gateway/cli/main.ts": read });
    expect((await run("bash", [envCheck, cli], cli)).code).toBe(0);
    const cliInside = await tree({ "gateway/cli/connection.ts": read });
    expect((await run("bash", [envCheck, cliInside], cliInside)).code).toBe(1);
  });
});
