// Everything that goes through a mailbox, with real mail: an SMTP server runs inside the test, the
// gateway sends to it over SMTP, and the tests follow the links. Without SMTP the same mail lands
// in the outbox under DATA_DIR.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { AuthService } from "../../proto/gen/arabicstt/v1/auth_pb.js";
import { MemberRole } from "../../proto/gen/arabicstt/v1/common_pb.js";
import { OrganizationService } from "../../proto/gen/arabicstt/v1/organization_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../gateway/testing/identity-gateway.js";
import { joinAs, registerOwner, TEST_PASSWORD, uniqueEmail, type TestAccount } from "../../gateway/testing/accounts.js";
import { decodeQuotedPrintable, linkToken, startSmtpServer, type TestSmtpServer } from "../../gateway/testing/smtp.js";
import { AuditEvent } from "./model/audit-event.entity.js";
import { OneTimeToken } from "./model/one-time-token.entity.js";

const failure = async (p: Promise<unknown>): Promise<ConnectError> => {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
};

describe("mail over SMTP", () => {
  let smtp: TestSmtpServer;
  let h: IdentityGateway;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    h = await startIdentityGateway({ SMTP_URL: smtp.url, APP_BASE_URL: "https://app.example.com", MAIL_FROM: "Arabic STT <no-reply@example.com>" });
  });
  afterAll(async () => {
    await h?.stop();
    await smtp?.close();
  });
  const auth = () => h.client(AuthService);

  it("sends a verification link at registration; the token verifies once", async () => {
    const owner = await registerOwner(h);
    const mail = await smtp.next(owner.email);
    expect(mail.raw).toMatch(/^From: Arabic STT <no-reply@example\.com>/m);
    const token = linkToken(mail, "https://app.example.com/verify-email");
    const { user } = await auth().verifyEmail({ token });
    expect(user?.emailVerified).toBe(true);
    const me = await h.client(AuthService, { credential: owner.accessToken }).getCurrentUser({});
    expect(me.user?.emailVerified).toBe(true);
    const again = await failure(auth().verifyEmail({ token }));
    expect(again.code).toBe(Code.InvalidArgument);
    expect(again.rawMessage).toBe("token: is invalid, already used or expired; ask for a new email");
    // Verified accounts get no more verification mail.
    await auth().resendVerification({ email: owner.email });
    await h.identity.mail.idle();
    expect(smtp.received.filter((m) => m.to.includes(owner.email))).toHaveLength(1);
  });

  it("resends verification with a new token that replaces the old one", async () => {
    const owner = await registerOwner(h);
    const first = linkToken(await smtp.next(owner.email), "verify-email");
    await auth().resendVerification({ email: owner.email });
    const second = linkToken(await smtp.next(owner.email), "verify-email");
    expect(second).not.toBe(first);
    expect((await failure(auth().verifyEmail({ token: first }))).code).toBe(Code.InvalidArgument);
    await auth().verifyEmail({ token: second });
  });

  it("answers a reset request the same for unknown addresses, and sends them nothing", async () => {
    const stranger = uniqueEmail();
    await expect(auth().requestPasswordReset({ email: stranger })).resolves.toEqual(expect.anything());
    await expect(auth().resendVerification({ email: stranger })).resolves.toEqual(expect.anything());
    await h.identity.mail.idle();
    expect(smtp.received.some((m) => m.to.includes(stranger))).toBe(false);
  });

  it("resets a forgotten password by the emailed token, once, ending every session", async () => {
    const owner = await registerOwner(h);
    await smtp.next(owner.email); // the verification mail
    await auth().requestPasswordReset({ email: owner.email.toUpperCase() });
    const token = linkToken(await smtp.next(owner.email), "reset-password");
    const weak = await failure(auth().resetPassword({ token, newPassword: "aaaaaaaaaaaaaaaa" }));
    expect(weak.code).toBe(Code.InvalidArgument);
    // The weak attempt did not spend the token.
    await auth().resetPassword({ token, newPassword: "كلمة مرور جديدة للحساب" });
    expect((await failure(auth().resetPassword({ token, newPassword: "كلمة مرور أخرى تماما" }))).code).toBe(Code.InvalidArgument);
    expect((await failure(auth().refreshToken({ refreshToken: owner.refreshToken }))).code).toBe(Code.Unauthenticated);
    expect((await failure(h.client(AuthService, { credential: owner.accessToken }).getCurrentUser({}))).code).toBe(Code.Unauthenticated);
    expect((await failure(auth().login({ email: owner.email, password: TEST_PASSWORD }))).code).toBe(Code.Unauthenticated);
    await auth().login({ email: owner.email, password: "كلمة مرور جديدة للحساب" });
    const actions = (await h.testDb.db.fork().find(AuditEvent, { actorUser: owner.userId })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["auth.password_reset_request", "auth.password_reset"]));
  });

  it("refuses an expired reset token", async () => {
    const owner = await registerOwner(h);
    await auth().requestPasswordReset({ email: owner.email });
    await smtp.next(owner.email); // the verification mail
    const token = linkToken(await smtp.next(owner.email), "reset-password");
    await h.testDb.db.fork().nativeUpdate(OneTimeToken, { purpose: "password_reset", user: owner.userId }, { expiresAt: new Date(Date.now() - 1000) });
    expect((await failure(auth().resetPassword({ token, newPassword: "كلمة مرور جديدة للحساب" }))).code).toBe(Code.InvalidArgument);
  });

  describe("invitations", () => {
    let owner: TestAccount;
    let admin: TestAccount;
    beforeAll(async () => {
      owner = await registerOwner(h, "مركز الدمام");
      admin = await joinAs(h, owner.organizationId, "admin");
    });
    const orgs = (account: TestAccount) => h.client(OrganizationService, { credential: account.accessToken });

    it("invites a new address by mail; accepting creates a verified account and joins with the role", async () => {
      const email = uniqueEmail();
      const { invitation } = await orgs(admin).inviteMember({ email, role: MemberRole.MEMBER });
      expect(invitation).toMatchObject({ email, role: MemberRole.MEMBER, invitedByUserId: admin.userId });
      const mail = await smtp.next(email);
      const token = linkToken(mail, "accept-invitation");
      const missing = await failure(h.client(OrganizationService).acceptInvitation({ token, displayName: "يوسف" }));
      expect(missing.code).toBe(Code.InvalidArgument);
      const accepted = await h.client(OrganizationService).acceptInvitation({ token, displayName: "يوسف", password: "كلمة سر المدعو 2026" });
      expect(accepted.user).toMatchObject({ email, displayName: "يوسف", emailVerified: true });
      expect(accepted.member?.role).toBe(MemberRole.MEMBER);
      expect(accepted.organization?.organizationId).toBe(owner.organizationId);
      const me = await h.client(AuthService, { credential: accepted.tokens!.accessToken }).getCurrentUser({});
      expect(me.role).toBe(MemberRole.MEMBER);
      expect((await failure(h.client(OrganizationService).acceptInvitation({ token, displayName: "x", password: "كلمة سر المدعو 2026" }))).code).toBe(Code.InvalidArgument);
    });

    it("lets an existing account accept only as itself: by access token or password", async () => {
      const existing = await registerOwner(h, "منظمة أخرى");
      await smtp.next(existing.email); // verification
      await orgs(owner).inviteMember({ email: existing.email, role: MemberRole.VIEWER });
      const token = linkToken(await smtp.next(existing.email), "accept-invitation");
      const stranger = await registerOwner(h);
      const impostor = await failure(h.client(OrganizationService, { credential: stranger.accessToken }).acceptInvitation({ token }));
      expect(impostor.code).toBe(Code.Unauthenticated);
      const wrongPassword = await failure(h.client(OrganizationService).acceptInvitation({ token, password: "not the right password" }));
      expect(wrongPassword.code).toBe(Code.Unauthenticated);
      const accepted = await h.client(OrganizationService, { credential: existing.accessToken }).acceptInvitation({ token });
      expect(accepted.member).toMatchObject({ userId: existing.userId, role: MemberRole.VIEWER });
      expect(accepted.tokens?.organizationId).toBe(owner.organizationId);
    });

    it("replaces a pending invitation when the address is invited again", async () => {
      const email = uniqueEmail();
      await orgs(admin).inviteMember({ email, role: MemberRole.MEMBER });
      const first = linkToken(await smtp.next(email), "accept-invitation");
      await orgs(admin).inviteMember({ email, role: MemberRole.ADMIN });
      const second = linkToken(await smtp.next(email), "accept-invitation");
      expect((await failure(h.client(OrganizationService).acceptInvitation({ token: first, displayName: "a", password: "كلمة سر المدعو 2026" }))).code).toBe(Code.InvalidArgument);
      const accepted = await h.client(OrganizationService).acceptInvitation({ token: second, displayName: "a", password: "كلمة سر المدعو 2026" });
      expect(accepted.member?.role).toBe(MemberRole.ADMIN);
    });

    it("needs OWNER to invite an owner, ADMIN to invite at all, and refuses current members", async () => {
      expect((await failure(orgs(admin).inviteMember({ email: uniqueEmail(), role: MemberRole.OWNER }))).code).toBe(Code.PermissionDenied);
      const member = await joinAs(h, owner.organizationId, "member");
      expect((await failure(orgs(member).inviteMember({ email: uniqueEmail(), role: MemberRole.VIEWER }))).code).toBe(Code.PermissionDenied);
      expect((await failure(orgs(owner).inviteMember({ email: admin.email, role: MemberRole.VIEWER }))).code).toBe(Code.AlreadyExists);
      const invited = await h.testDb.db.fork().find(AuditEvent, { organization: owner.organizationId, action: "invitation.create" });
      expect(invited.length).toBeGreaterThanOrEqual(3);
    });
  });
});

describe("mail without SMTP", () => {
  let h: IdentityGateway;
  beforeAll(async () => {
    h = await startIdentityGateway();
  });
  afterAll(() => h?.stop());

  it("writes each message to the outbox under DATA_DIR, with a working link", async () => {
    const owner = await registerOwner(h);
    await h.identity.mail.idle();
    const dir = path.join(h.dataDir, "outbox");
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.eml$/);
    const raw = decodeQuotedPrintable(await readFile(path.join(dir, files[0]!), "utf8"));
    expect(raw).toContain(`To: ${owner.email}`);
    const token = /verify-email\?token=([A-Za-z0-9_-]+)/.exec(raw)?.[1];
    const { user } = await h.client(AuthService).verifyEmail({ token: token! });
    expect(user?.emailVerified).toBe(true);
  });
});
