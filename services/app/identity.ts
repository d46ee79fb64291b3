// Composes the identity capabilities (accounts, organisations, API keys, audit) from the config and
// the adapters, for the composition root: their handlers, and the authenticator the gateway's auth
// interceptor uses.
import type { Redis } from "ioredis";
import type { Config } from "../platform/config/config.js";
import type { Database } from "../platform/database/database.js";
import { AccessTokens } from "../identity/auth/access-tokens.js";
import { Accounts } from "../identity/auth/accounts.js";
import { MemoryTokenDenylist, RedisTokenDenylist } from "../identity/auth/denylist.js";
import { authHandler } from "../identity/auth/handler.js";
import { anonymousCaller, type Authenticator } from "../identity/model/principal.js";
import { resolveSigningKeys } from "../identity/auth/signing-keys.js";
import { ApiKeys } from "../identity/api-keys/api-keys.js";
import { apiKeyHandler } from "../identity/api-keys/handler.js";
import { AuditLog } from "../identity/audit/audit-log.js";
import { auditHandler } from "../admin/audit-handler.js";
import { organizationHandler } from "../identity/orgs/handler.js";
import { Organizations } from "../identity/orgs/organizations.js";
import { OrganizationSnapshots } from "../identity/orgs/organization-snapshots.js";
import { Invitations } from "../identity/orgs/invitations.js";
import { organizationAdminHandler } from "../admin/organization-admin-handler.js";
import type { ProductHandlers } from "./product-services.js";
import { RateLimits } from "../platform/limits/rate-limits.js";
import { MemoryStreamSlots, RedisStreamSlots, type StreamSlots } from "../platform/limits/stream-slots.js";
import type { Logger } from "pino";
import { AccountEmails } from "../identity/auth/account-emails.js";
import { createMailer, type Mailer } from "../platform/mail/mailer.js";
import { MailQueue } from "../platform/mail/mail-queue.js";

export interface Identity {
  accounts: Accounts;
  apiKeys: ApiKeys;
  organizations: Organizations;
  /** Organisations as the hot paths read them (API-key calls, quota checks, recognition defaults), for REPLICA_CACHE_TTL_MS. */
  organizationSnapshots: OrganizationSnapshots;
  audit: AuditLog;
  authenticator: Authenticator;
  limits: RateLimits;
  /** Live-stream slots per organisation (the live-session engine takes one per session too). */
  streamSlots: StreamSlots;
  emails: AccountEmails;
  mail: MailQueue;
  handlers: ProductHandlers;
  /** Waits for mail still going out, then closes the mail transport. */
  close(): Promise<void>;
}

export async function createIdentity(
  config: Pick<Config, "auth" | "dataDir" | "rateLimits" | "mail" | "maxLiveStreamsPerOrganization" | "replicaCacheTtlMs">,
  adapters: { database: Database; redis?: Redis; mailer?: Mailer; logger?: Logger },
  /** Where limit counters and stream leases live in Redis; tests give each gateway its own. */
  options: { rateLimitPrefix?: string } = {},
): Promise<Identity> {
  const keys = await resolveSigningKeys(config.auth.jwtKeys, config.dataDir);
  const accessTokens = new AccessTokens(keys, config.auth.issuer, config.auth.accessTokenTtlSeconds);
  const denylist = adapters.redis ? new RedisTokenDenylist(adapters.redis) : new MemoryTokenDenylist();
  const audit = new AuditLog(adapters.database);
  const organizationSnapshots = new OrganizationSnapshots(adapters.database, { ttlMs: config.replicaCacheTtlMs });
  const apiKeys = new ApiKeys(adapters.database, audit, { cacheTtlMs: config.replicaCacheTtlMs, organizations: organizationSnapshots });
  const limits = new RateLimits(config.rateLimits, { redis: adapters.redis, keyPrefix: options.rateLimitPrefix });
  const streamSlots = adapters.redis
    ? new RedisStreamSlots(adapters.redis, {
        limit: config.maxLiveStreamsPerOrganization,
        keyPrefix: options.rateLimitPrefix ? `${options.rateLimitPrefix}:streams` : undefined,
      })
    : new MemoryStreamSlots(config.maxLiveStreamsPerOrganization);
  const accounts = new Accounts(adapters.database, accessTokens, denylist, audit, apiKeys, config.auth.refreshTokenTtlDays, limits, config.auth.platformAdminEmails);
  // PLATFORM_ADMIN_EMAILS applies to accounts that already exist, as well as to those registered later.
  await accounts.grantConfiguredPlatformAdmins(anonymousCaller);
  const organizations = new Organizations(adapters.database, audit, accounts, organizationSnapshots);
  const mail = new MailQueue(adapters.mailer ?? createMailer(config.mail), adapters.logger);
  const emails = new AccountEmails(adapters.database, mail, audit, config.mail.appBaseUrl);
  const invitations = new Invitations(adapters.database, accounts, mail, audit, config.mail.appBaseUrl);
  return {
    accounts,
    apiKeys,
    organizations,
    organizationSnapshots,
    audit,
    authenticator: accounts,
    limits,
    streamSlots,
    emails,
    mail,
    close: () => mail.close(),
    handlers: {
      "arabicstt.v1.AuthService": authHandler(accounts, emails),
      "arabicstt.v1.OrganizationService": organizationHandler(organizations, invitations),
      "arabicstt.v1.ApiKeyService": apiKeyHandler(apiKeys),
      "arabicstt.v1.AdminService": { ...auditHandler(audit), ...organizationAdminHandler(organizations) },
    },
  };
}
