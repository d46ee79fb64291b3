// The field table kept at the door: through the whole platform (its gateway, interceptors and a real
// sidecar), a request that sets a field the table refuses is answered with the table's code and a message
// naming the field as the client wrote it, on unary and bidi RPCs, over gRPC and Connect; a request that
// leaves such fields at their defaults (or at a value the table lets through) is served.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "./testing/platform.js";
import { registerOwner, type TestAccount } from "./testing/accounts.js";
import { withHeaders } from "./testing/clients.js";
import { fieldPolicyInterceptor } from "./interceptors/field-policy.js";
import { AudioEncoding, DenoiseMode, RedactionType } from "../proto/gen/arabicstt/v1/recognition_pb.js";
import { SpeechService, StreamingRecognizeRequestSchema, type StreamingRecognizeRequest } from "../proto/gen/arabicstt/v1/speech_pb.js";
import { JobService } from "../proto/gen/arabicstt/v1/job_pb.js";
import type { FieldEntry } from "../services/app/contract/fields.js";

let h: TestPlatform;
let owner: TestAccount;

beforeAll(async () => {
  h = await startTestPlatform(UNTHROTTLED);
  owner = await registerOwner(h);
}, 60_000);
afterAll(() => h?.stop());

type Protocol = "grpc" | "connect";
/** gRPC on the h2c listener, or Connect over HTTP/2 there too (bidi streams need HTTP/2). */
function speech(protocol: Protocol): Client<typeof SpeechService> {
  if (protocol === "grpc") return h.client(SpeechService, { credential: owner.accessToken });
  const transport = createConnectTransport({ baseUrl: `http://127.0.0.1:${h.platform.gateway.grpcPort}`, httpVersion: "2" });
  return createClient(SpeechService, withHeaders(transport, { authorization: `Bearer ${owner.accessToken}` }));
}

async function failure(call: Promise<unknown> | (() => Promise<unknown>)): Promise<ConnectError> {
  try {
    await (typeof call === "function" ? call() : call);
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the call succeeded");
}

/** Half a second of 16 kHz LINEAR16 silence: recognised to nothing, quickly. */
const silence = new Uint8Array(16_000);
const pcm = { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf" };

async function* messages(...items: StreamingRecognizeRequest[]): AsyncIterable<StreamingRecognizeRequest> {
  yield* items;
}
const configMessage = (config: Record<string, unknown>) => create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "streamingConfig", value: { config } } });
const audioMessage = () => create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: silence } });

async function drain(responses: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of responses) n++;
  return n;
}

describe.each(["grpc", "connect"] as const)("the field policy over %s", (protocol) => {
  it("refuses set fields the table refuses on a unary RPC, naming each with its path and code", async () => {
    const client = speech(protocol);
    // Recognize refuses no field now (denoise was the last); CreateLiveSession and CreateJob are unary too.
    const jobs = h.client(JobService, { credential: owner.accessToken, protocol });
    // Thunks, called one at a time: a second call made up front would reject unobserved while the first is awaited.
    const cases: Array<[() => Promise<unknown>, Code, string]> = [
      [() => client.createLiveSession({ streamingConfig: { config: { ...pcm, denoise: DenoiseMode.SPECTRAL } } }), Code.InvalidArgument, "streaming_config.config.denoise: "],
      [() => jobs.createJob({ mediaId: crypto.randomUUID(), config: { model: "dtmf", endpointingConfig: { utteranceEndSilence: { seconds: 2n } } } }), Code.InvalidArgument, "config.endpointing_config.utterance_end_silence: "],
    ];
    for (const [call, code, prefix] of cases) {
      const err = await failure(call);
      expect({ code: err.code, message: err.rawMessage.slice(0, prefix.length) }, prefix).toEqual({ code, message: prefix });
    }
  });

  it("lets defaults and the values the table allows through to the handler", async () => {
    // max_alternatives 1 means what the platform does anyway; unset Arabic text options are not looked at.
    const res = await speech(protocol).recognize({ config: { ...pcm, maxAlternatives: 1, denoise: DenoiseMode.OFF, verbatim: false }, audioSource: { case: "content", value: silence } });
    expect(res.metadata?.requestId).not.toBe("");
  });

  it("names a refused field nested in the config of a batch job, and lets AUTO and switches asking for what jobs do through to the handler", async () => {
    const jobs = h.client(JobService, { credential: owner.accessToken, protocol });
    const endpointing = await failure(jobs.createJob({ mediaId: crypto.randomUUID(), config: { model: "dtmf", endpointingConfig: { utteranceEndSilence: { seconds: 2n } } } }));
    expect(endpointing.code).toBe(Code.InvalidArgument);
    expect(endpointing.rawMessage).toMatch(/^config\.endpointing_config\.utterance_end_silence: /);
    // Applied switches pass to the handler (which answers for the unknown media).
    const asked = await failure(jobs.createJob({ mediaId: crypto.randomUUID(), config: { model: "dtmf", enableWordTimeOffsets: true, diarizationConfig: { enableSpeakerDiarization: true } } }));
    expect(asked.code).toBe(Code.NotFound);
    // An n-best is applied on jobs too (each segment keeps its runner-ups): 3 passes to the handler, 11 breaks the contract's 0 to 10.
    const alternatives = await failure(jobs.createJob({ mediaId: crypto.randomUUID(), config: { model: "dtmf", maxAlternatives: 3 } }));
    expect(alternatives.code).toBe(Code.NotFound);
    const tooMany = await failure(jobs.createJob({ mediaId: crypto.randomUUID(), config: { model: "dtmf", maxAlternatives: 11 } }));
    expect(tooMany.code).toBe(Code.InvalidArgument);
    expect(tooMany.rawMessage).toMatch(/config\.max_alternatives: /);
    // AUTO reads the file, and another encoding is checked against the media's codec: the policy lets both
    // pass, and the handler answers for the unknown media.
    for (const encoding of [AudioEncoding.AUTO, AudioEncoding.FLAC]) {
      const hinted = await failure(jobs.createJob({ mediaId: crypto.randomUUID(), config: { model: "dtmf", encoding } }));
      expect(hinted.code).toBe(Code.NotFound);
    }
  });

  it("checks each message of a bidi stream: the config first, and a config sent later", async () => {
    const client = speech(protocol);
    const first = await failure(() => drain(client.streamingRecognize(messages(configMessage({ ...pcm, denoise: DenoiseMode.SPECTRAL }), audioMessage()))));
    expect(first.code).toBe(Code.InvalidArgument);
    expect(first.rawMessage).toMatch(/^streaming_config\.config\.denoise: /);
    // A valid start, then a second config carrying a refused field: refused as it passes, naming the field.
    const later = await failure(() => drain(client.streamingRecognize(messages(configMessage(pcm), audioMessage(), configMessage({ ...pcm, denoise: DenoiseMode.SPECTRAL })))));
    expect(later.code).toBe(Code.InvalidArgument);
    expect(later.rawMessage).toMatch(/^streaming_config\.config\.denoise: /);
    // The same stream with defaults is served to its end.
    expect(await drain(client.streamingRecognize(messages(configMessage({ ...pcm, maxAlternatives: 1 }), audioMessage())))).toBeGreaterThan(0);
  });

  it("refuses resume on CreateLiveSession with INVALID_ARGUMENT, as the table says: sessions are resumed by watching them", async () => {
    // The contract's own validation rule refuses it first (validation runs before the field policy); the
    // table's entry says the same, so the answer is one whichever check comes first.
    const err = await failure(speech(protocol).createLiveSession({ streamingConfig: { config: pcm, resume: { sessionId: crypto.randomUUID() } } }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("streaming_config.resume");
  });
});

describe("the field policy on a server stream", () => {
  // No server-streaming RPC of the contracts has a refused field today, so the interceptor is shown on one
  // with a table that refuses WatchJob's job_id: the check must run before the handler's first response.
  it("refuses before the handler runs, and serves a request that leaves the field unset", async () => {
    const table: Record<string, FieldEntry> = {
      "arabicstt.v1.WatchJobRequest.job_id": { kind: "refused", code: "invalid_argument", reason: "refused for this test" },
    };
    let handled = 0;
    const transport = createRouterTransport(
      ({ service }) => {
        service(JobService, {
          async *watchJob() {
            handled++;
            yield { jobId: "j" };
          },
        });
      },
      { router: { interceptors: [fieldPolicyInterceptor(table)] } },
    );
    const jobs = createClient(JobService, transport);
    const err = await failure(() => drain(jobs.watchJob({ jobId: "x" })));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe("job_id: refused for this test");
    expect(handled).toBe(0);
    expect(await drain(jobs.watchJob({}))).toBe(1);
  });
});
