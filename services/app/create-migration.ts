/**
 * Writes a migration for whatever the entities declare that the migrations do not yet create.
 *
 *   npx tsx services/app/create-migration.ts <name>
 *
 * It diffs the entities against a throwaway database migrated to the current list (PGlite, or a new database
 * on the server in DATABASE_URL), writes `services/platform/database/migrations/Migration<timestamp>_<name>.ts` and prints the line to
 * add to `migrations/index.ts`. Read the SQL before adding it: the generator cannot know about renames.
 */
import { createTestDatabase } from "./testing.js";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: create-migration.ts <name in lower_snake_case>");
  process.exit(2);
}
const { db, cleanup } = await createTestDatabase();
try {
  const result = await db.orm.migrator.createMigration(undefined, false, false, name);
  if (!result.fileName) {
    console.log("entities and migrations agree: nothing to write");
  } else {
    const className = result.fileName.replace(/\.ts$/, "");
    console.log(`wrote migrations/${result.fileName}; add to migrations/index.ts:`);
    console.log(`  import { ${className} } from "./${className}.js";`);
    console.log(`  { name: "${className}", class: ${className} },`);
  }
} finally {
  await cleanup();
}
