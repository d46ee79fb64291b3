// proto/inference/model_config.proto reads what Triton reads: every config.pbtxt in this repository, and
// configurations in the shapes of Triton's published examples (fixtures/triton/), using the fields Triton has
// and a partial copy of its schema would drop: sequence batching, 64-bit priorities, model metrics, runtime,
// CUDA graph specs.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { toBinary, fromBinary } from "@bufbuild/protobuf";
import { ModelConfigSchema, ModelSequenceBatching_Control_Kind as ControlKind, DataType, type ModelConfig } from "../../proto/gen/inference/model_config_pb.js";
import { parseModelConfigText } from "./model-config-text.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const fixtures = path.join(here, "fixtures/triton");

/** Every config.pbtxt under the repository, outside dependencies and version control. */
function repositoryConfigs(dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return ["node_modules", ".git"].includes(entry.name) ? [] : repositoryConfigs(path.join(dir, entry.name));
    return entry.name === "config.pbtxt" ? [path.join(dir, entry.name)] : [];
  });
}

function parse(file: string): ModelConfig {
  return parseModelConfigText(readFileSync(file, "utf8"), path.relative(root, file));
}

function fixture(name: string): ModelConfig {
  return parse(path.join(fixtures, `${name}.pbtxt`));
}

describe("Triton model configurations", () => {
  const configs = repositoryConfigs();

  it("finds the repository's model configurations", () => {
    expect(configs.map((f) => path.relative(root, f))).toEqual(expect.arrayContaining(["inference/models/vad/config.pbtxt", "inference/models/whisper/config.pbtxt"]));
  });

  for (const file of configs) {
    it(`reads ${path.relative(root, file)}, named after its directory, and survives the binary round trip`, () => {
      const config = parse(file);
      expect(config.name).toBe(path.basename(path.dirname(file)));
      expect(fromBinary(ModelConfigSchema, toBinary(ModelConfigSchema, config))).toEqual(config);
    });
  }

  it("reads every fixture written after Triton's examples", () => {
    const names = readdirSync(fixtures).filter((f) => f.endsWith(".pbtxt"));
    expect(names.length).toBeGreaterThanOrEqual(5);
    for (const name of names) expect(parse(path.join(fixtures, name)).name, name).not.toBe("");
  });

  it("reads sequence batching: the oldest strategy and every kind of control input", () => {
    const scheduling = fixture("sequence_oldest").schedulingChoice;
    if (scheduling.case !== "sequenceBatching") throw new Error(`scheduling is ${scheduling.case}`);
    const batching = scheduling.value;
    expect(batching.maxSequenceIdleMicroseconds).toBe(10_000_000n);
    expect(batching.strategyChoice.case).toBe("oldest");
    expect(batching.strategyChoice.value).toMatchObject({ maxCandidateSequences: 1024, preferredBatchSize: [4, 8], preserveOrdering: true });
    const controls = Object.fromEntries(batching.controlInput.map((c) => [c.name, c.control[0]!]));
    expect(controls.START).toMatchObject({ kind: ControlKind.CONTROL_SEQUENCE_START, int32FalseTrue: [0, 1] });
    expect(controls.END).toMatchObject({ kind: ControlKind.CONTROL_SEQUENCE_END, fp32FalseTrue: [0, 1] });
    expect(controls.READY).toMatchObject({ kind: ControlKind.CONTROL_SEQUENCE_READY, boolFalseTrue: [false, true] });
    expect(controls.CORRID).toMatchObject({ kind: ControlKind.CONTROL_SEQUENCE_CORRID, dataType: DataType.TYPE_UINT64 });
  });

  it("reads implicit state and the direct strategy", () => {
    const scheduling = fixture("sequence_state").schedulingChoice;
    if (scheduling.case !== "sequenceBatching") throw new Error(`scheduling is ${scheduling.case}`);
    expect(scheduling.value.strategyChoice).toMatchObject({ case: "direct", value: { maxQueueDelayMicroseconds: 100n, minimumSlotUtilization: 0.5 } });
    const [state] = scheduling.value.state;
    expect(state).toMatchObject({ inputName: "INPUT_STATE", outputName: "OUTPUT_STATE", useSameBufferForInputOutput: true, useGrowableMemory: true });
    expect(state!.initialState[0]!.stateData).toEqual({ case: "zeroData", value: true });
  });

  it("reads priority levels and queue policies beyond 32 bits, as Triton's uint64 fields are", () => {
    const config = fixture("dynamic_priority");
    if (config.schedulingChoice.case !== "dynamicBatching") throw new Error(`scheduling is ${config.schedulingChoice.case}`);
    const batching = config.schedulingChoice.value;
    expect(batching.priorityLevels).toBe(5_000_000_000n);
    expect(batching.defaultPriorityLevel).toBe(4_294_967_296n);
    expect(Object.keys(batching.priorityQueuePolicy).sort()).toEqual(["1", "4294967296"]);
    expect(batching.priorityQueuePolicy["4294967296"]!.maxQueueSize).toBe(8);
    expect(config.runtime).toBe("model.py");
  });

  it("reads an ensemble's steps and its in-flight limit", () => {
    const config = fixture("ensemble");
    if (config.schedulingChoice.case !== "ensembleScheduling") throw new Error(`scheduling is ${config.schedulingChoice.case}`);
    expect(config.schedulingChoice.value.maxInflightRequests).toBe(16);
    expect(config.schedulingChoice.value.step.map((s) => [s.modelName, s.inputMap, s.outputMap])).toEqual([
      ["preprocess", { INPUT: "INPUT" }, { OUTPUT: "preprocessed" }],
      ["classifier", { data: "preprocessed" }, { softmax: "OUTPUT" }],
    ]);
  });

  it("reads CUDA graph specs, non-linear I/O formats and model metrics", () => {
    const config = fixture("tensorrt_graphs_metrics");
    const [spec] = config.optimization!.cuda!.graphSpec;
    expect(spec!.batchSize).toBe(8);
    expect(spec!.input.FEATURES!.dim).toEqual([3000n, 80n]);
    expect(spec!.graphLowerBound!.input.FEATURES!.dim).toEqual([100n, 80n]);
    expect(config.input[0]!.isNonLinearFormatIo).toBe(true);
    expect(config.output[0]!.isNonLinearFormatIo).toBe(true);
    const [control] = config.modelMetrics!.metricControl;
    expect(control!.metricIdentifier!.family).toBe("nv_inference_first_response_histogram_ms");
    expect(control!.metricOptions).toEqual({ case: "histogramOptions", value: expect.objectContaining({ buckets: [1, 2, 4, 8, 16, 32.5] }) });
  });
});
