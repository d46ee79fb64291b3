// The caller's organisation and its members. Every query goes through a TenantScope bound to the
// principal's organisation, so a member of another organisation is simply not found.
import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Database } from "../../platform/database/database.js";
import { TenantScope } from "../../platform/database/tenant-scope.js";
import { decodeOffset, encodeOffset, pageSize, type Page } from "../../platform/database/paging.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from "../../platform/errors/errors.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { Caller, Principal, UserPrincipal } from "../model/principal.js";
import { Membership, type Role } from "../model/membership.entity.js";
import { Organization, type OrganizationSettings, type OrganizationStatus } from "../model/organization.entity.js";
import type { OrganizationSnapshots } from "./organization-snapshots.js";

export interface OrganizationView {
  organization: Organization;
  memberCount: number;
}

export interface OrganizationChanges {
  name?: string;
  defaultLanguageCode?: string;
  defaultModel?: string;
  retentionDays?: number;
}

/** Ends a removed member's sessions in the organisation (owned by accounts). */
export interface SessionRevoker {
  revokeUserSessions(userId: string, organizationId?: string): Promise<void>;
}

export class Organizations {
  constructor(
    private readonly database: Database,
    private readonly audit: AuditLog,
    private readonly sessions: SessionRevoker,
    /** Dropped here on every change, so that this replica's next call reads the change. */
    private readonly snapshots?: Pick<OrganizationSnapshots, "invalidate">,
  ) {}

  async get(principal: Principal): Promise<OrganizationView> {
    const em = this.database.fork();
    return this.view(em, principal.organizationId);
  }

  async update(principal: UserPrincipal, changes: OrganizationChanges, caller: Caller): Promise<OrganizationView> {
    const em = this.database.fork();
    const organization = await em.findOneOrFail(Organization, { id: principal.organizationId });
    const changed: Record<string, string> = {};
    if (changes.name !== undefined) {
      const name = changes.name.trim();
      if (!name) throw new InvalidArgumentError("name", "must not be blank");
      organization.name = name;
      changed.name = name;
    }
    const settings: OrganizationSettings = { ...organization.settings };
    if (changes.defaultLanguageCode !== undefined) settings.defaultLanguageCode = changes.defaultLanguageCode;
    if (changes.defaultModel !== undefined) settings.defaultModel = changes.defaultModel;
    if (changes.retentionDays !== undefined) settings.retentionDays = changes.retentionDays;
    for (const key of ["defaultLanguageCode", "defaultModel", "retentionDays"] as const) {
      if (changes[key] !== undefined) changed[key] = String(changes[key]);
    }
    organization.settings = settings;
    await em.flush();
    this.snapshots?.invalidate(organization.id);
    await this.audit.record(
      { action: "organization.update", outcome: "success", organizationId: organization.id, actorUserId: principal.userId, targetType: "organization", targetId: organization.id, details: changed },
      caller,
    );
    return this.view(em, organization.id);
  }

  async listMembers(principal: Principal, input: { pageSize: number; pageToken: string }): Promise<Page<Membership>> {
    const tenant = new TenantScope(this.database.fork(), principal.organizationId);
    const limit = pageSize(input.pageSize);
    const offset = decodeOffset(input.pageToken);
    const rows = await tenant.find(Membership, {}, { populate: ["user"], orderBy: { createdAt: "asc", id: "asc" }, limit: limit + 1, offset });
    return { items: rows.slice(0, limit), nextPageToken: rows.length > limit ? encodeOffset(offset + limit) : "" };
  }

  /** Granting or taking away OWNER needs OWNER; the last owner cannot be demoted. */
  async updateMemberRole(principal: UserPrincipal, userId: string, role: Role, caller: Caller): Promise<Membership> {
    const membership = await this.database.fork().transactional(async (em) => {
      const tenant = await this.lockedTenant(em, principal.organizationId);
      const target = await tenant.findOne(Membership, { user: userId }, { populate: ["user"] });
      if (!target) throw new NotFoundError("member", userId);
      if ((target.role === "owner" || role === "owner") && principal.role !== "owner") {
        throw new PermissionDeniedError("only an owner may grant or take away the owner role");
      }
      if (target.role === "owner" && role !== "owner" && (await tenant.count(Membership, { role: "owner" })) === 1) {
        throw new FailedPreconditionError("the last owner cannot be demoted: make another member owner first");
      }
      const before = target.role;
      target.role = role;
      return { target, before };
    });
    await this.audit.record(
      {
        action: "member.role_update",
        outcome: "success",
        organizationId: principal.organizationId,
        actorUserId: principal.userId,
        targetType: "member",
        targetId: userId,
        details: { old_role: membership.before, new_role: role },
      },
      caller,
    );
    return membership.target;
  }

  /** Any member may leave; removing another needs ADMIN, or OWNER for an owner. The last owner stays. */
  async removeMember(principal: UserPrincipal, userId: string, caller: Caller): Promise<void> {
    const removed = await this.database.fork().transactional(async (em) => {
      const tenant = await this.lockedTenant(em, principal.organizationId);
      const target = await tenant.findOne(Membership, { user: userId });
      if (!target) throw new NotFoundError("member", userId);
      const self = userId === principal.userId;
      if (!self && principal.role !== "owner" && principal.role !== "admin") throw new PermissionDeniedError("removing another member needs the admin role");
      if (!self && target.role === "owner" && principal.role !== "owner") throw new PermissionDeniedError("only an owner may remove an owner");
      if (target.role === "owner" && (await tenant.count(Membership, { role: "owner" })) === 1) {
        throw new FailedPreconditionError("the last owner cannot be removed: make another member owner first");
      }
      em.remove(target);
      return target.role;
    });
    await this.sessions.revokeUserSessions(userId, principal.organizationId);
    await this.audit.record(
      { action: "member.remove", outcome: "success", organizationId: principal.organizationId, actorUserId: principal.userId, targetType: "member", targetId: userId, details: { role: removed } },
      caller,
    );
  }

  /** Every organisation on the platform, newest first (platform admins; the policy table checks). */
  async listAll(input: { pageSize: number; pageToken: string; query?: string; status?: OrganizationStatus }): Promise<Page<OrganizationView>> {
    const em = this.database.fork();
    const limit = pageSize(input.pageSize);
    const offset = decodeOffset(input.pageToken);
    const where: Record<string, unknown> = {};
    if (input.query) where.name = { $ilike: `%${input.query.replace(/[\\%_]/g, (c) => `\\${c}`)}%` };
    if (input.status) where.status = input.status;
    const rows = await em.find(Organization, where, { orderBy: { createdAt: "desc", id: "desc" }, limit: limit + 1, offset });
    const items = await Promise.all(rows.slice(0, limit).map(async (organization) => ({ organization, memberCount: await em.count(Membership, { organization: organization.id }) })));
    return { items, nextPageToken: rows.length > limit ? encodeOffset(offset + limit) : "" };
  }

  /**
   * Suspends an organisation or lifts the suspension (platform admins). Takes effect on the next request on
   * this replica (its snapshot is dropped here) and within REPLICA_CACHE_TTL_MS on the others: every credential
   * is resolved against the organisation's state on each call, as of at most that long ago.
   */
  async suspend(principal: UserPrincipal, input: { organizationId: string; reason: string; reinstate: boolean }, caller: Caller): Promise<OrganizationView> {
    const em = this.database.fork();
    const organization = await em.findOne(Organization, { id: input.organizationId });
    if (!organization) throw new NotFoundError("organization", input.organizationId);
    organization.status = input.reinstate ? "active" : "suspended";
    organization.suspendedAt = input.reinstate ? null : new Date();
    organization.suspensionReason = input.reinstate ? null : input.reason;
    await em.flush();
    this.snapshots?.invalidate(organization.id);
    await this.audit.record(
      {
        action: input.reinstate ? "organization.reinstate" : "organization.suspend",
        outcome: "success",
        organizationId: organization.id,
        actorUserId: principal.userId,
        targetType: "organization",
        targetId: organization.id,
        details: { reason: input.reason },
      },
      caller,
    );
    return this.view(em, organization.id);
  }

  /** Locks the organisation row so that owner counts cannot change under a concurrent demotion. */
  private async lockedTenant(em: EntityManager, organizationId: string): Promise<TenantScope> {
    await em.findOneOrFail(Organization, { id: organizationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    return new TenantScope(em, organizationId);
  }

  private async view(em: EntityManager, organizationId: string): Promise<OrganizationView> {
    const organization = await em.findOneOrFail(Organization, { id: organizationId });
    const memberCount = await em.count(Membership, { organization: organizationId });
    return { organization, memberCount };
  }
}
