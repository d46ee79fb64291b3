// Accounts for identity tests: a registered owner with their organisation, and more users joined to
// it with a chosen role (written straight to the database, as an accepted invitation would).
import type { Client } from "@connectrpc/connect";
import { AuthService } from "../../proto/gen/arabicstt/v1/auth_pb.js";
import type { Role } from "../../services/identity/model/membership.entity.js";
import { Membership } from "../../services/identity/model/membership.entity.js";
import type { IdentityGateway } from "./identity-gateway.js";

export const TEST_PASSWORD = "كلمة سر طويلة 2026";
let counter = 0;

export function uniqueEmail(): string {
  return `user-${process.pid}-${Date.now()}-${++counter}@example.com`;
}

export interface TestAccount {
  userId: string;
  email: string;
  organizationId: string;
  accessToken: string;
  refreshToken: string;
}

export async function registerOwner(h: Pick<IdentityGateway, "client">, organizationName = "مركز اتصال جدة"): Promise<TestAccount> {
  const email = uniqueEmail();
  const res = await h.client(AuthService).register({ email, password: TEST_PASSWORD, displayName: "سارة", organizationName });
  return {
    userId: res.user!.userId,
    email,
    organizationId: res.organization!.organizationId,
    accessToken: res.tokens!.accessToken,
    refreshToken: res.tokens!.refreshToken,
  };
}

/** A new user who is a member of `organizationId` with `role`, logged in to it. */
export async function joinAs(h: Pick<IdentityGateway, "client" | "testDb">, organizationId: string, role: Role): Promise<TestAccount> {
  const own = await registerOwner(h, "منظمة شخصية");
  const em = h.testDb.db.fork();
  em.create(Membership, { user: own.userId, organization: organizationId, role });
  await em.flush();
  const auth: Client<typeof AuthService> = h.client(AuthService);
  const res = await auth.login({ email: own.email, password: TEST_PASSWORD, organizationId });
  return { ...own, organizationId, accessToken: res.tokens!.accessToken, refreshToken: res.tokens!.refreshToken };
}
