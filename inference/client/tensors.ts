// Tensor bytes as KServe v2 carries them: `raw_input_contents` / `raw_output_contents` hold each
// tensor's elements little-endian, row-major, without padding; a BYTES tensor is a run of
// elements, each a 4-byte little-endian length followed by that many bytes (Triton's layout).
// Servers may also answer with the typed `contents` lists instead; `decodeContents` reads those.
import type { InferTensorContentsMessage } from "../kserve/service.js";

/** KServe v2 datatype names. FP16 and BF16 travel as raw 16-bit patterns (Uint16Array). */
export type Datatype =
  | "BOOL"
  | "UINT8"
  | "UINT16"
  | "UINT32"
  | "UINT64"
  | "INT8"
  | "INT16"
  | "INT32"
  | "INT64"
  | "FP16"
  | "BF16"
  | "FP32"
  | "FP64"
  | "BYTES";

/** Elements of a tensor: a typed array for numbers, one Uint8Array per element for BYTES. */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | boolean[]
  | Uint8Array[];

export interface Tensor {
  name: string;
  datatype: Datatype;
  /** Full shape, batch dimension included when the model batches. */
  shape: number[];
  data: TensorData;
}

type NumericArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigUint64ArrayConstructor;

const arrayOf: Record<Exclude<Datatype, "BOOL" | "BYTES">, NumericArrayConstructor> = {
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  BF16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

const datatypes = new Set<string>([...Object.keys(arrayOf), "BOOL", "BYTES"]);

export function isDatatype(name: string): name is Datatype {
  return datatypes.has(name);
}

/** A tensor's bytes or elements disagree with its datatype or shape. */
export class TensorFormatError extends Error {
  override readonly name = "TensorFormatError";
  constructor(
    readonly tensor: string,
    reason: string,
  ) {
    super(`${tensor}: ${reason}`);
  }
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The raw bytes of one tensor, as `raw_input_contents` carries them. */
export function encodeRaw(tensor: Tensor): Uint8Array {
  const { name, datatype, shape, data } = tensor;
  const count = elementCount(shape);
  if (data.length !== count) {
    throw new TensorFormatError(name, `shape [${shape.join(", ")}] holds ${count} elements, data has ${data.length}`);
  }
  if (datatype === "BYTES") return encodeBytesElements(name, data);
  if (datatype === "BOOL") {
    if (!Array.isArray(data) || data.some((v) => typeof v !== "boolean")) throw new TensorFormatError(name, "BOOL data must be boolean[]");
    return Uint8Array.from(data as boolean[], (v) => (v ? 1 : 0));
  }
  const ctor = arrayOf[datatype];
  if (!(data instanceof ctor)) throw new TensorFormatError(name, `${datatype} data must be a ${ctor.name}`);
  const view = data as Exclude<TensorData, boolean[] | Uint8Array[]>;
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  return littleEndianHost ? bytes : swapped(bytes, ctor.BYTES_PER_ELEMENT);
}

function encodeBytesElements(name: string, data: TensorData): Uint8Array {
  if (!Array.isArray(data) || data.some((v) => !(v instanceof Uint8Array))) {
    throw new TensorFormatError(name, "BYTES data must be Uint8Array[]");
  }
  const elements = data as Uint8Array[];
  const out = new Uint8Array(elements.reduce((n, e) => n + 4 + e.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const element of elements) {
    view.setUint32(at, element.length, true);
    out.set(element, at + 4);
    at += 4 + element.length;
  }
  return out;
}

/** Elements of one tensor from its raw bytes (`raw_output_contents`). */
export function decodeRaw(name: string, datatype: Datatype, shape: readonly number[], bytes: Uint8Array): TensorData {
  const count = elementCount(shape);
  if (datatype === "BYTES") return decodeBytesElements(name, shape, bytes);
  if (datatype === "BOOL") {
    if (bytes.length !== count) throw new TensorFormatError(name, `BOOL shape [${shape.join(", ")}] needs ${count} bytes, got ${bytes.length}`);
    return Array.from(bytes, (b) => b !== 0);
  }
  const ctor = arrayOf[datatype];
  const size = ctor.BYTES_PER_ELEMENT;
  if (bytes.length !== count * size) {
    throw new TensorFormatError(name, `${datatype} shape [${shape.join(", ")}] needs ${count * size} bytes, got ${bytes.length}`);
  }
  // Copy so the result is aligned and owns its memory (gRPC buffers are slices of a larger one).
  const copy = littleEndianHost ? new Uint8Array(bytes) : swapped(bytes, size);
  return new ctor(copy.buffer, 0, count);
}

function decodeBytesElements(name: string, shape: readonly number[], bytes: Uint8Array): Uint8Array[] {
  const count = elementCount(shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw new TensorFormatError(name, `BYTES element ${elements.length} has a truncated length prefix`);
    const length = view.getUint32(at, true);
    if (at + 4 + length > bytes.length) throw new TensorFormatError(name, `BYTES element ${elements.length} runs past the end (${length} bytes declared)`);
    elements.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  if (elements.length !== count) throw new TensorFormatError(name, `BYTES shape [${shape.join(", ")}] holds ${count} elements, got ${elements.length}`);
  return elements;
}

/** Elements of one tensor from the typed `contents` lists, for servers that do not send raw bytes. */
export function decodeContents(name: string, datatype: Datatype, shape: readonly number[], contents: InferTensorContentsMessage): TensorData {
  const count = elementCount(shape);
  const checked = <T extends { length: number }>(values: T): T => {
    if (values.length !== count) throw new TensorFormatError(name, `shape [${shape.join(", ")}] holds ${count} elements, contents has ${values.length}`);
    return values;
  };
  switch (datatype) {
    case "BOOL":
      return checked([...contents.bool_contents]);
    case "INT8":
      return new Int8Array(checked(contents.int_contents));
    case "INT16":
      return new Int16Array(checked(contents.int_contents));
    case "INT32":
      return new Int32Array(checked(contents.int_contents));
    case "UINT8":
      return new Uint8Array(checked(contents.uint_contents));
    case "UINT16":
      return new Uint16Array(checked(contents.uint_contents));
    case "UINT32":
      return new Uint32Array(checked(contents.uint_contents));
    case "INT64":
      return BigInt64Array.from(checked(contents.int64_contents), (v) => BigInt(v));
    case "UINT64":
      return BigUint64Array.from(checked(contents.uint64_contents), (v) => BigInt(v));
    case "FP32":
      return new Float32Array(checked(contents.fp32_contents));
    case "FP64":
      return new Float64Array(checked(contents.fp64_contents));
    case "BYTES":
      return checked(contents.bytes_contents).map((b) => new Uint8Array(b));
    case "FP16":
    case "BF16":
      throw new TensorFormatError(name, `${datatype} has no typed contents list; it travels only as raw bytes`);
  }
}

function swapped(bytes: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) {
    for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j]!;
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A BYTES tensor of UTF-8 strings. */
export function stringElements(values: readonly string[]): Uint8Array[] {
  return values.map((v) => encoder.encode(v));
}

export function utf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Typed contents with every list empty, for a tensor whose values came as raw bytes or not at all. */
export function emptyContents(): InferTensorContentsMessage {
  return {
    bool_contents: [],
    int_contents: [],
    int64_contents: [],
    uint_contents: [],
    uint64_contents: [],
    fp32_contents: [],
    fp64_contents: [],
    bytes_contents: [],
  };
}
