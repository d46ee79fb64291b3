// Writes streaming-recognize.data.json, the messages ghz sends on each StreamingRecognize stream
// (see streaming-recognize.json): the config, then 3.2 s of stereo 8 kHz μ-law in 20 ms frames,
// keys "1590" on channel 1 and "*#28" on channel 2, as protojson (bytes in base64), which is what
// ghz reads. Run: npx tsx deploy/ghz/make-data.ts
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { create, toJson, type JsonValue } from "@bufbuild/protobuf";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { AudioEncoding } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { StreamingRecognizeRequestSchema } from "../../proto/gen/arabicstt/v1/speech_pb.js";

const RATE = 8000;
const SECONDS = 3.2;
const FRAME_SAMPLES = 160;
export const KEYS = { 1: "1590", 2: "*#28" } as const;

/** G.711 μ-law of a sample in [-1, 1]. */
function mulaw(x: number): number {
  let v = Math.max(-32635, Math.min(32635, Math.round(x * 32767)));
  const sign = v < 0 ? 0x80 : 0;
  if (v < 0) v = -v;
  v += 0x84;
  let exponent = 7;
  for (let mask = 0x4000; (v & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  return ~(sign | (exponent << 4) | ((v >> (exponent + 3)) & 0x0f)) & 0xff;
}

/** The messages of one stream, as protojson. */
export function ghzMessages(): JsonValue[] {
  const length = Math.round(RATE * SECONDS);
  const channel = (keys: string, leadMs: number) => {
    const samples = new Float32Array(length);
    samples.set(dtmfSequence(keys, { sampleRate: RATE, leadMs, toneMs: 100, gapMs: 100 }).audio.subarray(0, length));
    return samples;
  };
  const [left, right] = [channel(KEYS[1], 300), channel(KEYS[2], 1200)];
  const messages: JsonValue[] = [
    toJson(
      StreamingRecognizeRequestSchema,
      create(StreamingRecognizeRequestSchema, {
        streamingRequest: {
          case: "streamingConfig",
          value: {
            config: { encoding: AudioEncoding.MULAW, sampleRateHz: RATE, audioChannelCount: 2, separateRecognitionPerChannel: true, model: "dtmf", enableWordTimeOffsets: true },
            interimResults: true,
          },
        },
      }),
    ),
  ];
  for (let at = 0; at < length; at += FRAME_SAMPLES) {
    const frame = new Uint8Array(FRAME_SAMPLES * 2);
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      frame[2 * i] = mulaw(left[at + i]!);
      frame[2 * i + 1] = mulaw(right[at + i]!);
    }
    messages.push(toJson(StreamingRecognizeRequestSchema, create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: frame } })));
  }
  return messages;
}

export const dataFile = fileURLToPath(new URL("./streaming-recognize.data.json", import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(dataFile, JSON.stringify(ghzMessages()) + "\n");
}
