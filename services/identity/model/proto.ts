// Entities of accounts and organisations as the API shows them. Secrets and hashes never appear here.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { MemberRole } from "../../../proto/gen/arabicstt/v1/common_pb.js";
import { AuthTokensSchema, UserSchema, type AuthTokens, type User as UserMessage } from "../../../proto/gen/arabicstt/v1/identity_pb.js";
import {
  MemberSchema,
  OrganizationSchema,
  OrganizationState,
  type Member,
  type Organization as OrganizationMessage,
} from "../../../proto/gen/arabicstt/v1/organization_pb.js";
import { InvalidArgumentError } from "../../platform/errors/errors.js";
import { DEFAULT_LANGUAGE_CODE } from "../../arabic-text/language.js";
import type { Tokens } from "./tokens.js";
import type { User } from "./user.entity.js";
import type { Membership, Role } from "./membership.entity.js";
import type { Organization } from "./organization.entity.js";

const roleToProto: Record<Role, MemberRole> = {
  owner: MemberRole.OWNER,
  admin: MemberRole.ADMIN,
  member: MemberRole.MEMBER,
  viewer: MemberRole.VIEWER,
};

export function toMemberRole(role: Role): MemberRole {
  return roleToProto[role];
}

export function fromMemberRole(field: string, role: MemberRole): Role {
  const found = (Object.keys(roleToProto) as Role[]).find((r) => roleToProto[r] === role);
  if (!found) throw new InvalidArgumentError(field, "must be OWNER, ADMIN, MEMBER or VIEWER");
  return found;
}

export function toUser(user: User): UserMessage {
  return create(UserSchema, {
    userId: user.id,
    email: user.email,
    displayName: user.displayName ?? "",
    emailVerified: user.emailVerifiedAt !== null,
    platformAdmin: user.isPlatformAdmin,
    createdAt: timestampFromDate(user.createdAt),
    updatedAt: timestampFromDate(user.updatedAt),
    lastLoginAt: user.lastLoginAt ? timestampFromDate(user.lastLoginAt) : undefined,
  });
}

export function toOrganization(organization: Organization, memberCount: number): OrganizationMessage {
  return create(OrganizationSchema, {
    organizationId: organization.id,
    name: organization.name,
    state: organization.status === "suspended" ? OrganizationState.SUSPENDED : OrganizationState.ACTIVE,
    suspensionReason: organization.status === "suspended" ? (organization.suspensionReason ?? "") : "",
    plan: organization.plan,
    settings: {
      defaultLanguageCode: organization.settings.defaultLanguageCode ?? DEFAULT_LANGUAGE_CODE,
      defaultModel: organization.settings.defaultModel ?? "",
      retentionDays: organization.settings.retentionDays ?? 0,
    },
    memberCount,
    createdAt: timestampFromDate(organization.createdAt),
    updatedAt: timestampFromDate(organization.updatedAt),
  });
}

export function toMember(membership: Membership): Member {
  return create(MemberSchema, {
    userId: membership.user.id,
    email: membership.user.email,
    displayName: membership.user.displayName ?? "",
    role: toMemberRole(membership.role),
    joinedAt: timestampFromDate(membership.createdAt),
    lastActiveAt: membership.lastActiveAt ? timestampFromDate(membership.lastActiveAt) : undefined,
  });
}

export function toAuthTokens(tokens: Tokens): AuthTokens {
  return create(AuthTokensSchema, {
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: timestampFromDate(tokens.accessTokenExpiresAt),
    refreshToken: tokens.refreshToken,
    refreshTokenExpiresAt: timestampFromDate(tokens.refreshTokenExpiresAt),
    tokenType: "Bearer",
    organizationId: tokens.organizationId,
  });
}
