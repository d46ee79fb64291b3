// Suspending an organisation, as platform operators and the organisation meet it: from the next
// request on, its API keys are refused and its users can read but change nothing; lifting the
// suspension restores everything.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { AdminService } from "../../../proto/gen/arabicstt/v1/admin_pb.js";
import { ApiKeyScope, ApiKeyService } from "../../../proto/gen/arabicstt/v1/api_key_pb.js";
import { AuthService } from "../../../proto/gen/arabicstt/v1/auth_pb.js";
import { JobService } from "../../../proto/gen/arabicstt/v1/job_pb.js";
import { OrganizationService, OrganizationState } from "../../../proto/gen/arabicstt/v1/organization_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../../gateway/testing/identity-gateway.js";
import { registerOwner, type TestAccount } from "../../../gateway/testing/accounts.js";
import { User } from "../model/user.entity.js";

let h: IdentityGateway;
let operator: TestAccount;
beforeAll(async () => {
  h = await startIdentityGateway();
  operator = await registerOwner(h, "مشغل المنصة");
  await h.testDb.db.fork().nativeUpdate(User, { id: operator.userId }, { isPlatformAdmin: true });
});
afterAll(() => h?.stop());

const code = (p: Promise<unknown>) =>
  p.then(
    () => "ok" as const,
    (err: unknown) => ConnectError.from(err).code,
  );

describe("suspending an organisation", () => {
  it("refuses its keys and its writes at once, keeps reads, is audited, and can be lifted", async () => {
    const owner = await registerOwner(h, "شركة متأخرة في الدفع");
    const { secret } = await h.client(ApiKeyService, { credential: owner.accessToken }).createApiKey({ name: "k", scopes: [ApiKeyScope.JOBS_READ] });
    const useKey = () => code(h.client(JobService, { headers: { "x-api-key": secret } }).getJob({ jobId: randomUUID() }));
    const orgs = h.client(OrganizationService, { credential: owner.accessToken });
    const admin = h.client(AdminService, { credential: operator.accessToken });
    expect(await useKey()).toBe(Code.NotFound);

    const suspended = await admin.suspendOrganization({ organizationId: owner.organizationId, reason: "فواتير غير مدفوعة" });
    expect(suspended.organization).toMatchObject({ state: OrganizationState.SUSPENDED, suspensionReason: "فواتير غير مدفوعة" });

    expect(await useKey()).toBe(Code.PermissionDenied);
    expect(await code(orgs.updateOrganization({ name: "x" }))).toBe(Code.PermissionDenied);
    const read = await orgs.getOrganization({});
    expect(read.organization?.state).toBe(OrganizationState.SUSPENDED);
    expect(await code(orgs.listMembers({}))).toBe("ok");
    expect(await code(h.client(AuthService).refreshToken({ refreshToken: owner.refreshToken }))).toBe("ok");
    const events = await h.client(AdminService, { credential: owner.accessToken }).listAuditEvents({ actionPrefix: "organization." });
    expect(events.events[0]).toMatchObject({ action: "organization.suspend", actor: { userId: operator.userId }, details: { reason: "فواتير غير مدفوعة" } });

    const lifted = await admin.suspendOrganization({ organizationId: owner.organizationId, reason: "paid", reinstate: true });
    expect(lifted.organization).toMatchObject({ state: OrganizationState.ACTIVE, suspensionReason: "" });
    expect(await useKey()).toBe(Code.NotFound);
    expect(await code(orgs.updateOrganization({ name: "شركة منتظمة" }))).toBe("ok");
  });

  it("is for platform operators only, and an unknown organisation is NOT_FOUND", async () => {
    const owner = await registerOwner(h);
    const other = await registerOwner(h);
    const asOwner = h.client(AdminService, { credential: owner.accessToken });
    expect(await code(asOwner.suspendOrganization({ organizationId: other.organizationId, reason: "x" }))).toBe(Code.PermissionDenied);
    expect(await code(asOwner.listOrganizations({}))).toBe(Code.PermissionDenied);
    const admin = h.client(AdminService, { credential: operator.accessToken });
    expect(await code(admin.suspendOrganization({ organizationId: randomUUID(), reason: "x" }))).toBe(Code.NotFound);
  });

  it("lists organisations for operators, newest first, by name and state", async () => {
    const owner = await registerOwner(h, "مركز الرياض للاتصالات");
    const admin = h.client(AdminService, { credential: operator.accessToken });
    const found = await admin.listOrganizations({ query: "الرياض للاتصالات" });
    expect(found.organizations.map((o) => o.organizationId)).toEqual([owner.organizationId]);
    await admin.suspendOrganization({ organizationId: owner.organizationId, reason: "test" });
    const suspended = await admin.listOrganizations({ state: OrganizationState.SUSPENDED });
    expect(suspended.organizations.map((o) => o.organizationId)).toContain(owner.organizationId);
    const active = await admin.listOrganizations({ state: OrganizationState.ACTIVE, pageSize: 200 });
    expect(active.organizations.map((o) => o.organizationId)).not.toContain(owner.organizationId);
    const page = await admin.listOrganizations({ pageSize: 1 });
    expect(page.organizations).toHaveLength(1);
    expect(page.nextPageToken).not.toBe("");
  });
});
