// The security trail. Each event is written on its own EntityManager and flushed at once, so an event
// about a failure (a wrong password, a reused token) is kept even though the request then fails.
import type { FilterQuery } from "@mikro-orm/core";
import type { Database } from "../../platform/database/database.js";
import { decodeOffset, encodeOffset, pageSize, type Page } from "../../platform/database/paging.js";
import { NotFoundError, PermissionDeniedError } from "../../platform/errors/errors.js";
import type { Caller, Principal } from "../model/principal.js";
import { AuditEvent } from "../model/audit-event.entity.js";

export type AuditOutcome = "success" | "failure" | "denied";

export interface AuditEntry {
  action: string;
  outcome: AuditOutcome;
  organizationId?: string | null;
  actorUserId?: string | null;
  actorApiKeyId?: string | null;
  /** The address tried, for anonymous failures (no user to point at). */
  actorEmail?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  /** Facts such as the old and new role. Never secrets. */
  details?: Record<string, string>;
  /** Done by the platform itself (retention, sweeps), not for any caller: the actor is SYSTEM. */
  system?: boolean;
}

export interface AuditQuery {
  pageSize: number;
  pageToken: string;
  organizationId?: string;
  actorUserId?: string;
  actionPrefix?: string;
  outcome?: AuditOutcome;
  startTime?: Date;
  endTime?: Date;
}

export class AuditLog {
  constructor(private readonly database: Database) {}

  async record(entry: AuditEntry, caller: Caller): Promise<void> {
    const em = this.database.fork();
    const event = em.create(AuditEvent, {
      organization: entry.organizationId ?? null,
      actorUser: entry.actorUserId ?? null,
      actorApiKey: entry.actorApiKeyId ?? null,
      action: entry.action,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      ip: caller.ip,
      userAgent: caller.userAgent,
      metadata: {
        outcome: entry.outcome,
        ...(caller.requestId ? { request_id: caller.requestId } : {}),
        ...(entry.actorEmail ? { actor_email: entry.actorEmail } : {}),
        ...(entry.system ? { actor: "system" } : {}),
        details: entry.details ?? {},
      },
    });
    await em.persist(event).flush();
  }

  /**
   * Newest first. Platform admins see every organisation's events; anyone else only their own
   * organisation's, and naming another organisation is NOT_FOUND, as if it did not exist.
   */
  async list(principal: Principal, query: AuditQuery): Promise<Page<AuditEvent>> {
    if (principal.kind !== "user") throw new PermissionDeniedError("API keys cannot read the audit log");
    let organizationId = query.organizationId;
    if (!principal.platformAdmin) {
      if (organizationId && organizationId !== principal.organizationId) throw new NotFoundError("organization", organizationId);
      organizationId = principal.organizationId;
    }
    const where: FilterQuery<AuditEvent> & Record<string, unknown> = {};
    if (organizationId) where.organization = organizationId;
    if (query.actorUserId) where.actorUser = query.actorUserId;
    if (query.actionPrefix) where.action = { $like: `${query.actionPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%` };
    if (query.outcome) where.metadata = { outcome: query.outcome };
    if (query.startTime || query.endTime) {
      where.createdAt = { ...(query.startTime ? { $gte: query.startTime } : {}), ...(query.endTime ? { $lt: query.endTime } : {}) };
    }
    const limit = pageSize(query.pageSize);
    const offset = decodeOffset(query.pageToken);
    const rows = await this.database.fork().find(AuditEvent, where, { orderBy: { createdAt: "desc", id: "desc" }, limit: limit + 1, offset });
    return { items: rows.slice(0, limit), nextPageToken: rows.length > limit ? encodeOffset(offset + limit) : "" };
  }
}
