// Erasure of a user or of a whole organisation (PrivacyService.EraseUser, EraseOrganization). The request is
// written first (an `erasures` row, one per subject), then carried out in the background by steps that can
// each run again harmlessly: files first (their keys are in the rows), then rows, the subject's row last. A
// process that dies midway leaves the row pending or with a lapsed lease, and the next sweep (at start, then
// every minute, on any replica) finishes it. What stays is the erasure row (ids and times only) and one audit
// event without personal data.
//
// Where the subject's data lives, and how each place is emptied:
//   rows        the organisation's row cascades to members, invitations, API keys, media, jobs, transcripts,
//               segments (and so the search index, a column of theirs), speakers, exports, data exports, usage,
//               webhooks and deliveries, live sessions, billing account and usage reports; its audit events and
//               the Stripe events naming it are deleted by hand (they outlive their organisation otherwise). A user's row cascades to memberships, sessions and mail tokens;
//               the audit events it acted in or that name its address, and invitations to its address, are
//               deleted by hand.
//   files       media (upload and verified keys, open multipart uploads), rendered exports and data-export
//               archives, by the keys their rows hold.
//   queues      jobs are cancelled before their rows go; a queued message left in Redis carries only the
//               job's id, which no longer claims anything. Live-session state in Redis expires by itself
//               (LIVE_RESUME_GRACE_MS), as do rate-limit counters.
import type { Logger } from "pino";
import type { Database } from "../platform/database/database.js";
import type { BlobStore } from "../platform/blobs/blob-store.js";
import { FailedPreconditionError, NotFoundError, PermissionDeniedError } from "../platform/errors/errors.js";
import type { AuditLog } from "../identity/audit/audit-log.js";
import { anonymousCaller, type Caller, type UserPrincipal } from "../identity/model/principal.js";
import { mediaBlobKey, verifiedMediaBlobKey } from "../media/media-items.js";
import { Erasure, type ErasureSubjectType } from "./erasure.entity.js";

/** How long a process holds an erasure it carries out without renewing it. */
const LEASE_MS = 5 * 60_000;

export interface ErasureRequest {
  erasure: Erasure;
  /** The subject's erasure had been asked for before; this is that one. */
  alreadyRequested: boolean;
}

type Connection = ReturnType<ReturnType<Database["fork"]>["getConnection"]>;

export class Erasures {
  private readonly running = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly database: Database,
    private readonly blobs: BlobStore,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
  ) {}

  /** The organisation's owner or a platform admin; members of another role are refused, strangers find nothing. */
  async eraseOrganization(principal: UserPrincipal, organizationId: string): Promise<ErasureRequest> {
    const connection = this.connection();
    const existing = await this.find("organization", organizationId);
    if (!principal.platformAdmin) {
      const [membership] = await connection.execute<Array<{ role: string }>>(`select role from memberships where organization_id = ? and user_id = ?`, [organizationId, principal.userId]);
      if (membership && membership.role !== "owner") throw new PermissionDeniedError("only the organisation's owner or a platform admin may erase it");
      if (!membership && existing?.requestedBy !== principal.userId) throw new NotFoundError("organization", organizationId);
    }
    if (existing) return { erasure: existing, alreadyRequested: true };
    const [organization] = await connection.execute<Array<{ id: string }>>(`select id from organizations where id = ?`, [organizationId]);
    if (!organization) throw new NotFoundError("organization", organizationId);
    // Nothing new starts in it from now on: a suspended organisation's keys and writes are refused.
    await connection.execute(`update organizations set status = 'suspended', updated_at = now() where id = ?`, [organizationId]);
    return this.record("organization", organizationId, principal);
  }

  /**
   * The user themself or a platform admin; a member of the caller's organisation is refused, anyone else not
   * found. The only owner of an organisation with other members is refused.
   */
  async eraseUser(principal: UserPrincipal, userId: string): Promise<ErasureRequest> {
    const connection = this.connection();
    if (!principal.platformAdmin && principal.userId !== userId) {
      const [colleague] = await connection.execute<Array<{ user_id: string }>>(`select user_id from memberships where organization_id = ? and user_id = ?`, [principal.organizationId, userId]);
      if (colleague) throw new PermissionDeniedError("only the user themself or a platform admin may erase a user");
      throw new NotFoundError("user", userId);
    }
    const existing = await this.find("user", userId);
    if (existing) return { erasure: existing, alreadyRequested: true };
    const [user] = await connection.execute<Array<{ id: string }>>(`select id from users where id = ?`, [userId]);
    if (!user) throw new NotFoundError("user", userId);
    const [orphaned] = await connection.execute<Array<{ organization_id: string }>>(
      `select m.organization_id from memberships m
        where m.user_id = ? and m.role = 'owner'
          and not exists (select 1 from memberships o where o.organization_id = m.organization_id and o.role = 'owner' and o.user_id <> m.user_id)
          and exists (select 1 from memberships o where o.organization_id = m.organization_id and o.user_id <> m.user_id)
        limit 1`,
      [userId],
    );
    if (orphaned) {
      throw new FailedPreconditionError(
        `the user is the only owner of organisation ${orphaned.organization_id}, which has other members: make another member owner, or erase the organisation first`,
      );
    }
    return this.record("user", userId, principal);
  }

  /** Platform admins, and the user who asked for it. */
  async get(principal: UserPrincipal, erasureId: string): Promise<Erasure> {
    const erasure = await this.database.fork().findOne(Erasure, { id: erasureId });
    if (!erasure || (!principal.platformAdmin && erasure.requestedBy !== principal.userId)) throw new NotFoundError("erasure", erasureId);
    return erasure;
  }

  /** Carries out every erasure that waits or whose process died (lapsed lease). Run at start and on a timer. */
  async sweep(now = new Date()): Promise<void> {
    const due = await this.database.fork().find(Erasure, { $or: [{ status: "pending" }, { status: "running", leaseUntil: { $lt: now } }] }, { fields: ["id"], limit: 100 });
    for (const { id } of due) this.start(id);
    await Promise.all([...this.running.values()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running.values()]);
  }

  /** Waits for the erasure if this process is carrying it out now. */
  async settled(erasureId: string): Promise<void> {
    await this.running.get(erasureId);
  }

  private async record(subjectType: ErasureSubjectType, subjectId: string, principal: UserPrincipal): Promise<ErasureRequest> {
    const em = this.database.fork();
    const erasure = em.create(Erasure, { subjectType, subjectId, requestedBy: principal.userId, byPlatformAdmin: principal.platformAdmin });
    try {
      await em.flush();
    } catch (err) {
      // Two requests racing for one subject: the unique index keeps the first.
      if ((err as { code?: string }).code !== "23505") throw err;
      const first = await this.find(subjectType, subjectId);
      if (!first) throw err;
      return { erasure: first, alreadyRequested: true };
    }
    this.start(erasure.id);
    return { erasure, alreadyRequested: false };
  }

  private find(subjectType: ErasureSubjectType, subjectId: string): Promise<Erasure | null> {
    return this.database.fork().findOne(Erasure, { subjectType, subjectId });
  }

  private connection(): Connection {
    return this.database.fork().getConnection();
  }

  private start(id: string): void {
    if (this.closed || this.running.has(id)) return;
    const run = this.carryOut(id)
      .catch(async (err: unknown) => {
        this.logger.error({ err, erasure_id: id }, "erasure failed; the next sweep tries again");
        // swallowed: if even this write fails, the lease lapses and the next sweep tries again all the same.
        await this.database.fork().nativeUpdate(Erasure, { id }, { status: "pending", leaseUntil: null, lastError: errorName(err) }).catch(() => undefined);
      })
      .finally(() => this.running.delete(id));
    this.running.set(id, run);
  }

  private async carryOut(id: string): Promise<void> {
    const em = this.database.fork();
    const now = new Date();
    const won = await em.nativeUpdate(
      Erasure,
      { id, $or: [{ status: "pending" }, { status: "running", leaseUntil: { $lt: now } }] },
      { status: "running", leaseUntil: new Date(now.getTime() + LEASE_MS) },
    );
    if (won !== 1) return;
    const erasure = await em.findOneOrFail(Erasure, { id });
    erasure.attempts += 1;
    await em.flush();
    const requestedBy = erasure.byPlatformAdmin ? "platform_admin" : erasure.subjectType === "user" ? "self" : "owner";
    const details: Record<string, string> = { requested_by: requestedBy, erasure_id: id };
    if (erasure.subjectType === "organization") {
      const connection = this.connection();
      // Members who belong to no other organisation have nothing left once it goes: their accounts go too.
      const alone = await connection.execute<Array<{ user_id: string }>>(
        `select m.user_id from memberships m where m.organization_id = ? and not exists (select 1 from memberships o where o.user_id = m.user_id and o.organization_id <> m.organization_id)`,
        [erasure.subjectId],
      );
      for (const { user_id } of alone) await this.eraseUserData(user_id);
      await this.eraseOrganizationData(erasure.subjectId);
      details.accounts_erased = String(alone.length);
    } else {
      const connection = this.connection();
      // Organisations the user is the only member of have nobody left once the user goes: they go too.
      const alone = await connection.execute<Array<{ organization_id: string }>>(
        `select m.organization_id from memberships m where m.user_id = ? and not exists (select 1 from memberships o where o.organization_id = m.organization_id and o.user_id <> m.user_id)`,
        [erasure.subjectId],
      );
      for (const { organization_id } of alone) await this.eraseOrganizationData(organization_id);
      await this.eraseUserData(erasure.subjectId);
      details.organizations_erased = String(alone.length);
    }
    await this.recordOnce(erasure, details);
    await em.nativeUpdate(Erasure, { id }, { status: "completed", leaseUntil: null, lastError: null, completedAt: new Date() });
  }

  /** The audit event that stays: ids and counts only. Written once, even when a crash makes the last steps run twice. */
  private async recordOnce(erasure: Erasure, details: Record<string, string>): Promise<void> {
    const action = erasure.subjectType === "organization" ? "privacy.organization_erase" : "privacy.user_erase";
    const [seen] = await this.connection().execute<Array<{ id: string }>>(`select id from audit_events where action = ? and target_id = ? limit 1`, [action, erasure.subjectId]);
    if (seen) return;
    const [actor] = erasure.requestedBy ? await this.connection().execute<Array<{ id: string }>>(`select id from users where id = ?`, [erasure.requestedBy]) : [];
    await this.audit.record(
      { action, outcome: "success", actorUserId: actor?.id ?? null, targetType: erasure.subjectType, targetId: erasure.subjectId, details },
      systemCaller,
    );
  }

  /** The organisation's files, then its rows (its audit events by hand, everything else by cascade). */
  private async eraseOrganizationData(organizationId: string): Promise<void> {
    const connection = this.connection();
    // Work in flight stops being work: a runner's claim finds the job cancelled (and then gone).
    await connection.execute(`update jobs set status = 'cancelled', finished_at = now(), updated_at = now() where organization_id = ? and status in ('queued', 'running')`, [organizationId]);
    const media = await connection.execute<Array<{ id: string; storage_key: string; upload_id: string | null }>>(`select id, storage_key, upload_id from media where organization_id = ?`, [organizationId]);
    for (const m of media) {
      if (m.upload_id) await this.blobs.abortMultipartUpload("media", m.storage_key, m.upload_id);
      for (const key of new Set([m.storage_key, mediaBlobKey(organizationId, m.id), verifiedMediaBlobKey(organizationId, m.id)])) await this.blobs.delete("media", key);
    }
    const files = await connection.execute<Array<{ storage_key: string }>>(
      `select storage_key from exports where organization_id = ? and storage_key is not null
       union all select storage_key from data_exports where organization_id = ? and storage_key is not null`,
      [organizationId, organizationId],
    );
    for (const f of files) await this.blobs.delete("exports", f.storage_key);
    await connection.execute(`delete from audit_events where organization_id = ?`, [organizationId]);
    // Stripe's events name their organisation by id without a foreign key (an event may arrive for a customer
    // we do not know), so they do not cascade.
    await connection.execute(`delete from billing_stripe_events where organization_id = ?`, [organizationId]);
    await connection.execute(`delete from organizations where id = ?`, [organizationId]);
  }

  /** The user's traces that do not cascade (audit events, invitations to its address), then its row. */
  private async eraseUserData(userId: string): Promise<void> {
    const connection = this.connection();
    const [user] = await connection.execute<Array<{ email: string }>>(`select email from users where id = ?`, [userId]);
    if (user) {
      await connection.execute(`delete from audit_events where lower(metadata->>'actor_email') = lower(?)`, [user.email]);
      await connection.execute(`delete from invitations where lower(email) = lower(?)`, [user.email]);
    }
    await connection.execute(`delete from audit_events where actor_user_id = ? or (target_id = ? and action not like 'privacy.%')`, [userId, userId]);
    await connection.execute(`delete from users where id = ?`, [userId]);
    // Who asked for an erasure is the user's own data too, once the user is gone.
    await connection.execute(`update erasures set requested_by = null where requested_by = ?`, [userId]);
  }
}

const systemCaller: Caller = anonymousCaller;

/** A failure's class, for the erasure row: never its message, which may quote personal data. */
function errorName(err: unknown): string {
  return err instanceof Error ? err.name : "unknown";
}
