// OrganizationService over the wire. Invitations (InviteMember, AcceptInvitation) are not built yet
// and answer UNIMPLEMENTED.
import type { ServiceImpl } from "@connectrpc/connect";
import type { OrganizationService } from "../../proto/gen/arabicstt/v1/organization_pb.js";
import { callerOf, principalOf, userOf } from "../auth/context.js";
import type { Organizations } from "./organizations.js";
import { fromMemberRole, toMember, toOrganization } from "./proto.js";

export function organizationHandler(organizations: Organizations): Partial<ServiceImpl<typeof OrganizationService>> {
  return {
    async getOrganization(_req, ctx) {
      const view = await organizations.get(principalOf(ctx.values));
      return { organization: toOrganization(view.organization, view.memberCount) };
    },
    async updateOrganization(req, ctx) {
      const view = await organizations.update(
        userOf(ctx.values),
        { name: req.name, defaultLanguageCode: req.defaultLanguageCode, defaultModel: req.defaultModel, retentionDays: req.retentionDays },
        callerOf(ctx.values),
      );
      return { organization: toOrganization(view.organization, view.memberCount) };
    },
    async listMembers(req, ctx) {
      const page = await organizations.listMembers(principalOf(ctx.values), req);
      return { members: page.items.map(toMember), nextPageToken: page.nextPageToken };
    },
    async updateMemberRole(req, ctx) {
      const membership = await organizations.updateMemberRole(userOf(ctx.values), req.userId, fromMemberRole("role", req.role), callerOf(ctx.values));
      return { member: toMember(membership) };
    },
    async removeMember(req, ctx) {
      await organizations.removeMember(userOf(ctx.values), req.userId, callerOf(ctx.values));
      return {};
    },
  };
}
