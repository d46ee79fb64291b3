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
import { Invitations } from "../services/orgs/invitations.js";
import { organizationAdminHandler } from "../services/orgs/admin-handler.js";
import type { ProductHandlers } from "./routes.js";
import { RateLimits } from "../services/limits/rate-limits.js";
import { MemoryStreamSlots, RedisStreamSlots, type StreamSlots } from "../services/limits/stream-slots.js";
import type { Logger } from "pino";
import { AccountEmails } from "../services/auth/account-emails.js";
import { createMailer, type Mailer } from "../services/mail/mailer.js";
import { MailQueue } from "../services/mail/mail-queue.js";

export interface Identity {
  accounts: Accounts;
  apiKeys: ApiKeys;
  organizations: Organizations;
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
  config: Pick<Config, "auth" | "dataDir" | "rateLimits" | "mail" | "maxLiveStreamsPerOrganization">,
  adapters: { database: Database; redis?: Redis; mailer?: Mailer; logger?: Logger },
  /** Where limit counters and stream leases live in Redis; tests give each gateway its own. */
  options: { rateLimitPrefix?: string } = {},
): Promise<Identity> {
  const keys = await resolveSigningKeys(config.auth.jwtKeys, config.dataDir);
  const accessTokens = new AccessTokens(keys, config.auth.issuer, config.auth.accessTokenTtlSeconds);
  const denylist = adapters.redis ? new RedisTokenDenylist(adapters.redis) : new MemoryTokenDenylist();
  const audit = new AuditLog(adapters.database);
  const apiKeys = new ApiKeys(adapters.database, audit);
  const limits = new RateLimits(config.rateLimits, { redis: adapters.redis, keyPrefix: options.rateLimitPrefix });
  const streamSlots = adapters.redis
    ? new RedisStreamSlots(adapters.redis, {
        limit: config.maxLiveStreamsPerOrganization,
        keyPrefix: options.rateLimitPrefix ? `${options.rateLimitPrefix}:streams` : undefined,
      })
    : new MemoryStreamSlots(config.maxLiveStreamsPerOrganization);
  const accounts = new Accounts(adapters.database, accessTokens, denylist, audit, apiKeys, config.auth.refreshTokenTtlDays, limits);
  const organizations = new Organizations(adapters.database, audit, accounts);
  const mail = new MailQueue(adapters.mailer ?? createMailer(config.mail), adapters.logger);
  const emails = new AccountEmails(adapters.database, mail, audit, config.mail.appBaseUrl);
  const invitations = new Invitations(adapters.database, accounts, mail, audit, config.mail.appBaseUrl);
  return {
    accounts,
    apiKeys,
    organizations,
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
