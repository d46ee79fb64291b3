// Test helpers of the pipeline's tests: media made by ffmpeg from audio that sox generated.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** Runs ffmpeg quietly, overwriting its output; its stderr becomes the error when it fails. */
export async function ffmpeg(...args: string[]): Promise<void> {
  try {
    await exec("ffmpeg", ["-nostdin", "-hide_banner", "-v", "error", "-y", ...args]);
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`ffmpeg ${args.join(" ")} failed: ${(e.stderr || e.message).trim()}`);
  }
}
