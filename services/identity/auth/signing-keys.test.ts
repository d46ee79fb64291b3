import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveSigningKeys } from "./signing-keys.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
const dataDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "arabicstt-keys-"));
  dirs.push(dir);
  return dir;
};

describe("JWT signing keys", () => {
  it("are made once under DATA_DIR and reused after a restart, readable by the owner only", async () => {
    const dir = await dataDir();
    const [first] = await resolveSigningKeys(undefined, dir);
    const [again] = await resolveSigningKeys(undefined, dir);
    expect(again).toEqual(first);
    expect(first!.secret.length).toBeGreaterThanOrEqual(32);
    const file = path.join(dir, "secrets", "jwt-signing.key");
    expect(await readFile(file, "utf8")).toBe(`${first!.kid}:${first!.secret}`);
    expect((await stat(file)).mode & 0o077).toBe(0);
  });

  it("agree when several processes start together", async () => {
    const dir = await dataDir();
    const results = await Promise.all([1, 2, 3, 4].map(() => resolveSigningKeys(undefined, dir)));
    expect(new Set(results.map((keys) => keys[0]!.secret)).size).toBe(1);
  });

  it("come from JWT_SIGNING_KEYS when set, and nothing is written", async () => {
    const dir = await dataDir();
    const configured = [{ kid: "k1", secret: "x".repeat(40) }];
    expect(await resolveSigningKeys(configured, dir)).toBe(configured);
    await expect(stat(path.join(dir, "secrets"))).rejects.toThrow();
  });
});
