// Inviting people into an organisation by email, and accepting. The emailed token is the credential:
// stored as a hash, single use, valid for 7 days; inviting an address again replaces the pending one.
import { randomUUID } from "node:crypto";
import type { Database } from "../../platform/database/database.js";
import { TenantScope } from "../../platform/database/tenant-scope.js";
import { AlreadyExistsError, InvalidArgumentError, PermissionDeniedError, UnauthenticatedError } from "../../platform/errors/errors.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { MailQueue } from "../../platform/mail/mail-queue.js";
import { findUserByEmail, normaliseEmail, type Accounts } from "../auth/accounts.js";
import type { Tokens } from "../model/tokens.js";
import { checkPasswordPolicy, hashPassword, verifyPassword } from "../auth/passwords.js";
import type { Caller, Principal, UserPrincipal } from "../model/principal.js";
import { hashSecret, newSecret } from "../auth/secrets.js";
import { User } from "../model/user.entity.js";
import { Invitation } from "../model/invitation.entity.js";
import { Membership, type Role } from "../model/membership.entity.js";
import { Organization } from "../model/organization.entity.js";

const INVITATION_TTL_MS = 7 * 86_400_000;

export interface Acceptance {
  membership: Membership;
  organization: Organization;
  memberCount: number;
  user: User;
  tokens: Tokens;
}

export class Invitations {
  constructor(
    private readonly database: Database,
    private readonly accounts: Accounts,
    private readonly mail: MailQueue,
    private readonly audit: AuditLog,
    private readonly appBaseUrl: string,
  ) {}

  /** Needs ADMIN (the policy table); inviting an owner needs OWNER. */
  async invite(principal: UserPrincipal, input: { email: string; role: Role }, caller: Caller): Promise<Invitation> {
    if (input.role === "owner" && principal.role !== "owner") throw new PermissionDeniedError("only an owner may invite an owner");
    const email = normaliseEmail(input.email);
    const em = this.database.fork();
    const tenant = new TenantScope(em, principal.organizationId);
    const existing = await findUserByEmail(em, email);
    if (existing && (await tenant.findOne(Membership, { user: existing.id }))) {
      throw new AlreadyExistsError("this address already belongs to a member of the organisation");
    }
    // Inviting again replaces the pending invitation: its token stops working.
    await em.nativeDelete(Invitation, { organization: principal.organizationId, email, acceptedAt: null });
    const token = newSecret("asti_");
    const invitation = tenant.create(Invitation, {
      email,
      role: input.role,
      tokenHash: hashSecret(token),
      expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
      invitedBy: principal.userId,
    });
    await tenant.flush();
    const organization = await em.findOneOrFail(Organization, { id: principal.organizationId });
    this.mail.enqueue(
      {
        to: email,
        subject: `You are invited to join ${organization.name}`,
        text: [
          `You are invited to join "${organization.name}" on Arabic STT as ${input.role}.`,
          "Accept within 7 days by opening this link:",
          `${this.appBaseUrl}/accept-invitation?token=${token}`,
        ].join("\n"),
      },
      "invitation",
    );
    await this.audit.record(
      {
        action: "invitation.create",
        outcome: "success",
        organizationId: principal.organizationId,
        actorUserId: principal.userId,
        targetType: "invitation",
        targetId: invitation.id,
        details: { email, role: input.role },
      },
      caller,
    );
    return invitation;
  }

  /**
   * Joins the invited address to the organisation. A new address gets an account (its email counts as
   * verified: the token came by email); an existing account proves itself with its access token or
   * its password.
   */
  async accept(
    input: { token: string; displayName: string; password: string },
    principal: Principal | undefined,
    caller: Caller,
  ): Promise<Acceptance> {
    const em = this.database.fork();
    const refused = new InvalidArgumentError("token", "is invalid, already used or expired; ask for a new invitation");
    const invitation = await em.findOne(Invitation, { tokenHash: hashSecret(input.token) }, { populate: ["organization"] });
    if (!invitation || invitation.acceptedAt || invitation.expiresAt.getTime() <= Date.now()) throw refused;

    let user = await findUserByEmail(em, invitation.email);
    if (user) {
      const signedIn = principal?.kind === "user" && principal.userId === user.id;
      if (!signedIn && !(input.password && (await verifyPassword(user.passwordHash, input.password)))) {
        throw new UnauthenticatedError("this address has an account: accept while logged in as it, or give its password");
      }
    } else {
      const displayName = input.displayName.trim();
      if (!displayName) throw new InvalidArgumentError("display_name", "is required to create the invited account");
      if (!input.password) throw new InvalidArgumentError("password", "is required to create the invited account");
      checkPasswordPolicy("password", input.password, { email: invitation.email, displayName });
      user = em.create(User, { email: invitation.email, passwordHash: await hashPassword(input.password), displayName, emailVerifiedAt: new Date() });
    }
    if ((await em.nativeUpdate(Invitation, { id: invitation.id, acceptedAt: null }, { acceptedAt: new Date() })) !== 1) throw refused;
    const membership =
      (await em.findOne(Membership, { user: user.id, organization: invitation.organization.id }, { populate: ["user"] })) ??
      em.create(Membership, { user, organization: invitation.organization, role: invitation.role });
    await em.flush();
    const tokens = await this.accounts.startSession(em, user, invitation.organization, membership.role, randomUUID(), caller);
    await this.audit.record(
      {
        action: "invitation.accept",
        outcome: "success",
        organizationId: invitation.organization.id,
        actorUserId: user.id,
        targetType: "invitation",
        targetId: invitation.id,
        details: { role: membership.role },
      },
      caller,
    );
    const memberCount = await em.count(Membership, { organization: invitation.organization.id });
    return { membership, organization: invitation.organization, memberCount, user, tokens };
  }
}
