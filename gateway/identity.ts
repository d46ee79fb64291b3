// Composes the identity capabilities (accounts, organisations, API keys, audit) from the config and
// the adapters, for the composition root: their handlers, and the authenticator the gateway's auth
// interceptor uses.
import type { Redis } from "ioredis";
import type { Config } from "../services/config/config.js";
import type { Database } from "../services/database/database.js";
import { AccessTokens } from "../services/auth/access-tokens.js";
import { Accounts } from "../services/auth/accounts.js";
import { MemoryTokenDenylist, RedisTokenDenylist } from "../services/auth/denylist.js";
import { authHandler } from "../services/auth/handler.js";
import type { Authenticator } from "../services/auth/principal.js";
import { resolveSigningKeys } from "../services/auth/signing-keys.js";
import { ApiKeys } from "../services/api-keys/api-keys.js";
import { apiKeyHandler } from "../services/api-keys/handler.js";
import { AuditLog } from "../services/audit/audit-log.js";
import { auditHandler } from "../services/audit/handler.js";
import { organizationHandler } from "../services/orgs/handler.js";
import { Organizations } from "../services/orgs/organizations.js";
import type { ProductHandlers } from "./routes.js";
import { RateLimits } from "../services/limits/rate-limits.js";

export interface Identity {
  accounts: Accounts;
  apiKeys: ApiKeys;
  organizations: Organizations;
  audit: AuditLog;
  authenticator: Authenticator;
  limits: RateLimits;
  handlers: ProductHandlers;
}

export async function createIdentity(
  config: Pick<Config, "auth" | "dataDir" | "rateLimits">,
  adapters: { database: Database; redis?: Redis },
  /** Where limit counters live in Redis; tests give each gateway its own. */
  options: { rateLimitPrefix?: string } = {},
): Promise<Identity> {
  const keys = await resolveSigningKeys(config.auth.jwtKeys, config.dataDir);
  const accessTokens = new AccessTokens(keys, config.auth.issuer, config.auth.accessTokenTtlSeconds);
  const denylist = adapters.redis ? new RedisTokenDenylist(adapters.redis) : new MemoryTokenDenylist();
  const audit = new AuditLog(adapters.database);
  const apiKeys = new ApiKeys(adapters.database, audit);
  const limits = new RateLimits(config.rateLimits, { redis: adapters.redis, keyPrefix: options.rateLimitPrefix });
  const accounts = new Accounts(adapters.database, accessTokens, denylist, audit, apiKeys, config.auth.refreshTokenTtlDays, limits);
  const organizations = new Organizations(adapters.database, audit, accounts);
  return {
    accounts,
    apiKeys,
    organizations,
    audit,
    authenticator: accounts,
    limits,
    handlers: {
      "arabicstt.v1.AuthService": authHandler(accounts),
      "arabicstt.v1.OrganizationService": organizationHandler(organizations),
      "arabicstt.v1.ApiKeyService": apiKeyHandler(apiKeys),
      "arabicstt.v1.AdminService": auditHandler(audit),
    },
  };
}
