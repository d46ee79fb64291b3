// Inside one model thread (see model-threads.ts): builds the model from the sidecar's own factory
// and the config it was sent, loads it, then runs one call at a time as the sidecar's thread asks.
import { parentPort, workerData } from "node:worker_threads";
import { fromBinary } from "@bufbuild/protobuf";
import { ModelConfigSchema } from "../../proto/gen/inference/model_config_pb.js";
import type { Logger } from "../logger.js";
import { localModelFactories } from "./models/index.js";
import type { LocalModel, ModelReadiness, Tensor } from "./models/model.js";
import { threadErrorOf, transferables, type FromThread, type ThreadSpec, type ToThread } from "./model-threads.js";

const port = parentPort;
if (!port) throw new Error("model-thread.ts runs in a worker thread only");
const spec = workerData as ThreadSpec;
const send = (message: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** Log lines go to the sidecar's logger, which writes them with the model's bindings. */
function threadLogger(bindings: Record<string, unknown> = {}): Logger {
  const write = (level: "error" | "warn" | "info" | "debug") => (fields: object, message?: string) =>
    send({ type: "log", level, fields: { ...bindings, ...serializable(fields) }, message });
  return { error: write("error"), warn: write("warn"), info: write("info"), debug: write("debug"), child: (more) => threadLogger({ ...bindings, ...more }) };
}

/** Errors keep their message and stack across the thread boundary; anything else that cannot be cloned is dropped. */
function serializable(fields: object): object {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = value instanceof Error ? { type: value.name, message: value.message, stack: value.stack } : typeof value === "function" ? undefined : value;
  }
  return out;
}

const config = fromBinary(ModelConfigSchema, spec.config);
const factory = localModelFactories(spec.settings).get(config.name);
let model: LocalModel | undefined;
let failure: string | undefined;
try {
  if (!factory) throw new Error(`the local sidecar has no implementation of "${config.name}"`);
  model = factory(config, { weightsDir: spec.weightsDir, logger: threadLogger() });
  await model.load();
} catch (err) {
  failure = `failed to load: ${(err as Error).message}`;
}
const readiness = (): ModelReadiness => (failure !== undefined ? { ready: false, reason: failure } : (model?.readiness() ?? { ready: false, reason: "not loaded" }));
send({ type: "loaded", readiness: readiness() });

const calls = new Map<number, AbortController>();
port.on("message", (message: ToThread) => {
  switch (message.type) {
    case "infer":
      void infer(message.id, message.inputs, message.parameters);
      break;
    case "cancel":
      calls.get(message.id)?.abort(new Error("the call was cancelled"));
      break;
    case "unload":
      void (model?.unload() ?? Promise.resolve())
        // swallowed: unloading at shutdown; the thread ends either way.
        .catch(() => undefined)
        // The thread ends here; the sidecar waits for its exit.
        .finally(() => process.exit(0));
      break;
  }
});

async function infer(id: number, inputs: Tensor[], parameters: Extract<ToThread, { type: "infer" }>["parameters"]): Promise<void> {
  const abort = new AbortController();
  calls.set(id, abort);
  try {
    if (!model) throw new Error(failure ?? "not loaded");
    const outputs = await model.infer(new Map(inputs.map((t) => [t.name, t])), parameters, abort.signal);
    send({ type: "result", id, outputs, readiness: readiness() }, transferables(outputs));
  } catch (err) {
    send({ type: "error", id, error: threadErrorOf(err), readiness: readiness() });
  } finally {
    calls.delete(id);
  }
}
