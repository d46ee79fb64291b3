// The flows that go through the user's mailbox: verifying the address, and resetting a forgotten
// password. Requests that name an address answer the same whether or not it has an account.
import type { Database } from "../../platform/database/database.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { MailQueue } from "../../platform/mail/mail-queue.js";
import { RefreshToken } from "../model/refresh-token.entity.js";
import { findUserByEmail, normaliseEmail } from "./accounts.js";
import { consumeOneTimeToken, issueOneTimeToken } from "./one-time-tokens.js";
import { checkPasswordPolicy, hashPassword } from "./passwords.js";
import type { Caller } from "../model/principal.js";
import type { User } from "../model/user.entity.js";

const VERIFICATION_TTL_MS = 24 * 3_600_000;
const RESET_TTL_MS = 3_600_000;

export class AccountEmails {
  constructor(
    private readonly database: Database,
    private readonly mail: MailQueue,
    private readonly audit: AuditLog,
    private readonly appBaseUrl: string,
  ) {}

  async sendVerification(user: User): Promise<void> {
    const token = await issueOneTimeToken(this.database.fork(), user, "email_verification", VERIFICATION_TTL_MS);
    this.mail.enqueue(
      {
        to: user.email,
        subject: "Confirm your email address",
        text: [
          `Hello ${user.displayName ?? ""},`,
          "",
          "Confirm your email address for Arabic STT by opening this link (valid for 24 hours):",
          `${this.appBaseUrl}/verify-email?token=${token}`,
          "",
          "If you did not create an account, ignore this message.",
        ].join("\n"),
      },
      "email_verification",
    );
  }

  async resendVerification(email: string): Promise<void> {
    const user = await findUserByEmail(this.database.fork(), normaliseEmail(email));
    if (user && !user.emailVerifiedAt) await this.sendVerification(user);
  }

  async verifyEmail(token: string, caller: Caller): Promise<User> {
    const em = this.database.fork();
    const user = await consumeOneTimeToken(em, token, "email_verification");
    user.emailVerifiedAt ??= new Date();
    await em.flush();
    await this.audit.record({ action: "auth.email_verify", outcome: "success", actorUserId: user.id }, caller);
    return user;
  }

  async requestPasswordReset(email: string, caller: Caller): Promise<void> {
    const em = this.database.fork();
    const user = await findUserByEmail(em, normaliseEmail(email));
    if (!user) return;
    const token = await issueOneTimeToken(em, user, "password_reset", RESET_TTL_MS);
    this.mail.enqueue(
      {
        to: user.email,
        subject: "Reset your password",
        text: [
          "Someone asked to reset the password of your Arabic STT account.",
          "To choose a new password, open this link (valid for 1 hour, once):",
          `${this.appBaseUrl}/reset-password?token=${token}`,
          "",
          "If it was not you, ignore this message: your password stays as it is.",
        ].join("\n"),
      },
      "password_reset",
    );
    await this.audit.record({ action: "auth.password_reset_request", outcome: "success", actorUserId: user.id }, caller);
  }

  /** Sets the new password and ends every session of the user. */
  async resetPassword(token: string, newPassword: string, caller: Caller): Promise<void> {
    const em = this.database.fork();
    const user = await consumeOneTimeToken(em, token, "password_reset", (owner) =>
      checkPasswordPolicy("new_password", newPassword, { email: owner.email, displayName: owner.displayName ?? undefined }),
    );
    user.passwordHash = await hashPassword(newPassword);
    user.sessionsRevokedAt = new Date();
    await em.flush();
    await em.nativeUpdate(RefreshToken, { user: user.id, revokedAt: null }, { revokedAt: new Date() });
    await this.audit.record({ action: "auth.password_reset", outcome: "success", actorUserId: user.id }, caller);
  }
}
