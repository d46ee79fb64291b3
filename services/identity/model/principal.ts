// Who is calling: resolved once per RPC by the gateway's auth interceptor from the request's
// credentials, then read by handlers. Nothing here touches a transport.
import type { Role } from "./membership.entity.js";

/** What an API key may do; stored as these strings, shown as ApiKeyScope in the API. */
export const API_KEY_SCOPES = [
  "speech",
  "media:read",
  "media:write",
  "jobs:read",
  "jobs:write",
  "transcripts:read",
  "transcripts:write",
  "usage:read",
  "webhooks",
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface UserPrincipal {
  kind: "user";
  userId: string;
  /** The organisation the access token acts for. */
  organizationId: string;
  /** The user's role there, as the database has it now (not as the token said). */
  role: Role;
  platformAdmin: boolean;
  organizationSuspended: boolean;
  /** The access token's id and expiry, so Logout can deny it until then. */
  tokenId: string;
  tokenExpiresAt: Date;
}

export interface ApiKeyPrincipal {
  kind: "api_key";
  apiKeyId: string;
  organizationId: string;
  scopes: ApiKeyScope[];
  organizationSuspended: boolean;
}

export type Principal = UserPrincipal | ApiKeyPrincipal;

/** Where a request came from, for the audit log and rate limits. */
export interface Caller {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export const anonymousCaller: Caller = { ip: null, userAgent: null, requestId: null };

/** Turns a presented credential (access token or API key secret) into a principal, or throws UNAUTHENTICATED. */
export interface Authenticator {
  authenticate(credential: string): Promise<Principal>;
}
