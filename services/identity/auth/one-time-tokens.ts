// Emailed one-time tokens (verify email, reset password): random, stored as a hash, single use,
// expiring. A token that is unknown, used or expired is refused the same way.
import type { EntityManager } from "@mikro-orm/postgresql";
import { InvalidArgumentError } from "../../platform/errors/errors.js";
import { OneTimeToken, type OneTimeTokenPurpose } from "../model/one-time-token.entity.js";
import { hashSecret, newSecret } from "./secrets.js";
import type { User } from "../model/user.entity.js";

const PREFIX: Record<OneTimeTokenPurpose, string> = { email_verification: "astv_", password_reset: "astp_" };

/** A new token for `user`; earlier unused tokens of the same purpose stop working. */
export async function issueOneTimeToken(em: EntityManager, user: User, purpose: OneTimeTokenPurpose, ttlMs: number): Promise<string> {
  await em.nativeUpdate(OneTimeToken, { user: user.id, purpose, usedAt: null }, { usedAt: new Date() });
  const token = newSecret(PREFIX[purpose]);
  em.create(OneTimeToken, { user, purpose, tokenHash: hashSecret(token), expiresAt: new Date(Date.now() + ttlMs) });
  await em.flush();
  return token;
}

/**
 * Spends the token and returns its user; throws INVALID_ARGUMENT on `token` otherwise. `check` runs
 * before the token is spent, so a request refused for another reason (a weak new password) keeps it.
 */
export async function consumeOneTimeToken(
  em: EntityManager,
  token: string,
  purpose: OneTimeTokenPurpose,
  check: (user: User) => void = () => undefined,
): Promise<User> {
  const row = await em.findOne(OneTimeToken, { tokenHash: hashSecret(token), purpose }, { populate: ["user"] });
  const refused = new InvalidArgumentError("token", "is invalid, already used or expired; ask for a new email");
  if (!row || row.usedAt || row.expiresAt.getTime() <= Date.now()) throw refused;
  check(row.user);
  // Single use even when two requests race with the same token.
  if ((await em.nativeUpdate(OneTimeToken, { id: row.id, usedAt: null }, { usedAt: new Date() })) !== 1) throw refused;
  return row.user;
}
