// The audit trail as AdminService.ListAuditEvents shows it: who did what, from where, newest first,
// page by page; organisation admins see their own organisation's events, platform admins everyone's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { AdminService, AuditActorType, AuditOutcome } from "../../../proto/gen/arabicstt/v1/admin_pb.js";
import { ApiKeyScope, ApiKeyService } from "../../../proto/gen/arabicstt/v1/api_key_pb.js";
import { AuthService } from "../../../proto/gen/arabicstt/v1/auth_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../../gateway/testing/identity-gateway.js";
import { joinAs, registerOwner, TEST_PASSWORD, type TestAccount } from "../../../gateway/testing/accounts.js";
import { User } from "../model/user.entity.js";

let h: IdentityGateway;
let owner: TestAccount;
let keyId: string;
beforeAll(async () => {
  h = await startIdentityGateway();
  owner = await registerOwner(h);
  const keys = h.client(ApiKeyService, { credential: owner.accessToken });
  keyId = (await keys.createApiKey({ name: "k", scopes: [ApiKeyScope.SPEECH] })).apiKey!.apiKeyId;
  await keys.revokeApiKey({ apiKeyId: keyId });
  await h.client(AuthService, { headers: { "user-agent": "audit-test/1.0" } }).login({ email: owner.email, password: TEST_PASSWORD });
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
const audit = (account: TestAccount) => h.client(AdminService, { credential: account.accessToken });

describe("ListAuditEvents", () => {
  it("shows an owner their organisation's events, newest first, with actor, address, agent and request id", async () => {
    const { events } = await audit(owner).listAuditEvents({});
    expect(events.map((e) => e.action)).toEqual(["auth.login", "api_key.revoke", "api_key.create", "auth.register"]);
    const [login] = events;
    expect(login).toMatchObject({
      organizationId: owner.organizationId,
      actor: { type: AuditActorType.USER, userId: owner.userId },
      outcome: AuditOutcome.SUCCESS,
      ipAddress: "127.0.0.1",
    });
    expect(login!.userAgent).toMatch(/audit-test\/1\.0/);
    expect(login!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(events[1]).toMatchObject({ resourceType: "api_key", resourceId: keyId });
    expect(events[2]!.details).toMatchObject({ name: "k", scopes: "speech" });
  });

  it("pages, and filters by action prefix, actor and outcome", async () => {
    const first = await audit(owner).listAuditEvents({ pageSize: 3 });
    expect(first.events).toHaveLength(3);
    const second = await audit(owner).listAuditEvents({ pageSize: 3, pageToken: first.nextPageToken });
    expect(second.events.map((e) => e.action)).toEqual(["auth.register"]);
    expect(second.nextPageToken).toBe("");
    const keys = await audit(owner).listAuditEvents({ actionPrefix: "api_key." });
    expect(keys.events.map((e) => e.action)).toEqual(["api_key.revoke", "api_key.create"]);
    expect((await audit(owner).listAuditEvents({ outcome: AuditOutcome.FAILURE })).events).toEqual([]);
    expect((await audit(owner).listAuditEvents({ actorUserId: owner.userId })).events).toHaveLength(4);
    // A LIKE wildcard in the prefix is taken literally.
    expect((await audit(owner).listAuditEvents({ actionPrefix: "%" })).events).toEqual([]);
  });

  it("is for admins: members are refused, and another organisation is NOT_FOUND", async () => {
    const member = await joinAs(h, owner.organizationId, "member");
    expect((await failure(audit(member).listAuditEvents({}))).code).toBe(Code.PermissionDenied);
    const stranger = await registerOwner(h);
    expect((await failure(audit(stranger).listAuditEvents({ organizationId: owner.organizationId }))).code).toBe(Code.NotFound);
    const own = await audit(stranger).listAuditEvents({});
    expect(own.events.every((e) => e.organizationId === stranger.organizationId)).toBe(true);
  });

  it("shows platform admins every organisation's events", async () => {
    const operator = await registerOwner(h);
    await h.testDb.db.fork().nativeUpdate(User, { id: operator.userId }, { isPlatformAdmin: true });
    const { events } = await audit(operator).listAuditEvents({ organizationId: owner.organizationId });
    expect(events.map((e) => e.action)).toContain("api_key.create");
  });

  it("shows an organisation's admins the failed logins of its members", async () => {
    const target = await registerOwner(h);
    await failure(h.client(AuthService).login({ email: target.email, password: "a wrong password guess" }));
    const { events } = await audit(target).listAuditEvents({ outcome: AuditOutcome.FAILURE });
    expect(events.map((e) => [e.action, e.actor?.userId, e.details.reason])).toEqual([["auth.login", target.userId, "wrong_password"]]);
  });

  it("records failed logins with the address tried", async () => {
    await failure(h.client(AuthService).login({ email: owner.email, password: "wrong password!!" }));
    const operator = await registerOwner(h);
    await h.testDb.db.fork().nativeUpdate(User, { id: operator.userId }, { isPlatformAdmin: true });
    const { events } = await audit(operator).listAuditEvents({ actionPrefix: "auth.login", outcome: AuditOutcome.FAILURE });
    expect(events[0]).toMatchObject({ actor: { userId: owner.userId, email: owner.email }, details: { reason: "wrong_password" } });
  });
});
