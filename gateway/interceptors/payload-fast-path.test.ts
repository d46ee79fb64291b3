// The shortcut for live audio messages: read from the descriptors, taken only where the full checks would
// let the message through whatever its bytes, and never for a message the full checks would refuse.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { RecognizeRequestSchema, StreamingControlType, StreamingRecognizeRequestSchema } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { messageValidator } from "./validation.js";
import { payloadFastPath, takenByFastPath } from "./payload-fast-path.js";

describe("payloadFastPath", () => {
  const fast = payloadFastPath(StreamingRecognizeRequestSchema)!;

  it("takes StreamingRecognizeRequest's audio_content, with the 1 MiB maximum its rules declare", () => {
    expect(fast.oneof).toBe("streamingRequest");
    expect([...fast.maxBytes]).toEqual([["audioContent", 1048576]]);
  });

  it("takes audio within the maximum and nothing else", () => {
    const audio = (bytes: number) => create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: new Uint8Array(bytes) } });
    expect(takenByFastPath(fast, audio(0))).toBe("audioContent");
    expect(takenByFastPath(fast, audio(1048576))).toBe("audioContent");
    expect(takenByFastPath(fast, audio(1048577))).toBeUndefined();
    expect(takenByFastPath(fast, create(StreamingRecognizeRequestSchema))).toBeUndefined();
    const control = create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "control", value: { type: StreamingControlType.FINALIZE } } });
    expect(takenByFastPath(fast, control)).toBeUndefined();
  });

  it("leaves what it does not take to protovalidate, which refuses audio over the maximum", () => {
    const validate = messageValidator();
    const big = create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: new Uint8Array(1048577) } });
    expect(() => validate(StreamingRecognizeRequestSchema, big)).toThrow(/audio_content/);
    const empty = create(StreamingRecognizeRequestSchema);
    expect(() => validate(StreamingRecognizeRequestSchema, empty)).toThrow(/streaming_request/);
  });

  it("has no shortcut for a message with fields outside one oneof", () => {
    expect(payloadFastPath(RecognizeRequestSchema)).toBeUndefined();
  });
});
