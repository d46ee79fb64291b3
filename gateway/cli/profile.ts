// The CLI's saved login: one JSON file, `$XDG_CONFIG_HOME/arabicstt/config.json` (else
// `~/.config/arabicstt/config.json`), readable by its owner only (0600, in a 0700 folder), as it holds a
// refresh token or an API key. Written to a temporary file and renamed, so a crash never leaves half a file.
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface Profile {
  /** The server the credentials belong to. */
  server?: string;
  /** An API key saved by `login --api-key`; tokens are then absent. */
  apiKey?: string;
  accessToken?: string;
  /** ISO 8601. */
  accessTokenExpiresAt?: string;
  refreshToken?: string;
  organizationId?: string;
  email?: string;
}

export class ProfileStore {
  readonly path: string;

  constructor(env: Readonly<Record<string, string | undefined>>) {
    const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), ".config");
    this.path = path.join(base, "arabicstt", "config.json");
  }

  async load(): Promise<Profile> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw err;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      return typeof parsed === "object" && parsed !== null ? (parsed as Profile) : {};
    } catch {
      throw new Error(`${this.path} is not JSON: remove it and log in again`);
    }
  }

  async save(profile: Profile): Promise<void> {
    const dir = path.dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600 });
    // The mode given to writeFile passes through the umask, and an existing file keeps its own: set it.
    await chmod(temporary, 0o600);
    await rename(temporary, this.path);
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
