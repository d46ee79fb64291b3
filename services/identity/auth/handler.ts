// AuthService over the wire: proto in, domain call, proto out.
import type { ServiceImpl } from "@connectrpc/connect";
import type { AuthService } from "../../../proto/gen/arabicstt/v1/auth_pb.js";
import { toAuthTokens, toMemberRole, toOrganization, toUser } from "../model/proto.js";
import type { Accounts } from "./accounts.js";
import type { AccountEmails } from "./account-emails.js";
import { callerOf, userOf } from "../model/context.js";

export function authHandler(accounts: Accounts, emails: AccountEmails): Partial<ServiceImpl<typeof AuthService>> {
  return {
    async register(req, ctx) {
      const session = await accounts.register(req, callerOf(ctx.values));
      await emails.sendVerification(session.user);
      return { user: toUser(session.user), organization: toOrganization(session.organization, session.memberCount), tokens: toAuthTokens(session.tokens) };
    },
    async login(req, ctx) {
      const session = await accounts.login({ email: req.email, password: req.password, organizationId: req.organizationId || undefined }, callerOf(ctx.values));
      return {
        user: toUser(session.user),
        organization: toOrganization(session.organization, session.memberCount),
        role: toMemberRole(session.role),
        tokens: toAuthTokens(session.tokens),
      };
    },
    async refreshToken(req, ctx) {
      const tokens = await accounts.refresh({ refreshToken: req.refreshToken, organizationId: req.organizationId || undefined }, callerOf(ctx.values));
      return { tokens: toAuthTokens(tokens) };
    },
    async logout(req, ctx) {
      await accounts.logout(userOf(ctx.values), { refreshToken: req.refreshToken || undefined, allSessions: req.allSessions }, callerOf(ctx.values));
      return {};
    },
    async changePassword(req, ctx) {
      const tokens = await accounts.changePassword(userOf(ctx.values), req, callerOf(ctx.values));
      return { tokens: toAuthTokens(tokens) };
    },
    async verifyEmail(req, ctx) {
      return { user: toUser(await emails.verifyEmail(req.token, callerOf(ctx.values))) };
    },
    async resendVerification(req) {
      await emails.resendVerification(req.email);
      return {};
    },
    async requestPasswordReset(req, ctx) {
      await emails.requestPasswordReset(req.email, callerOf(ctx.values));
      return {};
    },
    async resetPassword(req, ctx) {
      await emails.resetPassword(req.token, req.newPassword, callerOf(ctx.values));
      return {};
    },
    async getCurrentUser(_req, ctx) {
      const { user, organization, memberCount, role } = await accounts.currentUser(userOf(ctx.values));
      return { user: toUser(user), organization: toOrganization(organization, memberCount), role: toMemberRole(role) };
    },
  };
}
