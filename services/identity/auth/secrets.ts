// Opaque secrets (refresh tokens, API keys, emailed tokens): random, URL-safe, and stored only as a
// SHA-256 hash. A fast hash is right here: the secrets carry 256 bits of entropy, unlike passwords.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export function newSecret(prefix: string, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString("base64url")}`;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}
