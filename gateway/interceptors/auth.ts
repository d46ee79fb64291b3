// Authentication and authorisation in front of every handler: reads the credential
// (`authorization: Bearer <access token | API key>` or `x-api-key`), resolves it to a principal,
// and applies the RPC's entry of the one policy table. Methods without an entry are refused. Every
// PERMISSION_DENIED, the table's or a handler's, goes to the audit log with who was refused what.
import type { Interceptor } from "@connectrpc/connect";
import { PermissionDeniedError, UnauthenticatedError } from "../../services/platform/errors/errors.js";
import { authorize } from "../../services/identity/auth/authorize.js";
import { callerKey, principalKey } from "../../services/identity/model/context.js";
import type { Authenticator, Caller, Principal } from "../../services/identity/model/principal.js";
import type { AuditLog } from "../../services/identity/audit/audit-log.js";
import type { RpcRule } from "../../services/identity/auth/rpc-policy.js";
import type { LimitKind } from "../../services/platform/limits/rate-limits.js";
import { requestContextOf } from "../../services/platform/request-context.js";

/** Set by the gateway's listeners from the socket, overwriting whatever a client sent. */
export const PEER_ADDRESS_HEADER = "x-arabicstt-peer-address";

export interface AuthInterceptorOptions {
  authenticator: Authenticator;
  policy: Readonly<Record<string, RpcRule>>;
  /** Services outside the product API that need no credential (grpc.health.v1). */
  openServices: readonly string[];
  /** Per key, per user and per IP request limits; none when left out. */
  limits?: { consume(kind: LimitKind, key: string): Promise<void> };
  /** Where permission denials are recorded (action `rpc.permission_denied`); not recorded when left out. */
  audit?: Pick<AuditLog, "record">;
}

export function credentialOf(header: Headers): string | undefined {
  const authorization = header.get("authorization");
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw new UnauthenticatedError('authorization header must be "Bearer <access token or API key>"');
    return match[1];
  }
  return header.get("x-api-key")?.trim() || undefined;
}

export function authInterceptor(options: AuthInterceptorOptions): Interceptor {
  const open = new Set(options.openServices);
  return (next) => async (req) => {
    if (open.has(req.service.typeName)) return next(req);
    const rule = options.policy[`${req.service.typeName}/${req.method.name}`];
    if (!rule) throw new PermissionDeniedError("this method has no access rule and is refused");
    const caller: Caller = {
      ip: req.header.get(PEER_ADDRESS_HEADER),
      userAgent: req.header.get("user-agent"),
      requestId: requestContextOf(req.contextValues).requestId,
    };
    req.contextValues.set(callerKey, caller);
    const audited = async <T>(principal: Principal, run: () => Promise<T> | T): Promise<T> => {
      try {
        return await run();
      } catch (err) {
        if (err instanceof PermissionDeniedError) await recordDenial(options, `${req.service.typeName}/${req.method.name}`, principal, caller, err, requestContextOf(req.contextValues).logger);
        throw err;
      }
    };
    const ip = req.header.get(PEER_ADDRESS_HEADER) || "unknown";
    const limitBy = async (kind: LimitKind, key: string) => options.limits?.consume(kind, key);
    if (rule.access === "public") {
      await limitBy("ip", ip);
      // A public method may still use a valid credential (AcceptInvitation by a logged-in user);
      // a stale one is ignored rather than failing a login.
      const credential = safeCredential(req.header);
      if (credential) {
        // swallowed: a stale or bad credential on a public RPC is ignored rather than failing it; the RPC runs unauthenticated.
        const principal = await options.authenticator.authenticate(credential).catch(() => undefined);
        if (principal) req.contextValues.set(principalKey, principal);
      }
      return next(req);
    }
    let principal;
    try {
      const credential = credentialOf(req.header);
      if (!credential) {
        throw new UnauthenticatedError("this method needs credentials: send authorization: Bearer <access token or API key>, or x-api-key");
      }
      principal = await options.authenticator.authenticate(credential);
    } catch (err) {
      // Guessing credentials costs the guesser's address its budget.
      await limitBy("ip", ip);
      throw err;
    }
    await (principal.kind === "api_key" ? limitBy("apiKey", principal.apiKeyId) : limitBy("user", principal.userId));
    const authorized = principal;
    await audited(authorized, () => authorize(rule, authorized));
    req.contextValues.set(principalKey, principal);
    return audited(authorized, () => next(req));
  };
}

/** One audit event per refusal; a failure to record it is logged and does not change the answer. */
async function recordDenial(options: AuthInterceptorOptions, rpc: string, principal: Principal, caller: Caller, err: PermissionDeniedError, logger: { warn(obj: object, msg: string): void }): Promise<void> {
  try {
    await options.audit?.record(
      {
        action: "rpc.permission_denied",
        outcome: "denied",
        organizationId: principal.organizationId,
        actorUserId: principal.kind === "user" ? principal.userId : null,
        actorApiKeyId: principal.kind === "api_key" ? principal.apiKeyId : null,
        targetType: "rpc",
        targetId: rpc,
        details: { reason: err.message },
      },
      caller,
    );
  } catch (auditErr) {
    logger.warn({ err: auditErr, rpc }, "a permission denial could not be audited");
  }
}

function safeCredential(header: Headers): string | undefined {
  try {
    return credentialOf(header);
  } catch {
    return undefined;
  }
}
