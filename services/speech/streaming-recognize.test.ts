// StreamingRecognize's handler when its request stream ends without the client being done: a gRPC
// client that cancels (or whose connection dies) may send END_STREAM first, and its reset can be read
// much later (a CPU-starved server reads it after any fixed wait). The end counts as a half-close only
// once the client answered a round trip asked after it; until then the session stays resumable, and
// the audio the client sends on its resume is recognised. The handler runs on a real recognizer (a
// local sidecar with the `dtmf` model, whose transcripts are the keys pressed); the transport's round
// trip and cancellation are the test's to order.
import { create } from "@bufbuild/protobuf";
import { createContextValues, createHandlerContext } from "@connectrpc/connect";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { AudioEncoding } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { SpeechService, StreamingRecognizeRequestSchema, type StreamingRecognizeRequest } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { clientRoundTripKey, type ClientRoundTrip } from "../platform/client-round-trip.js";
import { requestContextKey } from "../platform/request-context.js";
import { LiveRecognizer } from "./live-recognition.js";
import { ResumableStreams } from "./resumable.js";
import { startDtmfRecognizer } from "./testing/dtmf-recognizer.js";
import { streamingRecognizeHandler } from "./streaming-recognize.js";

let recognizer: LiveRecognizer;
let stopRecognizer: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ recognizer, stop: stopRecognizer } = await startDtmfRecognizer("arabicstt-streaming-"));
}, 60_000);

afterAll(() => stopRecognizer?.());

const RATE = 16_000;

/** `keys` on a keypad from `at` seconds, in `seconds` of 16 kHz LINEAR16. */
function keypad(seconds: number, at: number, keys: string): Buffer {
  const { audio } = dtmfSequence(keys, { sampleRate: RATE, leadMs: 0, toneMs: 100, gapMs: 100 });
  const pcm = Buffer.alloc(seconds * RATE * 2);
  audio.forEach((x, i) => pcm.writeInt16LE(Math.round(x * 32767), 2 * (Math.round(at * RATE) + i)));
  return pcm;
}

/** A request stream the test writes to and ends; `handedEnd` resolves once the handler has read its end. */
function requestStream() {
  const queue: StreamingRecognizeRequest[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  let readEnd!: () => void;
  const handedEnd = new Promise<void>((r) => (readEnd = r));
  const iterable: AsyncIterable<StreamingRecognizeRequest> = {
    [Symbol.asyncIterator]: () => ({
      async next() {
        for (;;) {
          const value = queue.shift();
          if (value) return { done: false, value };
          if (ended) {
            readEnd();
            return { done: true, value: undefined };
          }
          await new Promise<void>((r) => (wake = r));
        }
      },
    }),
  };
  const push = (request: Parameters<typeof create<typeof StreamingRecognizeRequestSchema>>[1]) => {
    queue.push(create(StreamingRecognizeRequestSchema, request));
    wake?.();
  };
  return {
    iterable,
    handedEnd,
    config: (streamingConfig: object) => push({ streamingRequest: { case: "streamingConfig", value: streamingConfig } } as never),
    audio(pcm: Buffer) {
      for (let at = 0; at < pcm.length; at += 640) push({ streamingRequest: { case: "audioContent", value: pcm.subarray(at, at + 640) } });
    },
    end() {
      ended = true;
      wake?.();
    },
  };
}

type Response = { resultIndex?: bigint; results?: Array<{ isFinal?: boolean; alternatives?: Array<{ transcript?: string }> }>; metadata?: { sessionId?: string; audioBytesReceived?: bigint } };

/** One StreamingRecognize call on the handler: its responses, collected until it ends. */
function call(streams: ResumableStreams, requests: ReturnType<typeof requestStream>, roundTrip: ClientRoundTrip) {
  const ctx = createHandlerContext({
    service: SpeechService,
    method: SpeechService.method.streamingRecognize,
    protocolName: "grpc",
    requestMethod: "POST",
    url: "http://127.0.0.1/arabicstt.v1.SpeechService/StreamingRecognize",
    contextValues: createContextValues()
      .set(requestContextKey, { requestId: "test", logger: pino({ level: "silent" }) })
      .set(clientRoundTripKey, roundTrip),
  });
  const responses: Response[] = [];
  const ended = (async () => {
    for await (const r of streamingRecognizeHandler(recognizer, streams)(requests.iterable, ctx)) responses.push(r as Response);
  })();
  return { ctx, responses, ended };
}

const finals = (responses: Response[]) => responses.flatMap((r) => (r.results ?? []).filter((x) => x.isFinal).map((x) => x.alternatives![0]!.transcript));

it("an END_STREAM whose reset is read after the half-close wait, before any round trip answered: the session is resumed and every final comes once", async () => {
  const streams = new ResumableStreams();
  const audio = Buffer.concat([keypad(1, 0.2, "12"), keypad(3, 1.5, "34")]);
  const half = RATE * 2; // 1 s: "12" and some silence

  // The first connection ends its request stream, and its round trip is never answered: it is going away.
  const first = requestStream();
  let gone!: () => void;
  const unanswered: ClientRoundTrip = () => new Promise((resolve) => (gone = () => resolve(false)));
  const a = call(streams, first, unanswered);
  first.config({ config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: RATE, audioChannelCount: 1, model: "dtmf" }, interimResults: false });
  first.audio(audio.subarray(0, half));
  first.end();
  await first.handedEnd;
  // Its reset is read only now: after any wait the handler may have set when it read the end.
  await new Promise((r) => setTimeout(r, 400));
  gone?.();
  a.ctx.abort();
  await a.ended;
  const sessionId = a.responses[0]!.metadata!.sessionId!;

  // The client resumes, sends the rest from the byte the server names, and half-closes, waiting for its results.
  const second = requestStream();
  const b = call(streams, second, () => Promise.resolve(true));
  const next = a.responses.filter((r) => r.results?.length).at(-1)?.resultIndex;
  second.config({ resume: { sessionId, fromResultIndex: next === undefined ? 0n : next + 1n } });
  const head = await Promise.race([
    new Promise<Response>((resolve) => {
      const look = () => (b.responses[0] ? resolve(b.responses[0]) : setTimeout(look, 10));
      look();
    }),
    // A session ended by the first connection's END_STREAM is gone: the resume fails (NOT_FOUND).
    b.ended.then(() => Promise.reject(new Error("the resumed stream ended before its first response"))),
  ]);
  const from = Number(head.metadata!.audioBytesReceived);
  expect(from).toBe(half);
  second.audio(audio.subarray(from));
  second.end();
  await b.ended;

  expect([...finals(a.responses), ...finals(b.responses)]).toEqual(["12", "34"]);
  expect(b.responses.at(-1)!.metadata!.audioBytesReceived).toBe(BigInt(audio.length));
}, 60_000);
