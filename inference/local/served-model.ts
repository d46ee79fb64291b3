// One repository model as the local sidecar serves it: its readiness (loading, ready, or why not),
// and the instances that bound how many requests it runs at once, with a bounded queue before them.
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "../logger.js";
import type { RepositoryModel } from "../repository/repository.js";
import { kserveDatatype } from "../repository/signature.js";
import type { LocalModel, ModelReadiness } from "./models/model.js";
import type { LocalModelFactory } from "./models/context.js";
import type { LocalModelSettings } from "./models/index.js";
import { ThreadedModel } from "./model-threads.js";
import { RequestError, isSupportedDatatype } from "./tensors.js";

export type State = "LOADING" | "READY" | "UNAVAILABLE";

/** One repository model as the sidecar serves it. */
export class ServedModel {
  private loading = true;
  private loadError?: string;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  readonly instances: number;

  constructor(
    readonly entry: RepositoryModel,
    readonly model: LocalModel | undefined,
    private readonly unavailableReason: string | undefined,
  ) {
    this.instances = instanceCount(entry);
  }

  async load(logger: Logger): Promise<void> {
    try {
      if (this.model) await this.model.load();
    } catch (err) {
      this.loadError = `failed to load: ${(err as Error).message}`;
      logger.error({ err, model: this.entry.name }, "model failed to load");
    } finally {
      this.loading = false;
    }
  }

  readiness(): ModelReadiness & { state: State } {
    if (this.loading) return { state: "LOADING", ready: false, reason: "loading" };
    const reason = this.unavailableReason ?? this.loadError;
    if (reason !== undefined || !this.model) return { state: "UNAVAILABLE", ready: false, reason: reason ?? "no implementation" };
    const readiness = this.model.readiness();
    return { ...readiness, state: readiness.ready ? "READY" : "UNAVAILABLE" };
  }

  /** Runs `work` when an instance is free; refuses when too many requests already wait. */
  async withInstance<T>(maxQueued: number, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    if (this.running >= this.instances) {
      if (this.waiting.length >= maxQueued) {
        throw new RequestError(grpc.status.UNAVAILABLE, `model "${this.entry.name}" is busy: ${this.waiting.length} requests are already waiting`);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    try {
      if (signal.aborted) throw new RequestError(grpc.status.CANCELLED, "the call was cancelled while it waited");
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

/** Models that run in worker threads, one per instance, built from the sidecar's own factories. */
export interface ModelThreading {
  /** The settings `localModelFactories` builds the models with, in each thread. */
  settings: LocalModelSettings;
  /** Names of the models run in threads; the others run in the gRPC server's thread. */
  models: ReadonlySet<string>;
}

/**
 * Every model of the repository, by name, with the implementation `factories` has for it. A model
 * with none, or with a tensor the sidecar cannot carry, is served as unavailable with the reason.
 * With `threading`, the models it names run in worker threads (model-threads.ts).
 */
export function serveRepository(
  repository: readonly RepositoryModel[],
  factories: ReadonlyMap<string, LocalModelFactory>,
  weightsDir: string,
  logger: Logger,
  threading?: ModelThreading,
): Map<string, ServedModel> {
  const served = new Map<string, ServedModel>();
  for (const entry of repository) {
    const factory = factories.get(entry.name);
    const unsupported = [...entry.config.input, ...entry.config.output].find((t) => !isSupportedDatatype(kserveDatatype(t.dataType)));
    let reason: string | undefined;
    if (!factory) reason = `the local sidecar has no implementation of "${entry.name}"; serve it from Triton (TRITON_URL)`;
    else if (unsupported) reason = `the local sidecar cannot carry tensor "${unsupported.name}" of datatype ${kserveDatatype(unsupported.dataType)}`;
    const modelLogger = logger.child({ model: entry.name });
    let model: LocalModel | undefined;
    if (reason === undefined && factory) {
      model = threading?.models.has(entry.name)
        ? new ThreadedModel(entry.config, instanceCount(entry), { weightsDir, settings: threading.settings }, modelLogger)
        : factory(entry.config, { weightsDir, logger: modelLogger });
    }
    served.set(entry.name, new ServedModel(entry, model, reason));
  }
  return served;
}

/** Instances of a model: the sum of its instance groups' counts, at least 1 each (as Triton). */
function instanceCount(entry: RepositoryModel): number {
  const counts = entry.config.instanceGroup.map((g) => Math.max(1, g.count));
  return counts.length === 0 ? 1 : counts.reduce((a, b) => a + b, 0);
}

/** The served model a request names, at the version it asks for ("" is any); NOT_FOUND otherwise. */
export function lookupModel(served: ReadonlyMap<string, ServedModel>, name: string, requestedVersion: string): ServedModel {
  const model = served.get(name);
  if (!model) throw new RequestError(grpc.status.NOT_FOUND, `unknown model "${name}"; the repository has ${[...served.keys()].join(", ")}`);
  if (requestedVersion !== "" && !model.entry.versions.includes(requestedVersion)) {
    throw new RequestError(grpc.status.NOT_FOUND, `model "${name}" has no version "${requestedVersion}"; it serves ${model.entry.versions.join(", ")}`);
  }
  return model;
}
