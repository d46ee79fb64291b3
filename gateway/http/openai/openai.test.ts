// OpenAI's audio API served by the platform (issue 19, item 1), with the official `openai` SDK as the client:
// a keypad-tone WAV transcribed by the `dtmf` model in every response format and as a stream, the models
// listed, errors in OpenAI's shape, the bill equal to Recognize's, and a file longer than Recognize takes
// transcribed through a batch job without the client knowing.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI, { toFile } from "openai";
import { ApiKeyService, ApiKeyScope } from "../../../proto/gen/arabicstt/v1/api_key_pb.js";
import { SpeechService } from "../../../proto/gen/arabicstt/v1/speech_pb.js";
import { createAudioDir, sox, soxDtmf, type AudioDir } from "../../../inference/local/testing/audio.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../testing/platform.js";
import { registerOwner } from "../../testing/accounts.js";

const MAX_UPLOAD = 3_000_000;
let h: TestPlatform;
let audio: AudioDir;
let base: string;
let key: string;
let openai: OpenAI;
let wav: Buffer;
/** When the keys of `wav` sound, in seconds. */
let keys: { key: string; start: number; end: number }[];

const wavFile = () => toFile(wav, "call.wav", { type: "audio/wav" });

beforeAll(async () => {
  // Jobs run in this process even with Redis, so a long file's batch job finishes without a worker.
  // Uploads of at most 3 MB (the long file below is 1 MB): a larger file is refused before it is all read.
  h = await startTestPlatform({ ...UNTHROTTLED, LOG_LEVEL: "silent", MAX_UPLOAD_BYTES: String(MAX_UPLOAD) }, { jobs: { runJobs: true } });
  audio = await createAudioDir("arabicstt-openai-");
  keys = await soxDtmf("42", audio.path("call.wav"), { leadMs: 300 });
  wav = await readFile(audio.path("call.wav"));
  const owner = await registerOwner(h);
  const created = await h.client(ApiKeyService, { credential: owner.accessToken }).createApiKey({
    name: "open-webui",
    scopes: [ApiKeyScope.SPEECH, ApiKeyScope.MEDIA_READ, ApiKeyScope.MEDIA_WRITE, ApiKeyScope.JOBS_READ, ApiKeyScope.JOBS_WRITE, ApiKeyScope.TRANSCRIPTS_READ],
  });
  key = created.secret;
  base = `http://127.0.0.1:${h.platform.gateway.httpPort}/v1`;
  openai = new OpenAI({ apiKey: key, baseURL: base, maxRetries: 0 });
}, 120_000);

afterAll(async () => {
  await h?.stop();
  await audio?.remove();
});

describe("POST /v1/audio/transcriptions with the openai SDK", () => {
  it("answers json with the text and the seconds billed, the same bill as Recognize", async () => {
    const result = await openai.audio.transcriptions.create({ file: await wavFile(), model: "dtmf" });
    expect(result.text).toBe("42");
    const recognized = await h.client(SpeechService, { credential: key }).recognize({ config: { model: "dtmf" }, audioSource: { case: "content", value: wav } });
    expect(result.usage).toEqual({ type: "duration", seconds: Number(recognized.metadata!.billedDuration!.seconds) });
  });

  it("answers text", async () => {
    const text = await openai.audio.transcriptions.create({ file: await wavFile(), model: "dtmf", response_format: "text" });
    expect(text).toBe("42\n");
  });

  it("answers srt and vtt cues timed to the tones", async () => {
    const srt = await openai.audio.transcriptions.create({ file: await wavFile(), model: "dtmf", response_format: "srt" });
    expect(srt).toMatch(/^1\n00:00:00,\d{3} --> 00:00:0\d,\d{3}\n42\n/);
    const vtt = await openai.audio.transcriptions.create({ file: await wavFile(), model: "dtmf", response_format: "vtt" });
    expect(vtt).toMatch(/^WEBVTT\n/);
    expect(vtt).toMatch(/00:00:00\.\d{3} --> 00:00:0\d\.\d{3}\n42\n/);
  });

  it("answers verbose_json with segments, and words when asked for, at the tones' times", async () => {
    const result = await openai.audio.transcriptions.create({
      file: await wavFile(),
      model: "dtmf",
      language: "ar",
      response_format: "verbose_json",
      timestamp_granularities: ["word", "segment"],
      temperature: 0,
      prompt: "أرقام الهاتف",
    });
    expect(result).toMatchObject({ task: "transcribe", language: "ar", text: "42" });
    expect(result.duration).toBeGreaterThan(keys.at(-1)!.end);
    expect(result.segments!.map((s) => s.text)).toEqual(["42"]);
    // A segment starts where the recogniser heard speech start, a little before the first tone.
    expect(result.segments![0]!.start).toBeLessThanOrEqual(keys[0]!.start);
    expect(result.segments![0]!.end).toBeGreaterThanOrEqual(keys.at(-1)!.end - 0.05);
    expect(result.words!.map((w) => w.word).join("")).toBe("42");
    expect(result.words![0]!.start).toBeCloseTo(keys[0]!.start, 1);

    const segmentsOnly = await openai.audio.transcriptions.create({ file: await wavFile(), model: "dtmf", response_format: "verbose_json" });
    expect(segmentsOnly.segments).toHaveLength(1);
    expect(segmentsOnly.words).toBeUndefined();
  });

  it("streams transcript.text.delta events, then transcript.text.done with the whole text", async () => {
    const stream = await openai.audio.transcriptions.create({ file: await wavFile(), model: "dtmf", stream: true });
    const events: Array<{ type: string; delta?: string; text?: string }> = [];
    for await (const event of stream) events.push(event);
    expect(events.at(-1)).toMatchObject({ type: "transcript.text.done", text: "42" });
    const deltas = events.slice(0, -1);
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.every((e) => e.type === "transcript.text.delta")).toBe(true);
    expect(deltas.map((e) => e.delta).join("")).toBe("42");
  });

  it("transcribes a file longer than Recognize takes through a batch job, as the same answer", async () => {
    await sox("-D", audio.path("call.wav"), audio.path("long.wav"), "pad", "0", "62");
    const long = await readFile(audio.path("long.wav"));
    const result = await openai.audio.transcriptions.create({ file: await toFile(long, "long.wav", { type: "audio/wav" }), model: "dtmf", response_format: "verbose_json" });
    expect(result.text).toBe("42");
    expect(result.duration).toBeGreaterThan(60);
    expect(result.segments![0]!.start).toBeCloseTo(keys[0]!.start, 1);
  }, 120_000);
});

describe("errors in OpenAI's shape", () => {
  it("refuses a key that is not ours with 401", async () => {
    const stranger = new OpenAI({ apiKey: "astt_not_a_key_of_ours_0000000000000000000000", baseURL: base, maxRetries: 0 });
    const err = await stranger.audio.transcriptions.create({ file: await wavFile(), model: "dtmf" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).error).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key", param: null, message: expect.any(String) });
  });

  it("refuses a request without a file with 400 naming the parameter", async () => {
    const form = new FormData();
    form.set("model", "dtmf");
    const res = await fetch(`${base}/audio/transcriptions`, { method: "POST", body: form, headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { message: expect.stringContaining("file"), type: "invalid_request_error", param: "file", code: "missing_required_parameter" } });
  });

  it("answers 404 model_not_found for a model there is not", async () => {
    const err = await openai.audio.transcriptions.create({ file: await wavFile(), model: "whisper-9" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({ type: "invalid_request_error", param: "model", code: "model_not_found" });
  });

  it("refuses a file over the upload limit with 413", async () => {
    const big = new Uint8Array(MAX_UPLOAD + 500_000);
    const err = await openai.audio.transcriptions.create({ file: await toFile(big, "big.wav", { type: "audio/wav" }), model: "dtmf" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ param: "file", code: "file_too_large" });
  });

  it("refuses a form field it does not know, as OpenAI does", async () => {
    const form = new FormData();
    form.set("file", new Blob([wav], { type: "audio/wav" }), "call.wav");
    form.set("model", "dtmf");
    form.set("speed", "2");
    const res = await fetch(`${base}/audio/transcriptions`, { method: "POST", body: form, headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string; param: string } }).error).toMatchObject({ message: "Unrecognized request argument supplied: speed", param: "speed" });
  });
});

describe("metrics", () => {
  it("counts requests by endpoint and status on /metrics", async () => {
    const line = 'arabicstt_openai_requests_total{endpoint="transcriptions",status="401"}';
    let text = "";
    for (let n = 0; n < 100 && !text.includes(line); n++) {
      text = await (await fetch(`http://127.0.0.1:${h.platform.gateway.httpPort}/metrics`)).text();
      if (!text.includes(line)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(text).toContain(line);
    expect(text).toMatch(/arabicstt_openai_requests_total\{endpoint="transcriptions",status="200"\} \d+/);
  });
});

describe("GET /v1/models", () => {
  it("lists the catalog's models and retrieves one; an unknown one is 404", async () => {
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toContain("dtmf");
    expect(await openai.models.retrieve("dtmf")).toEqual({ id: "dtmf", object: "model", created: 0, owned_by: "arabicstt" });
    await expect(openai.models.retrieve("whisper-9")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});
