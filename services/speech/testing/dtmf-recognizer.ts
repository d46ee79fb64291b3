// A live recognizer on real parts for handler-level tests: a local sidecar serving the `dtmf` model
// (whose transcripts are exactly the keys pressed) in a scratch model repository, reached over KServe
// gRPC, and the real audio decoder.
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { createInferenceClient } from "../../../inference/client/index.js";
import { startSidecar } from "../../../inference/local/server.js";
import { createStreamDecoder } from "../../audio/index.js";
import { ModelCatalog } from "../../models/catalog.js";
import { LiveRecognizer } from "../live-recognition.js";

export interface DtmfRecognizer {
  recognizer: LiveRecognizer;
  /** Closes the client and the sidecar and removes the scratch folders. */
  stop(): Promise<void>;
}

/** `prefix` names the scratch folders (under the system's temporary folder). */
export async function startDtmfRecognizer(prefix: string): Promise<DtmfRecognizer> {
  const modelsDir = await mkdtemp(join(tmpdir(), `${prefix}models-`));
  const weightsDir = await mkdtemp(join(tmpdir(), `${prefix}weights-`));
  const removeDirs = () => Promise.all([modelsDir, weightsDir].map((dir) => rm(dir, { recursive: true, force: true })));
  try {
    await cp(fileURLToPath(new URL("../../../inference/models/dtmf", import.meta.url)), join(modelsDir, "dtmf"), { recursive: true });
    const sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir, weightsDir, logger: pino({ level: "silent" }) });
    const inference = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`] });
    const recognizer = new LiveRecognizer({ inference, models: new ModelCatalog(inference, { defaultModel: "dtmf" }), createDecoder: createStreamDecoder });
    return {
      recognizer,
      async stop() {
        inference.close();
        await sidecar.close();
        await removeDirs();
      },
    };
  } catch (err) {
    await removeDirs();
    throw err;
  }
}
