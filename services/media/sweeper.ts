// Housekeeping across organisations, run periodically by the gateway (every replica may; each change is a
// compare-and-set): discards uploads not completed in time, resumes verifications whose process died, and
// deletes items past their organisation's retention. Each kind is handled in batches, so one run stays
// short; the next run takes the rest.
import type { EntityManager } from "@mikro-orm/postgresql";
import type { AuditLog } from "../identity/audit/audit-log.js";
import { anonymousCaller } from "../identity/model/principal.js";
import { Organization } from "../identity/model/organization.entity.js";
import type { Database } from "../platform/database/database.js";
import { Media } from "./media.entity.js";
import type { MediaItems } from "./media-items.js";
import { STALLED_AFTER_MS, type Verifier } from "./verifier.js";

/** Rows the sweeper handles per kind and run, so one run stays short; the next run takes the rest. */
const SWEEP_BATCH = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface SweepReport {
  /** Uploads not completed in time, discarded. */
  expiredUploads: number;
  /** Verifications whose process died, started again. */
  resumedVerifications: number;
  /** Items past their organisation's retention, deleted. */
  retentionDeletes: number;
}

/**
 * When the item is deleted automatically: the upload deadline while PENDING, then the end of its
 * organisation's retention (counted from the upload); null when it is kept until deleted by hand.
 * Needs `media.organization` loaded.
 */
export function expiresAtOf(media: Media): Date | null {
  if (media.status === "pending") return media.uploadExpiresAt;
  if (media.status !== "ready" && media.status !== "failed") return null;
  const days = media.organization.settings?.retentionDays ?? 0;
  if (days <= 0) return null;
  return new Date((media.uploadedAt ?? media.createdAt).getTime() + days * DAY_MS);
}

export class MediaSweeper {
  constructor(
    private readonly database: Database,
    private readonly items: MediaItems,
    private readonly verifier: Verifier,
    private readonly audit: AuditLog,
  ) {}

  async sweep(now = new Date()): Promise<SweepReport> {
    const em = this.database.fork();
    return {
      expiredUploads: await this.discardExpiredUploads(em, now),
      resumedVerifications: await this.resumeStalledVerifications(em, now),
      retentionDeletes: await this.applyRetention(em, now),
    };
  }

  private async discardExpiredUploads(em: EntityManager, now: Date): Promise<number> {
    let discarded = 0;
    const expired = await em.find(Media, { status: "pending", uploadExpiresAt: { $lt: now } }, { limit: SWEEP_BATCH });
    for (const media of expired) {
      if (await this.items.remove(this.items.tenant(media.organization.id), media, "pending")) discarded++;
    }
    return discarded;
  }

  private async resumeStalledVerifications(em: EntityManager, now: Date): Promise<number> {
    let resumed = 0;
    const stalled = await em.find(Media, { status: "processing", updatedAt: { $lt: new Date(now.getTime() - STALLED_AFTER_MS) } }, { limit: SWEEP_BATCH });
    for (const media of stalled) {
      const tenant = this.items.tenant(media.organization.id);
      if (await this.verifier.claimStalled(tenant, media, now)) {
        // swallowed: verify() writes its outcome in the item's row, and a failed run leaves the item for the next sweep.
        void this.verifier.verify(tenant.organizationId, media.id).catch(() => undefined);
        resumed++;
      }
    }
    return resumed;
  }

  private async applyRetention(em: EntityManager, now: Date): Promise<number> {
    let deleted = 0;
    const organizations = await em.find(Organization, { settings: { retentionDays: { $gt: 0 } } });
    for (const organization of organizations) {
      const cutoff = new Date(now.getTime() - (organization.settings.retentionDays ?? 0) * DAY_MS);
      const tenant = this.items.tenant(organization.id);
      const old = await tenant.find(
        Media,
        { status: { $in: ["ready", "failed"] }, $or: [{ uploadedAt: { $lt: cutoff } }, { uploadedAt: null, createdAt: { $lt: cutoff } }] },
        { limit: SWEEP_BATCH },
      );
      for (const media of old) {
        if ((await this.items.activeJobs(tenant, media.id)) > 0) continue;
        if (!(await this.items.remove(tenant, media, media.status))) continue;
        deleted++;
        await this.audit.record(
          { action: "media.delete", outcome: "success", organizationId: organization.id, targetType: "media", targetId: media.id, details: { filename: media.filename, reason: "retention" }, system: true },
          anonymousCaller,
        );
      }
    }
    return deleted;
  }
}
