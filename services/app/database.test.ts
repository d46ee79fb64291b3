import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Organization } from "../identity/model/organization.entity.js";
import { lockDataDir } from "../platform/database/data-dir-lock.js";
import { entities } from "./entities.js";
import { DatabaseOpenError, openDatabase } from "../platform/database/database.js";
import { createTestDatabase } from "./testing.js";
import { testEnvironment } from "../platform/config/test-environment.js";

const serverUrl = testEnvironment().databaseUrl;
const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "arabicstt-db-test-"));
  tempDirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("openDatabase", () => {
  it("rejects with an error naming the database, without its password, when the server is down", async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const error = await openDatabase({ url: "postgres://app:s3cret@127.0.0.1:1/arabicstt", dataDir: "" }, entities).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseOpenError);
    expect((error as Error).message).toContain("postgres://app@127.0.0.1:1/arabicstt");
    expect((error as Error).message).not.toContain("s3cret");
  });

  it("answers ping and closes more than once without complaint", async () => {
    const { db, cleanup } = await createTestDatabase();
    try {
      expect(db.mode).toBe(serverUrl ? "postgres" : "pglite");
      await expect(db.ping()).resolves.toBeUndefined();
    } finally {
      await cleanup();
    }
    await expect(db.close()).resolves.toBeUndefined();
  });
});

describe.skipIf(serverUrl)("embedded PGlite", () => {
  it("creates, migrates, locks and persists its data under <dataDir>/pglite across close and reopen", async () => {
    const dataDir = await tempDir();
    let started = performance.now();
    const first = await openDatabase({ dataDir }, entities);
    const coldMs = performance.now() - started;
    expect((await readdir(join(dataDir, "pglite"))).sort()).toEqual(expect.arrayContaining(["PG_VERSION", "arabicstt.lock", "base"]));
    // The directory is this process's while it is open.
    await expect(openDatabase({ dataDir }, entities)).rejects.toThrow(/in use by process/);
    const em = first.fork();
    const org = em.create(Organization, { name: "باقية", slug: "persisted" });
    await em.flush();
    await first.close();

    started = performance.now();
    const second = await openDatabase({ dataDir }, entities);
    const warmMs = performance.now() - started;
    try {
      expect(second.mode).toBe("pglite");
      // MikroORM reaches PGlite through the socket server on a loopback port the OS picked.
      expect(second.orm.config.get("clientUrl")).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      expect(await second.fork().findOneOrFail(Organization, { slug: "persisted" })).toMatchObject({ id: org.id, name: "باقية" });
      expect(await second.orm.migrator.getPendingMigrations()).toEqual([]);
    } finally {
      await second.close();
    }
    console.info(`PGlite open: new data directory ${Math.round(coldMs)} ms, existing ${Math.round(warmMs)} ms`);
  });

  it("takes over a lock file left by a process that is gone", async () => {
    const dir = await tempDir();
    // Far above any pid_max, so no such process can exist.
    await writeFile(join(dir, "arabicstt.lock"), "2147483646");
    const unlock = await lockDataDir(dir);
    expect(await readFile(join(dir, "arabicstt.lock"), "utf8")).toBe(String(process.pid));
    await unlock();
  });
});

describe.runIf(serverUrl)("PostgreSQL server", () => {
  it("lets two processes that start together migrate one database without tripping over each other", async () => {
    const { db, cleanup } = await createTestDatabase();
    try {
      const url = db.orm.config.get("clientUrl")!;
      await db.orm.migrator.down({ to: 0 });
      const [a, b] = await Promise.all([openDatabase({ url, dataDir: "" }, entities), openDatabase({ url, dataDir: "" }, entities)]);
      await Promise.all([a.close(), b.close()]);
      expect(await db.orm.migrator.getPendingMigrations()).toEqual([]);
    } finally {
      await cleanup();
    }
  });
});
