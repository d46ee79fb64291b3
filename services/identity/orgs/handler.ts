// OrganizationService over the wire.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { InvitationSchema, InvitationState, type OrganizationService } from "../../../proto/gen/arabicstt/v1/organization_pb.js";
import { callerOf, principalKey, principalOf, userOf } from "../model/context.js";
import type { Invitations } from "./invitations.js";
import type { Organizations } from "./organizations.js";
import { fromMemberRole, toAuthTokens, toMember, toMemberRole, toOrganization, toUser } from "../model/proto.js";

export function organizationHandler(organizations: Organizations, invitations: Invitations): Partial<ServiceImpl<typeof OrganizationService>> {
  return {
    async inviteMember(req, ctx) {
      const invitation = await invitations.invite(userOf(ctx.values), { email: req.email, role: fromMemberRole("role", req.role) }, callerOf(ctx.values));
      return {
        invitation: create(InvitationSchema, {
          invitationId: invitation.id,
          email: invitation.email,
          role: toMemberRole(invitation.role),
          state: InvitationState.PENDING,
          invitedByUserId: invitation.invitedBy?.id ?? "",
          createdAt: timestampFromDate(invitation.createdAt),
          expiresAt: timestampFromDate(invitation.expiresAt),
        }),
      };
    },
    async acceptInvitation(req, ctx) {
      const accepted = await invitations.accept(req, ctx.values.get(principalKey), callerOf(ctx.values));
      return {
        member: toMember(accepted.membership),
        organization: toOrganization(accepted.organization, accepted.memberCount),
        user: toUser(accepted.user),
        tokens: toAuthTokens(accepted.tokens),
      };
    },
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
