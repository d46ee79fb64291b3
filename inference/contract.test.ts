// The model contract: the client's tensor names, datatypes and dims held against every
// inference/models/*/config.pbtxt, the files Triton and the local sidecar both serve. If a config
// changes a tensor the client relies on, or the client changes what it sends or reads, this fails
// here rather than at the first request in production. The same for what each model declares
// about itself in `parameters` (repository/capabilities.ts), which ListModels serves and requests
// are checked against.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DataType, type ModelConfig } from "../proto/gen/inference/model_config_pb.js";
import { asrContract, contractViolations, datatypeOfConfigType, modelContracts, vadContract, type ModelSignature } from "./client/contract.js";
import {
  SAMPLE_RATE,
  embedding,
  embedRequest,
  transcribeRequest,
  transcription,
  vadRequest,
  vadResult,
  type InferRequest,
  type InferResult,
} from "./client/models.js";
import { elementCount, encodeRaw, stringElements, type Datatype, type Tensor } from "./client/tensors.js";
import { capabilitiesOf, CAPABILITY_PARAMETERS } from "./repository/capabilities.js";
import { loadRepository } from "./repository/repository.js";
import { wireShape } from "./repository/signature.js";

const repositoryDir = fileURLToPath(new URL("./models/", import.meta.url));
const repository = await loadRepository(repositoryDir);

/** The signature as the client sees it, from the config as the repository reader parses it. */
function signatureOf(config: ModelConfig): ModelSignature {
  return {
    name: config.name,
    maxBatchSize: config.maxBatchSize,
    inputs: config.input.map((i) => ({ name: i.name, datatype: datatypeOfConfigType(DataType[i.dataType]), dims: i.dims.map(Number), optional: i.optional })),
    outputs: config.output.map((o) => ({ name: o.name, datatype: datatypeOfConfigType(DataType[o.dataType]), dims: o.dims.map(Number) })),
    parameters: Object.fromEntries(Object.entries(config.parameters).map(([k, v]) => [k, v.stringValue])),
    sequenceBatching: config.schedulingChoice.case === "sequenceBatching",
  };
}

/** Every way a request the client built breaks the model's declared inputs, as the server checks them. */
function requestProblems(config: ModelConfig, request: InferRequest): string[] {
  const problems: string[] = [];
  for (const tensor of request.inputs) {
    const declared = config.input.find((i) => i.name === tensor.name);
    if (!declared) {
      problems.push(`input ${tensor.name} is not declared`);
      continue;
    }
    const datatype = datatypeOfConfigType(DataType[declared.dataType]);
    if (tensor.datatype !== datatype) problems.push(`input ${tensor.name} is sent as ${tensor.datatype}, declared ${datatype}`);
    const shape = wireShape(config, declared);
    const fits = tensor.shape.length === shape.length && tensor.shape.every((d, i) => (shape[i] === -1 ? d >= 0 : d === shape[i]));
    if (!fits) problems.push(`input ${tensor.name} is sent with shape [${tensor.shape}], declared [${shape}]`);
    if (config.maxBatchSize > 0 && tensor.shape[0]! > config.maxBatchSize) problems.push(`input ${tensor.name} batch exceeds max_batch_size`);
    const bytes = encodeRaw(tensor).length;
    if (tensor.datatype === "FP32" && bytes !== elementCount(tensor.shape) * 4) problems.push(`input ${tensor.name} carries ${bytes} bytes`);
  }
  for (const declared of config.input) {
    if (!declared.optional && !request.inputs.some((t) => t.name === declared.name)) problems.push(`required input ${declared.name} is not sent`);
  }
  for (const name of request.outputs ?? []) {
    if (!config.output.some((o) => o.name === name)) problems.push(`output ${name} is asked for but not declared`);
  }
  return problems;
}

/** A response as a server following `config` shapes it: the declared outputs, batch dimension included. */
function responseOf(config: ModelConfig, values: Record<string, Float32Array | string>): InferResult {
  const outputs = new Map<string, Tensor>();
  for (const output of config.output) {
    const value = values[output.name];
    if (value === undefined) continue;
    const datatype = datatypeOfConfigType(DataType[output.dataType]) as Datatype;
    const data = typeof value === "string" ? stringElements([value]) : value;
    const shape = wireShape(config, output).map((d, i) => (i === 0 && config.maxBatchSize > 0 ? 1 : d === -1 ? data.length : d));
    outputs.set(output.name, { name: output.name, datatype, shape, data });
  }
  return { model: config.name, version: "1", outputs };
}

const audio = new Float32Array(16_000);
const segmentsJson = JSON.stringify({
  language: "ar",
  duration: 1,
  segments: [{ start: 0.1, end: 0.5, text: "1", avg_logprob: 0, no_speech_prob: 0, words: [{ word: "1", start: 0.1, end: 0.5, probability: 1 }] }],
});

describe("model contract: client against inference/models/*/config.pbtxt", () => {
  it("has a contract for exactly the models of the repository", () => {
    expect(repository.map((m) => m.name).sort()).toEqual(Object.keys(modelContracts).sort());
  });

  describe.each(repository.map((m) => [m.name, m.config] as const))("%s", (name, config) => {
    const signature = signatureOf(config);

    it("declares every tensor and parameter the client uses, with the client's datatypes and dims", () => {
      expect(contractViolations(modelContracts[name]!, signature)).toEqual([]);
    });

    it("declares its capabilities well-formed, at the client's rate; a recogniser names how it is listed and its languages", () => {
      const declared = capabilitiesOf(name, signature.parameters);
      expect(declared.sampleRateHz).toBe(SAMPLE_RATE);
      if (modelContracts[name] === asrContract) {
        const { displayName, description, languageCodes } = CAPABILITY_PARAMETERS;
        for (const key of [displayName, description, languageCodes]) expect(Object.keys(signature.parameters)).toContain(key);
        expect(declared.languageCodes).toContain("ar");
      }
    });

    it("accepts the requests the client's helper sends, batch dimension derived from max_batch_size", () => {
      const requests =
        modelContracts[name] === asrContract
          ? [transcribeRequest(signature, audio), transcribeRequest(signature, audio, { language: "ar", task: "transcribe", prompt: "مرحبا", maxAlternatives: 3 })]
          : modelContracts[name] === vadContract
            ? [vadRequest(signature, audio), ...(signature.sequenceBatching ? [vadRequest(signature, audio, { sequence: { id: 7, start: true, end: false } })] : [])]
            : [embedRequest(signature, audio)];
      for (const request of requests) {
        expect(request.model).toBe(name);
        expect(requestProblems(config, request)).toEqual([]);
      }
    });

    it("yields results the client's helper reads", () => {
      if (modelContracts[name] === asrContract) {
        const result = transcription(responseOf(config, { TRANSCRIPT: "1", SEGMENTS: segmentsJson, ALTERNATIVES: '["1","7"]' }));
        expect(result).toMatchObject({ text: "1", language: "ar", duration: 1, segments: [{ text: "1", words: [{ word: "1" }] }], alternatives: ["1", "7"] });
        // The n-best must lead with the transcript it belongs to, and hold at least it.
        for (const bad of ['["7","1"]', "[]", '"1"']) {
          expect(() => transcription(responseOf(config, { TRANSCRIPT: "1", SEGMENTS: segmentsJson, ALTERNATIVES: bad }))).toThrow(/ALTERNATIVES/);
        }
      } else if (modelContracts[name] === vadContract) {
        const result = vadResult(signature, responseOf(config, { PROBS: new Float32Array([0.1, 0.9]) }));
        expect(result.frameSeconds).toBe(Number(config.parameters.frame_samples!.stringValue) / 16_000);
        expect(result.probabilities).toEqual(new Float32Array([0.1, 0.9]));
      } else {
        expect(embedding(responseOf(config, { EMBEDDING: new Float32Array(192).fill(0.5) }))).toHaveLength(192);
      }
    });
  });

  it("catches drift: a renamed, retyped, reshaped or newly required tensor, or a missing parameter", () => {
    const whisper = signatureOf(repository.find((m) => m.name === "whisper")!.config);
    const drifted: ModelSignature = {
      ...whisper,
      inputs: [
        { name: "AUDIO_16K", datatype: "FP32", dims: [-1], optional: false },
        { name: "LANGUAGE", datatype: "BYTES", dims: [1], optional: false },
        { name: "TASK", datatype: "BYTES", dims: [1], optional: true },
        { name: "PROMPT", datatype: "BYTES", dims: [1], optional: true },
        { name: "MAX_ALTERNATIVES", datatype: "INT32", dims: [1], optional: true },
      ],
      outputs: [
        { name: "TRANSCRIPT", datatype: "FP16", dims: [1] },
        { name: "SEGMENTS", datatype: "BYTES", dims: [-1] },
        { name: "ALTERNATIVES", datatype: "BYTES", dims: [1] },
      ],
    };
    expect(contractViolations(modelContracts.whisper!, drifted)).toEqual([
      "input AUDIO is not declared",
      "input LANGUAGE is required by the model, the client treats it as optional",
      "input AUDIO_16K is required by the model, the client never sends it",
      "output TRANSCRIPT is FP16, the client uses BYTES",
      "output SEGMENTS has dims [-1], the client uses [1]",
    ]);
    const vad = signatureOf(repository.find((m) => m.name === "vad")!.config);
    expect(contractViolations(modelContracts.vad!, { ...vad, parameters: {} })).toEqual(["parameter frame_samples is not declared"]);
  });

  it("catches a malformed declaration, and reads an absent one as the defaults", () => {
    expect(() => capabilitiesOf("m", { language_codes: "ar;en" })).toThrow(/model m: parameter language_codes must be BCP-47 tags/);
    expect(() => capabilitiesOf("m", { sample_rate: "16k" })).toThrow(/parameter sample_rate must be a positive whole number/);
    expect(() => capabilitiesOf("m", { gate: "loud" })).toThrow(/parameter gate must be "vad" or "energy"/);
    expect(capabilitiesOf("m", { language_codes: "ar, ar-EG" }).languageCodes).toEqual(["ar", "ar-EG"]);
    expect(capabilitiesOf("m", {})).toEqual({ displayName: "m", description: "", languageCodes: undefined, sampleRateHz: undefined, gate: "vad" });
  });
});
