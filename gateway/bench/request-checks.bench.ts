// npx tsx gateway/bench/request-checks.bench.ts [-- --messages 200000]
//
// What each live audio message costs the gateway's request checks (gateway/interceptors/request-checks.ts),
// in one process, without the transport: a 640-byte StreamingRecognizeRequest.audio_content (20 ms of stereo
// 8 kHz μ-law) through the full checks (protovalidate, then the field table's walk) against the shortcut
// they take for audio, and the cost of the wrapper layers themselves (mapStream) over a bare iterator.
// CPU time per message, best of five rounds, so a busy machine disturbs it little.
import { create } from "@bufbuild/protobuf";
import { parseArgs } from "node:util";
import { StreamingRecognizeRequestSchema, type StreamingRecognizeRequest } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { requestFields } from "../../services/app/contract/request-fields.js";
import { checkFieldPolicy } from "../interceptors/field-policy.js";
import { payloadFastPath, takenByFastPath } from "../interceptors/payload-fast-path.js";
import { mapStream } from "../interceptors/streams.js";
import { messageValidator } from "../interceptors/validation.js";

const { values } = parseArgs({ options: { messages: { type: "string", default: "200000" } } });
const n = Number(values.messages);
const rpc = "arabicstt.v1.SpeechService/StreamingRecognize" as const;
const audio = create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: new Uint8Array(640) } });
const validate = messageValidator();
const fast = payloadFastPath(StreamingRecognizeRequestSchema)!;

function cpuNsPerMessage(run: () => void | Promise<void>): Promise<number> {
  return (async () => {
    let best = Infinity;
    for (let round = 0; round < 5; round++) {
      const before = process.cpuUsage();
      await run();
      const used = process.cpuUsage(before);
      best = Math.min(best, ((used.user + used.system) * 1000) / n);
    }
    return best;
  })();
}

async function* frames(): AsyncGenerator<StreamingRecognizeRequest> {
  for (let i = 0; i < n; i++) yield audio;
}
const plain = (): AsyncIterable<StreamingRecognizeRequest> => ({
  [Symbol.asyncIterator]() {
    let i = 0;
    return { next: () => Promise.resolve(i++ < n ? { done: false, value: audio } : { done: true, value: undefined }) };
  },
});
async function drain(source: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of source) void _;
}

const full = await cpuNsPerMessage(() => {
  for (let i = 0; i < n; i++) {
    validate(StreamingRecognizeRequestSchema, audio);
    checkFieldPolicy(requestFields, rpc, StreamingRecognizeRequestSchema, audio);
  }
});
const shortcut = await cpuNsPerMessage(() => {
  for (let i = 0; i < n; i++) if (takenByFastPath(fast, audio) === undefined) throw new Error("audio missed the shortcut");
});
const bare = await cpuNsPerMessage(() => drain(plain()));
const oneLayer = await cpuNsPerMessage(() => drain(mapStream(plain(), { each: () => undefined })));
const twoLayers = await cpuNsPerMessage(() => drain(mapStream(mapStream(plain(), { each: () => undefined }), { each: () => undefined })));
const generator = await cpuNsPerMessage(() => drain(frames()));
const yieldStar = await cpuNsPerMessage(() =>
  drain(
    (async function* () {
      yield* plain();
    })(),
  ),
);
console.log(`per 20 ms audio message, CPU ns (${n} messages, best of 5):`);
console.log(`  checks   full (protovalidate + field table) ${full.toFixed(0)}   shortcut ${shortcut.toFixed(0)}`);
console.log(`  wrappers bare iterator ${bare.toFixed(0)}   +1 mapStream ${oneLayer.toFixed(0)}   +2 mapStream ${twoLayers.toFixed(0)}   async generator source ${generator.toFixed(0)}   yield* wrapper ${yieldStar.toFixed(0)}`);
