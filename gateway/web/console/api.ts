// The console's link to the public API: Connect-Web over HTTP/1.1 to the gateway that served the page,
// the generated clients, and the signed-in session. The access token lives in memory only; the refresh
// token in sessionStorage (gone when the tab closes), so a reload stays signed in. The access token is
// refreshed silently a minute before it expires, and once more when a call finds it expired.
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ApiKeyService } from "../../../proto/gen/arabicstt/v1/api_key_pb.js";
import { AuthService } from "../../../proto/gen/arabicstt/v1/auth_pb.js";
import { ExportService } from "../../../proto/gen/arabicstt/v1/export_pb.js";
import type { AuthTokens } from "../../../proto/gen/arabicstt/v1/identity_pb.js";
import { JobService } from "../../../proto/gen/arabicstt/v1/job_pb.js";
import { MediaService } from "../../../proto/gen/arabicstt/v1/media_pb.js";
import { OrganizationService } from "../../../proto/gen/arabicstt/v1/organization_pb.js";
import { SpeechService } from "../../../proto/gen/arabicstt/v1/speech_pb.js";
import { TranscriptService } from "../../../proto/gen/arabicstt/v1/transcript_pb.js";
import { UsageService } from "../../../proto/gen/arabicstt/v1/usage_pb.js";

const REFRESH_KEY = "arabicstt-refresh";
const ORG_KEY = "arabicstt-organization";
const REQUEST_ID = "x-request-id";
/** Refresh this long before the access token expires. */
const REFRESH_AHEAD_MS = 60_000;

let accessToken = "";
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let onSignedOut: () => void = () => {};

/**
 * Calls that must not carry an access token (an expired one would be refused before the call runs): the
 * ones whose credential is a password or a mailed token.
 */
const WITHOUT_TOKEN = new Set(["Register", "Login", "RefreshToken", "VerifyEmail", "ResendVerification", "RequestPasswordReset", "ResetPassword"]);

/** Every call carries a request id of its own (the gateway keeps a sane one) and the access token. */
const credentials: Interceptor = (next) => async (req) => {
  if (!req.header.has(REQUEST_ID)) req.header.set(REQUEST_ID, crypto.randomUUID());
  if (accessToken && !WITHOUT_TOKEN.has(req.method.name)) req.header.set("authorization", `Bearer ${accessToken}`);
  try {
    return await next(req);
  } catch (err) {
    const error = ConnectError.from(err);
    if (!error.metadata.has(REQUEST_ID)) error.metadata.set(REQUEST_ID, req.header.get(REQUEST_ID)!);
    throw error;
  }
};

const transport = createConnectTransport({ baseUrl: location.origin, interceptors: [credentials] });
/** Auth calls go without the bearer token and without the retry on UNAUTHENTICATED. */
const auth = createClient(AuthService, transport);

function client<T extends Parameters<typeof createClient>[0]>(service: T): Client<T> {
  const inner = createClient(service, transport) as Record<string, (...args: unknown[]) => unknown>;
  // Unary calls that fail as UNAUTHENTICATED are retried once after a refresh; streams are not.
  return new Proxy(inner, {
    get(target, name: string) {
      const method = target[name]!;
      const kind = service.method[name as keyof typeof service.method]?.methodKind;
      if (kind !== "unary") return method;
      return async (...args: unknown[]) => {
        try {
          return await method(...args);
        } catch (err) {
          if (ConnectError.from(err).code !== Code.Unauthenticated || !(await refresh())) throw err;
          return await method(...args);
        }
      };
    },
  }) as Client<T>;
}

export const api = {
  auth,
  apiKeys: client(ApiKeyService),
  jobs: client(JobService),
  media: client(MediaService),
  speech: client(SpeechService),
  transcripts: client(TranscriptService),
  exports: client(ExportService),
  usage: client(UsageService),
  organizations: client(OrganizationService),
};

export function signedIn(): boolean {
  return accessToken !== "";
}

export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback;
}

/** Keeps the tokens of a register, login or refresh, and schedules the next refresh. */
export function keep(tokens: AuthTokens | undefined, organizationId?: string): void {
  if (!tokens) return;
  accessToken = tokens.accessToken;
  sessionStorage.setItem(REFRESH_KEY, tokens.refreshToken);
  if (organizationId) sessionStorage.setItem(ORG_KEY, organizationId);
  clearTimeout(refreshTimer);
  const expires = tokens.accessTokenExpiresAt ? timestampDate(tokens.accessTokenExpiresAt).getTime() : Date.now() + 15 * 60_000;
  // A minute before the end, or after four fifths of a shorter life.
  const life = expires - Date.now();
  refreshTimer = setTimeout(() => void refresh(), Math.max(1_000, Math.min(life - REFRESH_AHEAD_MS, life * 0.8)));
}

let refreshing: Promise<boolean> | undefined;

/** Exchanges the refresh token (usable once) for new tokens; false, and signed out, when it no longer works. */
export function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    const refreshToken = sessionStorage.getItem(REFRESH_KEY);
    if (!refreshToken) return false;
    try {
      const organizationId = sessionStorage.getItem(ORG_KEY) ?? "";
      const res = await auth.refreshToken({ refreshToken, organizationId });
      keep(res.tokens);
      return true;
    } catch (err) {
      // A network failure keeps the refresh token for the next try; a refused one ends the session.
      if (ConnectError.from(err).code === Code.Unavailable) return false;
      forget();
      onSignedOut();
      return false;
    }
  })().finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

export async function signOut(): Promise<void> {
  const refreshToken = sessionStorage.getItem(REFRESH_KEY) ?? "";
  try {
    if (accessToken) await auth.logout({ refreshToken }, { headers: { authorization: `Bearer ${accessToken}` } });
  } finally {
    forget();
  }
}

function forget(): void {
  accessToken = "";
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(REFRESH_KEY);
  sessionStorage.removeItem(ORG_KEY);
}

/** The plain-words key of an error, its server message and the request id to quote. */
export function describeError(err: unknown): { key: string; detail: string; requestId: string } {
  const error = ConnectError.from(err);
  const requestId = error.metadata.get(REQUEST_ID) ?? "";
  const name = Code[error.code]?.replace(/[A-Z]/g, (c, i: number) => (i ? "_" : "") + c.toLowerCase()) ?? "other";
  const known = ["unauthenticated", "permission_denied", "invalid_argument", "not_found", "already_exists", "resource_exhausted", "failed_precondition", "unavailable", "deadline_exceeded"];
  const key = error.code === Code.Unknown && /fetch/i.test(error.rawMessage) ? "error.network" : known.includes(name) ? `error.${name}` : "error.other";
  return { key, detail: error.rawMessage, requestId };
}
