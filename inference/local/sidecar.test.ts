// The local sidecar as services meet it: a real sidecar on a loopback port, reached by the real
// inference client over gRPC. It lists every model of the repository (and says how to install
// the ones without weights), describes each one as its config.pbtxt declares it, runs VAD on
// synthesised Arabic speech and DTMF on keypad tones made by sox the way telephone audio arrives
// (8 kHz, μ-law, noisy), and answers every malformed request with the right gRPC code and a
// message naming the tensor, while it keeps serving. Malformed requests the typed client refuses
// to build go through a raw @grpc/grpc-js client of the same proto.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataType, ModelInstanceGroup_Kind, ModelSequenceBatching_Control_Kind, type ModelConfig } from "../../proto/gen/inference/model_config_pb.js";
import { createInferenceClient, newSequenceId, type InferenceClient } from "../client/index.js";
import {
  InferenceInvalidArgumentError,
  InferenceNotFoundError,
  InferenceUnavailableError,
} from "../client/errors.js";
import { addNoise, dtmfSequence } from "../client/testing/signals.js";
import { stringElements } from "../client/tensors.js";
import { loadRepository } from "../repository/repository.js";
import { kserveDatatype, wireShape } from "../repository/signature.js";
import { startSidecar, type Sidecar } from "./server.js";
import { audioSeconds, createAudioDir, readAudio16k, sox, soxDtmf, speakArabic, type AudioDir, type SoxDtmfOptions } from "./testing/audio.js";

const logger = pino({ level: "silent" });
const modelsDir = fileURLToPath(new URL("../models/", import.meta.url));
const protoRoot = fileURLToPath(new URL("../../proto/", import.meta.url));
const repository = await loadRepository(modelsDir);

/** A client of the KServe v2 service with no opinions: it sends whatever message it is given. */
function rawInferenceClient(address: string): grpc.Client {
  const definition = loadSync("inference/grpc_service.proto", { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [protoRoot] });
  const inference = grpc.loadPackageDefinition(definition).inference as grpc.GrpcObject;
  const Service = inference.GRPCInferenceService as grpc.ServiceClientConstructor;
  return new Service(address, grpc.credentials.createInsecure());
}

type UnaryMethod = (request: object, callback: (err: grpc.ServiceError | null, response?: Record<string, unknown>) => void) => grpc.ClientUnaryCall;
type RawOutcome = { code: grpc.status; details: string; response?: Record<string, unknown> };

/** One unary call of the raw client; its status, whether OK or not. */
function rawCall(client: grpc.Client, method: string, request: object): Promise<RawOutcome> {
  const invoke = (client as unknown as Record<string, UnaryMethod>)[method]!;
  return new Promise((resolve) => {
    invoke.call(client, request, (err, response) => resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: "", response }));
  });
}

const le32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer);
/** A BYTES element as raw_input_contents carries it: 4-byte little-endian length, then the bytes. */
const bytesElement = (text: string) => {
  const body = Buffer.from(text, "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  return Buffer.concat([length, body]);
};

const inferRequest = (model: string, inputs: { name: string; datatype: string; shape: number[] }[], raw: Buffer[]) => ({
  model_name: model,
  model_version: "",
  id: "bad-request",
  inputs: inputs.map((i) => ({ ...i, shape: i.shape.map(String) })),
  outputs: [],
  parameters: {},
  raw_input_contents: raw,
});

/** Every key of the keypad, rows first, as the DTMF tests dial them. */
const ALL_KEYS = "123A456B789C*0#D";

describe("local sidecar over gRPC", () => {
  let audio: AudioDir;
  let weightsDir: string;
  let sidecar: Sidecar;
  let address: string;
  let client: InferenceClient;
  let raw: grpc.Client;
  const probe = dtmfSequence("159#");

  /** The sidecar still answers a real request after whatever came before. */
  async function expectStillServing(target: InferenceClient = client): Promise<void> {
    expect((await target.transcribe("dtmf", probe.audio)).text).toBe("159#");
  }

  beforeAll(async () => {
    audio = await createAudioDir();
    // Empty: no whisper or speaker embedding weights are installed.
    weightsDir = await mkdtemp(join(tmpdir(), "arabicstt-weights-"));
    sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir, weightsDir, logger });
    address = `127.0.0.1:${sidecar.port}`;
    client = createInferenceClient({ addresses: [address], deadlineMs: 30_000 });
    raw = rawInferenceClient(address);
  });

  afterAll(async () => {
    raw?.close();
    client?.close();
    await sidecar?.close();
    await audio?.remove();
    if (weightsDir) await rm(weightsDir, { recursive: true, force: true });
  });

  describe("repository and metadata", () => {
    it("lists all five models with their state, and says how to install the two that have no weights", async () => {
      const index = await client.repositoryIndex();
      expect(index.map((m) => m.name).sort()).toEqual(["dtmf", "speaker_embedding", "vad", "vad_stream", "whisper"]);
      const byName = new Map(index.map((m) => [m.name, m]));
      expect(byName.get("dtmf")).toMatchObject({ version: "1", state: "READY", reason: "" });
      expect(byName.get("vad")).toMatchObject({ version: "1", state: "READY", reason: "" });
      expect(byName.get("vad_stream")).toMatchObject({ version: "1", state: "READY", reason: "" });

      const whisper = byName.get("whisper")!;
      expect(whisper.state).toBe("UNAVAILABLE");
      // Where the file goes, what it is called, and how to fetch one.
      expect(whisper.reason).toContain(join(weightsDir, "whisper"));
      expect(whisper.reason).toMatch(/ggml-\S+\.bin/);
      expect(whisper.reason).toMatch(/curl -fL -o \S+ https:\/\/\S+/);
      expect(whisper.reason).toContain("WHISPER_DOWNLOAD=1");

      const speaker = byName.get("speaker_embedding")!;
      expect(speaker.state).toBe("UNAVAILABLE");
      expect(speaker.reason).toContain(join(weightsDir, "speaker_embedding", "model.onnx"));
      expect(speaker.reason).toMatch(/ONNX/);
      expect(speaker.reason).toContain("MODEL_WEIGHTS_DIR");
    });

    it("names itself and the protocol extensions it serves in ServerMetadata", async () => {
      const metadata = await client.serverMetadata();
      expect(metadata.name).toBe("arabicstt-sidecar");
      expect(metadata.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(metadata.extensions).toEqual(expect.arrayContaining(["model_repository", "model_configuration", "binary_tensor_data"]));
      expect(await client.serverLive()).toBe(true);
      expect(await client.serverReady()).toBe(true);
    });

    it("describes each model in ModelMetadata and ModelConfig exactly as its config.pbtxt declares it", async () => {
      expect(repository.map((m) => m.name)).toEqual(["dtmf", "speaker_embedding", "vad", "vad_stream", "whisper"]);
      for (const { name, config } of repository) {
        const metadata = await client.modelMetadata(name);
        expect(metadata).toEqual({
          name,
          versions: ["1"],
          platform: config.backend,
          inputs: config.input.map((t) => ({ name: t.name, datatype: kserveDatatype(t.dataType), shape: wireShape(config, t) })),
          outputs: config.output.map((t) => ({ name: t.name, datatype: kserveDatatype(t.dataType), shape: wireShape(config, t) })),
        });

        // The typed client's view of the configuration...
        const signature = await client.modelConfig(name);
        expect(signature).toEqual({
          name,
          maxBatchSize: config.maxBatchSize,
          inputs: config.input.map((i) => ({ name: i.name, datatype: kserveDatatype(i.dataType), dims: i.dims.map(Number), optional: i.optional })),
          outputs: config.output.map((o) => ({ name: o.name, datatype: kserveDatatype(o.dataType), dims: o.dims.map(Number) })),
          parameters: Object.fromEntries(Object.entries(config.parameters).map(([k, v]) => [k, v.stringValue])),
          sequenceBatching: config.schedulingChoice.case === "sequenceBatching",
        });
        // ...and the whole message as it comes off the wire, scheduling included.
        const { code, response } = await rawCall(raw, "ModelConfig", { name, version: "" });
        expect(code).toBe(grpc.status.OK);
        expect(wireConfigFields(response!.config as WireConfig)).toEqual(expectedConfigFields(config));
      }
    });

    it("reports the shapes the config files document (batch dimension only where max_batch_size > 0)", async () => {
      const shapes = async (name: string) => {
        const m = await client.modelMetadata(name);
        return Object.fromEntries([...m.inputs, ...m.outputs].map((t) => [t.name, `${t.datatype}${JSON.stringify(t.shape)}`]));
      };
      expect(await shapes("dtmf")).toEqual({
        AUDIO: "FP32[-1]",
        LANGUAGE: "BYTES[1]",
        TASK: "BYTES[1]",
        PROMPT: "BYTES[1]",
        MAX_ALTERNATIVES: "INT32[1]",
        TRANSCRIPT: "BYTES[1]",
        SEGMENTS: "BYTES[1]",
        ALTERNATIVES: "BYTES[1]",
      });
      expect(await shapes("vad")).toEqual({ AUDIO: "FP32[-1,-1]", PROBS: "FP32[-1,-1]" });
      expect(await shapes("whisper")).toMatchObject({ AUDIO: "FP32[-1,-1]", LANGUAGE: "BYTES[-1,1]", SEGMENTS: "BYTES[-1,1]" });
      expect(await shapes("speaker_embedding")).toEqual({ AUDIO: "FP32[-1,-1]", EMBEDDING: "FP32[-1,192]" });
    });

    it("answers ModelReady true for the models it can run and false for the rest", async () => {
      expect(await client.modelReady("dtmf")).toBe(true);
      expect(await client.modelReady("vad")).toBe(true);
      expect(await client.modelReady("whisper")).toBe(false);
      expect(await client.modelReady("speaker_embedding")).toBe(false);
      // As Triton: a model the repository does not have is simply not ready.
      expect(await client.modelReady("no_such_model")).toBe(false);
    });
  });

  describe("vad", () => {
    it("is confident in espeak-ng Arabic speech and quiet in the silences before, between and after", async () => {
      // Two utterances, each trimmed of espeak-ng's own leading and trailing silence so that the
      // speech spans are known to within a few milliseconds.
      const utterances = ["مرحبا بكم في منصة التعرف على الكلام", "السلام عليكم ورحمة الله"];
      const trimmed: string[] = [];
      for (const [i, text] of utterances.entries()) {
        await speakArabic(text, audio.path(`vad-${i}.wav`));
        trimmed.push(audio.path(`vad-${i}-trim.wav`));
        await sox(audio.path(`vad-${i}.wav`), trimmed[i]!, "silence", "1", "0.02", "1%", "reverse", "silence", "1", "0.02", "1%", "reverse");
      }
      const [first, second] = [await audioSeconds(trimmed[0]!), await audioSeconds(trimmed[1]!)];
      const pause = 1.5;
      // pause | first | pause | second | pause
      await sox(trimmed[0]!, audio.path("vad-first-padded.wav"), "pad", String(pause), String(pause));
      await sox(audio.path("vad-first-padded.wav"), trimmed[1]!, audio.path("vad.wav"), "pad", "0", String(pause));
      const samples = await readAudio16k(audio.path("vad.wav"));
      // A faint noise floor (about -50 dBFS), so that the silences are not digital zeros.
      addNoise(samples, 0.003);

      const result = await client.vad(samples);
      expect(result.frameSeconds).toBe(0.032);
      expect(result.probabilities).toHaveLength(Math.ceil(samples.length / 512));
      expect(Math.min(...result.probabilities)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...result.probabilities)).toBeLessThanOrEqual(1);

      const speech = [
        [pause, pause + first],
        [2 * pause + first, 2 * pause + first + second],
      ] as const;
      const silences = [
        [0, pause],
        [pause + first, 2 * pause + first],
        [2 * pause + first + second, samples.length / 16_000],
      ] as const;
      /** Mean probability of the frames wholly inside [from, to], shrunk by `margin` on each side. */
      const mean = ([from, to]: readonly [number, number], margin: number) => {
        const frames = [...result.probabilities].filter((_, f) => f * 0.032 >= from + margin && (f + 1) * 0.032 <= to - margin);
        expect(frames.length).toBeGreaterThan(10);
        return frames.reduce((a, b) => a + b, 0) / frames.length;
      };
      // Margins: Silero needs a frame or two to rise, and holds on for a few after speech ends.
      for (const span of speech) expect(mean(span, 0.1)).toBeGreaterThan(0.7);
      for (const span of silences) expect(mean(span, 0.3)).toBeLessThan(0.1);
    });
  });

  describe("dtmf", () => {
    const variants: [string, SoxDtmfOptions, number, number][] = [
      // name, how sox writes the file, noise added after reading (sd), timing tolerance (s)
      ["8 kHz telephone PCM, resampled to 16 kHz", {}, 0, 0.01],
      ["8 kHz μ-law (G.711), resampled to 16 kHz", { encoding: "u-law" }, 0, 0.01],
      ["16 kHz PCM", { rate: 16_000 }, 0, 0.01],
      // Each tone's two sines peak at 0.35: about 5 dB SNR against white noise of sd 0.2.
      ["8 kHz PCM with white noise at about 5 dB SNR", {}, 0.2, 0.015],
    ];

    it.each(variants)("hears all 16 keys in order, each where sox put it: %s", async (name, options, noise, tolerance) => {
      const file = audio.path(`dtmf-${name.replace(/\W+/g, "-")}.wav`);
      const keys = await soxDtmf(ALL_KEYS, file, options);
      const samples = await readAudio16k(file);
      if (noise > 0) addNoise(samples, noise);

      const transcription = await client.transcribe("dtmf", samples);
      expect(transcription.text).toBe(ALL_KEYS);
      expect(transcription.duration).toBeCloseTo(samples.length / 16_000, 3);
      // 100 ms between keys is far under segment_gap_ms: one segment.
      expect(transcription.segments).toHaveLength(1);
      const words = transcription.segments[0]!.words;
      expect(words.map((w) => w.word).join("")).toBe(ALL_KEYS);
      words.forEach((word, i) => {
        expect(Math.abs(word.start - keys[i]!.start), `start of key ${word.word}`).toBeLessThanOrEqual(tolerance);
        expect(Math.abs(word.end - keys[i]!.end), `end of key ${word.word}`).toBeLessThanOrEqual(tolerance);
        expect(word.probability).toBeGreaterThan(0);
        expect(word.probability).toBeLessThanOrEqual(1);
      });
    });
  });

  describe("vad_stream sequences (Silero's state kept per live channel)", () => {
    it("scores a channel sent in parts of whole frames exactly as one request with all of its audio", async () => {
      expect((await client.modelConfig("vad_stream")).sequenceBatching).toBe(true);
      // Speech after a pause, over a noise floor: the probabilities rise and fall, and depend on the state.
      await speakArabic("السلام عليكم", audio.path("vad-stream.wav"));
      await sox(audio.path("vad-stream.wav"), audio.path("vad-stream-padded.wav"), "pad", "0.5", "0.3");
      const speech = await readAudio16k(audio.path("vad-stream-padded.wav"));
      const frames = Math.floor(speech.length / 512);
      const channel = speech.slice(0, 512 * frames);
      addNoise(channel, 0.003);
      const whole = await client.vad(channel, { model: "vad_stream" });
      expect(Math.max(...whole.probabilities)).toBeGreaterThan(0.5);
      expect(Math.min(...whole.probabilities)).toBeLessThan(0.5);
      const id = newSequenceId();
      const parts: number[] = [];
      const cuts = [0, 1, 2, 7, 8, 23, frames - 1, frames];
      for (let i = 1; i < cuts.length; i++) {
        const piece = channel.slice(512 * cuts[i - 1]!, 512 * cuts[i]!);
        const { probabilities } = await client.vad(piece, { model: "vad_stream", sequence: { id, start: i === 1, end: i === cuts.length - 1 } });
        parts.push(...probabilities);
      }
      expect(parts).toEqual([...whole.probabilities]);
      // And those are the stateless model's, for the same clip in one request.
      expect([...(await client.vad(channel)).probabilities]).toEqual([...whole.probabilities]);
    });

    it("refuses a part that is not whole frames with INVALID_ARGUMENT naming AUDIO, and a sequence it does not hold naming sequence_id", async () => {
      const id = newSequenceId();
      await client.vad(new Float32Array(512), { model: "vad_stream", sequence: { id, start: true, end: false } });
      const partial = await client.vad(new Float32Array(100), { model: "vad_stream", sequence: { id, start: false, end: false } }).catch((err: unknown) => err);
      expect(partial).toBeInstanceOf(InferenceInvalidArgumentError);
      expect((partial as Error).message).toMatch(/AUDIO: a request of a sequence carries whole 512-sample frames/);
      const unknown = await client.vad(new Float32Array(512), { model: "vad_stream", sequence: { id: newSequenceId(), start: false, end: false } }).catch((err: unknown) => err);
      expect(unknown).toBeInstanceOf(InferenceInvalidArgumentError);
      expect((unknown as Error).message).toMatch(/sequence_id: names no sequence in progress/);
      await expectStillServing();
    });
  });

  describe("dtmf sequences (Triton's sequence batching)", () => {
    const whole = dtmfSequence("0123456789*#ABCD", { noise: 0.01 });
    /** Cuts at sample points that fall inside tones and gaps alike. */
    const cuts = [0, 1234, 5000, 5001, 9876, 20_000, whole.audio.length];

    it("answers each request of a sequence with the keys of all its audio so far, exactly as one request with that audio", async () => {
      expect((await client.modelConfig("dtmf")).sequenceBatching).toBe(true);
      const id = newSequenceId();
      for (let i = 1; i < cuts.length; i++) {
        const piece = whole.audio.slice(cuts[i - 1], cuts[i]);
        const sequence = { id, start: i === 1, end: i === cuts.length - 1 };
        const [streamed, oneShot] = await Promise.all([
          client.transcribe("dtmf", piece, { sequence }),
          client.transcribe("dtmf", whole.audio.slice(0, cuts[i])),
        ]);
        expect(streamed, `after ${cuts[i]} samples`).toEqual(oneShot);
      }
    });

    it("refuses a request of a sequence it does not hold (never started, or ended) with INVALID_ARGUMENT naming sequence_id", async () => {
      const id = newSequenceId();
      const unknown = await client.transcribe("dtmf", probe.audio, { sequence: { id, start: false, end: false } }).catch((err: unknown) => err);
      expect(unknown).toBeInstanceOf(InferenceInvalidArgumentError);
      expect((unknown as Error).message).toMatch(/sequence_id: names no sequence in progress/);

      await client.transcribe("dtmf", probe.audio, { sequence: { id, start: true, end: true } });
      const ended = await client.transcribe("dtmf", probe.audio, { sequence: { id, start: false, end: false } }).catch((err: unknown) => err);
      expect(ended).toBeInstanceOf(InferenceInvalidArgumentError);
      await expectStillServing();
    });

    it("restarts a sequence when its id is started again", async () => {
      const id = newSequenceId();
      await client.transcribe("dtmf", dtmfSequence("999").audio, { sequence: { id, start: true, end: false } });
      const restarted = await client.transcribe("dtmf", probe.audio, { sequence: { id, start: true, end: true } });
      expect(restarted.text).toBe("159#");
    });

    it("refuses sequence parameters for a model without sequence batching, naming the parameter", async () => {
      const request = inferRequest("vad", [{ name: "AUDIO", datatype: "FP32", shape: [1, 512] }], [le32(new Array(512).fill(0))]);
      const wire = await rawCall(raw, "ModelInfer", { ...request, parameters: { sequence_id: { int64_param: "5" }, sequence_start: { bool_param: true } } });
      expect(wire.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(wire.details).toBe('model "vad" refused input sequence_id: names a sequence, but the model does not declare sequence_batching');
    });

    it("refuses a malformed sequence_id on the wire", async () => {
      const request = inferRequest("dtmf", [{ name: "AUDIO", datatype: "FP32", shape: [4] }], [le32([0, 0, 0, 0])]);
      const wire = await rawCall(raw, "ModelInfer", { ...request, parameters: { sequence_id: { int64_param: "0" }, sequence_start: { bool_param: true } } });
      expect(wire.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(wire.details).toContain("sequence_id: must be a non-zero integer or a non-empty string");
    });
  });

  describe("whisper without weights", () => {
    it("is not ready, and a request for it is UNAVAILABLE with instructions to install a model", async () => {
      expect(await client.modelReady("whisper")).toBe(false);
      const clip = await readAudio16k(await spoken(audio, "whisper-missing", "مرحبا"));

      const failure = await client.transcribe("whisper", clip, { language: "ar" }).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(InferenceUnavailableError);
      const message = (failure as Error).message;
      expect(message).toContain('model "whisper" is not ready');
      expect(message).toContain(join(weightsDir, "whisper"));
      expect(message).toMatch(/ggml-\S+\.bin/);
      expect(message).toMatch(/curl -fL -o /);

      // On the wire: the status itself is UNAVAILABLE, with the same instructions.
      const { code, details } = await rawCall(raw, "ModelInfer", inferRequest("whisper", [{ name: "AUDIO", datatype: "FP32", shape: [1, 4] }], [le32([0, 0, 0, 0])]));
      expect(code).toBe(grpc.status.UNAVAILABLE);
      expect(details).toMatch(/put a whisper\.cpp model file \(ggml-\*\.bin\) in /);
      await expectStillServing();
    });
  });

  describe("bad requests", () => {
    it("answers an unknown model with NOT_FOUND naming it and the models there are", async () => {
      const wire = await rawCall(raw, "ModelInfer", inferRequest("no_such_model", [{ name: "AUDIO", datatype: "FP32", shape: [1] }], [le32([0])]));
      expect(wire.code).toBe(grpc.status.NOT_FOUND);
      expect(wire.details).toBe('unknown model "no_such_model"; the repository has dtmf, speaker_embedding, vad, vad_stream, whisper');

      const typed = await client.infer({ model: "no_such_model", inputs: [{ name: "AUDIO", datatype: "FP32", shape: [1], data: new Float32Array(1) }] }).catch((e: unknown) => e);
      expect(typed).toBeInstanceOf(InferenceNotFoundError);
      expect((typed as InferenceNotFoundError).details).toContain('"no_such_model"');
      expect(await rawCall(raw, "ModelMetadata", { name: "no_such_model", version: "" })).toMatchObject({ code: grpc.status.NOT_FOUND });
      await expectStillServing();
    });

    it("answers a request without AUDIO with INVALID_ARGUMENT naming AUDIO", async () => {
      const wire = await rawCall(raw, "ModelInfer", inferRequest("dtmf", [{ name: "LANGUAGE", datatype: "BYTES", shape: [1] }], [bytesElement("ar")]));
      expect(wire.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(wire.details).toBe('missing required input "AUDIO" for model "dtmf"');

      await client.modelConfig("dtmf"); // known signature: the client can name a tensor the request lacks
      const typed = await client
        .infer({ model: "dtmf", inputs: [{ name: "LANGUAGE", datatype: "BYTES", shape: [1], data: stringElements(["ar"]) }] })
        .catch((e: unknown) => e);
      expect(typed).toBeInstanceOf(InferenceInvalidArgumentError);
      expect((typed as Error).message).toContain('missing required input "AUDIO"');
      expect((typed as InferenceInvalidArgumentError).field).toBe("AUDIO");
      await expectStillServing();
    });

    it("answers AUDIO of the wrong datatype with INVALID_ARGUMENT naming the tensor and the datatype expected", async () => {
      const wire = await rawCall(raw, "ModelInfer", inferRequest("dtmf", [{ name: "AUDIO", datatype: "INT16", shape: [4] }], [Buffer.alloc(8)]));
      expect(wire.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(wire.details).toBe('input "AUDIO" has datatype INT16; model "dtmf" expects FP32');

      // The typed client builds such a request happily; the error it returns names the tensor.
      const typed = await client.infer({ model: "vad", inputs: [{ name: "AUDIO", datatype: "INT16", shape: [1, 4], data: new Int16Array(4) }] }).catch((e: unknown) => e);
      expect(typed).toBeInstanceOf(InferenceInvalidArgumentError);
      expect((typed as InferenceInvalidArgumentError).field).toBe("AUDIO");
      expect((typed as Error).message).toContain('model "vad" expects FP32');
      await expectStillServing();
    });

    it("answers a shape that disagrees with the bytes sent, or with the config, with INVALID_ARGUMENT naming the tensor", async () => {
      // 1000 samples declared, 100 sent: the typed client would refuse to build this.
      const short = await rawCall(raw, "ModelInfer", inferRequest("dtmf", [{ name: "AUDIO", datatype: "FP32", shape: [1000] }], [Buffer.alloc(400)]));
      expect(short.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(short.details).toBe('input "AUDIO" has 400 bytes of raw data; its shape and datatype FP32 need 4000');

      // A byte count that is not even a whole number of samples.
      const ragged = await rawCall(raw, "ModelInfer", inferRequest("vad", [{ name: "AUDIO", datatype: "FP32", shape: [1, 3] }], [Buffer.alloc(13)]));
      expect(ragged.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(ragged.details).toContain('input "AUDIO" has 13 bytes of raw data');

      // One raw_input_contents entry for two inputs.
      const unpaired = await rawCall(
        raw,
        "ModelInfer",
        inferRequest("dtmf", [{ name: "AUDIO", datatype: "FP32", shape: [1] }, { name: "LANGUAGE", datatype: "BYTES", shape: [1] }], [le32([0])]),
      );
      expect(unpaired.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(unpaired.details).toContain("raw_input_contents has 1 entries for 2 inputs");

      // vad batches: a clip without its batch dimension is the wrong rank.
      const typed = await client.infer({ model: "vad", inputs: [{ name: "AUDIO", datatype: "FP32", shape: [512], data: new Float32Array(512) }] }).catch((e: unknown) => e);
      expect(typed).toBeInstanceOf(InferenceInvalidArgumentError);
      expect((typed as InferenceInvalidArgumentError).field).toBe("AUDIO");
      expect((typed as Error).message).toContain('input "AUDIO" has shape [512]; model "vad" expects [batch, -1] with 1 ≤ batch ≤ 8');
      await expectStillServing();
    });

    it("refuses a tensor over its element limit with INVALID_ARGUMENT, and a message over its size limit, and keeps serving", async () => {
      const limited = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir, weightsDir, logger, maxInputElements: 16_000 });
      const limitedClient = createInferenceClient({ addresses: [`127.0.0.1:${limited.port}`], deadlineMs: 30_000 });
      try {
        // Two seconds of audio where one is allowed.
        const oversized = await limitedClient.vad(new Float32Array(32_000)).catch((e: unknown) => e);
        expect(oversized).toBeInstanceOf(InferenceInvalidArgumentError);
        expect((oversized as InferenceInvalidArgumentError).field).toBe("AUDIO");
        expect((oversized as Error).message).toContain('input "AUDIO" has 32000 elements, over the sidecar\'s limit of 16000 per tensor');
        // Exactly at the limit is fine.
        expect((await limitedClient.vad(new Float32Array(16_000))).probabilities).toHaveLength(32);

        // A message far over what the limit allows is refused by gRPC before it is parsed.
        const hugeRaw = rawInferenceClient(`127.0.0.1:${limited.port}`);
        try {
          const huge = await rawCall(hugeRaw, "ModelInfer", inferRequest("vad", [{ name: "AUDIO", datatype: "FP32", shape: [1, 2_000_000] }], [Buffer.alloc(8_000_000)]));
          expect(huge.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
        } finally {
          hugeRaw.close();
        }
        await expectStillServing(limitedClient);
      } finally {
        limitedClient.close();
        await limited.close();
      }
    });
  });
});

/** Speaks `text` with espeak-ng into the audio folder; returns the file. */
async function spoken(audio: AudioDir, name: string, text: string): Promise<string> {
  const file = audio.path(`${name}.wav`);
  await speakArabic(text, file);
  return file;
}

interface WireConfig {
  name: string;
  backend: string;
  max_batch_size: number;
  input: { name: string; data_type: string; dims: string[]; optional: boolean; allow_ragged_batch: boolean }[];
  output: { name: string; data_type: string; dims: string[] }[];
  instance_group: { kind: string; count: number }[];
  dynamic_batching: { preferred_batch_size: number[]; max_queue_delay_microseconds: string } | null;
  sequence_batching: { max_sequence_idle_microseconds: string; control_input: { name: string; control: { kind: string }[] }[] } | null;
  parameters: Record<string, { string_value: string }>;
}

/** The fields of a ModelConfig message as proto-loader decodes it, in one comparable shape. */
function wireConfigFields(c: WireConfig) {
  return {
    name: c.name,
    backend: c.backend,
    maxBatchSize: c.max_batch_size,
    inputs: c.input.map((i) => ({ name: i.name, type: i.data_type, dims: i.dims.map(Number), optional: i.optional, ragged: i.allow_ragged_batch })),
    outputs: c.output.map((o) => ({ name: o.name, type: o.data_type, dims: o.dims.map(Number) })),
    instances: c.instance_group.map((g) => ({ kind: g.kind, count: g.count })),
    batching: c.dynamic_batching ? { preferred: c.dynamic_batching.preferred_batch_size, delayUs: Number(c.dynamic_batching.max_queue_delay_microseconds) } : null,
    sequences: c.sequence_batching
      ? { idleUs: Number(c.sequence_batching.max_sequence_idle_microseconds), controls: c.sequence_batching.control_input.map((i) => [i.name, i.control.map((k) => k.kind)]) }
      : null,
    parameters: Object.fromEntries(Object.entries(c.parameters).map(([k, v]) => [k, v.string_value])),
  };
}

/** The same fields of the config.pbtxt as the repository reader parses it. */
function expectedConfigFields(c: ModelConfig) {
  return {
    name: c.name,
    backend: c.backend,
    maxBatchSize: c.maxBatchSize,
    inputs: c.input.map((i) => ({ name: i.name, type: DataType[i.dataType], dims: i.dims.map(Number), optional: i.optional, ragged: i.allowRaggedBatch })),
    outputs: c.output.map((o) => ({ name: o.name, type: DataType[o.dataType], dims: o.dims.map(Number) })),
    instances: c.instanceGroup.map((g) => ({ kind: `KIND_${ModelInstanceGroup_Kind[g.kind]}`, count: g.count })),
    batching: c.schedulingChoice.case === "dynamicBatching"
      ? { preferred: c.schedulingChoice.value.preferredBatchSize, delayUs: Number(c.schedulingChoice.value.maxQueueDelayMicroseconds) }
      : null,
    sequences: c.schedulingChoice.case === "sequenceBatching"
      ? {
          idleUs: Number(c.schedulingChoice.value.maxSequenceIdleMicroseconds),
          controls: c.schedulingChoice.value.controlInput.map((i) => [i.name, i.control.map((k) => ModelSequenceBatching_Control_Kind[k.kind])]),
        }
      : null,
    parameters: Object.fromEntries(Object.entries(c.parameters).map(([k, v]) => [k, v.stringValue])),
  };
}
