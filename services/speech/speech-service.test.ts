// SpeechService end to end (StreamingRecognize, Recognize, ListModels): the whole platform (its gateway, interceptors, validation, error mapping)
// in front of the live-sessions engine, the real audio decoder and a real local sidecar over gRPC, driven by
// a plain @grpc/grpc-js client (what SDKs look like on the wire) and by Connect's client.
//
// Content is exact because the model is `dtmf`, a real recogniser of a real telephony signal:
// keypad tones made by sox, as a call centre sends them (stereo 8 kHz μ-law, one party per
// channel, 20 ms frames). Speech events come from Silero VAD on espeak-ng Arabic, through a copy
// of the keypad model whose configuration gates it by `vad` (so the model sees only speech, and
// finds no keys in it).
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInferenceClient, type InferenceClient } from "../../inference/client/index.js";
import { startSidecar, type Sidecar } from "../../inference/local/server.js";
import { createDtmfModel } from "../../inference/local/models/dtmf.js";
import { localModels } from "../../inference/local/models/index.js";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { ffmpeg } from "../audio/ffmpeg-testing.js";
import { audioSeconds, createAudioDir, sox, soxDtmf, speakArabic, type AudioDir } from "../../inference/local/testing/audio.js";
import { AudioEncoding } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import {
  ModelState,
  SpeechService,
  StreamingControlType,
  StreamingRecognizeRequestSchema,
  type StreamingRecognizeRequest,
  type StreamingRecognizeResponse,
} from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { grpcJsClient, loadGrpcJsPackage } from "../../gateway/testing/clients.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../gateway/testing/platform.js";
import { registerOwner } from "../../gateway/testing/accounts.js";
import type { RunningGateway } from "../../gateway/server.js";

const logger = pino({ level: "silent" });

/** A wire response as @grpc/proto-loader decodes it (longs and enums as strings). */
interface WireDuration {
  seconds: string;
  nanos: number;
}
interface WireResponse {
  result_index: string;
  results: Array<{
    alternatives: Array<{ transcript: string; confidence: number; words: Array<{ word: string; start_offset: WireDuration | null; end_offset: WireDuration | null }> }>;
    is_final: boolean;
    stability: number;
    channel_tag: number;
  }>;
  speech_event: { type: string; offset: WireDuration; channel_tag: number } | null;
  metadata: { session_id: string; audio_bytes_received: string } | null;
}

const seconds = (d: WireDuration | null | undefined) => (d ? Number(d.seconds) + d.nanos / 1e9 : NaN);

/**
 * Runs one StreamingRecognize call with grpc-js: writes every message (respecting flow control, and `paceMs`
 * apart when given, as a live caller does), half-closes, collects.
 */
function grpcJsStreaming(client: grpc.Client, messages: object[], paceMs = 0): Promise<{ responses: WireResponse[]; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const call = (client as unknown as { StreamingRecognize(): grpc.ClientDuplexStream<object, WireResponse> }).StreamingRecognize();
    const responses: WireResponse[] = [];
    call.on("data", (r: WireResponse) => responses.push(r));
    call.on("error", (error: grpc.ServiceError) => resolve({ responses, error }));
    call.on("end", () => resolve({ responses }));
    void (async () => {
      for (const m of messages) {
        if (!call.write(m)) await new Promise((r) => call.once("drain", r));
        if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
      }
      call.end();
    })().catch(() => undefined);
  });
}

/** `bytes` in 20 ms frames of `frameBytes`. */
function frames(bytes: Uint8Array, frameBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += frameBytes) out.push(bytes.subarray(at, at + frameBytes));
  return out;
}

describe("SpeechService over a real gateway, engine and sidecar", () => {
  let audio: AudioDir;
  let modelsDir: string;
  let weightsDir: string;
  let sidecar: Sidecar;
  let inference: InferenceClient;
  /** Every audio the engine sent to a recogniser (not the VAD), by model, in seconds. */
  const transcribed: Array<{ model: string; seconds: number }> = [];
  let platform: TestPlatform;
  let gateway: RunningGateway;
  let grpcClient: grpc.Client;
  let connect: Client<typeof SpeechService>;

  beforeAll(async () => {
    audio = await createAudioDir();
    // The repository's dtmf, vad and whisper (no weights installed, so never ready), plus `keypad_vad`: the keypad model gated by VAD
    // instead of energy, and declared for Arabic only.
    modelsDir = await mkdtemp(join(tmpdir(), "arabicstt-live-models-"));
    const repository = fileURLToPath(new URL("../../inference/models/", import.meta.url));
    await cp(join(repository, "dtmf"), join(modelsDir, "dtmf"), { recursive: true });
    await cp(join(repository, "vad"), join(modelsDir, "vad"), { recursive: true });
    await cp(join(repository, "whisper"), join(modelsDir, "whisper"), { recursive: true });
    await cp(join(repository, "dtmf"), join(modelsDir, "keypad_vad"), { recursive: true });
    const pbtxt = await readFile(join(modelsDir, "keypad_vad", "config.pbtxt"), "utf8");
    await writeFile(join(modelsDir, "keypad_vad", "config.pbtxt"), pbtxt.replace('name: "dtmf"', 'name: "keypad_vad"').replace('string_value: "energy"', 'string_value: "vad"').replace('string_value: "ar,en"', 'string_value: "ar"'));
    weightsDir = await mkdtemp(join(tmpdir(), "arabicstt-live-weights-"));
    sidecar = await startSidecar({
      host: "127.0.0.1",
      port: 0,
      modelsDir,
      weightsDir,
      logger,
      models: new Map([...localModels, ["keypad_vad", createDtmfModel]]),
    });
    inference = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`] });
    const spied = new Proxy(inference, {
      get: (target, key) =>
        key === "transcribe"
          ? (model: string, samples: Float32Array, options?: object) => {
              transcribed.push({ model, seconds: samples.length / 16_000 });
              return target.transcribe(model, samples, options);
            }
          : Reflect.get(target, key),
    });
    // The whole platform, through the root `npm start` uses, with this sidecar as its models and short engine timings.
    platform = await startTestPlatform(
      { JOB_DEFAULT_MODEL: "whisper", ...UNTHROTTLED },
      { adapters: { inference: spied }, speech: { engine: { stepMs: 200, idleTimeoutMs: 1500 } } },
    );
    gateway = platform.platform.gateway;
    const owner = await registerOwner(platform, "مركز اتصال الرياض");
    grpcClient = grpcJsClient(loadGrpcJsPackage(), SpeechService.typeName, `127.0.0.1:${gateway.grpcPort}`, { authorization: `Bearer ${owner.accessToken}` });
    connect = platform.client(SpeechService, { credential: owner.accessToken });
  }, 60_000);

  afterAll(async () => {
    grpcClient?.close();
    await platform?.stop();
    inference?.close();
    await sidecar?.close();
    await audio?.remove();
    for (const dir of [modelsDir, weightsDir]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Stereo 8 kHz μ-law with `left` dialled on channel 1 and `right` on channel 2, each with its own lead-in. */
  async function stereoMulaw(name: string, left: string, right: string) {
    const leftTimes = await soxDtmf(left, audio.path(`${name}-l.wav`), { leadMs: 300 });
    const rightTimes = await soxDtmf(right, audio.path(`${name}-r.wav`), { leadMs: 1100, toneMs: 80, gapMs: 120 });
    await sox("-D", "-M", audio.path(`${name}-l.wav`), audio.path(`${name}-r.wav`), "-t", "raw", "-r", "8000", "-e", "u-law", "-b", "8", audio.path(`${name}.raw`), "pad", "0", "1.2");
    return { bytes: new Uint8Array(await readFile(audio.path(`${name}.raw`))), leftTimes, rightTimes };
  }

  it("recognises a different digit sequence on each channel of stereo 8 kHz μ-law in 20 ms frames (grpc-js)", async () => {
    const { bytes, leftTimes, rightTimes } = await stereoMulaw("call", "159#", "2468*0");
    const config = {
      streaming_config: {
        config: {
          encoding: "AUDIO_ENCODING_MULAW",
          sample_rate_hz: 8000,
          audio_channel_count: 2,
          separate_recognition_per_channel: true,
          model: "dtmf",
          enable_word_time_offsets: true,
          enable_word_confidence: true,
        },
        interim_results: true,
        voice_activity_events: true,
      },
    };
    // 20 ms of 8 kHz stereo μ-law: 160 samples × 2 channels × 1 byte, paced at four times real time, so
    // partials have audio to come from while the call goes on (a burst would leave only finals to send).
    const { responses, error } = await grpcJsStreaming(grpcClient, [config, ...frames(bytes, 320).map((f) => ({ audio_content: Buffer.from(f) }))], 5);
    expect(error).toBeUndefined();

    // The first response carries only the session's metadata; the last one too.
    expect(responses[0]!.results).toEqual([]);
    expect(responses[0]!.metadata!.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(responses.at(-1)!.metadata!.audio_bytes_received).toBe(String(bytes.length));
    // Indexes count every response with results or an event, from 0, without gaps.
    const counted = responses.slice(1, -1);
    expect(counted.map((r) => Number(r.result_index))).toEqual(counted.map((_, i) => i));

    const finals = counted.flatMap((r) => r.results.filter((x) => x.is_final));
    const byChannel = (tag: number) => finals.filter((f) => f.channel_tag === tag);
    expect(byChannel(1).map((f) => f.alternatives[0]!.transcript)).toEqual(["159#"]);
    expect(byChannel(2).map((f) => f.alternatives[0]!.transcript)).toEqual(["2468*0"]);
    for (const [tag, times] of [[1, leftTimes], [2, rightTimes]] as const) {
      const words = byChannel(tag)[0]!.alternatives[0]!.words;
      expect(words.map((w) => w.word)).toEqual(times.map((t) => t.key));
      words.forEach((w, i) => {
        expect(Math.abs(seconds(w.start_offset) - times[i]!.start)).toBeLessThan(0.03);
        expect(Math.abs(seconds(w.end_offset) - times[i]!.end)).toBeLessThan(0.03);
      });
      expect(byChannel(tag)[0]!.alternatives[0]!.confidence).toBeGreaterThan(0.5);
    }

    // Interim results came first, with a stability, on the channel they belong to.
    const interims = counted.flatMap((r) => r.results.filter((x) => !x.is_final));
    expect(interims.length).toBeGreaterThan(0);
    for (const r of interims) {
      expect(r.stability).toBeGreaterThan(0);
      expect(["159#", "2468*0"][r.channel_tag - 1]!.startsWith(r.alternatives[0]!.transcript)).toBe(true);
    }

    // Energy-gated speech events, at the tones' edges.
    const events = counted.flatMap((r) => (r.speech_event && r.speech_event.type !== "SPEECH_EVENT_TYPE_UNSPECIFIED" ? [r.speech_event] : []));
    const begin = (tag: number) => events.find((e) => e.channel_tag === tag && e.type === "SPEECH_EVENT_TYPE_SPEECH_BEGIN")!;
    expect(Math.abs(seconds(begin(1).offset) - leftTimes[0]!.start)).toBeLessThan(0.05);
    expect(Math.abs(seconds(begin(2).offset) - rightTimes[0]!.start)).toBeLessThan(0.05);
    expect(events.filter((e) => e.type === "SPEECH_EVENT_TYPE_SPEECH_END")).toHaveLength(2);
  });

  it("serves Connect's client: mono LINEAR16 at 16 kHz, FINALIZE mid-stream, CLOSE at the end", async () => {
    await soxDtmf("0123", audio.path("first.wav"), { rate: 16_000, leadMs: 200 });
    await soxDtmf("789", audio.path("second.wav"), { rate: 16_000, leadMs: 100 });
    const pcm = async (file: string) => {
      await sox("-D", audio.path(file), "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", audio.path(`${file}.raw`));
      return new Uint8Array(await readFile(audio.path(`${file}.raw`)));
    };
    const [first, second] = [await pcm("first.wav"), await pcm("second.wav")];
    const message = (init: Parameters<typeof create<typeof StreamingRecognizeRequestSchema>>[1]) => create(StreamingRecognizeRequestSchema, init);
    async function* requests(): AsyncGenerator<StreamingRecognizeRequest> {
      yield message({
        streamingRequest: {
          case: "streamingConfig",
          value: { config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf", enableWordTimeOffsets: true } },
        },
      });
      for (const f of frames(first, 640)) yield message({ streamingRequest: { case: "audioContent", value: f } });
      // No silence after the first keys: only FINALIZE ends their utterance.
      yield message({ streamingRequest: { case: "control", value: { type: StreamingControlType.FINALIZE } } });
      yield message({ streamingRequest: { case: "control", value: { type: StreamingControlType.KEEPALIVE } } });
      for (const f of frames(second, 640)) yield message({ streamingRequest: { case: "audioContent", value: f } });
      yield message({ streamingRequest: { case: "control", value: { type: StreamingControlType.CLOSE } } });
    }
    const responses: StreamingRecognizeResponse[] = [];
    for await (const r of connect.streamingRecognize(requests())) responses.push(r);
    const finals = responses.flatMap((r) => r.results.filter((x) => x.isFinal));
    expect(finals.map((f) => f.alternatives[0]!.transcript)).toEqual(["0123", "789"]);
    // The second sequence's times are in stream time: after all of the first file.
    const firstSeconds = first.length / 2 / 16_000;
    expect(Number(finals[1]!.alternatives[0]!.words[0]!.startOffset!.seconds) + finals[1]!.alternatives[0]!.words[0]!.startOffset!.nanos / 1e9).toBeCloseTo(firstSeconds + 0.1, 1);
    // Interim results were not asked for.
    expect(responses.flatMap((r) => r.results).every((x) => x.isFinal)).toBe(true);
  });

  it("reports speech begin and end from VAD on espeak-ng Arabic, and never sends silence to the model", async () => {
    await speakArabic("السلام عليكم ورحمة الله وبركاته", audio.path("speech.wav"));
    await sox("-D", audio.path("speech.wav"), audio.path("speech-trim.wav"), "silence", "1", "0.02", "1%", "reverse", "silence", "1", "0.02", "1%", "reverse");
    const spoken = await audioSeconds(audio.path("speech-trim.wav"));
    const lead = 1.5;
    await sox("-D", audio.path("speech-trim.wav"), "-r", "16000", "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", audio.path("speech.raw"), "pad", String(lead), "2");
    const bytes = new Uint8Array(await readFile(audio.path("speech.raw")));
    const config = {
      streaming_config: {
        config: { encoding: "AUDIO_ENCODING_LINEAR16", sample_rate_hz: 16000, model: "keypad_vad" },
        voice_activity_events: true,
        interim_results: true,
      },
    };
    const { responses, error } = await grpcJsStreaming(grpcClient, [config, ...frames(bytes, 640).map((f) => ({ audio_content: Buffer.from(f) }))]);
    expect(error).toBeUndefined();
    const events = responses.flatMap((r) => (r.speech_event && r.speech_event.type !== "SPEECH_EVENT_TYPE_UNSPECIFIED" ? [r.speech_event] : []));
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["SPEECH_EVENT_TYPE_SPEECH_BEGIN", "SPEECH_EVENT_TYPE_SPEECH_END"]));
    const begins = events.filter((e) => e.type === "SPEECH_EVENT_TYPE_SPEECH_BEGIN").map((e) => seconds(e.offset));
    const ends = events.filter((e) => e.type === "SPEECH_EVENT_TYPE_SPEECH_END").map((e) => seconds(e.offset));
    // Within one VAD frame (32 ms) and 50 ms of where the speech starts and stops (sox trimmed
    // the recording to the speech at 1% of full scale). Measured: 36 ms late and 56 ms late.
    const VAD_FRAME = 0.032;
    expect(Math.abs(begins[0]! - lead)).toBeLessThanOrEqual(VAD_FRAME + 0.05);
    expect(Math.abs(ends.at(-1)! - (lead + spoken))).toBeLessThanOrEqual(VAD_FRAME + 0.05);
    // Keypad tones are not speech: the model found nothing, so there is no transcript.
    expect(responses.flatMap((r) => r.results)).toEqual([]);
    // The model heard the speech (with its 192 ms run-up, a 200 ms tail and what VAD hangs over), never the 3.5 s of silence around it.
    const calls = transcribed.filter((c) => c.model === "keypad_vad");
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) expect(c.seconds).toBeLessThan(spoken + 1);
  });

  it("ends a stream of pure silence cleanly, with no transcript and no event", async () => {
    const before = transcribed.length;
    const silence = new Uint8Array(8000 * 3);
    silence.fill(0xff); // μ-law's zero
    const config = { streaming_config: { config: { encoding: "AUDIO_ENCODING_MULAW", sample_rate_hz: 8000, model: "dtmf" }, interim_results: true, voice_activity_events: true } };
    const { responses, error } = await grpcJsStreaming(grpcClient, [config, ...frames(silence, 160).map((f) => ({ audio_content: Buffer.from(f) }))]);
    expect(error).toBeUndefined();
    expect(responses).toHaveLength(2);
    expect(responses.every((r) => r.results.length === 0 && r.speech_event === null)).toBe(true);
    expect(responses[1]!.metadata!.audio_bytes_received).toBe(String(silence.length));
    expect(transcribed.length).toBe(before);
  });

  it("sends UTTERANCE_END once the speaker is silent for utterance_end_silence after the last final word", async () => {
    const { audio: tones, keys } = dtmfSequence("5", { sampleRate: 16_000, leadMs: 300, toneMs: 100 });
    const pcm = Buffer.alloc((tones.length + 32_000) * 2);
    tones.forEach((x, i) => pcm.writeInt16LE(Math.round(x * 32767), i * 2));
    const config = {
      streaming_config: {
        config: {
          encoding: "AUDIO_ENCODING_LINEAR16",
          sample_rate_hz: 16000,
          model: "dtmf",
          endpointing_config: { silence_duration: { seconds: 0, nanos: 500_000_000 }, utterance_end_silence: { seconds: 1, nanos: 0 } },
        },
        voice_activity_events: true,
      },
    };
    const { responses, error } = await grpcJsStreaming(grpcClient, [config, ...frames(pcm, 640).map((f) => ({ audio_content: Buffer.from(f) }))]);
    expect(error).toBeUndefined();
    const events = responses.flatMap((r) => (r.speech_event && r.speech_event.type !== "SPEECH_EVENT_TYPE_UNSPECIFIED" ? [r.speech_event] : []));
    expect(events.map((e) => e.type)).toEqual(["SPEECH_EVENT_TYPE_SPEECH_BEGIN", "SPEECH_EVENT_TYPE_SPEECH_END", "SPEECH_EVENT_TYPE_UTTERANCE_END"]);
    expect(Math.abs(seconds(events[1]!.offset) - keys[0]!.end)).toBeLessThan(0.05);
    expect(Math.abs(seconds(events[2]!.offset) - (keys[0]!.end + 1))).toBeLessThan(0.05);
  });

  it("reports keypad presses as DTMF events beside a VAD-gated model (IVR)", async () => {
    // Arabic speech, then keys "72#" on the same 8 kHz μ-law line.
    await speakArabic("اضغط الرقم", audio.path("ivr.wav"));
    await sox("-D", audio.path("ivr.wav"), "-r", "8000", audio.path("ivr-8k.wav"), "pad", "0.3", "0.5");
    const spokenFor = await audioSeconds(audio.path("ivr-8k.wav"));
    const keys = await soxDtmf("72#", audio.path("ivr-keys.wav"), { leadMs: 0, encoding: "signed-integer" });
    await sox("-D", audio.path("ivr-8k.wav"), audio.path("ivr-keys.wav"), "-t", "raw", "-e", "u-law", "-b", "8", audio.path("ivr.ulaw"), "pad", "0", "1.5");
    const bytes = await readFile(audio.path("ivr.ulaw"));
    const config = {
      streaming_config: {
        config: { encoding: "AUDIO_ENCODING_MULAW", sample_rate_hz: 8000, model: "keypad_vad" },
        dtmf_events: true,
      },
    };
    const { responses, error } = await grpcJsStreaming(grpcClient, [config, ...frames(bytes, 160).map((f) => ({ audio_content: Buffer.from(f) }))]);
    expect(error).toBeUndefined();
    const dtmf = responses.flatMap((r) => (r.speech_event?.type === "SPEECH_EVENT_TYPE_DTMF" ? [r.speech_event as typeof r.speech_event & { dtmf_digit: string }] : []));
    expect(dtmf.map((e) => e.dtmf_digit)).toEqual(["7", "2", "#"]);
    dtmf.forEach((e, i) => expect(Math.abs(seconds(e.offset) - (spokenFor + keys[i]!.start))).toBeLessThan(0.03));
  });

  it("with single_utterance, ends the stream after the first utterance's final", async () => {
    const first = dtmfSequence("12", { sampleRate: 16_000, leadMs: 200 }).audio;
    const second = dtmfSequence("34", { sampleRate: 16_000, leadMs: 1500 }).audio;
    const pcm = Buffer.alloc((first.length + second.length + 16_000) * 2);
    [...first, ...second].forEach((x, i) => pcm.writeInt16LE(Math.round(x * 32767), i * 2));
    const config = {
      streaming_config: {
        config: { encoding: "AUDIO_ENCODING_LINEAR16", sample_rate_hz: 16000, model: "dtmf" },
        single_utterance: true,
        voice_activity_events: true,
      },
    };
    const { responses, error } = await grpcJsStreaming(grpcClient, [config, ...frames(pcm, 640).map((f) => ({ audio_content: Buffer.from(f) }))]);
    expect(error).toBeUndefined();
    const kinds = responses.flatMap((r) => [
      ...(r.speech_event && r.speech_event.type !== "SPEECH_EVENT_TYPE_UNSPECIFIED" ? [r.speech_event.type] : []),
      ...r.results.map((x) => (x.is_final ? `final ${x.alternatives[0]!.transcript}` : "partial")),
    ]);
    expect(kinds).toEqual(["SPEECH_EVENT_TYPE_SPEECH_BEGIN", "SPEECH_EVENT_TYPE_SPEECH_END", "SPEECH_EVENT_TYPE_END_OF_SINGLE_UTTERANCE", "final 12"]);
  });

  it("keeps a quiet stream open with KEEPALIVE, and ends one that sends nothing with DEADLINE_EXCEEDED", async () => {
    const open = (client: grpc.Client) => {
      const call = (client as unknown as { StreamingRecognize(): grpc.ClientDuplexStream<object, WireResponse> }).StreamingRecognize();
      const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
        call.on("error", resolve);
        call.on("end", () => resolve(undefined));
      });
      call.on("data", () => undefined);
      call.write({ streaming_config: { config: { encoding: "AUDIO_ENCODING_LINEAR16", sample_rate_hz: 16000, model: "dtmf" } } });
      return { call, ended };
    };
    // The test recogniser's idle timeout is 1.5 s.
    const quiet = open(grpcClient);
    const silent = open(grpcClient);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 500));
      quiet.call.write({ control: { type: "STREAMING_CONTROL_TYPE_KEEPALIVE" } });
    }
    const idle = await silent.ended;
    expect(idle?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(decodeURIComponent(idle!.details)).toMatch(/no audio or keepalive for 1.5 s/);
    quiet.call.write({ control: { type: "STREAMING_CONTROL_TYPE_CLOSE" } });
    expect(await quiet.ended).toBeUndefined();
  });

  it("a stream that goes quiet mid-utterance gets the final of what it sent, then DEADLINE_EXCEEDED", async () => {
    // Keys with no silence after the last one: only the idle timeout (1.5 s here) ends their utterance.
    const { audio: tones } = dtmfSequence("42", { sampleRate: 16_000, leadMs: 200, gapMs: 0 });
    const pcm = Buffer.alloc(tones.length * 2);
    tones.forEach((x, i) => pcm.writeInt16LE(Math.round(x * 32767), i * 2));
    const call = (grpcClient as unknown as { StreamingRecognize(): grpc.ClientDuplexStream<object, WireResponse> }).StreamingRecognize();
    const responses: WireResponse[] = [];
    call.on("data", (r: WireResponse) => responses.push(r));
    const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
      call.on("error", resolve);
      call.on("end", () => resolve(undefined));
    });
    call.write({ streaming_config: { config: { encoding: "AUDIO_ENCODING_LINEAR16", sample_rate_hz: 16000, model: "dtmf" } } });
    for (const f of frames(pcm, 640)) call.write({ audio_content: Buffer.from(f) });
    const error = await ended;
    expect(error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(responses.flatMap((r) => r.results.filter((x) => x.is_final).map((x) => x.alternatives[0]!.transcript))).toEqual(["42"]);
  });

  it("resumes a dropped stream: missed finals replayed from the index asked, audio resent from the bytes received", async () => {
    const groups = ["12", "34", "56"];
    const parts = groups.map((g) => dtmfSequence(g, { sampleRate: 16_000, leadMs: 1200 }).audio);
    const total = parts.reduce((n, p) => n + p.length, 0) + 19_200;
    const pcm = Buffer.alloc(total * 2);
    let at = 0;
    for (const p of parts) for (const x of p) pcm.writeInt16LE(Math.round(x * 32767), 2 * at++);
    type Call = grpc.ClientDuplexStream<object, WireResponse>;
    const open = () => (grpcClient as unknown as { StreamingRecognize(): Call }).StreamingRecognize();

    // First connection: a bit more than the first group, then it drops after the first final.
    const first = open();
    const seen: WireResponse[] = [];
    const firstFinal = new Promise<void>((resolve) =>
      first.on("data", (r: WireResponse) => {
        seen.push(r);
        if (r.results.some((x) => x.is_final)) resolve();
      }),
    );
    first.on("error", () => undefined);
    first.write({ streaming_config: { config: { encoding: "AUDIO_ENCODING_LINEAR16", sample_rate_hz: 16000, model: "dtmf" }, interim_results: true } });
    const cut = Math.floor((parts[0]!.length * 2) / 640) * 640 + 640 * 60;
    for (const f of frames(pcm.subarray(0, cut), 640)) first.write({ audio_content: Buffer.from(f) });
    await firstFinal;
    first.cancel();
    const sessionId = seen[0]!.metadata!.session_id;
    const counted = seen.slice(1);
    const resumeFrom = Number(counted.at(-1)!.result_index) + 1;

    // Second connection: resume, learn where the audio stopped, send the rest.
    await new Promise((r) => setTimeout(r, 100));
    const second = open();
    const resumed: WireResponse[] = [];
    const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
      second.on("error", resolve);
      second.on("end", () => resolve(undefined));
    });
    const metadata = new Promise<WireResponse>((resolve) =>
      second.on("data", (r: WireResponse) => {
        if (resumed.length === 0) resolve(r);
        resumed.push(r);
      }),
    );
    second.write({ streaming_config: { resume: { session_id: sessionId, from_result_index: String(resumeFrom) } } });
    const head = await metadata;
    expect(head.metadata!.session_id).toBe(sessionId);
    const received = Number(head.metadata!.audio_bytes_received);
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(cut);
    for (const f of frames(pcm.subarray(received), 640)) second.write({ audio_content: Buffer.from(f) });
    second.end();
    expect(await ended).toBeUndefined();

    const after = resumed.slice(1, -1);
    const indexes = [...counted, ...after].map((r) => Number(r.result_index));
    // Every index once, in order; interim results made while nobody listened may be missing.
    for (let i = 1; i < indexes.length; i++) expect(indexes[i]).toBeGreaterThan(indexes[i - 1]!);
    expect(Number(after[0]!.result_index)).toBeGreaterThanOrEqual(resumeFrom);
    const finals = [...counted, ...after].flatMap((r) => r.results.filter((x) => x.is_final).map((x) => x.alternatives[0]!.transcript));
    expect(finals).toEqual(groups);
    expect(resumed.at(-1)!.metadata!.audio_bytes_received).toBe(String(pcm.length));

    // Nothing to resume once the stream ended, nor under an unknown id.
    const gone = await grpcJsStreaming(grpcClient, [{ streaming_config: { resume: { session_id: sessionId, from_result_index: "0" } } }]);
    expect(gone.error?.code).toBe(grpc.status.NOT_FOUND);
    expect(decodeURIComponent(gone.error!.details)).toMatch(/is unknown, or its grace period is over/);
  });

  it("frees the RPC within a second when its client cancels (the recognition waits for a resume)", async () => {
    const call = (grpcClient as unknown as { StreamingRecognize(): grpc.ClientDuplexStream<object, WireResponse> }).StreamingRecognize();
    const closed = new Promise<grpc.ServiceError>((resolve) => call.on("error", resolve));
    call.on("data", () => undefined);
    call.write({ streaming_config: { config: { encoding: "AUDIO_ENCODING_LINEAR16", sample_rate_hz: 16000, model: "dtmf" }, interim_results: true } });
    const { audio: tones } = dtmfSequence("123456789", { sampleRate: 16_000 });
    const pcm = Buffer.alloc(tones.length * 2);
    tones.forEach((x, i) => pcm.writeInt16LE(Math.round(x * 32767), i * 2));
    for (const f of frames(pcm, 640)) call.write({ audio_content: Buffer.from(f) });
    while (gateway.inFlight() === 0) await new Promise((r) => setTimeout(r, 10));
    call.cancel();
    expect((await closed).code).toBe(grpc.status.CANCELLED);
    const cancelledAt = Date.now();
    while (gateway.inFlight() > 0 && Date.now() - cancelledAt < 1000) await new Promise((r) => setTimeout(r, 10));
    expect(gateway.inFlight()).toBe(0);
  });

  describe("bad input ends the stream with the right code and a message naming the problem", () => {
    const linear16 = { encoding: "AUDIO_ENCODING_LINEAR16", sample_rate_hz: 16000, model: "dtmf" };
    const cases: Array<{ name: string; messages: object[]; code: grpc.status; message: RegExp }> = [
      { name: "audio before the config", messages: [{ audio_content: Buffer.alloc(640) }], code: grpc.status.INVALID_ARGUMENT, message: /first message must carry streaming_config/ },
      {
        name: "a second config",
        messages: [{ streaming_config: { config: linear16 } }, { audio_content: Buffer.alloc(640) }, { streaming_config: { config: linear16 } }],
        code: grpc.status.INVALID_ARGUMENT,
        message: /only the first message may carry streaming_config/,
      },
      { name: "no encoding", messages: [{ streaming_config: { config: { sample_rate_hz: 16000, model: "dtmf" } } }], code: grpc.status.INVALID_ARGUMENT, message: /encoding/ },
      { name: "AUTO encoding", messages: [{ streaming_config: { config: { encoding: "AUDIO_ENCODING_AUTO", model: "dtmf" } } }], code: grpc.status.INVALID_ARGUMENT, message: /AUTO is for Recognize/ },
      { name: "an unsupported rate", messages: [{ streaming_config: { config: { ...linear16, sample_rate_hz: 96000 } } }], code: grpc.status.INVALID_ARGUMENT, message: /sample_rate_hz/ },
      { name: "an unsupported channel count", messages: [{ streaming_config: { config: { ...linear16, audio_channel_count: 9 } } }], code: grpc.status.INVALID_ARGUMENT, message: /audio_channel_count/ },
      {
        // Chunks may split a sample (the next one continues it); the stream as a whole may not end inside one.
        name: "16-bit audio that ends inside a sample",
        messages: [{ streaming_config: { config: linear16 } }, { audio_content: Buffer.alloc(641) }, { audio_content: Buffer.alloc(1000) }],
        code: grpc.status.INVALID_ARGUMENT,
        message: /audio_content: odd number of bytes for 16-bit audio: the stream ended inside a sample/,
      },
      {
        name: "a chunk over the size limit",
        messages: [{ streaming_config: { config: linear16 } }, { audio_content: Buffer.alloc(1024 * 1024 + 2) }],
        code: grpc.status.INVALID_ARGUMENT,
        message: /audio_content/,
      },
      {
        name: "garbage declared as OGG_OPUS",
        messages: [{ streaming_config: { config: { encoding: "AUDIO_ENCODING_OGG_OPUS", model: "dtmf" } } }, { audio_content: Buffer.from("this is not an ogg stream at all, just text".repeat(200)) }],
        code: grpc.status.INVALID_ARGUMENT,
        message: /audio_content/,
      },
      { name: "an unknown model", messages: [{ streaming_config: { config: { ...linear16, model: "nope" } } }], code: grpc.status.INVALID_ARGUMENT, message: /streaming_config.config.model: unknown model "nope"/ },
      { name: "a model that is not a recogniser", messages: [{ streaming_config: { config: { ...linear16, model: "vad" } } }], code: grpc.status.INVALID_ARGUMENT, message: /not a speech recognition model/ },
      {
        name: "a language the model does not declare",
        messages: [{ streaming_config: { config: { ...linear16, language_code: "fr" } } }],
        code: grpc.status.INVALID_ARGUMENT,
        message: /streaming_config.config.language_code: model "dtmf" does not serve "fr"; it serves ar, en/,
      },
      {
        name: "a language the keypad model serving dtmf_events does not make the stream's model serve",
        messages: [{ streaming_config: { config: { ...linear16, model: "keypad_vad", language_code: "en-US" }, dtmf_events: true } }],
        code: grpc.status.INVALID_ARGUMENT,
        message: /streaming_config.config.language_code: model "keypad_vad" does not serve "en-US"; it serves ar \(/,
      },
      { name: "a model that is not ready", messages: [{ streaming_config: { config: { ...linear16, model: "whisper" } } }], code: grpc.status.UNAVAILABLE, message: /model "whisper" is not ready/ },
      { name: "a control type of 0", messages: [{ streaming_config: { config: linear16 } }, { control: { type: "STREAMING_CONTROL_TYPE_UNSPECIFIED" } }], code: grpc.status.INVALID_ARGUMENT, message: /control.type/ },
      {
        name: "a feature live recognition refuses by design",
        messages: [{ streaming_config: { config: { ...linear16, denoise: "DENOISE_MODE_SPECTRAL" } } }],
        code: grpc.status.INVALID_ARGUMENT,
        message: /streaming_config.config.denoise: live recognition does not denoise/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const { error } = await grpcJsStreaming(grpcClient, c.messages);
        expect(error?.code, error?.details).toBe(c.code);
        // grpc-message is percent-encoded on the wire; grpc-js hands it over as it came.
        expect(decodeURIComponent(error!.details)).toMatch(c.message);
      });
    }

    it("the same over Connect's client, and the server keeps serving", async () => {
      async function* requests(): AsyncGenerator<StreamingRecognizeRequest> {
        yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: new Uint8Array(10) } });
      }
      const failure = await (async () => {
        for await (const _ of connect.streamingRecognize(requests())) void _;
      })().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ConnectError);
      expect((failure as ConnectError).code).toBe(Code.InvalidArgument);
      expect(gateway.inFlight()).toBeLessThanOrEqual(1);
      const ok = await grpcJsStreaming(grpcClient, [{ streaming_config: { config: linear16 } }]);
      expect(ok.error).toBeUndefined();
    });
  });

  describe("Recognize", () => {
    it("recognises a stereo WAV file (encoding detected) per channel, with times and billing", async () => {
      const left = await soxDtmf("73", audio.path("rec-l.wav"), { leadMs: 400 });
      const right = await soxDtmf("*5D", audio.path("rec-r.wav"), { leadMs: 900 });
      await sox("-D", "-M", audio.path("rec-l.wav"), audio.path("rec-r.wav"), "-e", "signed-integer", "-b", "16", audio.path("rec.wav"), "pad", "0", "0.5");
      const wav = new Uint8Array(await readFile(audio.path("rec.wav")));
      const response = await connect.recognize({
        config: { model: "dtmf", separateRecognitionPerChannel: true, enableWordTimeOffsets: true },
        audioSource: { case: "content", value: wav },
      });
      const byChannel = (tag: number) => response.results.filter((r) => r.channelTag === tag).map((r) => r.alternatives[0]!.transcript);
      expect(byChannel(1)).toEqual(["73"]);
      expect(byChannel(2)).toEqual(["*5D"]);
      const first = response.results.find((r) => r.channelTag === 2)!.alternatives[0]!.words[0]!;
      expect(Number(first.startOffset!.seconds) + first.startOffset!.nanos / 1e9).toBeCloseTo(right[0]!.start, 1);
      const duration = Number(response.metadata!.audioDuration!.seconds) + response.metadata!.audioDuration!.nanos / 1e9;
      const expected = Math.max(left.at(-1)!.end, right.at(-1)!.end) + 0.1 + 0.5;
      expect(Math.abs(duration - expected)).toBeLessThan(0.05);
      expect(Number(response.metadata!.billedDuration!.seconds)).toBe(Math.ceil(duration * 2));
      expect(response.metadata!.requestId).not.toBe("");
    });

    it.each([
      ["FLAC", "flac", ["-c:a", "flac"]],
      ["Ogg/Opus", "ogg", ["-c:a", "libopus", "-b:a", "64k"]],
    ])("recognises stereo %s per channel without audio_channel_count: the header carries it", async (_name, ext, codec) => {
      await soxDtmf("91", audio.path("hdr-l.wav"), { leadMs: 300 });
      await soxDtmf("46", audio.path("hdr-r.wav"), { leadMs: 800 });
      await sox("-D", "-M", audio.path("hdr-l.wav"), audio.path("hdr-r.wav"), "-b", "16", audio.path("hdr.wav"), "pad", "0", "0.5");
      const file = audio.path(`hdr.${ext}`);
      await ffmpeg("-y", "-loglevel", "error", "-i", audio.path("hdr.wav"), ...codec, file);
      const response = await connect.recognize({
        config: { model: "dtmf", separateRecognitionPerChannel: true },
        audioSource: { case: "content", value: new Uint8Array(await readFile(file)) },
      });
      const byChannel = (tag: number) => response.results.filter((r) => r.channelTag === tag).map((r) => r.alternatives[0]!.transcript);
      expect([byChannel(1), byChannel(2)]).toEqual([["91"], ["46"]]);
    });

    it("recognises an MP3 file with the encoding left to detection (whatever ffmpeg reads), per channel", async () => {
      await soxDtmf("58", audio.path("mp3-l.wav"), { leadMs: 300 });
      await soxDtmf("0", audio.path("mp3-r.wav"), { leadMs: 900 });
      await sox("-D", "-M", audio.path("mp3-l.wav"), audio.path("mp3-r.wav"), "-b", "16", audio.path("mp3.wav"), "pad", "0", "0.5");
      await ffmpeg("-y", "-loglevel", "error", "-i", audio.path("mp3.wav"), "-c:a", "libmp3lame", "-b:a", "128k", audio.path("call.mp3"));
      const response = await connect.recognize({
        config: { model: "dtmf", separateRecognitionPerChannel: true },
        audioSource: { case: "content", value: new Uint8Array(await readFile(audio.path("call.mp3"))) },
      });
      const byChannel = (tag: number) => response.results.filter((r) => r.channelTag === tag).map((r) => r.alternatives[0]!.transcript);
      expect([byChannel(1), byChannel(2)]).toEqual([["58"], ["0"]]);
    });

    it("mixes channels down to one unless they are recognised separately", async () => {
      await soxDtmf("864", audio.path("mix-l.wav"), { leadMs: 300 });
      await sox("-D", audio.path("mix-l.wav"), audio.path("mix-r.wav"), "vol", "0");
      await sox("-D", "-M", audio.path("mix-l.wav"), audio.path("mix-r.wav"), "-e", "signed-integer", "-b", "16", audio.path("mix.wav"));
      const response = await connect.recognize({ config: { model: "dtmf" }, audioSource: { case: "content", value: new Uint8Array(await readFile(audio.path("mix.wav"))) } });
      expect(response.results.map((r) => [r.channelTag, r.alternatives[0]!.transcript])).toEqual([[1, "864"]]);
      // Billed once: one channel recognised.
      const duration = Number(response.metadata!.audioDuration!.seconds) + response.metadata!.audioDuration!.nanos / 1e9;
      expect(Number(response.metadata!.billedDuration!.seconds)).toBe(Math.ceil(duration));
    });

    it("recognises raw 8 kHz μ-law over grpc-js", async () => {
      await soxDtmf("908", audio.path("rec-mulaw.wav"), { encoding: "u-law" });
      await sox("-D", audio.path("rec-mulaw.wav"), "-t", "raw", "-e", "u-law", "-b", "8", audio.path("rec.ulaw"));
      const bytes = await readFile(audio.path("rec.ulaw"));
      const response = await new Promise<{ results: Array<{ alternatives: Array<{ transcript: string }> }> }>((resolve, reject) =>
        (grpcClient as unknown as Record<string, (req: object, cb: (e: Error | null, r: never) => void) => void>).Recognize!(
          { config: { encoding: "AUDIO_ENCODING_MULAW", sample_rate_hz: 8000, model: "dtmf" }, content: bytes },
          (e, r) => (e ? reject(e) : resolve(r)),
        ),
      );
      expect(response.results.map((r) => r.alternatives[0]!.transcript)).toEqual(["908"]);
    });

    it("takes a request as large as the contract allows: 5 MiB of 48 kHz stereo (28 s) in one message", async () => {
      const rate = 48_000;
      const seconds = 28;
      const { audio: keys } = dtmfSequence("4711", { sampleRate: rate, leadMs: 20_000 });
      const pcm = Buffer.alloc(rate * seconds * 4);
      for (let i = 0; i < Math.min(keys.length, rate * seconds); i++) {
        const v = Math.round(keys[i]! * 32767);
        pcm.writeInt16LE(v, 4 * i);
        pcm.writeInt16LE(v, 4 * i + 2);
      }
      expect(pcm.length).toBeGreaterThan(5 * 1024 * 1024 - 1);
      const response = await connect.recognize({ config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: rate, audioChannelCount: 2, model: "dtmf" }, audioSource: { case: "content", value: pcm } });
      expect(response.results.map((r) => r.alternatives[0]!.transcript)).toEqual(["4711"]);
    });

    it("refuses audio over 60 s, undetectable audio and media ids, naming the field", async () => {
      const long = new Uint8Array(8000 * 61).fill(0xff);
      const cases: Array<[Parameters<typeof connect.recognize>[0], Code, RegExp]> = [
        [{ config: { encoding: AudioEncoding.MULAW, sampleRateHz: 8000, model: "dtmf" }, audioSource: { case: "content", value: long } }, Code.InvalidArgument, /content: the audio is 61.0 s long; Recognize takes at most 60 s/],
        [{ config: { model: "dtmf" }, audioSource: { case: "content", value: new TextEncoder().encode("plain text, not audio") } }, Code.InvalidArgument, /config.encoding: the audio format could not be detected/],
        [{ config: { model: "dtmf" }, audioSource: { case: "mediaId", value: "7b0e8c52-5a51-4a47-9d7e-3f1f5b0f4e21" } }, Code.NotFound, /^media 7b0e8c52-5a51-4a47-9d7e-3f1f5b0f4e21 not found/],
        [{ config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "nope" }, audioSource: { case: "content", value: new Uint8Array(3200) } }, Code.InvalidArgument, /^config\.model: unknown model/],
        [
          { config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf", languageCode: "xx-YY" }, audioSource: { case: "content", value: new Uint8Array(3200) } },
          Code.InvalidArgument,
          /^config\.language_code: model "dtmf" does not serve "xx-YY"; it serves ar, en/,
        ],
      ];
      for (const [request, code, message] of cases) {
        const failure = await connect.recognize(request).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(ConnectError);
        expect((failure as ConnectError).code).toBe(code);
        expect((failure as ConnectError).rawMessage).toMatch(message);
      }
    });
  });

  describe("ListModels", () => {
    it("lists the recognisers (not the VAD) with their readiness, default first", async () => {
      const { models, nextPageToken } = await connect.listModels({});
      expect(models.map((m) => m.name)).toEqual(["whisper", "dtmf", "keypad_vad"]);
      expect(nextPageToken).toBe("");
      const [whisper, dtmf] = models;
      expect(whisper).toMatchObject({ isDefault: true, state: ModelState.UNAVAILABLE, supportsStreaming: true, nativeSampleRateHz: 16_000 });
      expect(whisper!.languageCodes).toContain("ar-EG");
      expect(dtmf).toMatchObject({ isDefault: false, state: ModelState.READY, displayName: "Keypad tones (DTMF)", languageCodes: ["ar", "en"] });
      expect(dtmf!.description).toMatch(/^Telephone keypad tones as digits/);
    });

    it("filters by language (a regional tag is served by its language's models) and pages", async () => {
      expect((await connect.listModels({ languageCode: "en" })).models.map((m) => m.name)).toEqual(["whisper", "dtmf"]);
      expect((await connect.listModels({ languageCode: "ar-EG" })).models.map((m) => m.name)).toEqual(["whisper", "dtmf", "keypad_vad"]);
      const names: string[] = [];
      let pageToken = "";
      do {
        const page = await connect.listModels({ pageSize: 2, pageToken });
        names.push(...page.models.map((m) => m.name));
        pageToken = page.nextPageToken;
      } while (pageToken);
      expect(names).toEqual(["whisper", "dtmf", "keypad_vad"]);
      const bad = await connect.listModels({ pageToken: "x" }).catch((e: unknown) => e);
      expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
    });
  });
});
