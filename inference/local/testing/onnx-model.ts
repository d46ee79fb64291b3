// Tiny but real ONNX models, written at test time, so that the sidecar's onnxruntime-backed models
// run end to end without downloadable weights: the file is parsed, checked and optimised by
// onnxruntime like any export, its input shape drives the model's code path, and the graph really
// computes (random weights, so the numbers mean nothing beyond being a fixed function of the audio).
//
// The protobuf is written by hand with @bufbuild/protobuf's BinaryWriter, field numbers taken from
// onnx/onnx.proto (onnx/onnx on GitHub), because no maintained package ships onnx.proto's generated
// code: `onnx-proto` on npm is a third-party build on protobufjs 6, and generating our own would
// add onnx.proto and a codegen step for a test helper. Only the handful of messages and fields a
// plain inference graph needs are covered.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { rng } from "../../testing/random.js";

/** A dimension: a fixed size, or a name (dim_param) for a size chosen at run time. */
export type OnnxDim = number | string;

/** A graph input or output; every tensor here is FLOAT. */
export interface OnnxValue {
  name: string;
  dims: OnnxDim[];
}

/** A constant tensor of the graph (its weights). */
export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes (axes, keepdims, strides): a number is INT, an array INTS. */
  attributes?: Record<string, number | number[]>;
}

export interface OnnxGraph {
  name: string;
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  initializers: OnnxInitializer[];
  /** In topological order. */
  nodes: OnnxNode[];
}

/** IR version 8 (ONNX 1.10+) with the default-domain operator set 17: what onnxruntime 1.1x+ loads. */
const IR_VERSION = 8;
const OPSET = 17;

// TensorProto.DataType values.
const FLOAT = 1;
const INT64 = 7;
// AttributeProto.AttributeType values.
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

/** A serialised ModelProto holding `graph`. */
export function encodeOnnxModel(graph: OnnxGraph): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int64(IR_VERSION); // ModelProto.ir_version
  w.tag(2, WireType.LengthDelimited).string("arabicstt-tests"); // ModelProto.producer_name
  message(w, 8, () => {
    // ModelProto.opset_import: OperatorSetIdProto, domain (1) left empty = the default ai.onnx
    w.tag(2, WireType.Varint).int64(OPSET); // OperatorSetIdProto.version
  });
  message(w, 7, () => {
    // ModelProto.graph: GraphProto
    for (const node of graph.nodes) message(w, 1, () => writeNode(w, node)); // GraphProto.node
    w.tag(2, WireType.LengthDelimited).string(graph.name); // GraphProto.name
    for (const tensor of graph.initializers) message(w, 5, () => writeTensor(w, tensor)); // GraphProto.initializer
    for (const value of graph.inputs) message(w, 11, () => writeValueInfo(w, value)); // GraphProto.input
    for (const value of graph.outputs) message(w, 12, () => writeValueInfo(w, value)); // GraphProto.output
  });
  return w.finish();
}

/** An embedded message: tag, length, then what `body` writes. */
function message(w: BinaryWriter, field: number, body: () => void): void {
  w.tag(field, WireType.LengthDelimited).fork();
  body();
  w.join();
}

function writeNode(w: BinaryWriter, node: OnnxNode): void {
  for (const input of node.inputs) w.tag(1, WireType.LengthDelimited).string(input); // NodeProto.input
  for (const output of node.outputs) w.tag(2, WireType.LengthDelimited).string(output); // NodeProto.output
  w.tag(3, WireType.LengthDelimited).string(node.outputs.join("+")); // NodeProto.name
  w.tag(4, WireType.LengthDelimited).string(node.op); // NodeProto.op_type
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    message(w, 5, () => {
      // NodeProto.attribute: AttributeProto
      w.tag(1, WireType.LengthDelimited).string(name); // AttributeProto.name
      if (Array.isArray(value)) {
        w.tag(20, WireType.Varint).int32(ATTRIBUTE_INTS); // AttributeProto.type
        for (const v of value) w.tag(8, WireType.Varint).int64(v); // AttributeProto.ints (proto2: not packed)
      } else {
        w.tag(20, WireType.Varint).int32(ATTRIBUTE_INT); // AttributeProto.type
        w.tag(3, WireType.Varint).int64(value); // AttributeProto.i
      }
    });
  }
}

function writeTensor(w: BinaryWriter, tensor: OnnxInitializer): void {
  for (const d of tensor.dims) w.tag(1, WireType.Varint).int64(d); // TensorProto.dims
  w.tag(2, WireType.Varint).int32(tensor.data instanceof Float32Array ? FLOAT : INT64); // TensorProto.data_type
  w.tag(8, WireType.LengthDelimited).string(tensor.name); // TensorProto.name
  // TensorProto.raw_data: little-endian, as ONNX requires (the sidecar already refuses big-endian hosts).
  w.tag(9, WireType.LengthDelimited).bytes(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
}

function writeValueInfo(w: BinaryWriter, value: OnnxValue): void {
  w.tag(1, WireType.LengthDelimited).string(value.name); // ValueInfoProto.name
  message(w, 2, () => {
    // ValueInfoProto.type: TypeProto
    message(w, 1, () => {
      // TypeProto.tensor_type: TypeProto.Tensor
      w.tag(1, WireType.Varint).int32(FLOAT); // TypeProto.Tensor.elem_type
      message(w, 2, () => {
        // TypeProto.Tensor.shape: TensorShapeProto
        for (const d of value.dims) {
          message(w, 1, () => {
            // TensorShapeProto.dim: Dimension
            if (typeof d === "number") w.tag(1, WireType.Varint).int64(d); // Dimension.dim_value
            else w.tag(2, WireType.LengthDelimited).string(d); // Dimension.dim_param
          });
        }
      });
    });
  });
}

export interface SpeakerEmbeddingModelOptions {
  /** "fbank": takes features [B, T, melBins]; "waveform": takes samples [B, N]. Default "fbank". */
  input?: "fbank" | "waveform";
  /** Default 80. */
  melBins?: number;
  /** Default 192. */
  embeddingSize?: number;
  /** Width of the frame layer. Default 256. */
  hidden?: number;
  /** Seed of the weights; the same seed gives the same file. Default 1. */
  seed?: number;
}

/**
 * A toy x-vector: a frame layer, pooling over time, a projection to the embedding.
 *
 * fbank: features [B, T, mel] → MatMul [mel, H] + bias → ReLU → mean over T → MatMul [H, E].
 * The ReLU matters: the sidecar mean-normalises the features over time, so pooling them directly
 * would give zeros for every voice.
 *
 * waveform: samples [B, N] → Conv1d of H filters of 25 ms every 10 ms → square → mean over time
 * → log → MatMul [H, E]: the log energy of each random filter, a crude spectral envelope.
 */
export function speakerEmbeddingOnnx(options: SpeakerEmbeddingModelOptions = {}): Uint8Array {
  const { input = "fbank", melBins = 80, embeddingSize = 192, hidden = 256, seed = 1 } = options;
  const random = rng(seed).normal;
  const weights = (dims: number[], fanIn: number) =>
    Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => random() / Math.sqrt(fanIn));
  const output: OnnxValue = { name: "embedding", dims: ["batch", embeddingSize] };
  const projection: OnnxInitializer = { name: "projection", dims: [hidden, embeddingSize], data: weights([hidden, embeddingSize], hidden) };
  if (input === "fbank") {
    return encodeOnnxModel({
      name: "toy_xvector_fbank",
      inputs: [{ name: "feats", dims: ["batch", "frames", melBins] }],
      outputs: [output],
      initializers: [
        { name: "frame_weight", dims: [melBins, hidden], data: weights([melBins, hidden], melBins) },
        { name: "frame_bias", dims: [hidden], data: weights([hidden], 1) },
        projection,
      ],
      nodes: [
        { op: "MatMul", inputs: ["feats", "frame_weight"], outputs: ["frame_linear"] },
        { op: "Add", inputs: ["frame_linear", "frame_bias"], outputs: ["frame_affine"] },
        { op: "Relu", inputs: ["frame_affine"], outputs: ["frame_out"] },
        // Opset 17's ReduceMean takes its axes as an attribute (opset 18 moved them to an input).
        { op: "ReduceMean", inputs: ["frame_out"], outputs: ["pooled"], attributes: { axes: [1], keepdims: 0 } },
        { op: "MatMul", inputs: ["pooled", "projection"], outputs: ["embedding"] },
      ],
    });
  }
  const window = 400;
  const hop = 160;
  return encodeOnnxModel({
    name: "toy_xvector_waveform",
    inputs: [{ name: "waveform", dims: ["batch", "samples"] }],
    outputs: [output],
    initializers: [
      { name: "channel_axis", dims: [1], data: BigInt64Array.of(1n) },
      { name: "filters", dims: [hidden, 1, window], data: weights([hidden, 1, window], window) },
      { name: "floor", dims: [1], data: Float32Array.of(1e-10) },
      projection,
    ],
    nodes: [
      { op: "Unsqueeze", inputs: ["waveform", "channel_axis"], outputs: ["signal"] },
      { op: "Conv", inputs: ["signal", "filters"], outputs: ["filtered"], attributes: { kernel_shape: [window], strides: [hop] } },
      { op: "Mul", inputs: ["filtered", "filtered"], outputs: ["power"] },
      { op: "ReduceMean", inputs: ["power"], outputs: ["mean_power"], attributes: { axes: [2], keepdims: 0 } },
      { op: "Add", inputs: ["mean_power", "floor"], outputs: ["floored"] },
      { op: "Log", inputs: ["floored"], outputs: ["log_power"] },
      { op: "MatMul", inputs: ["log_power", "projection"], outputs: ["embedding"] },
    ],
  });
}

/** Writes speakerEmbeddingOnnx(options) to `path`, creating its directory. */
export async function writeSpeakerEmbeddingOnnx(path: string, options: SpeakerEmbeddingModelOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, speakerEmbeddingOnnx(options));
}

