// The caches that spare a stream's start its database reads (API keys, organisations), on two replicas
// of the identity services over one database, with a clock moved by hand: a change made on a replica
// applies there at once and on the other within REPLICA_CACHE_TTL_MS; a key's expiry is exact either way.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../app/testing.js";
import { AuditLog } from "../audit/audit-log.js";
import { ApiKeys } from "../api-keys/api-keys.js";
import { Organizations } from "../orgs/organizations.js";
import { OrganizationSnapshots } from "../orgs/organization-snapshots.js";
import { ApiKey } from "../model/api-key.entity.js";
import { Organization } from "../model/organization.entity.js";
import { User } from "../model/user.entity.js";
import { anonymousCaller, type UserPrincipal } from "../model/principal.js";
import { TtlCache } from "./ttl-cache.js";

const TTL_MS = 5_000;
const MINUTE_MS = 60_000;

let testDb: TestDatabase;
let clock: number;
const now = () => clock;

function replica() {
  const audit = new AuditLog(testDb.db);
  const snapshots = new OrganizationSnapshots(testDb.db, { ttlMs: TTL_MS, now });
  return {
    snapshots,
    apiKeys: new ApiKeys(testDb.db, audit, { cacheTtlMs: TTL_MS, organizations: snapshots, now }),
    organizations: new Organizations(testDb.db, audit, { revokeUserSessions: async () => {} }, snapshots),
  };
}

async function seedOwner(): Promise<UserPrincipal> {
  const em = testDb.db.fork();
  const organization = em.create(Organization, { name: "مركز اتصال الدمام", slug: `org-${randomUUID()}` });
  const user = em.create(User, { email: `${randomUUID()}@example.com`, passwordHash: "unused" });
  await em.flush();
  return { kind: "user", userId: user.id, organizationId: organization.id, role: "owner", platformAdmin: true, organizationSuspended: false, tokenId: randomUUID(), tokenExpiresAt: new Date(clock + 900_000) };
}

const refused = (p: Promise<unknown>) => p.then(() => "accepted", (err: unknown) => (err as { kind?: string }).kind ?? String(err));

beforeAll(async () => {
  testDb = await createTestDatabase();
}, 60_000);
afterAll(() => testDb?.cleanup());
beforeEach(() => {
  clock = Date.now();
});

describe("API keys accepted from the cache", () => {
  it("stop at once when revoked on this replica, and on another within the TTL", async () => {
    const owner = await seedOwner();
    const [a, b] = [replica(), replica()];
    const { key, secret } = await a.apiKeys.create(owner, { name: "ivr", scopes: ["speech"] }, anonymousCaller);
    expect(await a.apiKeys.authenticate(secret)).toMatchObject({ apiKeyId: key.id, organizationId: owner.organizationId, scopes: ["speech"] });
    expect((await b.apiKeys.authenticate(secret)).apiKeyId).toBe(key.id);

    await a.apiKeys.revoke(owner, key.id, anonymousCaller);
    expect(await refused(a.apiKeys.authenticate(secret))).toBe("unauthenticated");
    clock += TTL_MS - 1;
    expect(await refused(b.apiKeys.authenticate(secret))).toBe("accepted");
    clock += 1;
    expect(await refused(b.apiKeys.authenticate(secret))).toBe("unauthenticated");
  });

  it("stop at the millisecond the key expires, though remembered for longer", async () => {
    const owner = await seedOwner();
    const a = replica();
    const { secret } = await a.apiKeys.create(owner, { name: "short", scopes: ["speech"], expiresAt: new Date(clock + 1_000) }, anonymousCaller);
    await a.apiKeys.authenticate(secret);
    clock += 999;
    expect(await refused(a.apiKeys.authenticate(secret))).toBe("accepted");
    clock += 1;
    expect(await refused(a.apiKeys.authenticate(secret))).toBe("unauthenticated");
  });

  it("read the row again once the TTL is over, and still keep last_used_at to the minute", async () => {
    const owner = await seedOwner();
    const a = replica();
    const { key, secret } = await a.apiKeys.create(owner, { name: "batch", scopes: ["jobs:read"] }, anonymousCaller);
    const lastUsed = async () => (await testDb.db.fork().findOneOrFail(ApiKey, { id: key.id })).lastUsedAt?.getTime();
    await a.apiKeys.authenticate(secret);
    expect(await lastUsed()).toBe(Math.floor(clock / MINUTE_MS) * MINUTE_MS);
    const first = await lastUsed();
    // Scopes changed behind the cache's back (no RPC does this; it stands for any change of the row).
    await testDb.db.fork().nativeUpdate(ApiKey, { id: key.id }, { scopes: ["jobs:read", "usage:read"] });
    expect((await a.apiKeys.authenticate(secret)).scopes).toEqual(["jobs:read"]);
    clock += TTL_MS;
    expect((await a.apiKeys.authenticate(secret)).scopes).toEqual(["jobs:read", "usage:read"]);
    expect(await lastUsed()).toBe(first);
    clock = first! + MINUTE_MS;
    await a.apiKeys.authenticate(secret);
    expect(await lastUsed()).toBe(first! + MINUTE_MS);
  });

  it("are refused for a wrong secret that shares a real prefix, cached or not", async () => {
    const owner = await seedOwner();
    const a = replica();
    const { key, secret } = await a.apiKeys.create(owner, { name: "x", scopes: ["speech"] }, anonymousCaller);
    await a.apiKeys.authenticate(secret);
    const forged = secret.slice(0, key.prefix.length) + "A".repeat(secret.length - key.prefix.length);
    expect(await refused(a.apiKeys.authenticate(forged))).toBe("unauthenticated");
  });

  it("are looked up once by streams that start together", async () => {
    const owner = await seedOwner();
    const a = replica();
    const { secret } = await a.apiKeys.create(owner, { name: "x", scopes: ["speech"] }, anonymousCaller);
    let forks = 0;
    const fork = testDb.db.fork.bind(testDb.db);
    testDb.db.fork = ((...args: Parameters<typeof fork>) => {
      forks++;
      return fork(...args);
    }) as typeof fork;
    try {
      await Promise.all(Array.from({ length: 16 }, () => a.apiKeys.authenticate(secret)));
    } finally {
      testDb.db.fork = fork;
    }
    // The key's row, the organisation, and last_used_at: once each for sixteen.
    expect(forks).toBe(3);
  });
});

describe("organisations from the snapshots", () => {
  it("suspension on this replica applies at once, on another within the TTL", async () => {
    const owner = await seedOwner();
    const [a, b] = [replica(), replica()];
    const { secret } = await a.apiKeys.create(owner, { name: "ivr", scopes: ["speech"] }, anonymousCaller);
    expect((await a.apiKeys.authenticate(secret)).organizationSuspended).toBe(false);
    expect((await b.apiKeys.authenticate(secret)).organizationSuspended).toBe(false);
    await a.organizations.suspend(owner, { organizationId: owner.organizationId, reason: "unpaid", reinstate: false }, anonymousCaller);
    expect((await a.apiKeys.authenticate(secret)).organizationSuspended).toBe(true);
    expect((await b.apiKeys.authenticate(secret)).organizationSuspended).toBe(false);
    clock += TTL_MS;
    expect((await b.apiKeys.authenticate(secret)).organizationSuspended).toBe(true);
  });

  it("settings changed by UpdateOrganization on this replica are read at once", async () => {
    const owner = await seedOwner();
    const [a, b] = [replica(), replica()];
    expect((await a.snapshots.get(owner.organizationId))?.settings.defaultModel).toBeUndefined();
    expect((await b.snapshots.get(owner.organizationId))?.settings.defaultModel).toBeUndefined();
    await a.organizations.update(owner, { defaultModel: "whisper-large-v3" }, anonymousCaller);
    expect((await a.snapshots.get(owner.organizationId))?.settings.defaultModel).toBe("whisper-large-v3");
    expect((await b.snapshots.get(owner.organizationId))?.settings.defaultModel).toBeUndefined();
    clock += TTL_MS;
    expect((await b.snapshots.get(owner.organizationId))?.settings.defaultModel).toBe("whisper-large-v3");
  });
});

describe("TtlCache", () => {
  it("keeps at most maxEntries, dropping the one stored longest ago", () => {
    const cache = new TtlCache<string, number>({ ttlMs: 1_000, maxEntries: 2, now });
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("c", 3);
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([undefined, 2, 3]);
  });

  it("does not keep what a load read before an invalidation", async () => {
    const cache = new TtlCache<string, string>({ ttlMs: 1_000, maxEntries: 10, now });
    let release!: (value: string) => void;
    const loading = cache.getOrLoad("k", () => new Promise((resolve) => (release = resolve)));
    cache.delete("k");
    release("stale");
    expect(await loading).toBe("stale");
    expect(cache.get("k")).toBeUndefined();
  });

  it("with a TTL of 0 remembers nothing", async () => {
    const cache = new TtlCache<string, number>({ ttlMs: 0, maxEntries: 10, now });
    cache.set("a", 1);
    expect(cache.get("a")).toBeUndefined();
    let loads = 0;
    await cache.getOrLoad("b", async () => ++loads);
    await cache.getOrLoad("b", async () => ++loads);
    expect(loads).toBe(2);
  });
});
