// An organisation's default model and language (OrganizationSettings) apply to live recognition and
// Recognize exactly as to CreateJob: a request that leaves them unset runs with the organisation's, then
// the server's. The platform runs as shipped (the server's default model, whisper, has no weights, so a
// request without a model is refused); once the organisation's default is `dtmf`, the same request runs
// on the keypad model, and the language it answers in is the organisation's.
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { grpcJsClient, loadGrpcJsPackage } from "../../gateway/testing/clients.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../gateway/testing/platform.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { OrganizationService } from "../../proto/gen/arabicstt/v1/organization_pb.js";
import { AudioEncoding } from "../../proto/gen/arabicstt/v1/recognition_pb.js";

interface WireResponse {
  results: Array<{ alternatives: Array<{ transcript: string }>; is_final: boolean; language_code: string }>;
}

function keypad(keys: string): Buffer {
  const { audio } = dtmfSequence(keys, { sampleRate: 16_000, leadMs: 300 });
  const pcm = Buffer.alloc((audio.length + 16_000) * 2);
  audio.forEach((x, i) => pcm.writeInt16LE(Math.round(x * 32767), 2 * i));
  return pcm;
}

describe("an organisation's default model and language on live recognition and Recognize", () => {
  let h: TestPlatform;
  let owner: TestAccount;
  beforeAll(async () => {
    h = await startTestPlatform({ ...UNTHROTTLED });
    expect(h.config.jobs.defaultModel).toBe("whisper");
    owner = await registerOwner(h);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("runs a request without a model or language on the organisation's defaults, over Recognize and StreamingRecognize", async () => {
    const speech = h.client(SpeechService, { credential: owner.accessToken });
    const request = { config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000 }, audioSource: { case: "content" as const, value: keypad("8080") } };
    // The server's default (whisper) has no weights here: the operator's to fix, not the client's to retry.
    const before = await speech.recognize(request).catch((e: unknown) => ConnectError.from(e));
    expect(before).toBeInstanceOf(ConnectError);
    expect((before as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((before as ConnectError).rawMessage).toMatch(/^config\.model: the server's default model "whisper" is not available on this server; an operator installs it/);

    await h.client(OrganizationService, { credential: owner.accessToken }).updateOrganization({ defaultModel: "dtmf", defaultLanguageCode: "ar-EG" });
    // ListModels marks the organisation's default as the caller's default, first.
    const { models } = await speech.listModels({});
    expect(models.filter((m) => m.isDefault).map((m) => m.name)).toEqual(["dtmf"]);
    expect(models[0]!.name).toBe("dtmf");
    const after = await speech.recognize(request);
    expect(after.results.map((r) => [r.alternatives[0]!.transcript, r.languageCode])).toEqual([["8080", "ar-EG"]]);

    const client = grpcJsClient(loadGrpcJsPackage(), "arabicstt.v1.SpeechService", `127.0.0.1:${h.platform.gateway.grpcPort}`, { authorization: `Bearer ${owner.accessToken}` });
    try {
      const responses = await new Promise<WireResponse[]>((resolve, reject) => {
        const call = (client as unknown as { StreamingRecognize(): grpc.ClientDuplexStream<object, WireResponse> }).StreamingRecognize();
        const got: WireResponse[] = [];
        call.on("data", (r: WireResponse) => got.push(r));
        call.on("error", reject);
        call.on("end", () => resolve(got));
        call.write({ streaming_config: { config: { encoding: "AUDIO_ENCODING_LINEAR16", sample_rate_hz: 16000 } } });
        const pcm = keypad("77");
        for (let at = 0; at < pcm.length; at += 3200) call.write({ audio_content: pcm.subarray(at, at + 3200) });
        call.end();
      });
      const finals = responses.flatMap((r) => r.results.filter((x) => x.is_final).map((x) => [x.alternatives[0]!.transcript, x.language_code]));
      expect(finals).toEqual([["77", "ar-EG"]]);
    } finally {
      client.close();
    }
  });
});
