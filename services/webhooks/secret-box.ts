// Signing secrets at rest. They cannot be hashed like API keys (every delivery is signed with the secret
// itself), so they are encrypted with AES-256-GCM under a server key: WEBHOOK_SECRET_KEY, or one made
// once and kept in `<DATA_DIR>/secrets/webhook-secret.key`. A database dump alone reveals no secret.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { persistedSecret } from "../platform/persisted-secret.js";

const VERSION = "v1";

export class SecretBox {
  private readonly key: Buffer;

  constructor(keyMaterial: string) {
    // Any string of 32+ characters: hashed to the 32 bytes AES-256 needs.
    this.key = createHash("sha256").update(keyMaterial, "utf8").digest();
  }

  /** "v1.<iv>.<tag>.<ciphertext>", base64url parts. */
  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const sealed = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), sealed].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(".");
  }

  /** Throws if the value was not sealed with this key (a changed WEBHOOK_SECRET_KEY, say). */
  open(sealed: string): string {
    const [version, iv, tag, data] = sealed.split(".");
    if (version !== VERSION || !iv || !tag || data === undefined) throw new Error("not a sealed webhook secret");
    const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
  }
}

/** The configured key, or the one generated under DATA_DIR (several processes starting together agree on the first written). */
export async function resolveSecretBoxKey(configured: string | undefined, dataDir: string): Promise<string> {
  return configured ?? persistedSecret(dataDir, "webhook-secret.key", () => randomBytes(48).toString("base64url"));
}
