// Authenticators for gateways under test that have no database: fixed credentials mapped to
// fixed principals. Anything else is UNAUTHENTICATED, as with the real one.
import { UnauthenticatedError } from "../../services/platform/errors/errors.js";
import type { ApiKeyPrincipal, Authenticator, Principal, UserPrincipal } from "../../services/identity/model/principal.js";

export function fixedAuthenticator(credentials: Record<string, Principal> = {}): Authenticator {
  return {
    authenticate: async (credential) => {
      const principal = credentials[credential];
      if (!principal) throw new UnauthenticatedError("access token is invalid; log in again");
      return principal;
    },
  };
}

export function testUser(overrides: Partial<UserPrincipal> = {}): UserPrincipal {
  return {
    kind: "user",
    userId: "00000000-0000-4000-8000-000000000001",
    organizationId: "00000000-0000-4000-8000-0000000000aa",
    role: "owner",
    platformAdmin: false,
    organizationSuspended: false,
    tokenId: "test-token",
    tokenExpiresAt: new Date(Date.now() + 3_600_000),
    ...overrides,
  };
}

export function testApiKey(overrides: Partial<ApiKeyPrincipal> = {}): ApiKeyPrincipal {
  return {
    kind: "api_key",
    apiKeyId: "00000000-0000-4000-8000-0000000000bb",
    organizationId: "00000000-0000-4000-8000-0000000000aa",
    scopes: [],
    organizationSuspended: false,
    ...overrides,
  };
}

/** The one credential `testAuthenticator` accepts; send it with `testAuthHeaders`. */
export const TEST_CREDENTIAL = "astt_test_credential";
export const testAuthHeaders: Readonly<Record<string, string>> = { authorization: `Bearer ${TEST_CREDENTIAL}` };

/** An authenticator for gateways under test without a database: TEST_CREDENTIAL is `principal`. */
export function testAuthenticator(principal: Principal = testUser()): Authenticator {
  return fixedAuthenticator({ [TEST_CREDENTIAL]: principal });
}
