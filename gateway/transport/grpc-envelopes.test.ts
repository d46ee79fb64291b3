import { describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { GrpcEnvelopeReader } from "./grpc-envelopes.js";

const payloads = [new Uint8Array([1, 2, 3]), new Uint8Array(0), Uint8Array.from({ length: 300 }, (_, i) => i & 0xff), new Uint8Array([9])];
const wire = Buffer.concat(payloads.map((p, i) => encodeEnvelope(i === 1 ? 0x80 : 0, p)));

function readAll(chunks: Uint8Array[], readMaxBytes = 1 << 20): { flags: number; data: number[] }[] {
  const reader = new GrpcEnvelopeReader(readMaxBytes);
  const out: { flags: number; data: number[] }[] = [];
  for (const chunk of chunks) reader.push(chunk, (flags, data) => out.push({ flags, data: [...data] }));
  expect(reader.bufferedBytes).toBe(0);
  return out;
}

const expected = payloads.map((p, i) => ({ flags: i === 1 ? 0x80 : 0, data: [...p] }));

describe("GrpcEnvelopeReader", () => {
  it("reads several envelopes from one chunk", () => {
    expect(readAll([wire])).toEqual(expected);
  });

  it("reads envelopes split anywhere: one byte at a time, and at every single cut", () => {
    expect(readAll([...wire].map((b) => Uint8Array.of(b)))).toEqual(expected);
    for (let cut = 1; cut < wire.length; cut++) {
      expect(readAll([wire.subarray(0, cut), wire.subarray(cut)])).toEqual(expected);
    }
  });

  it("keeps the bytes of an incomplete envelope", () => {
    const reader = new GrpcEnvelopeReader(1024);
    const seen: number[][] = [];
    reader.push(wire.subarray(0, 10), (_, data) => seen.push([...data]));
    expect(seen).toEqual([[1, 2, 3]]);
    expect(reader.bufferedBytes).toBe(2);
  });

  it("refuses an envelope over readMaxBytes with connect's RESOURCE_EXHAUSTED, after delivering the ones before it", () => {
    const reader = new GrpcEnvelopeReader(299);
    const seen: number[][] = [];
    let error: unknown;
    try {
      reader.push(wire, (_, data) => seen.push([...data]));
    } catch (err) {
      error = err;
    }
    expect(seen).toEqual([[1, 2, 3], []]);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((error as ConnectError).rawMessage).toBe("message size 300 is larger than configured readMaxBytes 299");
  });

  it("refuses an oversize envelope as soon as its header is in, before its body", () => {
    const reader = new GrpcEnvelopeReader(10);
    const header = encodeEnvelope(0, new Uint8Array(11)).subarray(0, 5);
    reader.push(header.subarray(0, 3), () => undefined);
    expect(() => reader.push(header.subarray(3), () => undefined)).toThrow(/larger than configured readMaxBytes 10/);
  });

  it("reads a length with the top bit set as unsigned", () => {
    const reader = new GrpcEnvelopeReader(0xffffffff - 1);
    expect(() => reader.push(Uint8Array.of(0, 0xff, 0xff, 0xff, 0xff), () => undefined)).toThrow(/message size 4294967295/);
  });
});
