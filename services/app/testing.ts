// Test fixtures that need the whole platform's schema: a migrated database of the test's own with every
// entity mapped, and rows of several capabilities at once (a job over a media item, a live session).
import { entities } from "./entities.js";
import type { Database } from "../platform/database/database.js";
import { createTestDatabaseOf, type TestDatabase } from "../platform/database/testing.js";
import { testEnvironment } from "../platform/config/test-environment.js";
import { Job } from "../jobs/job.entity.js";
import { LiveSession } from "../speech/live-session.entity.js";
import { Media } from "../media/media.entity.js";

export type { TestDatabase } from "../platform/database/testing.js";

/**
 * A migrated database of its own for one test file: on the server named by DATABASE_URL when it is set (a new
 * database per call, dropped on cleanup), otherwise PGlite in a new temporary directory. The suites run
 * unchanged on both engines.
 */
export function createTestDatabase(): Promise<TestDatabase> {
  return createTestDatabaseOf(entities, testEnvironment().databaseUrl);
}

/** A queued job over a fresh media row of the organisation; returns the job id. */
export async function seedJob(database: Database, organizationId: string, filename = "مكالمة-خدمة-العملاء.wav"): Promise<{ jobId: string; mediaId: string }> {
  const em = database.fork();
  const media = em.create(Media, { organization: organizationId, filename, contentType: "audio/wav", storageKey: `orgs/${organizationId}/media/${crypto.randomUUID()}.wav` });
  const job = em.create(Job, { organization: organizationId, media });
  await em.flush();
  return { jobId: job.id, mediaId: media.id };
}

export async function seedLiveSession(database: Database, organizationId: string): Promise<string> {
  const em = database.fork();
  const session = em.create(LiveSession, { organization: organizationId, expiresAt: new Date(Date.now() + 60_000) });
  await em.flush();
  return session.id;
}

