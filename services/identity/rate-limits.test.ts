// Rate limits as clients meet them: RESOURCE_EXHAUSTED with a retry-after value in the response
// metadata, per login account, per login IP, per API key (with its burst pool), per user and per IP.
// Counters live in Redis when REDIS_URL is set, in memory otherwise. Windows are an hour long so no
// test depends on the clock.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { ApiKeyScope, ApiKeyService } from "../../proto/gen/arabicstt/v1/api_key_pb.js";
import { AuthService } from "../../proto/gen/arabicstt/v1/auth_pb.js";
import { JobService } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../gateway/testing/identity-gateway.js";
import { registerOwner, TEST_PASSWORD } from "../../gateway/testing/accounts.js";
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

describe("limits per login account, per API key and its burst", () => {
  let h: IdentityGateway;
  beforeAll(async () => {
    h = await startIdentityGateway({
      RATE_LIMIT_LOGIN_ACCOUNT: "3/3600",
      RATE_LIMIT_API_KEY: "2/3600,1/3600",
      RATE_LIMIT_LOGIN_IP: "1000/3600",
      RATE_LIMIT_IP: "1000/3600",
      RATE_LIMIT_USER: "1000/3600",
    });
  });
  afterAll(() => h?.stop());

  it("stops login attempts on an account after the limit, right password or not, with retry-after", async () => {
    const victim = await registerOwner(h);
    const bystander = await registerOwner(h);
    const auth = h.client(AuthService);
    for (let i = 0; i < 3; i++) expect(await code(auth.login({ email: victim.email, password: `guess number ${i} here` }))).toBe(Code.Unauthenticated);
    const limited = await outcome(auth.login({ email: victim.email, password: TEST_PASSWORD }));
    expect(limited).toBeInstanceOf(ConnectError);
    const err = limited as ConnectError;
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toMatch(/too many login attempts for this account/);
    const retryAfter = Number(err.metadata.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    // Another account from the same address is unaffected.
    expect(await code(auth.login({ email: bystander.email, password: TEST_PASSWORD }))).toBe("ok");
    const denied = await h.testDb.db.fork().find(AuditEvent, { actorUser: victim.userId, action: "auth.login" });
    expect(denied.some((e) => (e.metadata as { outcome?: string }).outcome === "denied")).toBe(true);
  });

  it("forgets an account's failed attempts after a successful login", async () => {
    const user = await registerOwner(h);
    const auth = h.client(AuthService);
    for (let i = 0; i < 2; i++) await outcome(auth.login({ email: user.email, password: "wrong wrong wrong" }));
    expect(await code(auth.login({ email: user.email, password: TEST_PASSWORD }))).toBe("ok");
    for (let i = 0; i < 2; i++) expect(await code(auth.login({ email: user.email, password: "wrong wrong wrong" }))).toBe(Code.Unauthenticated);
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
    h = await startIdentityGateway({ RATE_LIMIT_IP: "5/3600", RATE_LIMIT_USER: "2/3600", RATE_LIMIT_LOGIN_IP: "2/3600", RATE_LIMIT_LOGIN_ACCOUNT: "1000/3600" });
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
