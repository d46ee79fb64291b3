// The quota check at work's start reads the month's used seconds from a short-lived sum plus what this
// replica recorded since: its own usage counts at once, another replica's within REPLICA_CACHE_TTL_MS, and
// the month is always the one the check runs in. Two Usage instances over one database stand for two replicas.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../app/testing.js";
import { OrganizationSnapshots } from "../identity/orgs/organization-snapshots.js";
import { Organization } from "../identity/model/organization.entity.js";
import { Usage } from "./usage.js";

const TTL_MS = 5_000;
const LIMIT = 600;

let testDb: TestDatabase;
let clock: number;
const now = () => clock;

function replica(): Usage {
  const organizations = new OrganizationSnapshots(testDb.db, { ttlMs: TTL_MS, now });
  return new Usage(testDb.db, { audioSecondsPerMonthByPlan: { free: LIMIT }, defaultAudioSecondsPerMonth: 0 }, { organizations, usedCacheTtlMs: TTL_MS, now });
}

async function seedOrganization(): Promise<string> {
  const em = testDb.db.fork();
  const organization = em.create(Organization, { name: "شركة الحصة", slug: `org-${randomUUID()}` });
  await em.flush();
  return organization.id;
}

const check = (usage: Usage, organizationId: string, at?: Date) =>
  usage.assertWithinQuota(organizationId, at).then(() => "within", (err: unknown) => (err as { kind?: string }).kind ?? String(err));

beforeAll(async () => {
  testDb = await createTestDatabase();
}, 60_000);
afterAll(() => testDb?.cleanup());
beforeEach(() => {
  clock = Date.now();
});

describe("the quota check's used seconds", () => {
  it("count this replica's usage at once and another's within the TTL", async () => {
    const organizationId = await seedOrganization();
    const [a, b] = [replica(), replica()];
    expect(await check(a, organizationId)).toBe("within");
    expect(await check(b, organizationId)).toBe("within");
    await a.recordRecognize(organizationId, LIMIT - 1, null);
    expect(await check(a, organizationId)).toBe("within");
    await a.recordRecognize(organizationId, 1, null);
    expect(await check(a, organizationId)).toBe("resource_exhausted");
    clock += TTL_MS - 1;
    expect(await check(b, organizationId)).toBe("within");
    clock += 1;
    expect(await check(b, organizationId)).toBe("resource_exhausted");
    // GetQuota reads the database: exact on either replica.
    expect((await b.quota(organizationId)).audioSecondsUsed).toBe(LIMIT);
  });

  it("start again at 0 on the first of the month, whatever the last month's sum remembered", async () => {
    const organizationId = await seedOrganization();
    const a = replica();
    const lastSecond = new Date(Date.UTC(2026, 10, 30, 23, 59, 59));
    const firstSecond = new Date(Date.UTC(2026, 11, 1, 0, 0, 0));
    await a.recordRecognize(organizationId, LIMIT, null, lastSecond);
    expect(await check(a, organizationId, lastSecond)).toBe("resource_exhausted");
    expect(await check(a, organizationId, firstSecond)).toBe("within");
    // A record of the month before does not count in this month's remembered sum.
    await a.recordRecognize(organizationId, LIMIT, null, lastSecond);
    expect(await check(a, organizationId, firstSecond)).toBe("within");
    await a.recordRecognize(organizationId, LIMIT, null, firstSecond);
    expect(await check(a, organizationId, firstSecond)).toBe("resource_exhausted");
  });

  it("count a live session's and a job's recorded seconds once, and not a repeat", async () => {
    const organizationId = await seedOrganization();
    const a = replica();
    expect(await check(a, organizationId)).toBe("within");
    const em = testDb.db.fork();
    const sessionId = randomUUID();
    await em.getConnection().execute(`insert into live_sessions (id, organization_id, status, config, expires_at, created_at, updated_at) values (?, ?, 'closed', '{}', now(), now(), now())`, [sessionId, organizationId]);
    expect(await a.record(organizationId, "live", LIMIT / 2, sessionId)).toBe(true);
    expect(await a.record(organizationId, "live", LIMIT / 2, sessionId)).toBe(false);
    expect(await check(a, organizationId)).toBe("within");
    await a.recordRecognize(organizationId, LIMIT / 2, null);
    expect(await check(a, organizationId)).toBe("resource_exhausted");
  });

  it("follow the limit in the organisation's settings within the TTL", async () => {
    const organizationId = await seedOrganization();
    const a = replica();
    await a.recordRecognize(organizationId, LIMIT, null);
    expect(await check(a, organizationId)).toBe("resource_exhausted");
    await testDb.db.fork().nativeUpdate(Organization, { id: organizationId }, { settings: { audioSecondsPerMonth: 0 } });
    clock += TTL_MS;
    expect(await check(a, organizationId)).toBe("within");
  });
});
