// The inference adapter of a process: a client of Triton when TRITON_URL is set, else of the local
// sidecar, which this process then starts itself on a loopback port. Either way services reach
// models through the same client and the same KServe v2 protocol (DESIGN.md, decision 2).
//
// inference/ knows nothing of the domain: its client fails with its own error types. This adapter
// is where they become the domain errors of the same kind and message (withDomainErrors), so the
// services (e.g. the job runner retrying on UnavailableError) and the gateway's one error mapper see
// domain errors only, as they would from any other adapter.
import path from "node:path";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { InferenceConfig } from "./config/config.js";
import {
  createInferenceClient,
  InferenceDeadlineExceededError,
  InferenceFailedPreconditionError,
  InferenceInvalidArgumentError,
  InferenceNotFoundError,
  InferenceResourceExhaustedError,
  InferenceUnavailableError,
  InferenceUnimplementedError,
  type InferenceClient,
} from "../../inference/client/index.js";
import { startSidecar } from "../../inference/local/server.js";
import {
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
  UnimplementedError,
  type DomainError,
} from "./errors/errors.js";
import type { DependencyCheck } from "./readiness.js";

export interface InferenceAdapter {
  client: InferenceClient;
  /** Where models run, for logs: the Triton addresses or the sidecar's loopback address. */
  target: string;
  /** Ready when at least one server answers ServerReady. */
  check: DependencyCheck;
  close(): Promise<void>;
}

export async function openInference(config: InferenceConfig, logger: Logger, registry?: Registry): Promise<InferenceAdapter> {
  if (config.tritonUrls.length > 0) {
    // Triton may start after us (it loads models for minutes): /readyz reports it until then.
    const client = withDomainErrors(createInferenceClient({ addresses: config.tritonUrls, deadlineMs: config.deadlineMs, registry, logger }));
    return {
      client,
      target: config.tritonUrls.join(","),
      check: readyCheck(client),
      close: async () => client.close(),
    };
  }
  const sidecar = await startSidecar({
    host: "127.0.0.1",
    port: config.sidecarPort,
    modelsDir: path.resolve(config.repositoryDir),
    weightsDir: path.resolve(config.weightsDir),
    logger: logger.child({ component: "sidecar" }),
    // The sidecar's own models, as `npm run sidecar` serves them: dtmf, VAD and speaker embeddings
    // compute in worker threads, one per instance, not on this process's event loop, where every
    // model call would stall every live stream's frames.
    modelSettings: { whisper: config.whisper },
  });
  const address = `127.0.0.1:${sidecar.port}`;
  const client = withDomainErrors(createInferenceClient({ addresses: [address], deadlineMs: config.deadlineMs, registry, logger }));
  return {
    client,
    target: `local sidecar at ${address}`,
    check: readyCheck(client),
    close: async () => {
      client.close();
      await sidecar.close();
    },
  };
}

/** Ready when at least one of the client's servers answers ServerReady. */
export function readyCheck(client: InferenceClient): DependencyCheck {
  return {
    name: "inference",
    check: async () => {
      const health = await client.addressHealth({ deadlineMs: 1_500 });
      if (health.some((h) => h.ready)) return;
      throw new Error(health.map((h) => `${h.address}: ${h.error ?? "not ready"}`).join("; "));
    },
  };
}

/** `client`, failing with domainErrorOf its errors. */
export function withDomainErrors(client: InferenceClient): InferenceClient {
  const translated =
    <Args extends unknown[], Result>(method: (...args: Args) => Promise<Result>) =>
    async (...args: Args): Promise<Result> => {
      try {
        return await method(...args);
      } catch (err) {
        throw domainErrorOf(err);
      }
    };
  return {
    serverReady: translated((options) => client.serverReady(options)),
    addressHealth: translated((options) => client.addressHealth(options)),
    serverLive: translated((options) => client.serverLive(options)),
    serverMetadata: translated((options) => client.serverMetadata(options)),
    modelReady: translated((model, options) => client.modelReady(model, options)),
    modelMetadata: translated((model, options) => client.modelMetadata(model, options)),
    modelConfig: translated((model, options) => client.modelConfig(model, options)),
    repositoryIndex: translated((options) => client.repositoryIndex(options)),
    infer: translated((request, options) => client.infer(request, options)),
    vad: translated((audio, options) => client.vad(audio, options)),
    transcribe: translated((model, audio, options) => client.transcribe(model, audio, options)),
    embed: translated((segment, options) => client.embed(segment, options)),
    close: () => client.close(),
  };
}

/**
 * The domain error for an inference failure: the kind of its gRPC status, the same message, and
 * the inference error (gRPC code, model, address) as its cause for the log. InferenceInternalError
 * and anything else stay as they are: internal failures, which reach API clients only as INTERNAL.
 */
export function domainErrorOf(err: unknown): unknown {
  const domain = domainErrorFor(err);
  if (!domain) return err;
  domain.cause = err;
  return domain;
}

function domainErrorFor(err: unknown): DomainError | undefined {
  if (err instanceof InferenceUnavailableError) return new UnavailableError(err.message);
  if (err instanceof InferenceNotFoundError) return new NotFoundError("inference model", err.model);
  if (err instanceof InferenceInvalidArgumentError) return new InvalidArgumentError(err.field, err.reason);
  if (err instanceof InferenceDeadlineExceededError) return new DeadlineExceededError(err.message);
  if (err instanceof InferenceResourceExhaustedError) return new ResourceExhaustedError(err.message);
  if (err instanceof InferenceFailedPreconditionError) return new FailedPreconditionError(err.message);
  if (err instanceof InferenceUnimplementedError) return new UnimplementedError(err.message);
  return undefined;
}
