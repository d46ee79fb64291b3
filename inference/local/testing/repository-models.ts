// How many models the repository the sidecar serves by default holds (inference/models): a started
// sidecar logs one "model ready" or "model not ready" line for each, so a test or bench that waits
// for its models waits for this many lines.
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const modelsDir = fileURLToPath(new URL("../../models/", import.meta.url));

export const REPOSITORY_MODEL_COUNT = readdirSync(modelsDir, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(modelsDir, d.name, "config.pbtxt"))).length;
