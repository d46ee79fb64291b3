import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { JwtKey } from "../config/config.js";

/**
 * The JWT keys from JWT_SIGNING_KEYS, or else one key made once and kept in
 * `<DATA_DIR>/secrets/jwt-signing.key` (as `kid:secret`), so an embedded installation's tokens survive a
 * restart. Several processes starting together agree on the first file written.
 */
export async function resolveSigningKeys(configured: JwtKey[] | undefined, dataDir: string): Promise<JwtKey[]> {
  if (configured && configured.length > 0) return configured;
  const file = path.join(dataDir, "secrets", "jwt-signing.key");
  const parse = (text: string): JwtKey[] => {
    const line = text.trim();
    const at = line.indexOf(":");
    return [{ kid: line.slice(0, at), secret: line.slice(at + 1) }];
  };
  const existing = await readFile(file, "utf8").catch(() => undefined);
  if (existing) return parse(existing);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const generated = `local-${randomBytes(4).toString("hex")}:${randomBytes(48).toString("base64url")}`;
  // Written whole to a private name, then linked into place: link fails if the file exists, so the
  // first process wins and nobody ever reads a half-written key.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(draft, generated, { mode: 0o600 });
  try {
    const won = await link(draft, file).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code !== "EEXIST") throw err;
        return false;
      },
    );
    return parse(won ? generated : await readFile(file, "utf8"));
  } finally {
    await rm(draft, { force: true });
  }
}
