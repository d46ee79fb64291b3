// The principal and caller of the current RPC, as the gateway's auth interceptor stores them for
// handlers. Handlers read them with these helpers; the domain takes them as plain arguments.
import { createContextKey, type ContextValues } from "@connectrpc/connect";
import { PermissionDeniedError, UnauthenticatedError } from "../../platform/errors/errors.js";
import { anonymousCaller, type Caller, type Principal, type UserPrincipal } from "./principal.js";

export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "the authenticated caller" });
export const callerKey = createContextKey<Caller>(anonymousCaller, { description: "where the request came from" });

export function principalOf(values: ContextValues): Principal {
  const principal = values.get(principalKey);
  if (!principal) throw new UnauthenticatedError("this method needs an access token or API key");
  return principal;
}

export function userOf(values: ContextValues): UserPrincipal {
  const principal = principalOf(values);
  if (principal.kind !== "user") throw new PermissionDeniedError("API keys cannot call this method; use a user's access token");
  return principal;
}

export function callerOf(values: ContextValues): Caller {
  return values.get(callerKey);
}
