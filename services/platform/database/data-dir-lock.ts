import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Claims an embedded data directory for this process with a lock file holding its pid. A lock left by a
 * process that no longer runs is taken over; one held by a live process (this one included) is refused.
 * Returns the release function.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const file = join(dir, "arabicstt.lock");
  const pid = String(process.pid);
  try {
    await writeFile(file, pid, { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const owner = Number((await readFile(file, "utf8")).trim());
    if (Number.isInteger(owner) && owner > 0 && isRunning(owner)) {
      throw new Error(`data directory ${dir} is in use by process ${owner}`);
    }
    await writeFile(file, pid);
  }
  return () => rm(file, { force: true });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
