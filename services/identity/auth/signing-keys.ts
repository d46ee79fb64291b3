import { randomBytes } from "node:crypto";
import type { JwtKey } from "../../platform/config/config.js";
import { persistedSecret } from "../../platform/persisted-secret.js";

/**
 * The JWT keys from JWT_SIGNING_KEYS, or else one key made once and kept in
 * `<DATA_DIR>/secrets/jwt-signing.key` (as `kid:secret`), so an embedded installation's tokens survive a
 * restart. Several processes starting together agree on the first file written.
 */
export async function resolveSigningKeys(configured: JwtKey[] | undefined, dataDir: string): Promise<JwtKey[]> {
  if (configured && configured.length > 0) return configured;
  const line = await persistedSecret(dataDir, "jwt-signing.key", () => `local-${randomBytes(4).toString("hex")}:${randomBytes(48).toString("base64url")}`);
  const at = line.indexOf(":");
  return [{ kid: line.slice(0, at), secret: line.slice(at + 1) }];
}
