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

export const API_KEY_PREFIX = "astt_";
/** "astt_" and 8 characters of the random part: unique enough to find the row, far too short to guess the rest. */
const PREFIX_LENGTH = API_KEY_PREFIX.length + 8;
/** last_used_at is kept to the minute: no write on every request of a busy key. */
const LAST_USED_RESOLUTION_MS = 60_000;

export type ApiKeyState = "active" | "revoked" | "expired";

export function apiKeyState(key: ApiKey, now = Date.now()): ApiKeyState {
  if (key.revokedAt) return "revoked";
  if (key.expiresAt && key.expiresAt.getTime() <= now) return "expired";
  return "active";
}

export class ApiKeys {
  constructor(
    private readonly database: Database,
    private readonly audit: AuditLog,
  ) {}

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
    const em = this.database.fork();
    const key = await em.findOne(ApiKey, { prefix: secret.slice(0, PREFIX_LENGTH) });
    if (!key || !secretMatches(secret, key.keyHash) || apiKeyState(key) !== "active") throw invalid();
    const organization = await em.findOneOrFail(Organization, { id: key.organization.id });
    const now = Date.now();
    if (!key.lastUsedAt || now - key.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      await em.nativeUpdate(ApiKey, { id: key.id }, { lastUsedAt: new Date(Math.floor(now / LAST_USED_RESOLUTION_MS) * LAST_USED_RESOLUTION_MS) });
    }
    return {
      kind: "api_key",
      apiKeyId: key.id,
      organizationId: key.organization.id,
      scopes: key.scopes.filter((s): s is ApiKeyScope => (API_KEY_SCOPES as readonly string[]).includes(s)),
      organizationSuspended: organization.status === "suspended",
    };
  }
}
