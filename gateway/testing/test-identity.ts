// The real identity (accounts, access tokens, API keys, the authenticator the gateway's auth interceptor
// uses) over a test database of its own, for gateways under test that mount hand-made routes: their
// credentials are real ones, made through the identity service, so the interceptor meets what production
// meets (a JWT checked against its membership, an API key looked up by its hash).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../../services/app/testing.js";
import { createIdentity, type Identity } from "../../services/app/identity.js";
import { loadConfig } from "../../services/platform/config/config.js";
import { anonymousCaller, type ApiKeyScope, type UserPrincipal } from "../../services/identity/model/principal.js";
import type { Role } from "../../services/identity/model/membership.entity.js";
import { Membership } from "../../services/identity/model/membership.entity.js";
import { TEST_PASSWORD, uniqueEmail } from "./accounts.js";

/** A platform admin's address, named in PLATFORM_ADMIN_EMAILS of the identity (as an operator's would be). */
const OPERATOR_EMAIL = "operator@example.com";

export interface TestIdentity {
  identity: Identity;
  testDb: TestDatabase;
  /** A new organisation and its owner: the owner's access token. */
  owner(organizationName?: string): Promise<{ organizationId: string; userId: string; accessToken: string }>;
  /** A user with `role` in `organizationId` (a new organisation when left out), logged in to it: the access token. */
  user(role: Role, organizationId?: string): Promise<string>;
  /** The platform admin (PLATFORM_ADMIN_EMAILS), logged in to their own organisation as `role`. */
  operator(role?: Role): Promise<string>;
  /** An API key of `organizationId` (a new organisation when left out) with `scopes`: its secret. */
  apiKey(scopes: ApiKeyScope[], organizationId?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestIdentity(): Promise<TestIdentity> {
  const testDb = await createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), "arabicstt-identity-"));
  const config = loadConfig({ DATA_DIR: dataDir, PLATFORM_ADMIN_EMAILS: OPERATOR_EMAIL });
  const identity = await createIdentity(config, { database: testDb.db });
  const owners = new Map<string, UserPrincipal>();
  let operatorRegistered = false;

  const register = async (email: string, organizationName: string) => {
    const session = await identity.accounts.register({ email, password: TEST_PASSWORD, displayName: "سارة", organizationName }, anonymousCaller);
    const principal = (await identity.authenticator.authenticate(session.tokens.accessToken)) as UserPrincipal;
    owners.set(principal.organizationId, principal);
    return { organizationId: principal.organizationId, userId: principal.userId, accessToken: session.tokens.accessToken };
  };
  const owner = (organizationName = "مركز اتصال جدة") => register(uniqueEmail(), organizationName);
  /** Makes the user a member with `role` (as an accepted invitation would) and logs them in to the organisation. */
  const joinAndLogIn = async (email: string, userId: string, organizationId: string, role: Role) => {
    const em = testDb.db.fork();
    em.create(Membership, { user: userId, organization: organizationId, role });
    await em.flush();
    return (await identity.accounts.login({ email, password: TEST_PASSWORD, organizationId }, anonymousCaller)).tokens.accessToken;
  };

  return {
    identity,
    testDb,
    owner,
    async user(role, organizationId) {
      const email = uniqueEmail();
      const own = await register(email, "منظمة شخصية");
      if (role === "owner" && !organizationId) return own.accessToken;
      return joinAndLogIn(email, own.userId, organizationId ?? (await owner()).organizationId, role);
    },
    async operator(role = "viewer") {
      if (!operatorRegistered) {
        await register(OPERATOR_EMAIL, "مشغل المنصة");
        operatorRegistered = true;
      }
      const own = (await identity.accounts.login({ email: OPERATOR_EMAIL, password: TEST_PASSWORD }, anonymousCaller));
      if (role === "owner") return own.tokens.accessToken;
      const organizationId = (await owner()).organizationId;
      return joinAndLogIn(OPERATOR_EMAIL, own.user.id, organizationId, role);
    },
    async apiKey(scopes, organizationId) {
      const id = organizationId ?? (await owner()).organizationId;
      const principal = owners.get(id);
      if (!principal) throw new Error(`organisation ${id} was not made by this test identity`);
      return (await identity.apiKeys.create(principal, { name: `test ${scopes.join(",")}`, scopes }, anonymousCaller)).secret;
    },
    async stop() {
      await identity.close();
      await testDb.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
