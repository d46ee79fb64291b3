// phrase_hints over the public API: Recognize, StreamingRecognize and batch jobs put the hints, strongest
// first, in the decoder prompt that the model receives as its PROMPT input, and refuse hints over their limits
// with INVALID_ARGUMENT naming the field. What the model gets is read inside the sidecar: its own models,
// with the PROMPT of every request kept on the way in. The `dtmf` model takes PROMPT as Whisper does (the ASR
// contract) and ignores it, so the calls are quick; the boost that follows recognition is shown word by word
// in services/arabic-text/phrase-hints.test.ts, and Whisper's use of the prompt needs real weights (none here).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { withWrappedInfer } from "../../inference/local/testing/wrapped-models.js";
import { createAudioDir, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { startJobsGateway, type JobsGateway } from "../../gateway/testing/jobs-gateway.js";
import { AudioEncoding } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { SpeechService, StreamingRecognizeRequestSchema } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { JobService, JobState } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { create } from "@bufbuild/protobuf";

/** The PROMPT of every request the sidecar's dtmf model received, in order. */
const prompts: string[] = [];
const utf8 = new TextDecoder();

/** The sidecar's own models, the dtmf one keeping the PROMPT it is sent. */
function recordingPrompts() {
  return withWrappedInfer("dtmf", (infer) => (inputs, parameters, signal) => {
    const prompt = inputs.get("PROMPT");
    if (prompt) for (const row of prompt.data as Uint8Array[]) prompts.push(utf8.decode(row));
    return infer(inputs, parameters, signal);
  });
}

const HINTS = { boost: 0, phrases: [{ value: "فودافون كاش", boost: 5 }, { value: "مدى", boost: 15 }, { value: "stc pay", boost: 0 }] };
const PROMPT = "مدى، stc pay، فودافون كاش";
const NINE_WORDS = "واحد اثنان ثلاثة أربعة خمسة ستة سبعة ثمانية تسعة";

/** 16 kHz LINEAR16 of `keys` (100 ms tones, 100 ms gaps) after 300 ms, then a second of silence. */
function keypad(keys: string): Buffer {
  const { audio } = dtmfSequence(keys, { sampleRate: 16_000, leadMs: 300, toneMs: 100, gapMs: 100 });
  const pcm = Buffer.alloc((audio.length + 16_000) * 2);
  audio.forEach((x, i) => pcm.writeInt16LE(Math.round(x * 32767), 2 * i));
  return pcm;
}

async function refusal(call: () => Promise<unknown>): Promise<ConnectError> {
  try {
    await call();
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("not refused");
}

let h: JobsGateway;
let audio: AudioDir;
let owner: TestAccount;

beforeAll(async () => {
  h = await startJobsGateway({ models: recordingPrompts() });
  audio = await createAudioDir("phrase-hints-");
  await soxDtmf("4711", audio.path("keys.wav"), { leadMs: 300 });
  owner = await registerOwner(h);
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await audio?.remove();
});

describe("phrase_hints", () => {
  it("reach the model as its prompt on Recognize, strongest first, and recognition goes on as before", async () => {
    prompts.length = 0;
    const speech = h.client(SpeechService, { credential: owner.accessToken });
    const response = await speech.recognize({
      config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf", phraseHints: HINTS },
      audioSource: { case: "content", value: keypad("4711") },
    });
    expect(response.results.map((r) => r.alternatives[0]!.transcript)).toEqual(["4711"]);
    expect(prompts.length).toBeGreaterThan(0);
    for (const p of prompts) expect(p.startsWith(PROMPT)).toBe(true);
  });

  it("reach the model on every decode of a live stream", async () => {
    prompts.length = 0;
    const speech = h.client(SpeechService, { credential: owner.accessToken });
    const pcm = keypad("0551");
    async function* requests() {
      yield create(StreamingRecognizeRequestSchema, {
        streamingRequest: { case: "streamingConfig", value: { config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf", phraseHints: HINTS }, interimResults: true } },
      });
      for (let at = 0; at < pcm.length; at += 640) yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: pcm.subarray(at, at + 640) } });
    }
    const finals: string[] = [];
    for await (const r of speech.streamingRecognize(requests())) for (const x of r.results) if (x.isFinal) finals.push(x.alternatives[0]!.transcript);
    expect(finals).toEqual(["0551"]);
    expect(prompts.length).toBeGreaterThan(1);
    for (const p of prompts) expect(p.startsWith(PROMPT)).toBe(true);
  });

  it("reach the model on every chunk of a batch job", async () => {
    prompts.length = 0;
    const jobs = h.client(JobService, { credential: owner.accessToken });
    const mediaId = await h.addMedia(owner.organizationId, audio.path("keys.wav"));
    const { job } = await jobs.createJob({ mediaId, config: { model: "dtmf", phraseHints: HINTS } });
    let state = job!.state;
    for await (const progress of jobs.watchJob({ jobId: job!.jobId })) state = progress.state;
    expect(state).toBe(JobState.SUCCEEDED);
    expect(prompts.length).toBeGreaterThan(0);
    for (const p of prompts) expect(p).toBe(PROMPT);
  });

  it("over their limits are INVALID_ARGUMENT naming the field, live and batch", async () => {
    const speech = h.client(SpeechService, { credential: owner.accessToken });
    const tooLong = await refusal(() =>
      speech.recognize({
        config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf", phraseHints: { phrases: [{ value: NINE_WORDS }] } },
        audioSource: { case: "content", value: keypad("1") },
      }),
    );
    expect(tooLong.code).toBe(Code.InvalidArgument);
    expect(tooLong.rawMessage).toContain("config.phrase_hints.phrases[0].value");
    // The contract's own bounds (protovalidate), before any handler.
    const boost = await refusal(() =>
      speech.recognize({
        config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf", phraseHints: { boost: 25, phrases: [{ value: "مدى" }] } },
        audioSource: { case: "content", value: keypad("1") },
      }),
    );
    expect(boost.code).toBe(Code.InvalidArgument);
    expect(boost.rawMessage).toContain("phrase_hints.boost");

    const jobs = h.client(JobService, { credential: owner.accessToken });
    const mediaId = await h.addMedia(owner.organizationId, audio.path("keys.wav"));
    const batch = await refusal(() => jobs.createJob({ mediaId, config: { model: "dtmf", phraseHints: { phrases: [{ value: "مدى" }, { value: NINE_WORDS }] } } }));
    expect(batch.code).toBe(Code.InvalidArgument);
    expect(batch.rawMessage).toContain("config.phrase_hints.phrases[1].value");
  });
});
