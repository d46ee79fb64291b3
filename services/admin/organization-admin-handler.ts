// AdminService's organisation RPCs (ListOrganizations, SuspendOrganization) over the wire. Only
// platform admins reach them (the policy table).
import type { ServiceImpl } from "@connectrpc/connect";
import type { AdminService } from "../../proto/gen/arabicstt/v1/admin_pb.js";
import { OrganizationState } from "../../proto/gen/arabicstt/v1/organization_pb.js";
import { callerOf, userOf } from "../identity/model/context.js";
import type { Organizations } from "../identity/orgs/organizations.js";
import { toOrganization } from "../identity/model/proto.js";

export function organizationAdminHandler(organizations: Organizations): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async listOrganizations(req) {
      const status = req.state === OrganizationState.SUSPENDED ? "suspended" : req.state === OrganizationState.ACTIVE ? "active" : undefined;
      const page = await organizations.listAll({ pageSize: req.pageSize, pageToken: req.pageToken, query: req.query || undefined, status });
      return { organizations: page.items.map((v) => toOrganization(v.organization, v.memberCount)), nextPageToken: page.nextPageToken };
    },
    async suspendOrganization(req, ctx) {
      const view = await organizations.suspend(userOf(ctx.values), req, callerOf(ctx.values));
      return { organization: toOrganization(view.organization, view.memberCount) };
    },
  };
}
