import { describe, expect, test } from "vitest";
import { alawTable, alawToInt16, mulawTable, mulawToInt16 } from "./g711.js";
import { makeTones, soxConvert } from "./test-audio.js";

const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i);
const S16 = ["-t", "raw", "-e", "signed-integer", "-b", "16", "-L"];

function int16s(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 2 }, (_, i) => view.getInt16(2 * i, true));
}

describe.each([
  { law: "μ-law", soxEncoding: "u-law", encoding: "MULAW" as const, expand: mulawToInt16, table: mulawTable },
  { law: "A-law", soxEncoding: "a-law", encoding: "ALAW" as const, expand: alawToInt16, table: alawTable },
])("G.711 $law", ({ soxEncoding, encoding, expand, table }) => {
  const raw = ["-t", "raw", "-r", "8000", "-c", "1", "-e", soxEncoding, "-b", "8"];

  test("every one of the 256 codes expands to what sox decodes it to", () => {
    const expected = int16s(soxConvert(ALL_CODES, raw, S16));
    expect(Array.from(ALL_CODES, expand)).toEqual(expected);
  });

  test("a sox-encoded 440 Hz sine decodes sample for sample like sox decodes it", () => {
    const encoded = makeTones({ encoding, rate: 8000, tones: [440] });
    const expected = int16s(soxConvert(encoded, raw, S16));
    const t = table();
    expect(Array.from(encoded, (b) => t[b]! * 32768)).toEqual(expected);
  });

  test("the float table is the integer expansion over 32768, within [-1, 1]", () => {
    const t = table();
    for (let b = 0; b < 256; b++) expect(t[b]).toBe(expand(b) / 32768);
    expect(Math.max(...t.map(Math.abs))).toBeLessThan(1);
  });
});
