// Accounts and sessions: register, log in, rotate refresh tokens, log out, change passwords, and
// turn a presented credential into a principal. Transport-free: handlers call these with plain values.
import { randomUUID } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Database } from "../../platform/database/database.js";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, UnauthenticatedError } from "../../platform/errors/errors.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { RateLimits } from "../../platform/limits/rate-limits.js";
import { ResourceExhaustedError } from "../../platform/errors/errors.js";
import { Membership, type Role } from "../model/membership.entity.js";
import { Organization } from "../model/organization.entity.js";
import { AccessTokens } from "./access-tokens.js";
import { noteMemberActivity } from "./member-activity.js";
import type { TokenDenylist } from "./denylist.js";
import { burnPasswordCheck, checkPasswordPolicy, hashPassword, verifyPassword } from "./passwords.js";
import type { Authenticator, Caller, Principal, UserPrincipal } from "../model/principal.js";
import { RefreshToken } from "../model/refresh-token.entity.js";
import { hashSecret, newSecret } from "./secrets.js";
import { User } from "../model/user.entity.js";
import type { Tokens } from "../model/tokens.js";


export interface Session {
  user: User;
  organization: Organization;
  memberCount: number;
  role: Role;
  tokens: Tokens;
}

/** API keys are resolved by their own capability; accounts only need to hand them over. */
export interface ApiKeyResolver {
  authenticate(secret: string): Promise<Principal>;
}

export const REFRESH_TOKEN_PREFIX = "astr_";

export class Accounts implements Authenticator {
  constructor(
    private readonly database: Database,
    private readonly accessTokens: AccessTokens,
    private readonly denylist: TokenDenylist,
    private readonly audit: AuditLog,
    private readonly apiKeys: ApiKeyResolver,
    private readonly refreshTtlDays: number,
    private readonly limits: Pick<RateLimits, "consume" | "assertLoginAllowed" | "recordLoginFailure" | "clearLoginFailures">,
    /** Addresses (lower case) whose accounts are platform admins (PLATFORM_ADMIN_EMAILS). */
    private readonly platformAdminEmails: readonly string[] = [],
  ) {}

  /**
   * Makes the accounts of the configured addresses platform admins, at process start: how a new install
   * gets its first operator, and how one is added later. Only grants: an address taken off the setting
   * keeps its admin flag until it is cleared in the database, so a typo in a restart locks nobody out.
   */
  async grantConfiguredPlatformAdmins(caller: Caller): Promise<string[]> {
    if (this.platformAdminEmails.length === 0) return [];
    const em = this.database.fork();
    const rows = await em
      .getConnection()
      .execute<Array<{ id: string }>>(
        `update users set is_platform_admin = true, updated_at = now() where lower(email) in (${this.platformAdminEmails.map(() => "?").join(", ")}) and not is_platform_admin returning id`,
        [...this.platformAdminEmails],
      );
    for (const { id } of rows) await this.recordAdminGrant(id, "setting_at_start", caller);
    return rows.map((r) => r.id);
  }

  private async recordAdminGrant(userId: string, reason: string, caller: Caller): Promise<void> {
    await this.audit.record({ action: "user.platform_admin_grant", outcome: "success", targetType: "user", targetId: userId, details: { reason } }, caller);
  }

  async register(input: { email: string; password: string; displayName: string; organizationName: string }, caller: Caller): Promise<Session> {
    const email = normaliseEmail(input.email);
    const displayName = input.displayName.trim();
    const organizationName = input.organizationName.trim();
    if (!displayName) throw new InvalidArgumentError("display_name", "must not be blank");
    if (!organizationName) throw new InvalidArgumentError("organization_name", "must not be blank");
    checkPasswordPolicy("password", input.password, { email, displayName });
    const passwordHash = await hashPassword(input.password);
    const em = this.database.fork();
    if (await findUserByEmail(em, email)) throw new AlreadyExistsError("an account with this email already exists; log in or reset the password");
    const isPlatformAdmin = this.platformAdminEmails.includes(email);
    const user = em.create(User, { email, passwordHash, displayName, isPlatformAdmin });
    const organization = em.create(Organization, { name: organizationName, slug: `org-${randomUUID().slice(0, 13)}` });
    em.create(Membership, { user, organization, role: "owner" });
    try {
      await em.flush();
    } catch (err) {
      // Two registrations of one address racing: the unique index decides.
      if ((err as { code?: string }).code === "23505") throw new AlreadyExistsError("an account with this email already exists; log in or reset the password");
      throw err;
    }
    const tokens = await this.startSession(em, user, organization, "owner", randomUUID(), caller);
    await this.audit.record({ action: "auth.register", outcome: "success", organizationId: organization.id, actorUserId: user.id, targetType: "user", targetId: user.id }, caller);
    if (isPlatformAdmin) await this.recordAdminGrant(user.id, "setting_at_registration", caller);
    return { user, organization, memberCount: 1, role: "owner", tokens };
  }

  /**
   * Logs in. Failed attempts slow down the client that makes them, on that account only (growing delays,
   * RateLimits.recordLoginFailure): the account's owner, logging in from elsewhere, is never held up by them.
   */
  async login(input: { email: string; password: string; organizationId?: string }, caller: Caller): Promise<Session> {
    const email = normaliseEmail(input.email);
    const client = caller.ip || "unknown";
    const em = this.database.fork();
    const user = await findUserByEmail(em, email);
    try {
      await this.limits.consume("loginPerIp", client);
      await this.limits.assertLoginAllowed(email, client);
    } catch (err) {
      if (err instanceof ResourceExhaustedError) {
        await this.audit.record({ action: "auth.login", outcome: "denied", actorUserId: user?.id ?? null, actorEmail: email, details: { reason: "rate_limited" } }, caller);
      }
      throw err;
    }
    const refuse = async (reason: string, organizationId?: string) => {
      await this.audit.record(
        { action: "auth.login", outcome: "failure", actorUserId: user?.id ?? null, actorEmail: email, organizationId: organizationId ?? null, details: { reason } },
        caller,
      );
      return new UnauthenticatedError("email or password is wrong");
    };
    if (!user) {
      await burnPasswordCheck(input.password);
      // Counted like a wrong password, so the answer's timing and limits do not tell which addresses exist.
      await this.limits.recordLoginFailure(email, client);
      throw await refuse("unknown_email");
    }
    if (!(await verifyPassword(user.passwordHash, input.password))) {
      await this.limits.recordLoginFailure(email, client);
      // Filed under the organisation the attempt was aimed at, so its admins see attacks on their people.
      const target = await this.pickMembership(em, user.id, input.organizationId);
      throw await refuse("wrong_password", target?.organization.id);
    }
    const membership = await this.pickMembership(em, user.id, input.organizationId);
    if (!membership) {
      // The password was right, so saying which part failed reveals nothing; another
      // organisation is NOT_FOUND, as everywhere.
      if (input.organizationId) {
        await refuse("not_a_member");
        throw new NotFoundError("organization", input.organizationId);
      }
      throw await refuse("no_organization");
    }
    await this.limits.clearLoginFailures(email, client);
    const tokens = await this.startSession(em, user, membership.organization, membership.role, randomUUID(), caller);
    await this.audit.record({ action: "auth.login", outcome: "success", organizationId: membership.organization.id, actorUserId: user.id }, caller);
    const memberCount = await em.count(Membership, { organization: membership.organization.id });
    // Written on its own: a login is not a change of the account (updated_at), and nothing flushes `em` after this.
    const loggedInAt = new Date();
    await em.nativeUpdate(User, { id: user.id }, { lastLoginAt: loggedInAt });
    user.lastLoginAt = loggedInAt;
    return { user, organization: membership.organization, memberCount, role: membership.role, tokens };
  }

  /** Rotates a refresh token. Presenting one that was already rotated or revoked revokes its whole family. */
  async refresh(input: { refreshToken: string; organizationId?: string }, caller: Caller): Promise<Tokens> {
    const em = this.database.fork();
    const invalid = () => new UnauthenticatedError("refresh token is invalid or expired; log in again");
    const presented = await em.findOne(RefreshToken, { tokenHash: hashSecret(input.refreshToken) }, { populate: ["user"] });
    if (!presented) throw invalid();
    if (presented.revokedAt || presented.replacedBy) {
      await this.revokeFamily(em, presented.familyId);
      await this.audit.record(
        {
          action: "auth.refresh_reuse",
          outcome: "denied",
          organizationId: presented.organization?.id ?? null,
          actorUserId: presented.user.id,
          targetType: "refresh_token_family",
          targetId: presented.familyId,
        },
        caller,
      );
      throw invalid();
    }
    if (presented.expiresAt.getTime() <= Date.now()) throw invalid();
    // Checked before the token is spent, so a wrong organisation id costs the caller nothing.
    const membership = await this.pickMembership(em, presented.user.id, input.organizationId ?? presented.organization?.id);
    if (!membership) {
      if (input.organizationId) throw new NotFoundError("organization", input.organizationId);
      throw invalid();
    }
    // Only one of two concurrent refreshes with the same token wins; the other is reuse.
    const won = await em.nativeUpdate(RefreshToken, { id: presented.id, revokedAt: null, replacedBy: null }, { revokedAt: new Date() });
    if (won !== 1) {
      await this.revokeFamily(em, presented.familyId);
      throw invalid();
    }
    const tokens = await this.startSession(em, presented.user, membership.organization, membership.role, presented.familyId, caller, presented);
    return tokens;
  }

  /** Ends the session of `refreshToken` (or every session) and denies the caller's access token until it expires. */
  async logout(principal: UserPrincipal, input: { refreshToken?: string; allSessions: boolean }, caller: Caller): Promise<void> {
    const em = this.database.fork();
    if (input.allSessions) {
      await em.nativeUpdate(RefreshToken, { user: principal.userId, revokedAt: null }, { revokedAt: new Date() });
      await em.nativeUpdate(User, { id: principal.userId }, { sessionsRevokedAt: new Date() });
    } else if (input.refreshToken) {
      const token = await em.findOne(RefreshToken, { tokenHash: hashSecret(input.refreshToken), user: principal.userId });
      if (token) await this.revokeFamily(em, token.familyId);
    } else {
      throw new InvalidArgumentError("refresh_token", "is required unless all_sessions is true");
    }
    await this.denylist.deny(principal.tokenId, principal.tokenExpiresAt);
    await this.audit.record(
      { action: "auth.logout", outcome: "success", organizationId: principal.organizationId, actorUserId: principal.userId, details: { all_sessions: String(input.allSessions) } },
      caller,
    );
  }

  async currentUser(principal: UserPrincipal): Promise<Omit<Session, "tokens">> {
    const em = this.database.fork();
    const membership = await em.findOne(
      Membership,
      { user: principal.userId, organization: principal.organizationId },
      { populate: ["user", "organization"] },
    );
    if (!membership) throw new UnauthenticatedError("the account is no longer a member of this organisation; log in again");
    const memberCount = await em.count(Membership, { organization: principal.organizationId });
    return { user: membership.user, organization: membership.organization, memberCount, role: membership.role };
  }

  /** Needs the current password; revokes every session of the user and returns fresh tokens for this one. */
  async changePassword(principal: UserPrincipal, input: { currentPassword: string; newPassword: string }, caller: Caller): Promise<Tokens> {
    const em = this.database.fork();
    const user = await em.findOne(User, { id: principal.userId });
    if (!user) throw new UnauthenticatedError("the account no longer exists");
    if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
      await this.audit.record({ action: "auth.password_change", outcome: "failure", organizationId: principal.organizationId, actorUserId: user.id, details: { reason: "wrong_current_password" } }, caller);
      throw new InvalidArgumentError("current_password", "is not your current password");
    }
    if (input.newPassword === input.currentPassword) throw new InvalidArgumentError("new_password", "must differ from the current password");
    checkPasswordPolicy("new_password", input.newPassword, { email: user.email, displayName: user.displayName ?? undefined });
    user.passwordHash = await hashPassword(input.newPassword);
    user.sessionsRevokedAt = new Date();
    await em.flush();
    await em.nativeUpdate(RefreshToken, { user: user.id, revokedAt: null }, { revokedAt: new Date() });
    const organization = await em.findOneOrFail(Organization, { id: principal.organizationId });
    const tokens = await this.startSession(em, user, organization, principal.role, randomUUID(), caller);
    await this.audit.record({ action: "auth.password_change", outcome: "success", organizationId: principal.organizationId, actorUserId: user.id }, caller);
    return tokens;
  }

  /** Resolves an access token (JWT) or an API key secret. Rejects anything stale: denied, deleted, removed. */
  async authenticate(credential: string): Promise<Principal> {
    if (!AccessTokens.looksLikeJwt(credential)) return this.apiKeys.authenticate(credential);
    const claims = this.accessTokens.verify(credential);
    if (await this.denylist.isDenied(claims.tokenId)) throw new UnauthenticatedError("access token was revoked by logout; log in again");
    const em = this.database.fork();
    const membership = await em.findOne(
      Membership,
      { user: claims.userId, organization: claims.organizationId },
      { populate: ["user", "organization"] },
    );
    if (!membership) throw new UnauthenticatedError("access token is no longer valid for this organisation; log in again");
    const revokedAt = membership.user.sessionsRevokedAt;
    if (revokedAt && claims.issuedAt.getTime() < revokedAt.getTime()) {
      throw new UnauthenticatedError("access token was revoked (password changed or signed out everywhere); log in again");
    }
    await noteMemberActivity(em, membership);
    return {
      kind: "user",
      userId: claims.userId,
      organizationId: claims.organizationId,
      role: membership.role,
      platformAdmin: membership.user.isPlatformAdmin,
      organizationSuspended: membership.organization.status === "suspended",
      tokenId: claims.tokenId,
      tokenExpiresAt: claims.expiresAt,
    };
  }

  /** Issues tokens for a user acting for an organisation, in refresh family `familyId`. */
  async startSession(
    em: EntityManager,
    user: User,
    organization: Organization,
    role: Role,
    familyId: string,
    caller: Caller,
    rotatedFrom?: RefreshToken,
  ): Promise<Tokens> {
    const refreshToken = newSecret(REFRESH_TOKEN_PREFIX);
    const refreshTokenExpiresAt = new Date(Date.now() + this.refreshTtlDays * 86_400_000);
    const row = em.create(RefreshToken, {
      user,
      organization,
      familyId,
      tokenHash: hashSecret(refreshToken),
      expiresAt: refreshTokenExpiresAt,
      userAgent: caller.userAgent,
      ip: caller.ip,
    });
    if (rotatedFrom) rotatedFrom.replacedBy = row;
    await em.flush();
    const access = this.accessTokens.issue({ userId: user.id, organizationId: organization.id, role });
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken, refreshTokenExpiresAt, organizationId: organization.id };
  }

  async revokeUserSessions(userId: string, organizationId?: string): Promise<void> {
    const em = this.database.fork();
    await em.nativeUpdate(
      RefreshToken,
      organizationId ? { user: userId, organization: organizationId, revokedAt: null } : { user: userId, revokedAt: null },
      { revokedAt: new Date() },
    );
  }

  private async revokeFamily(em: EntityManager, familyId: string): Promise<void> {
    await em.nativeUpdate(RefreshToken, { familyId, revokedAt: null }, { revokedAt: new Date() });
  }

  /** The requested organisation, or else the one the user was last issued a session for, or else the oldest. */
  private async pickMembership(em: EntityManager, userId: string, organizationId?: string): Promise<Membership | null> {
    if (organizationId) return em.findOne(Membership, { user: userId, organization: organizationId }, { populate: ["organization"] });
    const last = await em.findOne(RefreshToken, { user: userId, organization: { $ne: null } }, { orderBy: { createdAt: "desc" } });
    if (last?.organization) {
      const membership = await em.findOne(Membership, { user: userId, organization: last.organization.id }, { populate: ["organization"] });
      if (membership) return membership;
    }
    return em.findOne(Membership, { user: userId }, { populate: ["organization"], orderBy: { createdAt: "asc" } });
  }
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function findUserByEmail(em: EntityManager, email: string): Promise<User | null> {
  const rows = await em.getConnection().execute<Array<{ id: string }>>(`select id from users where lower(email) = lower(?) limit 1`, [email]);
  return rows[0] ? em.findOne(User, { id: rows[0].id }) : null;
}
