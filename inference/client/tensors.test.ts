import { describe, expect, it } from "vitest";
import { decodeContents, decodeRaw, emptyContents, encodeRaw, stringElements, TensorFormatError, utf8 } from "./tensors.js";


describe("raw tensor bytes (KServe v2 raw_input_contents / raw_output_contents)", () => {
  it("lays FP32 out little-endian, row-major, without padding", () => {
    const bytes = encodeRaw({ name: "AUDIO", datatype: "FP32", shape: [1, 2], data: new Float32Array([1, -0.5]) });
    expect([...bytes]).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xbf]);
  });

  it("prefixes each BYTES element with its 4-byte little-endian length, as Triton does", () => {
    const bytes = encodeRaw({ name: "LANGUAGE", datatype: "BYTES", shape: [2], data: stringElements(["ar", "عربي"]) });
    const arabic = [...new TextEncoder().encode("عربي")];
    expect([...bytes]).toEqual([2, 0, 0, 0, 0x61, 0x72, arabic.length, 0, 0, 0, ...arabic]);
    const decoded = decodeRaw("LANGUAGE", "BYTES", [2], bytes) as Uint8Array[];
    expect(decoded.map(utf8)).toEqual(["ar", "عربي"]);
  });

  it("round-trips every numeric datatype, from unaligned buffers too", () => {
    const cases = [
      ["FP32", new Float32Array([0.25, -3, 1e-7])],
      ["FP64", new Float64Array([Math.PI, -1])],
      ["INT8", new Int8Array([-128, 127])],
      ["INT16", new Int16Array([-32768, 12345])],
      ["INT32", new Int32Array([-1, 2 ** 31 - 1])],
      ["INT64", new BigInt64Array([-(2n ** 62n), 42n])],
      ["UINT8", new Uint8Array([0, 255])],
      ["UINT16", new Uint16Array([65535])],
      ["UINT32", new Uint32Array([2 ** 32 - 1])],
      ["UINT64", new BigUint64Array([2n ** 64n - 1n])],
      ["FP16", new Uint16Array([0x3c00])],
    ] as const;
    for (const [datatype, data] of cases) {
      const bytes = encodeRaw({ name: "T", datatype, shape: [data.length], data });
      const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
      unaligned.set(bytes);
      expect(decodeRaw("T", datatype, [data.length], unaligned), datatype).toEqual(data);
    }
    expect(decodeRaw("B", "BOOL", [3], encodeRaw({ name: "B", datatype: "BOOL", shape: [3], data: [true, false, true] }))).toEqual([true, false, true]);
  });

  it("refuses bytes that disagree with the shape, naming the tensor", () => {
    expect(() => decodeRaw("PROBS", "FP32", [3], new Uint8Array(8))).toThrow(new TensorFormatError("PROBS", "FP32 shape [3] needs 12 bytes, got 8"));
    expect(() => decodeRaw("TRANSCRIPT", "BYTES", [1], new Uint8Array([5, 0, 0, 0, 1]))).toThrow(/TRANSCRIPT: BYTES element 0 runs past the end/);
    expect(() => decodeRaw("TRANSCRIPT", "BYTES", [2], new Uint8Array([0, 0, 0, 0]))).toThrow(/holds 2 elements, got 1/);
    expect(() => encodeRaw({ name: "AUDIO", datatype: "FP32", shape: [1, 4], data: new Float32Array(3) })).toThrow(/AUDIO: shape \[1, 4\] holds 4 elements/);
    expect(() => encodeRaw({ name: "AUDIO", datatype: "FP32", shape: [2], data: new Float64Array(2) })).toThrow(/AUDIO: FP32 data must be a Float32Array/);
  });
});

describe("typed contents (for servers that answer without raw bytes)", () => {
  it("reads each datatype's list", () => {
    expect(decodeContents("P", "FP32", [2], { ...emptyContents(), fp32_contents: [0.5, 1] })).toEqual(new Float32Array([0.5, 1]));
    expect(decodeContents("I", "INT64", [1], { ...emptyContents(), int64_contents: ["9007199254740993"] })).toEqual(new BigInt64Array([9007199254740993n]));
    const [text] = decodeContents("T", "BYTES", [1], { ...emptyContents(), bytes_contents: [Buffer.from("١٢٣")] }) as Uint8Array[];
    expect(utf8(text!)).toBe("١٢٣");
  });

  it("refuses a list whose length disagrees with the shape", () => {
    expect(() => decodeContents("P", "FP32", [3], { ...emptyContents(), fp32_contents: [1] })).toThrow(/P: shape \[3\] holds 3 elements, contents has 1/);
  });
});
