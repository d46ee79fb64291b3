// The lean gRPC path against connect-node itself: the same routes, interceptors and limits behind two
// servers, one connect-node only, one as gateway/server.ts builds it (the lean route first, connect-node
// for the rest); the same raw HTTP/2 request to each must get the same headers, bytes and trailers.
import http2 from "node:http2";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { compressionGzip, connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import {
  SpeechService,
  StreamingRecognizeRequestSchema,
  StreamingRecognizeResponseSchema,
  type StreamingRecognizeRequest,
} from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { SpeechRecognitionAlternativeSchema } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { requestContextInterceptor } from "../interceptors/request-context.js";
import { errorMapperInterceptor } from "../interceptors/error-mapper.js";
import { silentLogger } from "../testing/logs.js";
import { capturingRoutes, grpcBidiRoute, type GrpcBidiRoute } from "./grpc-bidi.js";
import { GrpcEnvelopeReader } from "./grpc-envelopes.js";

const method = SpeechService.method.streamingRecognize;
const PATH = "/arabicstt.v1.SpeechService/StreamingRecognize";
const READ_MAX_BYTES = 64 * 1024;

// Audio bytes that tell the stand-in handler what to do.
const FAIL_WITH_DETAILS = 0xee;
const THROW_PLAIN = 0xef;
const MANY_LARGE = 0xf0;

let gate: (() => void) | undefined;
let aborts: unknown[] = [];

/**
 * A stand-in handler (the transport is what is under test): one response per audio message, its length as
 * the transcript; marker bytes make it fail or answer with many large responses; `x-hold` makes it wait for
 * the test before it reads; it records why its signal was aborted.
 */
async function* standIn(requests: AsyncIterable<StreamingRecognizeRequest>, ctx: HandlerContext) {
  ctx.signal.addEventListener("abort", () => aborts.push(ctx.signal.reason), { once: true });
  ctx.responseHeader.set("x-handler", "stand-in");
  if (ctx.requestHeader.get("x-hold")) await new Promise<void>((resolve) => (gate = resolve));
  for await (const request of requests) {
    const audio = request.streamingRequest.case === "audioContent" ? request.streamingRequest.value : new Uint8Array(0);
    if (audio[0] === FAIL_WITH_DETAILS) {
      const err = new ConnectError("refused: the audio said so", Code.FailedPrecondition, { "x-why": "marker" }, [
        { desc: SpeechRecognitionAlternativeSchema, value: { transcript: "detail" } },
      ]);
      throw err;
    }
    if (audio[0] === THROW_PLAIN) throw new Error("a bug");
    if (audio[0] === MANY_LARGE) {
      for (let i = 0; i < 64; i++) yield { results: [{ alternatives: [{ transcript: String(i).padEnd(16 * 1024, "ـ") }] }] };
      continue;
    }
    yield { results: [{ alternatives: [{ transcript: String(audio.length) }] }] };
  }
  ctx.responseTrailer.set("x-done", "yes");
}

const routes = (router: ConnectRouter) => router.service(SpeechService, { streamingRecognize: standIn });
const adapterOptions = {
  routes,
  interceptors: [requestContextInterceptor(silentLogger()), errorMapperInterceptor()],
  readMaxBytes: READ_MAX_BYTES,
  writeMaxBytes: 4 * 1024 * 1024,
  maxTimeoutMs: 60_000,
};

let connectPort: number;
let leanPort: number;
let claimed = 0;
const servers: http2.Http2Server[] = [];
const sessions = new Set<http2.ServerHttp2Session>();

beforeAll(async () => {
  const connectOnly = http2.createServer(connectNodeAdapter(adapterOptions));
  let lean: GrpcBidiRoute | undefined;
  const fallback = connectNodeAdapter({
    ...adapterOptions,
    routes: capturingRoutes(routes, method, (spec) => (lean = grpcBidiRoute(spec, adapterOptions))),
  });
  const both = http2.createServer((req, res) => {
    if (lean?.(req, res)) {
      claimed++;
      return;
    }
    void fallback(req, res);
  });
  for (const server of [connectOnly, both]) {
    // Clients' sessions (connect's transports keep theirs open) are closed with the servers.
    server.on("session", (session) => sessions.add(session));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
  }
  connectPort = (connectOnly.address() as AddressInfo).port;
  leanPort = (both.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const session of sessions) session.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

const audio = (bytes: number[] | Uint8Array) =>
  toBinary(StreamingRecognizeRequestSchema, create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: Uint8Array.from(bytes) } }));
const envelope = (message: Uint8Array, flags = 0) => Buffer.from(encodeEnvelope(flags, message));

interface Answer {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders | undefined;
}

/** One raw gRPC call: `chunks` written as separate writes, a turn apart, then the half-close. */
async function rawCall(port: number, chunks: Uint8Array[], headers: http2.OutgoingHttpHeaders = {}): Promise<Answer> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const stream = session.request({
      ":method": "POST",
      ":path": PATH,
      "content-type": "application/grpc",
      te: "trailers",
      "x-request-id": "req-1",
      ...headers,
    });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    const body: Buffer[] = [];
    stream.on("response", (h) => (responseHeaders = h));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (chunk: Buffer) => body.push(chunk));
    stream.on("error", () => undefined);
    const closed = once(stream, "close");
    for (const chunk of chunks) {
      if (stream.closed) break;
      stream.write(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (!stream.closed) stream.end();
    await closed;
    delete responseHeaders.date;
    return { headers: responseHeaders, body: Buffer.concat(body), trailers };
  } finally {
    session.close();
  }
}

/** The same call on both servers: the lean server's answer, after checking it equals connect-node's and took the lean path. */
async function sameOnBoth(chunks: Uint8Array[], headers?: http2.OutgoingHttpHeaders): Promise<Answer> {
  const before = claimed;
  const viaConnect = await rawCall(connectPort, chunks, headers);
  const viaLean = await rawCall(leanPort, chunks, headers);
  expect(claimed).toBe(before + 1);
  expect(viaLean).toEqual(viaConnect);
  return viaLean;
}

describe("the lean gRPC bidi path", () => {
  it("answers a stream as connect-node does: headers with the first message, responses, trailers", async () => {
    const answer = await sameOnBoth([Buffer.concat([envelope(audio([1, 2, 3])), envelope(audio([4])), envelope(audio([]))])]);
    expect(answer.headers["content-type"]).toBe("application/grpc+proto");
    expect(answer.headers["x-handler"]).toBe("stand-in");
    expect(answer.headers["x-request-id"]).toBe("req-1");
    expect(answer.trailers).toMatchObject({ "grpc-status": "0", "x-done": "yes" });
    expect(answer.body.length).toBeGreaterThan(15);
  });

  it("reads envelopes split across chunks and merged into one, to the same answer", async () => {
    const wire = Buffer.concat([envelope(audio([1, 2, 3])), envelope(audio(new Uint8Array(3000))), envelope(audio([4]))]);
    const whole = await rawCall(leanPort, [wire]);
    const bytewise = await rawCall(leanPort, [...wire.subarray(0, 40)].map((b) => Uint8Array.of(b)).concat([wire.subarray(40)]));
    expect(bytewise).toEqual(whole);
    expect(whole).toEqual(await rawCall(connectPort, [wire]));
  });

  it("ends with the handler's error as connect-node does: status, message, metadata and grpc-status-details-bin", async () => {
    const answer = await sameOnBoth([envelope(audio([1])), envelope(audio([FAIL_WITH_DETAILS]))]);
    expect(answer.trailers?.["grpc-status"]).toBe(String(Code.FailedPrecondition));
    expect(answer.trailers?.["grpc-status-details-bin"]).toBeTruthy();
    expect(answer.trailers?.["x-why"]).toBe("marker");
  });

  it("ends an unexpected error as INTERNAL with the request id, as connect-node does", async () => {
    const answer = await sameOnBoth([envelope(audio([THROW_PLAIN]))]);
    expect(answer.trailers?.["grpc-status"]).toBe(String(Code.Internal));
    expect(decodeURIComponent(String(answer.trailers?.["grpc-message"]))).toBe("internal error (request id req-1)");
  });

  it("refuses a message over readMaxBytes with RESOURCE_EXHAUSTED, as connect-node does, after answering the one before it", async () => {
    const chunks = [envelope(audio([1])), envelope(audio(new Uint8Array(READ_MAX_BYTES + 1)))];
    const viaConnect = await rawCall(connectPort, chunks);
    const viaLean = await rawCall(leanPort, chunks);
    expect(viaLean.trailers).toEqual(viaConnect.trailers);
    expect(viaLean.trailers?.["grpc-status"]).toBe(String(Code.ResourceExhausted));
    // connect-node drops the messages that came in the same read as the oversize header (its decoder throws
    // before handing them on); the lean path hands them to the handler first, so its answer is there.
    const answered: string[] = [];
    new GrpcEnvelopeReader(1 << 20).push(viaLean.body, (_, data) =>
      answered.push(fromBinary(StreamingRecognizeResponseSchema, data).results[0]!.alternatives[0]!.transcript),
    );
    expect(answered).toEqual(["1"]);
  });

  it("refuses a compressed envelope on a stream that negotiated no compression, as connect-node does", async () => {
    const answer = await sameOnBoth([envelope(audio([1])), envelope(audio([2]), 1)]);
    expect(answer.trailers?.["grpc-status"]).toBe(String(Code.Internal));
  });

  it("refuses an envelope cut short by the half-close, as connect-node does", async () => {
    const answer = await sameOnBoth([envelope(audio([1])), envelope(audio([2, 3])).subarray(0, 6)]);
    expect(answer.trailers?.["grpc-status"]).toBe(String(Code.InvalidArgument));
  });

  it("fails an undecodable message as connect-node does", async () => {
    const answer = await sameOnBoth([envelope(Uint8Array.of(0xff, 0xff, 0xff))]);
    expect(answer.trailers?.["grpc-status"]).toBe(String(Code.Internal));
  });

  it("refuses a malformed grpc-timeout, and one over the maximum, as connect-node does", async () => {
    const malformed = await sameOnBoth([envelope(audio([1]))], { "grpc-timeout": "soon" });
    expect(malformed.trailers?.["grpc-status"]).toBe(String(Code.InvalidArgument));
    const tooLong = await sameOnBoth([envelope(audio([1]))], { "grpc-timeout": "2H" });
    expect(tooLong.trailers?.["grpc-status"]).toBe(String(Code.InvalidArgument));
  });

  it("writes many large responses through HTTP/2 flow control, as connect-node does", async () => {
    const answer = await sameOnBoth([envelope(audio([MANY_LARGE]))], { "grpc-accept-encoding": "identity" });
    expect(answer.body.length).toBeGreaterThan(64 * 16 * 1024);
  });

  it("compresses large responses with the encoding the client accepts, as connect-node does", async () => {
    const answer = await sameOnBoth([envelope(audio([MANY_LARGE]))], { "grpc-accept-encoding": "gzip" });
    expect(answer.headers["grpc-encoding"]).toBe("gzip");
    expect(answer.body[0]).toBe(1);
  });

  /**
   * The reason the handler's signal was aborted with, on connect-node then on the lean path, for a held
   * stream opened with `headers` that `act` then ends (cancels, or lets time out).
   */
  async function abortReasonsOnBoth(headers: http2.OutgoingHttpHeaders, act: (stream: http2.ClientHttp2Stream) => Promise<void>): Promise<ConnectError[]> {
    const reasons: ConnectError[] = [];
    for (const port of [connectPort, leanPort]) {
      aborts = [];
      gate = undefined;
      const session = http2.connect(`http://127.0.0.1:${port}`);
      try {
        const stream = session.request({ ":method": "POST", ":path": PATH, "content-type": "application/grpc", te: "trailers", "x-hold": "1", ...headers });
        stream.on("error", () => undefined);
        await act(stream);
        await expect.poll(() => aborts.length).toBe(1);
        expect(aborts[0]).toBeInstanceOf(ConnectError);
        reasons.push(aborts[0] as ConnectError);
        gate!();
        if (!stream.closed) await once(stream, "close");
      } finally {
        session.close();
      }
    }
    return reasons;
  }

  it("aborts the handler's signal with CANCELED when the client resets the stream, as connect-node does", async () => {
    const [connect, lean] = await abortReasonsOnBoth({}, async (stream) => {
      stream.write(envelope(audio([1])));
      await expect.poll(() => gate).toBeDefined();
      stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    expect(lean!.code).toBe(Code.Canceled);
    expect(lean!.message).toBe(connect!.message);
  });

  it("aborts the handler's signal with DEADLINE_EXCEEDED at the client's grpc-timeout, as connect-node does", async () => {
    const [connect, lean] = await abortReasonsOnBoth({ "grpc-timeout": "100m" }, async (stream) => {
      stream.on("data", () => undefined);
      stream.end(envelope(audio([1])));
    });
    expect(connect!.code).toBe(Code.DeadlineExceeded);
    expect(lean!.code).toBe(Code.DeadlineExceeded);
    expect(lean!.message).toBe(connect!.message);
  });

  it("pauses the HTTP/2 stream while the handler does not read, then delivers every message in order", async () => {
    const session = http2.connect(`http://127.0.0.1:${leanPort}`);
    const stream = session.request({ ":method": "POST", ":path": PATH, "content-type": "application/grpc", te: "trailers", "x-hold": "1" });
    const body: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => body.push(chunk));
    const messages = 64;
    for (let i = 0; i < messages; i++) stream.write(envelope(audio(new Uint8Array(16 * 1024 + i))));
    // Settled: what the server takes in while its handler reads nothing stops changing.
    let last = -1;
    await expect
      .poll(
        () => {
          const pending = stream.writableLength;
          const settled = pending === last;
          last = pending;
          return settled;
        },
        { interval: 100, timeout: 10_000 },
      )
      .toBe(true);
    // More than a megabyte sent; the server's queue bound and HTTP/2 windows hold a fraction of it.
    expect(stream.writableLength).toBeGreaterThan(256 * 1024);
    gate!();
    stream.end();
    await once(stream, "close");
    session.close();
    // One response per audio message, each carrying that message's length: none lost, none reordered.
    const transcripts: number[] = [];
    new GrpcEnvelopeReader(1 << 20).push(Buffer.concat(body), (_, data) =>
      transcripts.push(Number(fromBinary(StreamingRecognizeResponseSchema, data).results[0]!.alternatives[0]!.transcript)),
    );
    expect(transcripts).toEqual(Array.from({ length: messages }, (_, i) => 16 * 1024 + i));
  });

  it("leaves a gzip-compressed request to connect-node, which serves it", async () => {
    const before = claimed;
    const client = createClient(
      SpeechService,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${leanPort}`, sendCompression: compressionGzip, compressMinBytes: 1 }),
    );
    async function* requests() {
      yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: new Uint8Array(2000) } });
    }
    const transcripts: string[] = [];
    for await (const response of client.streamingRecognize(requests())) transcripts.push(response.results[0]!.alternatives[0]!.transcript);
    expect(transcripts).toEqual(["2000"]);
    expect(claimed).toBe(before);
  });

  it("serves a plain @connectrpc gRPC client on the lean path", async () => {
    const before = claimed;
    const client = createClient(SpeechService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${leanPort}` }));
    async function* requests() {
      for (const n of [5, 6, 7]) yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: new Uint8Array(n) } });
    }
    const transcripts: string[] = [];
    for await (const response of client.streamingRecognize(requests())) transcripts.push(response.results[0]!.alternatives[0]!.transcript);
    expect(transcripts).toEqual(["5", "6", "7"]);
    expect(claimed).toBe(before + 1);
  });
});
