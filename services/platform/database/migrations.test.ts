import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "./database.js";
import { migrations } from "./migrations/index.js";
import { createTestDatabase, type TestDatabase } from "../../app/testing.js";
import { testEnvironment } from "../config/test-environment.js";

const APP_TABLES = [
  "api_keys",
  "audit_events",
  "billing_accounts",
  "billing_reported_usage",
  "billing_stripe_events",
  "billing_usage_reports",
  "data_exports",
  "erasures",
  "exports",
  "invitations",
  "jobs",
  "live_sessions",
  "media",
  "memberships",
  "one_time_tokens",
  "organizations",
  "refresh_tokens",
  "segments",
  "speakers",
  "transcripts",
  "usage_records",
  "users",
  "webhook_deliveries",
  "webhook_endpoints",
];

/**
 * Tables that are not tenant data: the tenants themselves, users with their own credentials, and erasure
 * requests (they outlive the organisation or user they erased), and billing's claims of usage records (a row
 * per usage record, reached through it and its report, both of which belong to an organisation).
 */
const GLOBAL_TABLES = ["organizations", "users", "one_time_tokens", "erasures", "billing_reported_usage"];

let testDb: TestDatabase;
let db: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.db;
});

afterAll(async () => {
  await testDb?.cleanup();
});

async function rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  return db.fork().getConnection().execute<T[]>(sql, params);
}

async function appTables(): Promise<string[]> {
  const found = await rows<{ table_name: string }>(
    "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'",
  );
  return found.map((t) => t.table_name).filter((name) => name !== "mikro_orm_migrations").sort();
}

describe(`migrations (${testEnvironment().databaseUrl ? "PostgreSQL" : "PGlite"})`, () => {
  it("are all applied when the database opens, and applying again does nothing", async () => {
    const executed = await db.orm.migrator.getExecutedMigrations();
    expect(executed.map((m) => m.name)).toEqual(migrations.map((m) => m.name));
    expect(await db.orm.migrator.up()).toEqual([]);
    expect(await db.orm.migrator.getPendingMigrations()).toEqual([]);
  });

  it("create exactly the expected tables", async () => {
    expect(await appTables()).toEqual(APP_TABLES);
  });

  it("leave nothing for the schema diff to do: entities and migrations agree", async () => {
    expect(await db.orm.schema.getUpdateSchemaSQL({ wrap: false })).toBe("");
    expect(await db.orm.migrator.checkMigrationNeeded()).toBe(false);
  });

  it("give every tenant table an organization_id led index", async () => {
    const columns = await rows<{ table_name: string }>(
      "select table_name from information_schema.columns where table_schema = 'public' and column_name = 'organization_id'",
    );
    const tenantTables = APP_TABLES.filter((t) => !GLOBAL_TABLES.includes(t));
    expect(columns.map((c) => c.table_name).sort()).toEqual(tenantTables);
    const leading = await leadingIndexedColumns();
    for (const table of tenantTables) expect(leading, table).toContain(`${table}.organization_id`);
  });

  it("index every foreign key column, so cascades and joins do not scan", async () => {
    const foreignKeys = await rows<{ column: string }>(
      `select c.conrelid::regclass::text || '.' || a.attname as column
         from pg_constraint c
         join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
        where c.contype = 'f' and c.connamespace = 'public'::regnamespace`,
    );
    expect(foreignKeys.length).toBeGreaterThan(20);
    const leading = await leadingIndexedColumns();
    const unindexed = foreignKeys.map((fk) => fk.column).filter((column) => !leading.includes(column));
    expect(unindexed).toEqual([]);
  });

  it("revert to an empty schema and apply again from nothing", async () => {
    await db.orm.migrator.down({ to: 0 });
    expect(await appTables()).toEqual([]);
    const applied = await db.orm.migrator.up();
    expect(applied.map((m) => m.name)).toEqual(migrations.map((m) => m.name));
    expect(await appTables()).toEqual(APP_TABLES);
    expect(await db.orm.schema.getUpdateSchemaSQL({ wrap: false })).toBe("");
  });
});

/** "table.column" for the first column of every index. */
async function leadingIndexedColumns(): Promise<string[]> {
  const found = await rows<{ column: string }>(
    `select i.indrelid::regclass::text || '.' || a.attname as column
       from pg_index i
       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
       join pg_class t on t.oid = i.indrelid
      where t.relnamespace = 'public'::regnamespace`,
  );
  return found.map((r) => r.column);
}
