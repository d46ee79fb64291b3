// The client's calls of models: ModelInfer with its metrics, each model's signature from
// ModelConfig (cached per model, and dropped when the server says the model changed), and the
// typed helpers (vad, transcribe, embed), which first hold the model to the contract they rely on.
import type { CallOptions } from "./api.js";
import type { Call, CallContext } from "./call.js";
import { asrContract, contractViolations, signatureOfConfigMessage, speakerEmbeddingContract, vadContract, type ModelContract, type ModelSignature } from "./contract.js";
import { codeName, InferenceFailedPreconditionError, InferenceInternalError, Status } from "./errors.js";
import { decodeResponse, inferRequestMessage } from "./infer-messages.js";
import type { InferenceMetrics } from "./metrics.js";
import {
  embedding,
  embedRequest,
  transcribeRequest,
  transcription,
  vadRequest,
  vadResult,
  type InferRequest,
  type InferResult,
  type SequenceStep,
  type TranscribeOptions,
  type Transcription,
  type VadOptions,
  type VadResult,
} from "./models.js";
import type { ModelConfigResponseMessage, ModelInferResponseMessage } from "./proto.js";

/** A sequence stays on the server that holds its state; only its start may be retried. */
function sequenceRouting(sequence: SequenceStep | undefined): Pick<CallContext, "affinity" | "once"> {
  return sequence ? { affinity: sequence.id, once: !sequence.start } : {};
}

export class ModelCalls {
  private readonly signatures = new Map<string, Promise<ModelSignature>>();

  constructor(
    private readonly call: Call,
    private readonly metrics: InferenceMetrics,
    private readonly deadlineOf: (callOptions?: CallOptions) => number,
  ) {}

  async infer(request: InferRequest, callOptions: CallOptions = {}, deadline = this.deadlineOf(callOptions), routing: Pick<CallContext, "affinity" | "once"> = {}): Promise<InferResult> {
    const model = request.model;
    const started = performance.now();
    try {
      const message = inferRequestMessage(request);
      let response: ModelInferResponseMessage;
      try {
        response = await this.call<ModelInferResponseMessage>("ModelInfer", message, deadline, callOptions.signal, {
          model,
          tensorNames: await this.tensorNames(request),
          ...routing,
        });
      } catch (err) {
        // The model may have been reloaded with another configuration.
        if (err instanceof Error && "code" in err && (err.code === Status.INVALID_ARGUMENT || err.code === Status.NOT_FOUND)) this.signatures.delete(model);
        throw err;
      }
      const result = decodeResponse(model, response);
      this.metrics.duration.observe({ model }, (performance.now() - started) / 1000);
      return result;
    } catch (err) {
      this.metrics.duration.observe({ model }, (performance.now() - started) / 1000);
      const code = err instanceof Error && "code" in err && typeof err.code === "number" ? codeName(err.code) : callOptions.signal?.aborted ? "cancelled" : "unknown";
      this.metrics.errors.inc({ model, code });
      throw err;
    }
  }

  /**
   * The tensors an INVALID_ARGUMENT may name: the request's, then those of the model's signature
   * when it is known (a missing required input is in the signature, not in the request).
   */
  private async tensorNames(request: InferRequest): Promise<string[]> {
    // swallowed: without the signature, tensor names come from the request itself.
    const known = await this.signatures.get(request.model)?.catch(() => undefined);
    return [
      ...request.inputs.map((t) => t.name),
      ...(request.outputs ?? []),
      ...(known ? [...known.inputs, ...known.outputs].map((t) => t.name) : []),
    ];
  }

  modelConfig(model: string, callOptions: CallOptions = {}, deadline = this.deadlineOf(callOptions)): Promise<ModelSignature> {
    let signature = this.signatures.get(model);
    if (!signature) {
      signature = this.call<ModelConfigResponseMessage>("ModelConfig", { name: model, version: "" }, deadline, callOptions.signal, { model }).then(
        (response) => {
          if (!response.config) throw new InferenceInternalError(Status.INTERNAL, `ModelConfig of ${model} returned no configuration`, { model });
          return signatureOfConfigMessage(response.config);
        },
      );
      this.signatures.set(model, signature);
      signature.catch(() => this.signatures.delete(model));
    }
    return signature;
  }

  async vad(audio: Float32Array, callOptions: VadOptions & CallOptions = {}): Promise<VadResult> {
    const deadline = this.deadlineOf(callOptions);
    const signature = await this.usableSignature(callOptions.model ?? "vad", vadContract, callOptions, deadline);
    return vadResult(signature, await this.infer(vadRequest(signature, audio, callOptions), callOptions, deadline, sequenceRouting(callOptions.sequence)));
  }

  async transcribe(model: string, audio: Float32Array, callOptions: TranscribeOptions & CallOptions = {}): Promise<Transcription> {
    const deadline = this.deadlineOf(callOptions);
    const signature = await this.usableSignature(model, asrContract, callOptions, deadline);
    return transcription(await this.infer(transcribeRequest(signature, audio, callOptions), callOptions, deadline, sequenceRouting(callOptions.sequence)));
  }

  async embed(segment: Float32Array, callOptions: CallOptions = {}): Promise<Float32Array> {
    const deadline = this.deadlineOf(callOptions);
    const signature = await this.usableSignature("speaker_embedding", speakerEmbeddingContract, callOptions, deadline);
    return embedding(await this.infer(embedRequest(signature, segment), callOptions, deadline));
  }

  /** The model's signature, once it is known to satisfy the contract the helper relies on. */
  private async usableSignature(model: string, contract: ModelContract, callOptions: CallOptions, deadline: number): Promise<ModelSignature> {
    const signature = await this.modelConfig(model, callOptions, deadline);
    const problems = contractViolations(contract, signature);
    if (problems.length > 0) {
      throw new InferenceFailedPreconditionError(`inference model ${model} does not match the client's contract: ${problems.join("; ")}`, { model });
    }
    return signature;
  }
}
