import { createHash, randomUUID } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { knex } from "@mikro-orm/postgresql";
import { type Database, type EntityList, openDatabase } from "./database.js";
import { migrationsDir } from "./migrations/index.js";

export interface TestDatabase {
  db: Database;
  /** The server database's URL, for a process that opens it itself (a replica); none on PGlite, which one process owns. */
  url?: string;
  /** Closes the database and deletes it (the server database, or the PGlite directory). */
  cleanup(): Promise<void>;
}

/**
 * A migrated database of its own for one test file: on the server named by DATABASE_URL when it is set (a new
 * database per call, dropped on cleanup), otherwise PGlite in a new temporary directory. The suites run
 * unchanged on both engines.
 */
export async function createTestDatabaseOf(entities: EntityList, url: string | undefined): Promise<TestDatabase> {
  return url ? createServerDatabase(url, entities) : createPgliteDatabase(entities);
}

/**
 * An empty, uniquely named database on the server of `serverUrl`, for tests that open the
 * database themselves (a whole platform, a spawned process). `drop` removes it.
 */
export async function createServerDatabaseUrl(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `arabicstt_test_${randomUUID().replaceAll("-", "").slice(0, 20)}`;
  // Any existing database serves as the maintenance connection for CREATE/DROP DATABASE.
  await onServer(serverUrl, `create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  // WITH (FORCE) (PG 13+) also ends connections a failed test may have left behind.
  return { url: url.toString(), drop: () => onServer(serverUrl, `drop database if exists "${name}" with (force)`) };
}

async function createServerDatabase(serverUrl: string, entities: EntityList): Promise<TestDatabase> {
  const { url, drop } = await createServerDatabaseUrl(serverUrl);
  let db: Database;
  try {
    db = await openDatabase({ url, dataDir: "" }, entities);
  } catch (error) {
    await drop();
    throw error;
  }
  return {
    db,
    url,
    cleanup: async () => {
      await db.close();
      await drop();
    },
  };
}

async function onServer(serverUrl: string, sql: string): Promise<void> {
  const admin = knex({ client: "pg", connection: serverUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(sql);
  } finally {
    await admin.destroy();
  }
}

/**
 * A fresh PGlite directory copied from a migrated template. Creating a PGlite cluster runs initdb in WASM
 * (several seconds); copying one is a fraction of a second. The template lives in the OS temp directory under
 * a key made of the PGlite version and the migration files, so a changed migration gets a new one.
 */
async function createPgliteDatabase(entities: EntityList): Promise<TestDatabase> {
  const template = await pgliteTemplate(entities);
  const dataDir = await mkdtemp(join(tmpdir(), "arabicstt-test-"));
  try {
    await cp(template, join(dataDir, "pglite"), { recursive: true });
    const db = await openDatabase({ dataDir }, entities);
    return {
      db,
      cleanup: async () => {
        await db.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function pgliteTemplate(entities: EntityList): Promise<string> {
  const template = join(tmpdir(), `arabicstt-pglite-template-${await templateKey()}`);
  if (await exists(template)) return template;
  // Built beside the final path and renamed into place, so a parallel test process never copies half a
  // template; when two build at once, the first rename wins and the other discards its copy.
  const building = await mkdtemp(`${template}.building-`);
  try {
    const db = await openDatabase({ dataDir: building }, entities);
    await db.close();
    await rename(join(building, "pglite"), template).catch(async (error: NodeJS.ErrnoException) => {
      if (!(await exists(template))) throw error;
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return template;
}

/** PGlite's version and the migration sources: the same under tsx and vitest, new when either changes. */
async function templateKey(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  const { version } = JSON.parse(await readFile(join(dirname(entry), "..", "package.json"), "utf8")) as { version: string };
  const hash = createHash("sha256").update(version);
  for (const file of (await readdir(migrationsDir)).sort()) {
    hash.update(file).update(await readFile(join(migrationsDir, file)));
  }
  return hash.digest("hex").slice(0, 16);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
