// A model of the sidecar run in worker threads, one per instance of its config's instance_group,
// seen from the sidecar's side as one LocalModel. Models compute on the JS thread that calls them
// (the dtmf detector's Goertzel filters; onnxruntime-node's `session.run`, which runs the graph
// synchronously once its turn comes), so in the gRPC server's own thread every inference stalls
// every other call, and the instance counts of config.pbtxt would be queue slots, not parallelism.
// Here each instance is a thread of its own that builds its copy of the model from the same
// factory and config; the gRPC thread only moves tensors.
//
// Tensors cross by transfer (no copy beyond the one that detaches them from gRPC's buffers); errors
// cross as their kind and message, so the handlers map them to the same statuses as in-thread models.
// A thread that dies fails its call with ModelUnavailableError (worth a retry) and is started again.
import { Worker } from "node:worker_threads";
import { toBinary } from "@bufbuild/protobuf";
import { ModelConfigSchema, type ModelConfig } from "../../proto/gen/inference/model_config_pb.js";
import type { Logger } from "../logger.js";
import type { LocalModelSettings } from "./models/index.js";
import { SEQUENCE_PARAMETERS } from "./models/sequences.js";
import { InferenceInputError, ModelOverloadedError, ModelUnavailableError, type InferParameters, type LocalModel, type ModelReadiness, type Tensor } from "./models/model.js";

/** What a thread needs to build its copy of the model (plain data: it crosses to the thread). */
export interface ThreadSpec {
  /** The module the thread runs (model-thread.ts). */
  module: string;
  /** The model's config.pbtxt, as protobuf binary. */
  config: Uint8Array;
  weightsDir: string;
  settings: LocalModelSettings;
}

/** A model's failure as it crosses from the thread. */
export interface ThreadError {
  kind: "input" | "unavailable" | "overloaded" | "other";
  message: string;
  tensor?: string;
  retryAfterSeconds?: number;
}

/** Messages from the sidecar's thread to a model thread. */
export type ToThread =
  | { type: "infer"; id: number; inputs: Tensor[]; parameters: InferParameters }
  | { type: "cancel"; id: number }
  | { type: "unload" };

/** Messages from a model thread to the sidecar's thread. */
export type FromThread =
  | { type: "loaded"; readiness: ModelReadiness }
  | { type: "result"; id: number; outputs: Tensor[]; readiness: ModelReadiness }
  | { type: "error"; id: number; error: ThreadError; readiness: ModelReadiness }
  | { type: "log"; level: "error" | "warn" | "info" | "debug"; fields: object; message?: string };

const BOOT = new URL("./thread-boot.mjs", import.meta.url);
const MODULE = new URL("./model-thread.ts", import.meta.url).href;

interface Pending {
  resolve(outputs: Tensor[]): void;
  reject(err: unknown): void;
}

/** One thread and the call it runs (at most one: the caller picks idle threads only). */
class ModelThread {
  private worker: Worker | undefined;
  private pending: { id: number; call: Pending } | undefined;
  private loaded: Promise<ModelReadiness> | undefined;
  private stopping = false;
  readiness: ModelReadiness = { ready: false, reason: "loading" };

  constructor(
    private readonly spec: ThreadSpec,
    private readonly logger: Logger,
    private readonly onIdle: () => void,
  ) {}

  get busy(): boolean {
    return this.pending !== undefined;
  }

  start(): Promise<ModelReadiness> {
    const worker = new Worker(BOOT, { workerData: this.spec, name: "model" });
    this.worker = worker;
    this.readiness = { ready: false, reason: "loading" };
    this.loaded = new Promise<ModelReadiness>((resolve) => {
      worker.on("message", (message: FromThread) => {
        switch (message.type) {
          case "loaded":
            this.readiness = message.readiness;
            resolve(message.readiness);
            break;
          case "result":
          case "error":
            this.readiness = message.readiness;
            this.settle(message.id, message);
            break;
          case "log":
            this.logger[message.level](message.fields, message.message);
            break;
        }
      });
      worker.on("error", (err) => this.logger.error({ err }, "model thread failed"));
      worker.on("exit", (code) => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        const reason = `its thread exited (code ${code})`;
        this.readiness = { ready: false, reason };
        resolve(this.readiness);
        const pending = this.pending;
        this.pending = undefined;
        pending?.call.reject(new ModelUnavailableError(`the model's ${reason}`));
        if (this.stopping) return;
        // A crash costs this instance a restart, never the sidecar.
        this.logger.warn({ code }, "model thread exited; starting it again");
        void this.start().then(() => this.onIdle());
      });
    });
    return this.loaded;
  }

  run(id: number, inputs: Tensor[], parameters: InferParameters, signal: AbortSignal): Promise<Tensor[]> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new ModelUnavailableError(`the model is not running: ${this.readiness.reason ?? "restarting"}`));
    return new Promise<Tensor[]>((resolve, reject) => {
      const cancel = () => worker.postMessage({ type: "cancel", id } satisfies ToThread);
      signal.addEventListener("abort", cancel, { once: true });
      const done = () => signal.removeEventListener("abort", cancel);
      this.pending = {
        id,
        call: {
          resolve: (outputs) => (done(), resolve(outputs)),
          reject: (err) => (done(), reject(err)),
        },
      };
      worker.postMessage({ type: "infer", id, inputs, parameters } satisfies ToThread, transferables(inputs));
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    // The model frees its native resources first; a thread that does not finish in 2 s is ended.
    worker.postMessage({ type: "unload" } satisfies ToThread);
    const timer = setTimeout(() => void worker.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }

  private settle(id: number, message: Extract<FromThread, { type: "result" | "error" }>): void {
    if (this.pending?.id !== id) return;
    const { call } = this.pending;
    this.pending = undefined;
    if (message.type === "result") call.resolve(message.outputs);
    else call.reject(errorOf(message.error));
    this.onIdle();
  }
}

/**
 * A LocalModel whose `threads` instances each run in a worker thread. Calls go to an idle thread;
 * when all are busy they wait in order (the sidecar's ServedModel bounds how many may).
 */
export class ThreadedModel implements LocalModel {
  private readonly threads: ModelThread[];
  /** Calls waiting for a thread, in order; a call of a sequence waits for its own thread. */
  private readonly waiting: Array<{ wake: () => void; thread: ModelThread | undefined }> = [];
  private nextId = 1;

  constructor(
    readonly config: ModelConfig,
    threads: number,
    spec: Omit<ThreadSpec, "module" | "config">,
    logger: Logger,
  ) {
    const full: ThreadSpec = { ...spec, module: MODULE, config: toBinary(ModelConfigSchema, config) };
    this.threads = Array.from({ length: Math.max(1, threads) }, (_, i) => new ModelThread(full, logger.child({ thread: i }), () => this.wake(this.threads[i]!)));
  }

  async load(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.start()));
  }

  /** Ready while any instance is; otherwise the first instance's reason. */
  readiness(): ModelReadiness {
    return this.threads.find((t) => t.readiness.ready)?.readiness ?? this.threads[0]!.readiness;
  }

  async infer(inputs: ReadonlyMap<string, Tensor>, parameters: InferParameters, signal: AbortSignal): Promise<Tensor[]> {
    const pinned = this.threadOfSequence(parameters);
    const free = () => (pinned ? (pinned.busy ? undefined : pinned) : this.idle());
    let thread = free();
    while (!thread) {
      await this.turn(signal, pinned);
      thread = free();
    }
    return thread.run(this.nextId++, [...inputs.values()].map(detached), parameters, signal);
  }

  async unload(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.stop()));
  }

  /**
   * Waits for a thread to become idle. A call cancelled while it waits leaves the queue at once
   * (a cancelled re-decode is routine: the endpoint came first), so the wake-up it would have
   * taken goes to the next call instead of leaving the thread idle.
   */
  private turn(signal: AbortSignal, thread: ModelThread | undefined): Promise<void> {
    signal.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        thread,
        wake: () => {
          signal.removeEventListener("abort", cancel);
          resolve();
        },
      };
      const cancel = () => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal.reason);
      };
      this.waiting.push(waiter);
      signal.addEventListener("abort", cancel, { once: true });
    });
  }

  /** `thread` fell idle: the first call waiting that can run on it gets it. */
  private wake(thread: ModelThread): void {
    const at = this.waiting.findIndex((w) => w.thread === undefined || w.thread === thread);
    if (at >= 0) this.waiting.splice(at, 1)[0]!.wake();
  }

  /**
   * The thread that holds the state of the request's sequence (sequences.ts), when the model has
   * more than one: the same id always lands on the same thread, as Triton keeps a sequence on one
   * model instance.
   */
  private threadOfSequence(parameters: InferParameters): ModelThread | undefined {
    const id = parameters[SEQUENCE_PARAMETERS.id];
    if (id === undefined || this.threads.length === 1) return undefined;
    let hash = 0;
    for (const c of String(id)) hash = (Math.imul(hash, 31) + c.charCodeAt(0)) | 0;
    return this.threads[(hash >>> 0) % this.threads.length];
  }

  private idle(): ModelThread | undefined {
    return this.threads.find((t) => !t.busy && t.readiness.ready) ?? this.threads.find((t) => !t.busy);
  }
}

/** The tensor with data that owns its buffer exactly, so the buffer can be transferred. */
function detached(tensor: Tensor): Tensor {
  const { data } = tensor;
  if (Array.isArray(data)) {
    return { ...tensor, data: data.map((d) => (d instanceof Uint8Array ? d.slice() : d)) as Tensor["data"] };
  }
  const owns = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
  return owns ? tensor : { ...tensor, data: data.slice() as Tensor["data"] };
}

/** The buffers of typed-array tensors (BYTES elements and small arrays are cloned). */
export function transferables(tensors: readonly Tensor[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { data } of tensors) {
    if (!Array.isArray(data) && data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) buffers.add(data.buffer);
  }
  return [...buffers];
}

/** The error a thread reported, as the class the handlers map to a status. */
function errorOf(error: ThreadError): Error {
  switch (error.kind) {
    case "input": {
      const prefix = `${error.tensor}: `;
      return new InferenceInputError(error.tensor ?? "", error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message);
    }
    case "unavailable":
      return new ModelUnavailableError(error.message);
    case "overloaded":
      return new ModelOverloadedError(error.message, error.retryAfterSeconds);
    default:
      return new Error(error.message);
  }
}

/** A model's failure as it crosses to the sidecar's thread. */
export function threadErrorOf(err: unknown): ThreadError {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof InferenceInputError) return { kind: "input", message, tensor: err.tensor };
  if (err instanceof ModelUnavailableError) return { kind: "unavailable", message };
  if (err instanceof ModelOverloadedError) return { kind: "overloaded", message, retryAfterSeconds: err.retryAfterSeconds };
  return { kind: "other", message };
}
