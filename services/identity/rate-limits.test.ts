// Rate limits as clients meet them: RESOURCE_EXHAUSTED with a retry-after value in the response
// metadata, growing delays for failed logins per account and client, per login IP, per API key (with its
// burst pool), per user and per IP; and permission denials in the audit log.
// Counters live in Redis when REDIS_URL is set, in memory otherwise. Windows are an hour long so no
// test depends on the clock.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Code, ConnectError } from "@connectrpc/connect";
import { ApiKeyScope, ApiKeyService } from "../../proto/gen/arabicstt/v1/api_key_pb.js";
import { AuthService } from "../../proto/gen/arabicstt/v1/auth_pb.js";
import { JobService } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../gateway/testing/identity-gateway.js";
import { joinAs, registerOwner, TEST_PASSWORD } from "../../gateway/testing/accounts.js";
import { AuditEvent } from "./model/audit-event.entity.js";
import { parseLimitSpec } from "../platform/limits/rate-limits.js";

const outcome = (p: Promise<unknown>): Promise<ConnectError | "ok"> =>
  p.then(
    () => "ok" as const,
    (err: unknown) => ConnectError.from(err),
  );
const code = async (p: Promise<unknown>) => {
  const result = await outcome(p);
  return result === "ok" ? "ok" : result.code;
};

describe("failed logins per account and client, and limits per API key and its burst", () => {
  let h: IdentityGateway;
  beforeAll(async () => {
    h = await startIdentityGateway({
      LOGIN_FREE_FAILURES: "2",
      LOGIN_MAX_DELAY_SECONDS: "3600",
      RATE_LIMIT_API_KEY: "2/3600,1/3600",
      RATE_LIMIT_LOGIN_IP: "1000/3600",
      RATE_LIMIT_IP: "1000/3600",
      RATE_LIMIT_USER: "1000/3600",
    });
  });
  afterAll(() => h?.stop());

  /** AuthService from another client address (the loopback network is all local), as the owner's own device. */
  const authFrom = (localAddress: string) =>
    createClient(AuthService, createConnectTransport({ baseUrl: `http://127.0.0.1:${h.gw.httpPort}`, httpVersion: "1.1", nodeOptions: { localAddress } }));

  it("makes the client that fails an account's logins wait longer each time, while its owner elsewhere logs in at once", async () => {
    const victim = await registerOwner(h);
    const attacker = h.client(AuthService);
    for (let i = 0; i < 2; i++) expect(await code(attacker.login({ email: victim.email, password: `guess number ${i} here` }))).toBe(Code.Unauthenticated);
    const held = (await outcome(attacker.login({ email: victim.email, password: TEST_PASSWORD }))) as ConnectError;
    expect(held.code).toBe(Code.ResourceExhausted);
    expect(held.rawMessage).toMatch(/too many failed logins to this account from this address/);
    expect(Number(held.metadata.get("retry-after"))).toBe(1);

    // The owner, from another address, is not held: failing on purpose cannot lock anyone out.
    const owner = authFrom("127.0.0.2");
    const session = await owner.login({ email: victim.email, password: TEST_PASSWORD });
    const me = await h.client(AuthService, { credential: session.tokens!.accessToken }).getCurrentUser({});
    expect(me.user!.lastLoginAt).toBeDefined();

    // Once the second has passed the attacker may guess again; failing again doubles its wait.
    await vi.waitFor(async () => expect(await code(attacker.login({ email: victim.email, password: "guess number 3 here" }))).toBe(Code.Unauthenticated), { timeout: 5000, interval: 100 });
    const longer = (await outcome(attacker.login({ email: victim.email, password: "guess number 4 here" }))) as ConnectError;
    expect(longer.code).toBe(Code.ResourceExhausted);
    expect(Number(longer.metadata.get("retry-after"))).toBe(2);
    const denied = await h.testDb.db.fork().find(AuditEvent, { actorUser: victim.userId, action: "auth.login" });
    expect(denied.some((e) => (e.metadata as { outcome?: string }).outcome === "denied")).toBe(true);
  });

  it("forgets a client's failed logins to an account once it logs in", async () => {
    const user = await registerOwner(h);
    const auth = authFrom("127.0.0.3");
    expect(await code(auth.login({ email: user.email, password: "wrong wrong wrong" }))).toBe(Code.Unauthenticated);
    expect(await code(auth.login({ email: user.email, password: TEST_PASSWORD }))).toBe("ok");
    // Counted from zero again: one more failure is still free.
    expect(await code(auth.login({ email: user.email, password: "wrong wrong wrong" }))).toBe(Code.Unauthenticated);
    expect(await code(auth.login({ email: user.email, password: TEST_PASSWORD }))).toBe("ok");
  });

  it("records every permission denial in the audit log, with who was refused which method", async () => {
    const owner = await registerOwner(h);
    const viewer = await joinAs(h, owner.organizationId, "viewer");
    expect(await code(h.client(ApiKeyService, { credential: viewer.accessToken }).createApiKey({ name: "x", scopes: [ApiKeyScope.JOBS_READ] }))).toBe(Code.PermissionDenied);
    const events = await h.testDb.db.fork().find(AuditEvent, { actorUser: viewer.userId, action: "rpc.permission_denied" });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ targetType: "rpc", targetId: "arabicstt.v1.ApiKeyService/CreateApiKey" });
    expect(events[0]!.metadata).toMatchObject({ outcome: "denied", details: { reason: expect.stringMatching(/^your role \(viewer\)/) } });
  });

  it("limits each API key on its own, the burst pool on top of the rate", async () => {
    const owner = await registerOwner(h);
    const keys = h.client(ApiKeyService, { credential: owner.accessToken });
    const first = (await keys.createApiKey({ name: "a", scopes: [ApiKeyScope.JOBS_READ] })).secret;
    const second = (await keys.createApiKey({ name: "b", scopes: [ApiKeyScope.JOBS_READ] })).secret;
    const call = (secret: string) => code(h.client(JobService, { headers: { "x-api-key": secret } }).getJob({ jobId: randomUUID() }));
    // 2 from the rate and 1 from the burst pool reach the handler (NOT_FOUND: no such job); the 4th is refused.
    expect([await call(first), await call(first), await call(first)]).toEqual([Code.NotFound, Code.NotFound, Code.NotFound]);
    expect(await call(first)).toBe(Code.ResourceExhausted);
    expect(await call(second)).toBe(Code.NotFound);
  });
});

describe("limits per user, per IP and per login IP", () => {
  let h: IdentityGateway;
  beforeAll(async () => {
    h = await startIdentityGateway({ RATE_LIMIT_IP: "5/3600", RATE_LIMIT_USER: "2/3600", RATE_LIMIT_LOGIN_IP: "2/3600" });
  });
  afterAll(() => h?.stop());

  it("limits a user's calls, then the address's unauthenticated calls and login attempts", async () => {
    const user = await registerOwner(h); // public call 1 from this address
    const me = h.client(AuthService, { credential: user.accessToken });
    expect([await code(me.getCurrentUser({})), await code(me.getCurrentUser({}))]).toEqual(["ok", "ok"]);
    expect(await code(me.getCurrentUser({}))).toBe(Code.ResourceExhausted);

    const auth = h.client(AuthService);
    expect(await code(auth.login({ email: user.email, password: TEST_PASSWORD }))).toBe("ok"); // public 2, login 1
    expect(await code(auth.login({ email: user.email, password: TEST_PASSWORD }))).toBe("ok"); // public 3, login 2
    const loginLimited = await outcome(auth.login({ email: user.email, password: TEST_PASSWORD })); // public 4
    expect((loginLimited as ConnectError).rawMessage).toMatch(/too many login attempts from this address/);
    // A made-up token counts against the address too.
    expect(await code(h.client(AuthService, { credential: "astt_made-up-key" }).getCurrentUser({}))).toBe(Code.Unauthenticated); // 5
    const ipLimited = await outcome(auth.refreshToken({ refreshToken: user.refreshToken })); // 6
    expect((ipLimited as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((ipLimited as ConnectError).rawMessage).toMatch(/too many requests from this address/);
    expect(Number((ipLimited as ConnectError).metadata.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });
});

describe("limit settings", () => {
  it("parse as points/seconds with an optional burst pool, and refuse anything else", () => {
    expect(parseLimitSpec("20/1,200/60")).toEqual([{ points: 20, seconds: 1 }, { points: 200, seconds: 60 }]);
    expect(parseLimitSpec("10/900")).toEqual([{ points: 10, seconds: 900 }]);
    for (const bad of ["", "10", "0/60", "10/0", "1/1,2/2,3/3", "ten/60"]) expect(parseLimitSpec(bad), bad).toBeUndefined();
  });
});
