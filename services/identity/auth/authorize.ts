// Applies one RPC's rule (rpc-policy.ts) to a principal. Messages say what is missing, never what exists.
import { PermissionDeniedError } from "../../platform/errors/errors.js";
import type { Principal } from "../model/principal.js";
import type { RpcRule } from "./rpc-policy.js";

export function authorize(rule: RpcRule, principal: Principal): void {
  switch (rule.access) {
    case "public":
      return;
    case "user":
      if (principal.kind !== "user") throw new PermissionDeniedError("API keys cannot call this method; use a user's access token");
      return;
    case "platform_admin":
      if (principal.kind !== "user" || !principal.platformAdmin) throw new PermissionDeniedError("this method is for platform operators only");
      return;
    case "member":
      if (principal.kind === "api_key") {
        if (principal.organizationSuspended) throw new PermissionDeniedError("the organisation is suspended: its API keys are refused");
        if (!rule.scope) throw new PermissionDeniedError("API keys cannot call this method; use a user's access token");
        if (!principal.scopes.includes(rule.scope)) throw new PermissionDeniedError(`this API key lacks the scope this method needs (${rule.scope})`);
        return;
      }
      if (!rule.roles.includes(principal.role) && !(rule.platformAdmins && principal.platformAdmin)) {
        throw new PermissionDeniedError(`your role (${principal.role}) may not call this method; it needs ${rule.roles.join(" or ")}`);
      }
      if (principal.organizationSuspended && !rule.read) throw new PermissionDeniedError("the organisation is suspended: it can read its data but change nothing");
      return;
  }
}
