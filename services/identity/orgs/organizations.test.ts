// The caller's organisation and its members over real gRPC and Connect: reading, settings, roles,
// removal, and the rule that an organisation always keeps an owner.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { MemberRole } from "../../../proto/gen/arabicstt/v1/common_pb.js";
import { AuthService } from "../../../proto/gen/arabicstt/v1/auth_pb.js";
import { ApiKeyService } from "../../../proto/gen/arabicstt/v1/api_key_pb.js";
import { OrganizationService, OrganizationState } from "../../../proto/gen/arabicstt/v1/organization_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../../gateway/testing/identity-gateway.js";
import { joinAs, registerOwner, type TestAccount } from "../../../gateway/testing/accounts.js";
import { AuditEvent } from "../model/audit-event.entity.js";
import { Membership } from "../model/membership.entity.js";
import { timestampDate } from "@bufbuild/protobuf/wkt";

let h: IdentityGateway;
beforeAll(async () => {
  h = await startIdentityGateway();
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
const orgs = (account: TestAccount, protocol: "grpc" | "connect" = "grpc") => h.client(OrganizationService, { credential: account.accessToken, protocol });

describe("the caller's organisation", () => {
  it("is readable by every member, viewers included", async () => {
    const owner = await registerOwner(h, "شركة الاتصالات العربية");
    const viewer = await joinAs(h, owner.organizationId, "viewer");
    const { organization } = await orgs(viewer, "connect").getOrganization({});
    expect(organization).toMatchObject({
      organizationId: owner.organizationId,
      name: "شركة الاتصالات العربية",
      state: OrganizationState.ACTIVE,
      plan: "free",
      memberCount: 2,
      settings: { defaultLanguageCode: "ar", defaultModel: "", retentionDays: 0 },
    });
  });

  it("changes only the fields sent, needs ADMIN, and is audited", async () => {
    const owner = await registerOwner(h);
    const admin = await joinAs(h, owner.organizationId, "admin");
    const member = await joinAs(h, owner.organizationId, "member");
    expect((await failure(orgs(member).updateOrganization({ name: "x" }))).code).toBe(Code.PermissionDenied);
    const updated = await orgs(admin).updateOrganization({ retentionDays: 90, defaultLanguageCode: "ar-EG" });
    expect(updated.organization?.settings).toMatchObject({ retentionDays: 90, defaultLanguageCode: "ar-EG" });
    const renamed = await orgs(admin).updateOrganization({ name: "مركز القاهرة" });
    expect(renamed.organization).toMatchObject({ name: "مركز القاهرة", settings: { retentionDays: 90, defaultLanguageCode: "ar-EG" } });
    const invalid = await failure(orgs(admin).updateOrganization({ defaultLanguageCode: "Arabic!" }));
    expect(invalid.code).toBe(Code.InvalidArgument);
    const events = await h.testDb.db.fork().find(AuditEvent, { organization: owner.organizationId, action: "organization.update" });
    expect(events.map((e) => e.actorUser?.id)).toEqual([admin.userId, admin.userId]);
  });

  it("lists members oldest first, page by page", async () => {
    const owner = await registerOwner(h);
    const a = await joinAs(h, owner.organizationId, "admin");
    const b = await joinAs(h, owner.organizationId, "viewer");
    const first = await orgs(b).listMembers({ pageSize: 2 });
    expect(first.members.map((m) => [m.userId, m.role])).toEqual([
      [owner.userId, MemberRole.OWNER],
      [a.userId, MemberRole.ADMIN],
    ]);
    const second = await orgs(b).listMembers({ pageSize: 2, pageToken: first.nextPageToken });
    expect(second.members.map((m) => m.userId)).toEqual([b.userId]);
    expect(second.nextPageToken).toBe("");
    expect(second.members[0]?.email).toBe(b.email);
  });

  it("shows when each member was last active, written at most once a minute", async () => {
    const owner = await registerOwner(h);
    const idle = await joinAs(h, owner.organizationId, "viewer");
    const lastActive = async () => {
      const { members } = await orgs(owner).listMembers({});
      return Object.fromEntries(members.map((m) => [m.userId, m.lastActiveAt ? timestampDate(m.lastActiveAt) : undefined]));
    };
    // The owner's ListMembers is itself an authenticated request; the viewer has made none (logging in is not one).
    const first = await lastActive();
    expect(first[idle.userId]).toBeUndefined();
    const recorded = first[owner.userId]!;
    expect(recorded.getUTCSeconds()).toBe(0);
    expect(Date.now() - recorded.getTime()).toBeLessThan(120_000);

    // Within the minute, requests write nothing: a value set under the recorded one stays as it is.
    const em = h.testDb.db.fork();
    const earlier = new Date(Date.now() - 30_000);
    await em.nativeUpdate(Membership, { user: owner.userId, organization: owner.organizationId }, { lastActiveAt: earlier });
    expect((await lastActive())[owner.userId]).toEqual(earlier);
    // Once it is older than the minute, the next request records the current minute again.
    await em.nativeUpdate(Membership, { user: owner.userId, organization: owner.organizationId }, { lastActiveAt: new Date(Date.now() - 5 * 60_000) });
    const again = (await lastActive())[owner.userId]!;
    expect(again.getTime()).toBeGreaterThan(Date.now() - 120_000);
    expect(again.getUTCSeconds()).toBe(0);
  });
});

describe("member roles", () => {
  it("admins change roles below owner; the change applies to the member's current token at once", async () => {
    const owner = await registerOwner(h);
    const admin = await joinAs(h, owner.organizationId, "admin");
    const other = await joinAs(h, owner.organizationId, "admin");
    await h.client(ApiKeyService, { credential: other.accessToken }).listApiKeys({});
    const res = await orgs(admin).updateMemberRole({ userId: other.userId, role: MemberRole.VIEWER });
    expect(res.member).toMatchObject({ userId: other.userId, role: MemberRole.VIEWER });
    expect((await failure(h.client(ApiKeyService, { credential: other.accessToken }).listApiKeys({}))).code).toBe(Code.PermissionDenied);
    const event = await h.testDb.db.fork().findOneOrFail(AuditEvent, { action: "member.role_update", targetId: other.userId });
    expect((event.metadata as { details: Record<string, string> }).details).toEqual({ old_role: "admin", new_role: "viewer" });
  });

  it("only owners grant or take away OWNER; ownership can be transferred; the last owner cannot be demoted", async () => {
    const owner = await registerOwner(h);
    const admin = await joinAs(h, owner.organizationId, "admin");
    const grant = await failure(orgs(admin).updateMemberRole({ userId: admin.userId, role: MemberRole.OWNER }));
    expect(grant.code).toBe(Code.PermissionDenied);
    const demoteOwner = await failure(orgs(admin).updateMemberRole({ userId: owner.userId, role: MemberRole.MEMBER }));
    expect(demoteOwner.code).toBe(Code.PermissionDenied);
    const last = await failure(orgs(owner).updateMemberRole({ userId: owner.userId, role: MemberRole.ADMIN }));
    expect(last.code).toBe(Code.FailedPrecondition);
    expect(last.rawMessage).toMatch(/last owner/);

    await orgs(owner).updateMemberRole({ userId: admin.userId, role: MemberRole.OWNER });
    await orgs(admin).updateMemberRole({ userId: owner.userId, role: MemberRole.ADMIN });
    const roles = (await orgs(admin).listMembers({})).members.map((m) => [m.userId, m.role]);
    expect(roles).toEqual(expect.arrayContaining([[admin.userId, MemberRole.OWNER], [owner.userId, MemberRole.ADMIN]]));
  });

  it("rejects an unspecified role with INVALID_ARGUMENT", async () => {
    const owner = await registerOwner(h);
    const member = await joinAs(h, owner.organizationId, "member");
    expect((await failure(orgs(owner).updateMemberRole({ userId: member.userId, role: MemberRole.UNSPECIFIED }))).code).toBe(Code.InvalidArgument);
  });
});

describe("removing members", () => {
  it("lets anyone leave, needs ADMIN to remove another, OWNER to remove an owner, and keeps the last owner", async () => {
    const owner = await registerOwner(h);
    const admin = await joinAs(h, owner.organizationId, "admin");
    const member = await joinAs(h, owner.organizationId, "member");
    const leaver = await joinAs(h, owner.organizationId, "viewer");

    expect((await failure(orgs(member).removeMember({ userId: admin.userId }))).code).toBe(Code.PermissionDenied);
    expect((await failure(orgs(admin).removeMember({ userId: owner.userId }))).code).toBe(Code.PermissionDenied);
    const lastOwner = await failure(orgs(owner).removeMember({ userId: owner.userId }));
    expect(lastOwner.code).toBe(Code.FailedPrecondition);

    await orgs(leaver).removeMember({ userId: leaver.userId });
    await orgs(admin).removeMember({ userId: member.userId });
    const left = (await orgs(owner).listMembers({})).members.map((m) => m.userId);
    expect(left.sort()).toEqual([owner.userId, admin.userId].sort());

    // A removed member's token and sessions for the organisation stop working at once.
    expect((await failure(orgs(member).getOrganization({}))).code).toBe(Code.Unauthenticated);
    expect((await failure(h.client(AuthService).refreshToken({ refreshToken: member.refreshToken }))).code).toBe(Code.Unauthenticated);
    const removed = await h.testDb.db.fork().find(AuditEvent, { organization: owner.organizationId, action: "member.remove" });
    expect(removed.map((e) => e.targetId).sort()).toEqual([member.userId, leaver.userId].sort());
  });
});
