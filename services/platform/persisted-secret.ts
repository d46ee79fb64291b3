// A secret an embedded installation makes once and keeps under `<DATA_DIR>/secrets/`, so what it signs
// or encrypts survives a restart (blob URLs, JWT access tokens, webhook secrets at rest). Several
// processes starting together on one DATA_DIR agree on the first one written.
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/** The secret in `<dataDir>/secrets/<name>`, made with `generate` when the file does not exist yet. */
export async function persistedSecret(dataDir: string, name: string, generate: () => string): Promise<string> {
  const file = path.join(dataDir, "secrets", name);
  // swallowed: no file yet is the first start: a new secret is generated and written.
  const existing = await readFile(file, "utf8").catch(() => undefined);
  if (existing) return existing.trim();
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const generated = generate();
  // Written whole to a private name, then linked into place: link fails if the file exists, so the
  // first process wins and nobody ever reads a half-written secret.
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
    return won ? generated : (await readFile(file, "utf8")).trim();
  } finally {
    await rm(draft, { force: true });
  }
}
