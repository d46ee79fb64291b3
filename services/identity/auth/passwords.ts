// Password hashing (argon2id) and the password policy. The policy message tells an honest
// user what to change; it never reveals anything about other accounts.
import argon2 from "argon2";
import { InvalidArgumentError } from "../../platform/errors/errors.js";

// OWASP's argon2id baseline (19 MiB, 2 passes): strong, and quick enough on 2 cores.
const HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/** A handful of the most breached passwords that pass the length rule; lower-cased, spaces removed. */
const COMMON = new Set([
  "123456789012",
  "1234567890123",
  "password1234",
  "password12345",
  "qwertyuiop12",
  "qwertyuiopasdf",
  "iloveyou1234",
  "passwordpassword",
  "aaaaaaaaaaaa",
  "abcdefghijkl",
  "abc123abc123",
  "letmein12345",
  "welcome12345",
  "administrator",
  "adminadmin123",
]);

export async function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, HASH_OPTIONS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;
/** Spends the same time as a real check, so an unknown email cannot be told from a wrong password by timing. */
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword("not the password of anyone at all");
  await verifyPassword(await dummyHash, password);
}

/**
 * Throws INVALID_ARGUMENT naming `field` when the password is too short or long, made of one repeated
 * character, a well-known breached password, or built around the user's own email or name.
 */
export function checkPasswordPolicy(field: string, password: string, personal: { email?: string; displayName?: string } = {}): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw new InvalidArgumentError(field, `must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters; any characters, Arabic included`);
  }
  const folded = password.toLowerCase().replace(/\s+/g, "");
  if (new Set(folded).size < 4) {
    throw new InvalidArgumentError(field, "is too simple: use at least 4 different characters, for example a few unrelated words");
  }
  if (COMMON.has(folded)) {
    throw new InvalidArgumentError(field, "is a commonly used password that attackers try first; choose another");
  }
  const local = personal.email?.split("@")[0]?.toLowerCase();
  const name = personal.displayName?.toLowerCase().replace(/\s+/g, "");
  for (const own of [local, name]) {
    if (own && own.length >= 4 && folded.includes(own)) {
      throw new InvalidArgumentError(field, "must not contain your email address or name");
    }
  }
}
