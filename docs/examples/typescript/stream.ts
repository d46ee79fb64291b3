// Streams a WAV file to StreamingRecognize in real time, 100 ms per message, printing partial results as
// they change and each final one on its own line.
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { Client } from "@connectrpc/connect";
import { AudioEncoding } from "../../../proto/gen/arabicstt/v1/recognition_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { SpeechService, StreamingRecognizeRequestSchema } from "../../../proto/gen/arabicstt/v1/speech_pb.js";
import { parseWav } from "./wav.js";

type Request = MessageInitShape<typeof StreamingRecognizeRequestSchema>;

export async function streamFile(speech: Client<typeof SpeechService>, file: string, model: string, print: (line: string) => void): Promise<void> {
  const wav = parseWav(await readFile(file));
  const bytesPer100ms = (wav.sampleRateHz / 10) * wav.channels * 2;

  async function* requests(): AsyncGenerator<Request> {
    // The first message is the config; the audio follows.
    yield {
      streamingRequest: {
        case: "streamingConfig",
        value: {
          config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: wav.sampleRateHz, audioChannelCount: wav.channels, languageCode: "ar", model },
          interimResults: true,
        },
      },
    };
    for (let at = 0; at < wav.pcm.length; at += bytesPer100ms) {
      yield { streamingRequest: { case: "audioContent", value: wav.pcm.subarray(at, at + bytesPer100ms) } };
      // As a microphone or a phone call would deliver it.
      await sleep(100);
    }
    // Ending the stream asks for the final results of what was sent.
  }

  for await (const response of speech.streamingRecognize(requests())) {
    for (const result of response.results) {
      const text = result.alternatives[0]?.transcript ?? "";
      print(result.isFinal ? `final: ${text}` : `partial: ${text}`);
    }
  }
}
