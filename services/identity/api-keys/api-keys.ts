// API keys: long-lived, scoped credentials for programs. The secret is shown once; what is kept is its
// public prefix (to find the row, and to recognise a key in logs) and a SHA-256 hash of the whole secret.
import type { Database } from "../../platform/database/database.js";
import { TenantScope } from "../../platform/database/tenant-scope.js";
import { NotFoundError, UnauthenticatedError } from "../../platform/errors/errors.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { ApiKeyPrincipal, ApiKeyScope, Caller, UserPrincipal } from "../model/principal.js";
import { API_KEY_SCOPES } from "../model/principal.js";
import { hashSecret, newSecret, secretMatches } from "../auth/secrets.js";
import { decodeOffset, encodeOffset, pageSize, type Page } from "../../platform/database/paging.js";
import { ApiKey } from "../model/api-key.entity.js";
import { Organization } from "../model/organization.entity.js";
import { TtlCache } from "../cache/ttl-cache.js";
import type { OrganizationSnapshots } from "../orgs/organization-snapshots.js";

export const API_KEY_PREFIX = "astt_";
/** "astt_" and 8 characters of the random part: unique enough to find the row, far too short to guess the rest. */
const PREFIX_LENGTH = API_KEY_PREFIX.length + 8;
/** last_used_at is kept to the minute: no write on every request of a busy key. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Keys remembered at once per replica; past it the one authenticated longest ago is read again. */
const MAX_CACHED_KEYS = 10_000;

export type ApiKeyState = "active" | "revoked" | "expired";

/** What authenticate remembers of a key it accepted, under the SHA-256 hash of its secret (never the secret). */
interface AcceptedKey {
  apiKeyId: string;
  organizationId: string;
  scopes: ApiKeyScope[];
  /** Checked on every use, cached or not: a key is refused from the millisecond it expires. */
  expiresAt: number | null;
  lastUsedAt: number | null;
}

export interface ApiKeysOptions {
  /**
   * How long an accepted key is trusted without reading its row again (REPLICA_CACHE_TTL_MS): a revoke on
   * this replica applies at once, one on another replica within this time. 0: every call reads the row.
   */
  cacheTtlMs?: number;
  /** The organisations' state, shared with the quota check; read from the database each time without it. */
  organizations?: OrganizationSnapshots;
  now?: () => number;
}

export function apiKeyState(key: ApiKey, now = Date.now()): ApiKeyState {
  if (key.revokedAt) return "revoked";
  if (key.expiresAt && key.expiresAt.getTime() <= now) return "expired";
  return "active";
}

export class ApiKeys {
  private readonly accepted: TtlCache<string, AcceptedKey>;
  private readonly now: () => number;

  constructor(
    private readonly database: Database,
    private readonly audit: AuditLog,
    private readonly options: ApiKeysOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.accepted = new TtlCache({ ttlMs: options.cacheTtlMs ?? 0, maxEntries: MAX_CACHED_KEYS, now: this.now });
  }

  async create(principal: UserPrincipal, input: { name: string; scopes: ApiKeyScope[]; expiresAt?: Date }, caller: Caller): Promise<{ key: ApiKey; secret: string }> {
    const tenant = new TenantScope(this.database.fork(), principal.organizationId);
    const secret = newSecret(API_KEY_PREFIX);
    const key = tenant.create(ApiKey, {
      name: input.name.trim(),
      prefix: secret.slice(0, PREFIX_LENGTH),
      keyHash: hashSecret(secret),
      scopes: [...new Set(input.scopes)].sort((a, b) => API_KEY_SCOPES.indexOf(a) - API_KEY_SCOPES.indexOf(b)),
      expiresAt: input.expiresAt ?? null,
      createdBy: principal.userId,
    });
    await tenant.flush();
    await this.audit.record(
      { action: "api_key.create", outcome: "success", organizationId: principal.organizationId, actorUserId: principal.userId, targetType: "api_key", targetId: key.id, details: { name: key.name, scopes: key.scopes.join(",") } },
      caller,
    );
    return { key, secret };
  }

  async list(principal: UserPrincipal, input: { pageSize: number; pageToken: string; includeInactive: boolean }): Promise<Page<ApiKey>> {
    const tenant = new TenantScope(this.database.fork(), principal.organizationId);
    const limit = pageSize(input.pageSize);
    const offset = decodeOffset(input.pageToken);
    const where = input.includeInactive ? {} : { revokedAt: null, $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date() } }] };
    const rows = await tenant.find(ApiKey, where, { orderBy: { createdAt: "desc", id: "desc" }, limit: limit + 1, offset, populate: ["createdBy"] });
    return { items: rows.slice(0, limit), nextPageToken: rows.length > limit ? encodeOffset(offset + limit) : "" };
  }

  /** Revokes at once; revoking a revoked key returns it unchanged. A key of another organisation is NOT_FOUND. */
  async revoke(principal: UserPrincipal, apiKeyId: string, caller: Caller): Promise<ApiKey> {
    const tenant = new TenantScope(this.database.fork(), principal.organizationId);
    const key = await tenant.findOne(ApiKey, { id: apiKeyId });
    if (!key) throw new NotFoundError("api key", apiKeyId);
    if (!key.revokedAt) {
      key.revokedAt = new Date();
      await tenant.flush();
      this.accepted.deleteWhere((accepted) => accepted.apiKeyId === key.id);
      await this.audit.record(
        { action: "api_key.revoke", outcome: "success", organizationId: principal.organizationId, actorUserId: principal.userId, targetType: "api_key", targetId: key.id },
        caller,
      );
    }
    return key;
  }

  async authenticate(secret: string): Promise<ApiKeyPrincipal> {
    const invalid = () => new UnauthenticatedError("API key is invalid, revoked or expired");
    if (!secret.startsWith(API_KEY_PREFIX) || secret.length < PREFIX_LENGTH) throw invalid();
    const secretHash = hashSecret(secret);
    const key = await this.accepted.getOrLoad(secretHash, () => this.load(secret));
    const now = this.now();
    if (key.expiresAt !== null && key.expiresAt <= now) {
      this.accepted.delete(secretHash);
      throw invalid();
    }
    const suspended = await this.organizationSuspended(key.organizationId);
    if (key.lastUsedAt === null || now - key.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
      const minute = Math.floor(now / LAST_USED_RESOLUTION_MS) * LAST_USED_RESOLUTION_MS;
      key.lastUsedAt = minute;
      await this.database.fork().nativeUpdate(ApiKey, { id: key.apiKeyId }, { lastUsedAt: new Date(minute) });
    }
    return { kind: "api_key", apiKeyId: key.apiKeyId, organizationId: key.organizationId, scopes: [...key.scopes], organizationSuspended: suspended };
  }

  /** The key's row, if the secret is one of an active key; a refusal is not remembered. */
  private async load(secret: string): Promise<AcceptedKey> {
    const key = await this.database.fork().findOne(ApiKey, { prefix: secret.slice(0, PREFIX_LENGTH) });
    if (!key || !secretMatches(secret, key.keyHash) || apiKeyState(key, this.now()) !== "active") {
      throw new UnauthenticatedError("API key is invalid, revoked or expired");
    }
    return {
      apiKeyId: key.id,
      organizationId: key.organization.id,
      scopes: key.scopes.filter((s): s is ApiKeyScope => (API_KEY_SCOPES as readonly string[]).includes(s)),
      expiresAt: key.expiresAt?.getTime() ?? null,
      lastUsedAt: key.lastUsedAt?.getTime() ?? null,
    };
  }

  private async organizationSuspended(organizationId: string): Promise<boolean> {
    if (this.options.organizations) {
      const organization = await this.options.organizations.get(organizationId);
      // The key's row goes with its organisation: a key whose organisation is gone is no key.
      if (!organization) throw new UnauthenticatedError("API key is invalid, revoked or expired");
      return organization.status === "suspended";
    }
    const organization = await this.database.fork().findOneOrFail(Organization, { id: organizationId });
    return organization.status === "suspended";
  }
}
