// Issue 17's keeper for swallowed failures: production code may not drop an error silently. Every empty
// catch (`.catch(() => undefined)`, `.catch(() => {})`, `.catch(() => null)`, `catch {}`) in gateway/,
// services/ and inference/ must say why nothing is lost, in a comment containing "swallowed:" on its line
// or the three lines above it; anything else logs the failure. A text rule: the patterns are unambiguous.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const EMPTY_CATCH = /\.catch\(\(\) => (undefined|\{\}|null)\)|catch (\(\w*\) )?\{\s*\}/;

async function productionFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (["node_modules", "gen", "testing", "bench"].includes(entry.name)) continue;
      out.push(...(await productionFiles(rel)));
    } else if (entry.name.endsWith(".ts") && !/(\.test|^testing|-testing)\.ts$/.test(entry.name)) {
      out.push(rel);
    }
  }
  return out;
}

describe("swallowed failures", () => {
  it("every empty catch in production code says why nothing is lost", async () => {
    const unexplained: string[] = [];
    for (const dir of ["gateway", "services", "inference"]) {
      for (const file of await productionFiles(dir)) {
        const lines = (await readFile(path.join(root, file), "utf8")).split("\n");
        lines.forEach((line, i) => {
          if (!EMPTY_CATCH.test(line)) return;
          const context = lines.slice(Math.max(0, i - 3), i + 1).join("\n");
          if (!/swallowed:/.test(context)) unexplained.push(`${file}:${i + 1}: ${line.trim()}`);
        });
      }
    }
    expect(unexplained).toEqual([]);
  });

  it("finds an unexplained one (the rule is not vacuous)", () => {
    expect(EMPTY_CATCH.test("await thing().catch(() => undefined);")).toBe(true);
    expect(EMPTY_CATCH.test("} catch {}")).toBe(true);
    expect(EMPTY_CATCH.test("await thing().catch((err) => logger.warn({ err }, 'x'));")).toBe(false);
  });
});
