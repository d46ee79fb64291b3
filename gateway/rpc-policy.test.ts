// The one access table against the contracts: every RPC in the proto descriptors has exactly one
// entry, no entry names an RPC that does not exist, and the rules mean what the contracts say.
import { describe, expect, it } from "vitest";
import { productServices } from "../services/app/product-services.js";
import { rpcPolicy, type RpcRule } from "../services/identity/auth/rpc-policy.js";
import { authorize } from "../services/identity/auth/authorize.js";
import { PermissionDeniedError } from "../services/platform/errors/errors.js";
import { testApiKey, testUser } from "./testing/auth.js";
import type { Principal } from "../services/identity/model/principal.js";

const descriptorRpcs = productServices.flatMap((service) => service.methods.map((method) => `${service.typeName}/${method.name}`));

function allowed(rule: RpcRule, principal: Principal): boolean {
  try {
    authorize(rule, principal);
    return true;
  } catch (err) {
    if (err instanceof PermissionDeniedError) return false;
    throw err;
  }
}

describe("the RPC access table", () => {
  it("has an entry for every RPC in the proto descriptors, and none for RPCs that do not exist", () => {
    const missing = descriptorRpcs.filter((rpc) => !(rpc in rpcPolicy));
    const unknown = Object.keys(rpcPolicy).filter((rpc) => !descriptorRpcs.includes(rpc));
    expect(missing).toEqual([]);
    expect(unknown).toEqual([]);
    expect(Object.keys(rpcPolicy).length).toBe(descriptorRpcs.length);
    expect(descriptorRpcs.length).toBeGreaterThanOrEqual(60);
  });

  it("keeps API keys out of AuthService, OrganizationService, ApiKeyService, AdminService, BillingService and PrivacyService", () => {
    const allScopes = testApiKey({ scopes: ["speech", "media:read", "media:write", "jobs:read", "jobs:write", "transcripts:read", "transcripts:write", "usage:read", "webhooks"] });
    for (const rpc of descriptorRpcs) {
      const rule = rpcPolicy[rpc]!;
      if (rule.access === "public") continue;
      const service = rpc.split("/")[0]!;
      if (["arabicstt.v1.AuthService", "arabicstt.v1.OrganizationService", "arabicstt.v1.ApiKeyService", "arabicstt.v1.AdminService", "arabicstt.v1.BillingService", "arabicstt.v1.PrivacyService"].includes(service)) {
        expect(allowed(rule, allScopes), rpc).toBe(false);
      } else {
        expect(allowed(rule, allScopes), rpc).toBe(true);
        expect(allowed(rule, testApiKey({ scopes: [] })), `${rpc} without scopes`).toBe(false);
      }
    }
  });

  it("lets viewers read but not write, and only platform admins operate the platform", () => {
    const viewer = testUser({ role: "viewer" });
    const member = testUser({ role: "member" });
    const owner = testUser({ role: "owner" });
    const operator = testUser({ role: "viewer", platformAdmin: true });
    expect(allowed(rpcPolicy["arabicstt.v1.JobService/GetJob"]!, viewer)).toBe(true);
    expect(allowed(rpcPolicy["arabicstt.v1.JobService/CreateJob"]!, viewer)).toBe(false);
    expect(allowed(rpcPolicy["arabicstt.v1.JobService/CreateJob"]!, member)).toBe(true);
    expect(allowed(rpcPolicy["arabicstt.v1.ApiKeyService/CreateApiKey"]!, member)).toBe(false);
    expect(allowed(rpcPolicy["arabicstt.v1.ApiKeyService/CreateApiKey"]!, owner)).toBe(true);
    expect(allowed(rpcPolicy["arabicstt.v1.AdminService/SuspendOrganization"]!, owner)).toBe(false);
    expect(allowed(rpcPolicy["arabicstt.v1.AdminService/SuspendOrganization"]!, operator)).toBe(true);
    expect(allowed(rpcPolicy["arabicstt.v1.AdminService/ListAuditEvents"]!, operator)).toBe(true);
    expect(allowed(rpcPolicy["arabicstt.v1.AdminService/ListAuditEvents"]!, member)).toBe(false);
  });

  it("lets a suspended organisation read but change nothing, and refuses its API keys", () => {
    const suspendedOwner = testUser({ role: "owner", organizationSuspended: true });
    expect(allowed(rpcPolicy["arabicstt.v1.TranscriptService/GetTranscript"]!, suspendedOwner)).toBe(true);
    expect(allowed(rpcPolicy["arabicstt.v1.JobService/CreateJob"]!, suspendedOwner)).toBe(false);
    expect(allowed(rpcPolicy["arabicstt.v1.JobService/GetJob"]!, testApiKey({ scopes: ["jobs:read"], organizationSuspended: true }))).toBe(false);
  });
});
