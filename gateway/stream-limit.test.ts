// The live-stream limit as a call centre meets it: each organisation holds at most N
// StreamingRecognize streams open; the next gets RESOURCE_EXHAUSTED with retry-after, and a
// stream that ends or is cancelled gives its slot back.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import {
  SpeechService,
  StreamingRecognizeResponseSchema,
  type StreamingRecognizeRequest,
  type StreamingRecognizeRequestSchema,
} from "../proto/gen/arabicstt/v1/speech_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { productRoutes } from "./routes.js";
import { startTestGateway, type TestGateway } from "./testing/test-gateway.js";
import { startTestIdentity, type TestIdentity } from "./testing/test-identity.js";
import { transports, withHeaders } from "./testing/clients.js";
import { MemoryStreamSlots, RedisStreamSlots } from "../services/platform/limits/stream-slots.js";
import { testEnvironment } from "../services/platform/config/test-environment.js";

type Request = MessageInitShape<typeof StreamingRecognizeRequestSchema>;

/** A request stream the test feeds by hand and ends when it likes. */
function feed() {
  const queue: Request[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  return {
    push(req: Request) {
      queue.push(req);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    async *stream(): AsyncIterable<Request> {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (ended) return;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    },
  };
}

const chunk: Request = { streamingRequest: { case: "audioContent", value: new Uint8Array(320) } };

describe("concurrent live streams per organisation", () => {
  let gw: TestGateway;
  let identity: TestIdentity;
  let redis: Redis | undefined;
  /** Real credentials: an API key and the owner of organisation A, an API key of organisation B. */
  const credentials = { keyA: "", userA: "", keyB: "" };
  beforeAll(async () => {
    const { redisUrl } = testEnvironment();
    redis = redisUrl ? new Redis(redisUrl) : undefined;
    identity = await startTestIdentity();
    const a = await identity.owner("منظمة أ");
    credentials.userA = a.accessToken;
    [credentials.keyA, credentials.keyB] = await Promise.all([identity.apiKey(["speech"], a.organizationId), identity.apiKey(["speech"])]);
    gw = await startTestGateway({
      identity,
      streamSlots: redis ? new RedisStreamSlots(redis, { limit: 2, keyPrefix: `test:${randomUUID()}` }) : new MemoryStreamSlots(2),
      routes: productRoutes({
        "arabicstt.v1.SpeechService": {
          async *streamingRecognize(requests: AsyncIterable<StreamingRecognizeRequest>) {
            for await (const _ of requests) yield create(StreamingRecognizeResponseSchema, {});
          },
        },
      }),
    });
  }, 60_000);
  afterAll(async () => {
    await gw?.drain();
    await identity?.stop();
    redis?.disconnect();
  });

  const open = (credential: string, signal?: AbortSignal) => {
    const client = createClient(SpeechService, withHeaders(transports(gw.grpcPort, gw.httpPort).grpc, { "x-api-key": credential }));
    const input = feed();
    const responses = client.streamingRecognize(input.stream(), { signal })[Symbol.asyncIterator]();
    return {
      input,
      /** Sends a chunk and waits for its answer: the stream is open on the server. */
      async roundTrip() {
        input.push(chunk);
        return responses.next();
      },
      async close() {
        input.end();
        while (!(await responses.next()).done);
      },
    };
  };
  const refusal = (s: ReturnType<typeof open>) => s.roundTrip().then(() => undefined, (e: unknown) => ConnectError.from(e));

  it("refuses the stream over the limit with retry-after, and frees slots as streams end or are cancelled", async () => {
    const first = open(credentials.keyA);
    await first.roundTrip();
    const cancel = new AbortController();
    const second = open(credentials.userA, cancel.signal);
    await second.roundTrip();

    const third = await refusal(open(credentials.keyA));
    expect(third?.code).toBe(Code.ResourceExhausted);
    expect(Number(third?.metadata.get("retry-after"))).toBeGreaterThan(0);
    // Another organisation has slots of its own.
    const other = open(credentials.keyB);
    await other.roundTrip();

    await first.close();
    const fourth = open(credentials.keyA);
    await fourth.roundTrip();
    expect((await refusal(open(credentials.keyA)))?.code).toBe(Code.ResourceExhausted);

    cancel.abort();
    // The cancelled stream's slot comes back once the server sees the cancellation; bounded retry.
    let fifth: ReturnType<typeof open> | undefined;
    for (let attempt = 0; attempt < 50 && !fifth; attempt++) {
      const candidate = open(credentials.keyA);
      if (!(await refusal(candidate))) fifth = candidate;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(fifth).toBeDefined();
    await Promise.all([fifth!.close(), fourth.close(), other.close()]);
  });
});
