// What the hot paths read of an organisation (its state for every API-key call, its plan and settings
// for the quota check and the recognition defaults at stream start), loaded once and shared for a short
// time rather than read two or three times per stream. This replica's own changes (UpdateOrganization,
// SuspendOrganization, a plan change) drop the entry at once; another replica's, or an operator's edit
// in the database, are seen within the TTL.
import type { Database } from "../../platform/database/database.js";
import { TtlCache } from "../cache/ttl-cache.js";
import { Organization, type OrganizationSettings, type OrganizationStatus } from "../model/organization.entity.js";

export interface OrganizationSnapshot {
  id: string;
  status: OrganizationStatus;
  plan: string;
  settings: OrganizationSettings;
}

/** Enough for every organisation active on one replica at once; past it the oldest is read again. */
const MAX_ORGANIZATIONS = 10_000;

export class OrganizationSnapshots {
  private readonly cache: TtlCache<string, OrganizationSnapshot | null>;

  constructor(
    private readonly database: Database,
    options: { ttlMs: number; now?: () => number },
  ) {
    this.cache = new TtlCache({ ttlMs: options.ttlMs, maxEntries: MAX_ORGANIZATIONS, now: options.now });
  }

  /** The organisation as of at most the TTL ago; null when it does not exist. */
  get(organizationId: string): Promise<OrganizationSnapshot | null> {
    return this.cache.getOrLoad(organizationId, async () => {
      const row = await this.database.fork().findOne(Organization, { id: organizationId }, { fields: ["status", "plan", "settings"] });
      return row ? { id: row.id, status: row.status, plan: row.plan, settings: { ...row.settings } } : null;
    });
  }

  /** Called after this replica changed the organisation: the next read loads it again. */
  invalidate(organizationId: string): void {
    this.cache.delete(organizationId);
  }
}
