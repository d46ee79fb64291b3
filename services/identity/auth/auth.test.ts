// Accounts and tokens as clients meet them: over real gRPC and Connect to a gateway with the real
// identity capabilities, on PGlite or PostgreSQL (DATABASE_URL) and in-memory or Redis (REDIS_URL)
// token denial.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import jwt from "jsonwebtoken";
import { Code, ConnectError } from "@connectrpc/connect";
import { AuthService } from "../../../proto/gen/arabicstt/v1/auth_pb.js";
import { MemberRole } from "../../../proto/gen/arabicstt/v1/common_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../../gateway/testing/identity-gateway.js";
import { AuditEvent } from "../model/audit-event.entity.js";
import { User } from "../model/user.entity.js";

const SIGNING = { kid: "k2026", secret: "s".repeat(40) };
const env = { JWT_SIGNING_KEYS: `${SIGNING.kid}:${SIGNING.secret}`, JWT_ISSUER: "arabicstt-test" };

let h: IdentityGateway;
beforeAll(async () => {
  h = await startIdentityGateway(env);
});
afterAll(() => h?.stop());

const failure = async (p: Promise<unknown>): Promise<ConnectError> => {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
};

let counter = 0;
const uniqueEmail = () => `user${Date.now()}${++counter}@example.com`;
const PASSWORD = "كلمة سر طويلة 2026";

async function register(email = uniqueEmail(), password = PASSWORD) {
  const res = await h.client(AuthService).register({ email, password, displayName: "فاطمة الزهراء", organizationName: "مركز اتصال الرياض" });
  return { email, password, res };
}

async function auditActions(userId: string): Promise<Array<{ action: string; outcome: unknown }>> {
  const rows = await h.testDb.db.fork().find(AuditEvent, { actorUser: userId }, { orderBy: { createdAt: "asc" } });
  return rows.map((r) => ({ action: r.action, outcome: (r.metadata as { outcome?: string }).outcome }));
}

describe("registering and logging in", () => {
  it("creates an organisation and its owner with Arabic names, and the tokens work over gRPC and Connect", async () => {
    const { email, res } = await register();
    expect(res.user?.email).toBe(email);
    expect(res.user?.displayName).toBe("فاطمة الزهراء");
    expect(res.user?.emailVerified).toBe(false);
    expect(res.organization?.name).toBe("مركز اتصال الرياض");
    expect(res.organization?.memberCount).toBe(1);
    expect(res.tokens?.tokenType).toBe("Bearer");
    expect(res.tokens?.refreshToken).toMatch(/^astr_/);
    const header = jwt.decode(res.tokens!.accessToken, { complete: true })!.header;
    expect(header).toMatchObject({ alg: "HS256", kid: SIGNING.kid });

    for (const protocol of ["grpc", "connect"] as const) {
      const me = await h.client(AuthService, { credential: res.tokens!.accessToken, protocol }).getCurrentUser({});
      expect(me.user?.userId).toBe(res.user?.userId);
      expect(me.organization?.organizationId).toBe(res.organization?.organizationId);
      expect(me.role).toBe(MemberRole.OWNER);
    }
  });

  it("refuses weak passwords and malformed emails with INVALID_ARGUMENT and a helpful message", async () => {
    const auth = h.client(AuthService);
    const base = { email: uniqueEmail(), displayName: "Omar", organizationName: "Org" };
    const short = await failure(auth.register({ ...base, password: "short" }));
    expect(short.code).toBe(Code.InvalidArgument);
    expect(short.rawMessage).toMatch(/password/);
    const simple = await failure(auth.register({ ...base, password: "aaaaaaaaaaaaaaaa" }));
    expect(simple.code).toBe(Code.InvalidArgument);
    expect(simple.rawMessage).toBe("password: is too simple: use at least 4 different characters, for example a few unrelated words");
    const common = await failure(auth.register({ ...base, password: "password1234" }));
    expect(common.rawMessage).toMatch(/commonly used password/);
    const personal = await failure(auth.register({ ...base, email: "khalid.nasser@example.com", password: "khalid.nasser-2026" }));
    expect(personal.rawMessage).toBe("password: must not contain your email address or name");
    const email = await failure(auth.register({ ...base, email: "not-an-email", password: PASSWORD }));
    expect(email.code).toBe(Code.InvalidArgument);
    expect(email.rawMessage).toMatch(/email/);
  });

  it("refuses a second account for an email, whatever its case", async () => {
    const { email } = await register();
    const err = await failure(register(email.toUpperCase()));
    expect(err.code).toBe(Code.AlreadyExists);
  });

  it("logs in with the right password only; unknown email and wrong password fail alike, and both are audited", async () => {
    const { email, res } = await register();
    const auth = h.client(AuthService);
    const ok = await auth.login({ email: email.toUpperCase(), password: PASSWORD });
    expect(ok.user?.userId).toBe(res.user?.userId);
    expect(ok.role).toBe(MemberRole.OWNER);
    const wrong = await failure(auth.login({ email, password: "not the password at all" }));
    const unknown = await failure(auth.login({ email: uniqueEmail(), password: PASSWORD }));
    expect(wrong.code).toBe(Code.Unauthenticated);
    expect(unknown.code).toBe(Code.Unauthenticated);
    expect(wrong.rawMessage).toBe(unknown.rawMessage);
    const actions = await auditActions(res.user!.userId);
    expect(actions).toEqual(
      expect.arrayContaining([
        { action: "auth.login", outcome: "success" },
        { action: "auth.login", outcome: "failure" },
      ]),
    );
    const row = await h.testDb.db.fork().findOneOrFail(AuditEvent, { actorUser: res.user!.userId, action: "auth.login" });
    expect(row.ip).toBe("127.0.0.1");
    expect(row.userAgent).toBeTruthy();
  });
});

describe("refresh tokens", () => {
  it("rotate on every use; presenting a spent one revokes the whole family", async () => {
    const { res } = await register();
    const auth = h.client(AuthService);
    const first = res.tokens!.refreshToken;
    const second = (await auth.refreshToken({ refreshToken: first })).tokens!;
    expect(second.refreshToken).not.toBe(first);
    const me = await h.client(AuthService, { credential: second.accessToken }).getCurrentUser({});
    expect(me.user?.userId).toBe(res.user?.userId);
    const third = (await auth.refreshToken({ refreshToken: second.refreshToken })).tokens!;

    const reuse = await failure(auth.refreshToken({ refreshToken: first }));
    expect(reuse.code).toBe(Code.Unauthenticated);
    // The thief's replay logged out the legitimate holder too: the newest token is dead.
    const afterReuse = await failure(auth.refreshToken({ refreshToken: third.refreshToken }));
    expect(afterReuse.code).toBe(Code.Unauthenticated);
    expect(await auditActions(res.user!.userId)).toContainEqual({ action: "auth.refresh_reuse", outcome: "denied" });
  });

  it("refuses unknown refresh tokens", async () => {
    const err = await failure(h.client(AuthService).refreshToken({ refreshToken: "astr_made-up" }));
    expect(err.code).toBe(Code.Unauthenticated);
  });
});

describe("logging out", () => {
  it("revokes the refresh family and denies the access token until it expires", async () => {
    const { res } = await register();
    const tokens = res.tokens!;
    const me = h.client(AuthService, { credential: tokens.accessToken });
    await me.logout({ refreshToken: tokens.refreshToken });
    expect((await failure(me.getCurrentUser({}))).code).toBe(Code.Unauthenticated);
    expect((await failure(h.client(AuthService).refreshToken({ refreshToken: tokens.refreshToken }))).code).toBe(Code.Unauthenticated);
  });

  it("with all_sessions ends every device's session, access tokens included", async () => {
    const { email, res } = await register();
    const other = await h.client(AuthService).login({ email, password: PASSWORD });
    await h.client(AuthService, { credential: other.tokens!.accessToken }).getCurrentUser({});
    await h.client(AuthService, { credential: res.tokens!.accessToken }).logout({ allSessions: true });
    expect((await failure(h.client(AuthService).refreshToken({ refreshToken: other.tokens!.refreshToken }))).code).toBe(Code.Unauthenticated);
    expect((await failure(h.client(AuthService, { credential: other.tokens!.accessToken }).getCurrentUser({}))).code).toBe(Code.Unauthenticated);
    // Logging in again works at once.
    const again = await h.client(AuthService).login({ email, password: PASSWORD });
    await h.client(AuthService, { credential: again.tokens!.accessToken }).getCurrentUser({});
  });
});

describe("changing the password", () => {
  it("needs the current password, then revokes other sessions and returns fresh tokens", async () => {
    const { email, res } = await register();
    const me = h.client(AuthService, { credential: res.tokens!.accessToken });
    const wrong = await failure(me.changePassword({ currentPassword: "not my password", newPassword: "كلمة سر جديدة تماما" }));
    expect(wrong.code).toBe(Code.InvalidArgument);
    expect(wrong.rawMessage).toBe("current_password: is not your current password");
    const same = await failure(me.changePassword({ currentPassword: PASSWORD, newPassword: PASSWORD }));
    expect(same.code).toBe(Code.InvalidArgument);

    const otherDevice = await h.client(AuthService).login({ email, password: PASSWORD });
    const changed = await me.changePassword({ currentPassword: PASSWORD, newPassword: "كلمة سر جديدة تماما" });
    expect((await failure(h.client(AuthService).refreshToken({ refreshToken: res.tokens!.refreshToken }))).code).toBe(Code.Unauthenticated);
    expect((await failure(h.client(AuthService, { credential: otherDevice.tokens!.accessToken }).getCurrentUser({}))).code).toBe(Code.Unauthenticated);
    expect((await failure(me.getCurrentUser({}))).code).toBe(Code.Unauthenticated);
    const fresh = await h.client(AuthService, { credential: changed.tokens!.accessToken }).getCurrentUser({});
    expect(fresh.user?.userId).toBe(res.user?.userId);
    expect((await failure(h.client(AuthService).login({ email, password: PASSWORD }))).code).toBe(Code.Unauthenticated);
    await h.client(AuthService).login({ email, password: "كلمة سر جديدة تماما" });
    expect(await auditActions(res.user!.userId)).toEqual(
      expect.arrayContaining([
        { action: "auth.password_change", outcome: "failure" },
        { action: "auth.password_change", outcome: "success" },
      ]),
    );
  });
});

describe("access tokens an attacker might present", () => {
  let claims: jwt.JwtPayload;
  let userId: string;
  beforeAll(async () => {
    const { res } = await register();
    userId = res.user!.userId;
    claims = jwt.decode(res.tokens!.accessToken) as jwt.JwtPayload;
  });
  const call = (credential: string) => failure(h.client(AuthService, { credential }).getCurrentUser({}));
  const resign = (payload: object, secret = SIGNING.secret, options: jwt.SignOptions = {}) =>
    jwt.sign(payload, secret, { algorithm: "HS256", keyid: SIGNING.kid, ...options });

  it("refuses no credential, and a malformed authorization header", async () => {
    expect((await failure(h.client(AuthService).getCurrentUser({}))).code).toBe(Code.Unauthenticated);
    const basic = await failure(h.client(AuthService, { headers: { authorization: "Basic dXNlcjpwYXNz" } }).getCurrentUser({}));
    expect(basic.code).toBe(Code.Unauthenticated);
    expect(basic.rawMessage).toMatch(/Bearer/);
  });

  it("refuses alg none, a wrong key, an unknown kid, a tampered payload and an expired token", async () => {
    const { iat: _iat, exp: _exp, nbf: _nbf, ...rest } = claims;
    const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT", kid: SIGNING.kid })).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`;
    const wrongKey = resign(rest, "w".repeat(40), { expiresIn: 600 });
    const unknownKid = resign(rest, SIGNING.secret, { expiresIn: 600, keyid: "other" });
    const genuine = resign(rest, SIGNING.secret, { expiresIn: 600 });
    const [head, , sig] = genuine.split(".");
    const tampered = `${head}.${Buffer.from(JSON.stringify({ ...claims, role: "owner", org: "00000000-0000-4000-8000-000000000000" })).toString("base64url")}.${sig}`;
    const expired = resign({ ...rest, exp: Math.floor(Date.now() / 1000) - 60 });
    for (const [name, token] of Object.entries({ none, wrongKey, unknownKid, tampered, expired })) {
      const err = await call(token);
      expect(err.code, name).toBe(Code.Unauthenticated);
    }
    expect((await call(expired)).rawMessage).toMatch(/expired/);
    // The genuine re-signed token proves the cases above failed for their flaw alone.
    const me = await h.client(AuthService, { credential: genuine }).getCurrentUser({});
    expect(me.user?.userId).toBe(userId);
  });

  it("refuses the token of a deleted user", async () => {
    const { res } = await register();
    const em = h.testDb.db.fork();
    await em.nativeDelete(User, { id: res.user!.userId });
    expect((await call(res.tokens!.accessToken)).code).toBe(Code.Unauthenticated);
  });
});
