// The AudioSocket frame reader takes a byte stream cut anywhere: frames split across chunks, several in one.
import { describe, expect, it } from "vitest";
import { encodeFrame, FrameKind, FrameReader, uuidBytes, uuidText } from "./frames.js";

describe("AudioSocket frames", () => {
  it("reads frames whatever the chunks' boundaries, and keeps only the partial frame", () => {
    const uuid = "40325ec2-5efd-4bd3-805f-53576e581d13";
    const stream = Buffer.concat([encodeFrame(FrameKind.Uuid, uuidBytes(uuid)), encodeFrame(FrameKind.Audio, Buffer.alloc(320, 7)), encodeFrame(FrameKind.Hangup)]);
    for (const cut of [1, 2, 3, 18, 19, 100, stream.length - 1]) {
      const reader = new FrameReader();
      const frames = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
      expect(frames.map((f) => [f.kind, f.payload.length])).toEqual([[FrameKind.Uuid, 16], [FrameKind.Audio, 320], [FrameKind.Hangup, 0]]);
      expect(uuidText(frames[0]!.payload)).toBe(uuid);
      expect(reader.pendingBytes).toBe(0);
    }
    const reader = new FrameReader();
    expect(reader.push(Buffer.of(FrameKind.Audio, 0xff, 0xff, 1, 2))).toEqual([]);
    expect(reader.pendingBytes).toBe(5);
  });

  it("writes the hangup as three zero bytes and refuses a payload the header cannot say", () => {
    expect(encodeFrame(FrameKind.Hangup)).toEqual(Buffer.of(0, 0, 0));
    expect(encodeFrame(FrameKind.Error, Buffer.of(0x10))).toEqual(Buffer.of(0xff, 0, 1, 0x10));
    expect(() => encodeFrame(FrameKind.Audio, Buffer.alloc(65_536))).toThrow(RangeError);
  });
});
