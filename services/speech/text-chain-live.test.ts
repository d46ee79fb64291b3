// The Arabic text chain on live recognition and Recognize, through the public API: the whole platform
// with the `dtmf` model, whose transcripts are exact digit strings (keys pressed), so what the chain does
// to digits shows exactly: numerals written as numeral_style asks, and redaction, which no partial or
// final may escape, even while a number is still being keyed in across several partials.
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { grpcJsClient, loadGrpcJsPackage } from "../../gateway/testing/clients.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../gateway/testing/platform.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { AudioEncoding, NumeralStyle, RedactionType } from "../../proto/gen/arabicstt/v1/recognition_pb.js";

interface WireResponse {
  results: Array<{ alternatives: Array<{ transcript: string; words: Array<{ word: string }> }>; is_final: boolean }>;
}

/** 16 kHz LINEAR16 of `keys` (100 ms tones, 100 ms gaps) after `leadMs`, then a second of silence. */
function keypad(keys: string, leadMs = 300): Buffer {
  const { audio } = dtmfSequence(keys, { sampleRate: 16_000, leadMs, toneMs: 100, gapMs: 100 });
  const pcm = Buffer.alloc((audio.length + 16_000) * 2);
  audio.forEach((x, i) => pcm.writeInt16LE(Math.round(x * 32767), 2 * i));
  return pcm;
}

describe("the Arabic text chain on live recognition and Recognize", () => {
  let h: TestPlatform;
  let owner: TestAccount;
  let grpcClient: grpc.Client;

  beforeAll(async () => {
    h = await startTestPlatform({ JOB_DEFAULT_MODEL: "dtmf", ...UNTHROTTLED });
    owner = await registerOwner(h);
    grpcClient = grpcJsClient(loadGrpcJsPackage(), "arabicstt.v1.SpeechService", `127.0.0.1:${h.platform.gateway.grpcPort}`, { authorization: `Bearer ${owner.accessToken}` });
  });
  afterAll(async () => {
    grpcClient?.close();
    await h?.stop();
  });

  function stream(config: object, pcm: Buffer): Promise<WireResponse[]> {
    return new Promise((resolve, reject) => {
      const call = (grpcClient as unknown as { StreamingRecognize(): grpc.ClientDuplexStream<object, WireResponse> }).StreamingRecognize();
      const responses: WireResponse[] = [];
      call.on("data", (r: WireResponse) => responses.push(r));
      call.on("error", reject);
      call.on("end", () => resolve(responses));
      call.write({ streaming_config: config });
      void (async () => {
        for (let at = 0; at < pcm.length; at += 640) {
          call.write({ audio_content: pcm.subarray(at, at + 640) });
          await new Promise((r) => setTimeout(r, 2));
        }
        call.end();
      })();
    });
  }

  it("redacts a phone number keyed in live: no partial or final shows its digits, even while it is being keyed", async () => {
    const config = {
      config: { encoding: "AUDIO_ENCODING_LINEAR16", sample_rate_hz: 16000, model: "dtmf", redaction_config: { types: ["REDACTION_TYPE_PHONE_NUMBER"] } },
      interim_results: true,
    };
    const responses = await stream(config, keypad("0551234567"));
    const texts = responses.flatMap((r) => r.results.map((x) => ({ final: x.is_final, text: x.alternatives[0]!.transcript })));
    // Partials made only of digits still being keyed are held back whole (the next test shows they exist).
    for (const t of texts) expect(t.text, `${t.final ? "final" : "partial"} "${t.text}"`).not.toMatch(/\d{3}/);
    expect(texts.filter((t) => t.final).map((t) => t.text)).toEqual(["[REDACTED]"]);
  });

  it("without redaction, the same keys come through as they are, partials included", async () => {
    const config = { config: { encoding: "AUDIO_ENCODING_LINEAR16", sample_rate_hz: 16000, model: "dtmf" }, interim_results: true };
    const responses = await stream(config, keypad("0551234567"));
    const finals = responses.flatMap((r) => r.results.filter((x) => x.is_final).map((x) => x.alternatives[0]!.transcript));
    expect(finals).toEqual(["0551234567"]);
    const partials = responses.flatMap((r) => r.results.filter((x) => !x.is_final).map((x) => x.alternatives[0]!.transcript));
    expect(partials.some((p) => /\d{3}/.test(p))).toBe(true);
  });

  it("Recognize writes digits as numeral_style asks and redacts a payment card, over Connect", async () => {
    const speech = h.client(SpeechService, { credential: owner.accessToken, protocol: "connect" });
    const indic = await speech.recognize({
      config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf", arabicTextConfig: { numeralStyle: NumeralStyle.ARABIC_INDIC } },
      audioSource: { case: "content", value: keypad("4711") },
    });
    expect(indic.results.map((r) => r.alternatives[0]!.transcript)).toEqual(["٤٧١١"]);
    // 4111 1111 1111 1111 is Luhn-valid (the test card of the payment networks).
    const card = await speech.recognize({
      config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf", redactionConfig: { types: [RedactionType.PAYMENT_CARD] } },
      audioSource: { case: "content", value: keypad("4111111111111111") },
    });
    expect(card.results.map((r) => r.alternatives[0]!.transcript)).toEqual(["[REDACTED]"]);
  });

  it("max_alternatives: Recognize and live finals give one to N hypotheses, each through the text chain; 11 is INVALID_ARGUMENT", async () => {
    const speech = h.client(SpeechService, { credential: owner.accessToken, protocol: "connect" });
    const config = { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf", maxAlternatives: 3, arabicTextConfig: { numeralStyle: NumeralStyle.ARABIC_INDIC } };
    const res = await speech.recognize({ config, audioSource: { case: "content", value: keypad("4711") } });
    expect(res.results).toHaveLength(1);
    const alternatives = res.results[0]!.alternatives;
    // The keypad model has no n-best: it gives one, which "at most max_alternatives" allows.
    expect(alternatives.length).toBeGreaterThanOrEqual(1);
    expect(alternatives.length).toBeLessThanOrEqual(3);
    expect(alternatives[0]!.transcript).toBe("٤٧١١");
    // Every hypothesis went through the chain: none keeps Western digits.
    for (const a of alternatives) expect(a.transcript).not.toMatch(/[0-9]/);

    const live = await stream(
      { config: { encoding: "AUDIO_ENCODING_LINEAR16", sample_rate_hz: 16000, model: "dtmf", max_alternatives: 3, arabic_text_config: { numeral_style: "NUMERAL_STYLE_ARABIC_INDIC" } } },
      keypad("4711"),
    );
    const finals = live.flatMap((r) => r.results.filter((x) => x.is_final));
    expect(finals.map((f) => f.alternatives[0]!.transcript)).toEqual(["٤٧١١"]);
    for (const f of finals) expect(f.alternatives.length).toBeLessThanOrEqual(3);

    const err = await speech.recognize({ config: { ...config, maxAlternatives: 11 }, audioSource: { case: "content", value: keypad("1") } }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.InvalidArgument);
    // The contract's own rule (0 to 10) answers first, naming the field.
    expect(err?.rawMessage).toMatch(/config\.max_alternatives/);
  });
});
