// Proofs for two live RecognitionConfig fields the field table marks applied and no other test sends:
// enable_word_confidence and endpointing_config.speech_threshold. Both are plain mappings (config to
// engine settings, engine output to response), so they are shown on the mapping functions themselves:
// a change that drops either field from the mapping fails here.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { recognitionConfigOf, responseOf, type SessionFacts } from "../../speech/convert.js";
import type { EngineOutput } from "../../speech/engine/types.js";
import { AudioEncoding, RecognitionConfigSchema } from "../../../proto/gen/arabicstt/v1/recognition_pb.js";

const facts: SessionFacts = { sessionId: "s", languageCode: "ar", processedSeconds: 2, channels: 1, bytesReceived: 64_000 };
const final: EngineOutput = {
  index: 0,
  kind: "result",
  result: {
    channel: 1,
    isFinal: true,
    transcript: "1 2",
    words: [
      { word: "1", start: 0.1, end: 0.3, probability: 0.9, separator: "" },
      { word: "2", start: 0.5, end: 0.7, probability: 0.8, separator: "" },
    ],
    stability: 0,
    confidence: 0.85,
    startSeconds: 0,
    endSeconds: 1,
  },
};

describe("live RecognitionConfig fields", () => {
  it("gives words their confidence only when enable_word_confidence asks for it", () => {
    const asked = recognitionConfigOf(create(RecognitionConfigSchema, { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, enableWordConfidence: true }), "config");
    expect(asked.wordConfidence).toBe(true);
    const withConfidence = responseOf(final, facts, "r", { wordTimeOffsets: false, wordConfidence: true });
    expect(withConfidence.results![0]!.alternatives![0]!.words!.map((w) => w.confidence)).toEqual([0.9, 0.8]);
    // Asked for times only: words come, with no confidence and their times.
    const timesOnly = responseOf(final, facts, "r", { wordTimeOffsets: true, wordConfidence: false });
    expect(timesOnly.results![0]!.alternatives![0]!.words!.map((w) => w.confidence)).toEqual([0, 0]);
    expect(timesOnly.results![0]!.alternatives![0]!.words![0]!.startOffset).toBeDefined();
    // Asked for neither: no words at all.
    expect(responseOf(final, facts, "r", { wordTimeOffsets: false, wordConfidence: false }).results![0]!.alternatives![0]!.words).toEqual([]);
  });

  it("passes endpointing_config to the engine's settings", () => {
    const config = recognitionConfigOf(
      create(RecognitionConfigSchema, {
        encoding: AudioEncoding.MULAW,
        sampleRateHz: 8000,
        endpointingConfig: {
          silenceDuration: { seconds: 0n, nanos: 400_000_000 },
          maxUtteranceDuration: { seconds: 12n, nanos: 0 },
          utteranceEndSilence: { seconds: 2n, nanos: 0 },
          speechThreshold: 0.75,
        },
      }),
      "config",
    );
    expect(config).toMatchObject({ silenceMs: 400, maxUtteranceMs: 12_000, utteranceEndSilenceMs: 2000, speechThreshold: 0.75 });
    // Left unset, each falls back to the engine's default (undefined here, filled in by LiveRecognizer.open).
    const plain = recognitionConfigOf(create(RecognitionConfigSchema, { encoding: AudioEncoding.MULAW, sampleRateHz: 8000 }), "config");
    expect(plain).toMatchObject({ silenceMs: undefined, maxUtteranceMs: undefined, utteranceEndSilenceMs: undefined, speechThreshold: undefined });
  });
});
