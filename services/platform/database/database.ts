import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { Migrator } from "@mikro-orm/migrations";
import { type EntityManager, type EntitySchema, MikroORM, type Options } from "@mikro-orm/postgresql";
import type { Logger } from "pino";
import { lockDataDir } from "./data-dir-lock.js";
import { PinoMikroLogger } from "./logger.js";
import { migrations, migrationsDir } from "./migrations/index.js";

export interface DatabaseConfig {
  /** A PostgreSQL URL. Without it the database is PGlite, embedded in this process. */
  url?: string;
  /** Where embedded data lives; PGlite keeps its files in `<dataDir>/pglite`. */
  dataDir: string;
}

/**
 * The mapped entities. The composition root hands them in (services/app/entities.ts), so this adapter
 * sits below every capability that owns an entity.
 */
export type EntityList = readonly EntitySchema<any, any>[];

export interface Database {
  orm: MikroORM;
  mode: "postgres" | "pglite";
  /** A fresh EntityManager (own identity map and unit of work) for one request or one job step. */
  fork(): EntityManager;
  /** Resolves when the database answers a query; for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The database could not be opened: unreachable, refused, or its migrations failed. */
export class DatabaseOpenError extends Error {
  override readonly name = "DatabaseOpenError";
}

/**
 * Opens the database and brings its schema up to date before returning, so callers never see a half-migrated
 * schema. Rejects with a DatabaseOpenError naming the target (password removed) when it cannot.
 */
export async function openDatabase(config: DatabaseConfig, entities: EntityList, logger?: Logger): Promise<Database> {
  return config.url ? openPostgres(config.url, entities, logger) : openPglite(join(config.dataDir, "pglite"), entities, logger);
}

async function openPostgres(url: string, entities: EntityList, logger?: Logger): Promise<Database> {
  const target = redactUrl(url);
  let orm: MikroORM | undefined;
  try {
    orm = await initOrm(
      {
        clientUrl: url,
        // Fail within seconds when the server is unreachable rather than hanging start-up and health checks.
        pool: { acquireTimeoutMillis: 10_000 },
        driverOptions: { connection: { connectionTimeoutMillis: 5_000 } },
      },
      entities,
      logger,
    );
    // The gateway and the worker may start together against one server: they take turns migrating.
    await prepare(orm, target, logger, withMigrationLock);
  } catch (error) {
    // swallowed: closing after a failed start; the start's error is rethrown.
    await orm?.close(true).catch(() => undefined);
    throw openError(target, error);
  }
  return wrap(orm, "postgres");
}

/**
 * PGlite is Postgres compiled to WASM, so MikroORM (which speaks the wire protocol through `pg`) reaches it
 * through pglite-socket on a loopback port the OS picks. PGlite runs one query at a time and the socket
 * server serialises connections around open transactions, so a pool of one connection is the honest shape.
 */
async function openPglite(dir: string, entities: EntityList, logger?: Logger): Promise<Database> {
  const target = `PGlite in ${dir}`;
  let unlock: () => Promise<void>;
  try {
    await mkdir(dir, { recursive: true });
    // PGlite writes postmaster.pid but does not check it: two processes on one directory would corrupt it.
    unlock = await lockDataDir(dir);
  } catch (error) {
    throw openError(target, error);
  }
  let pglite: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  let orm: MikroORM | undefined;
  const release = async () => {
    await server?.stop();
    await pglite?.close();
    await unlock();
  };
  try {
    pglite = await PGlite.create(dir);
    // Two connections allowed though the pool holds one: a connection the pool replaces after an error may
    // still be closing while its successor connects.
    server = new PGLiteSocketServer({ db: pglite, host: "127.0.0.1", port: 0, maxConnections: 2 });
    await server.start();
    orm = await initOrm({ clientUrl: `postgresql://postgres@${server.getServerConn()}/postgres`, pool: { min: 1, max: 1 } }, entities, logger);
    // The directory lock already keeps other processes out, so migrations need no lock of their own.
    await prepare(orm, target, logger, (_, migrate) => migrate());
  } catch (error) {
    // swallowed: closing after a failed start; the start's error is rethrown.
    await orm?.close(true).catch(() => undefined);
    // swallowed: the directory lock goes with the process anyway; the start's error is rethrown.
    await release().catch(() => undefined);
    throw openError(target, error);
  }
  return wrap(orm, "pglite", release);
}

function initOrm(options: Options, entities: EntityList, logger?: Logger): Promise<MikroORM> {
  return MikroORM.init({
    ...options,
    entities: [...entities],
    extensions: [Migrator],
    migrations: {
      // Listed by import, not found by glob: the same list works under tsx, vitest and compiled JS.
      migrationsList: migrations,
      path: migrationsDir,
      pathTs: migrationsDir,
      transactional: true,
      allOrNothing: true,
      // The migrator diffs entities against the live database, so there is no snapshot file to keep in sync.
      snapshot: false,
    },
    // The database must exist already; creating databases is an operator's (or the test harness's) job.
    ensureDatabase: false,
    // Every request and job works in its own fork(); the global EntityManager would leak state between them.
    allowGlobalContext: false,
    loggerFactory: () => new PinoMikroLogger(logger),
  });
}

/** Checks the connection, then applies pending migrations, letting `serialise` keep concurrent starters apart. */
async function prepare(
  orm: MikroORM,
  target: string,
  logger: Logger | undefined,
  serialise: <T>(orm: MikroORM, migrate: () => Promise<T>) => Promise<T>,
): Promise<void> {
  const check = await orm.checkConnection();
  if (!check.ok) {
    throw new DatabaseOpenError(`cannot connect to ${target}: ${check.reason}`, { cause: check.error });
  }
  try {
    const applied = await serialise(orm, () => orm.migrator.up());
    logger?.info({ database: target, applied: applied.map((m) => m.name) }, "database ready");
  } catch (error) {
    throw new DatabaseOpenError(`cannot migrate ${target}: ${(error as Error).message}`, { cause: error });
  }
}

function openError(target: string, error: unknown): DatabaseOpenError {
  if (error instanceof DatabaseOpenError) return error;
  return new DatabaseOpenError(`cannot open ${target}: ${(error as Error).message}`, { cause: error });
}

/**
 * Holds a session-level advisory lock on a connection of its own while `fn` runs. A transaction-level lock
 * would not do: the migrator creates its bookkeeping table on another connection before its transaction.
 */
async function withMigrationLock<T>(orm: MikroORM, fn: () => Promise<T>): Promise<T> {
  const knex = orm.em.getConnection().getKnex();
  const connection: unknown = await knex.client.acquireConnection();
  const key = "arabicstt.migrations";
  try {
    await knex.raw("select pg_advisory_lock(hashtext(?))", [key]).connection(connection);
    try {
      return await fn();
    } finally {
      await knex.raw("select pg_advisory_unlock(hashtext(?))", [key]).connection(connection);
    }
  } finally {
    await knex.client.releaseConnection(connection);
  }
}

/** `release` frees what the ORM sat on (PGlite, its socket server), after the ORM has closed its pool. */
function wrap(orm: MikroORM, mode: Database["mode"], release = async () => {}): Database {
  let closing: Promise<void> | undefined;
  const close = async () => {
    await orm.close(true);
    await release();
  };
  return {
    orm,
    mode,
    fork: () => orm.em.fork(),
    ping: async () => {
      await orm.em.getConnection().execute("select 1");
    },
    // Idempotent: shutdown paths (signal handler, test cleanup) may both call it.
    close: () => (closing ??= close()),
  };
}

/** The URL as it can be logged: without the password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "(unparseable database URL)";
  }
}
