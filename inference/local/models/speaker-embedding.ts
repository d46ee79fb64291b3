// The `speaker_embedding` model: an ECAPA-TDNN style ONNX export on onnxruntime-node, one embedding
// per speech segment. No weights ship with the platform: the model is ready once an export sits at
// <MODEL_WEIGHTS_DIR>/<onnx_model parameter> (speaker_embedding/model.onnx by default).
//
// Exports come in two shapes and the graph's first input says which: rank 3 takes filterbank
// features [B, T, mel bins] (WeSpeaker, 3D-Speaker), computed here as Kaldi does; rank 2 takes the
// waveform [B, N] itself. The first output is the embedding [B, dims of EMBEDDING].
import { access } from "node:fs/promises";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import type { ModelConfig } from "../../../proto/gen/inference/model_config_pb.js";
import { modelParameter, numericModelParameter } from "../../repository/signature.js";
import { InferenceInputError, type LocalModel, type Tensor } from "./model.js";
import { defaultFbankOptions, fbank } from "./fbank.js";
import type { LocalModelContext } from "./context.js";

/** The config parameters the model reads, with their defaults. */
interface EmbeddingSettings {
  sampleRate: number;
  minSamples: number;
  melBins: number;
}

/** A loaded export, and whether it takes filterbank features (else the waveform). */
interface SpeakerSession {
  session: ort.InferenceSession;
  takesFeatures: boolean;
}

export function createSpeakerEmbeddingModel(config: ModelConfig, ctx: LocalModelContext): LocalModel {
  const relative = modelParameter(config, "onnx_model") ?? `${config.name}/model.onnx`;
  const path = join(ctx.weightsDir, relative);
  const embeddingSize = Number(config.output.find((o) => o.name === "EMBEDDING")?.dims[0] ?? 192);
  let speaker: SpeakerSession | undefined;
  let failure = "not loaded";
  const settings: EmbeddingSettings = { sampleRate: 16000, minSamples: 8000, melBins: 80 };
  return {
    config,
    async load() {
      try {
        settings.sampleRate = numericModelParameter(config, "sample_rate", settings.sampleRate);
        settings.minSamples = numericModelParameter(config, "min_samples", settings.minSamples);
        settings.melBins = numericModelParameter(config, "num_mel_bins", settings.melBins);
      } catch (err) {
        failure = (err as Error).message;
        return;
      }
      try {
        await access(path);
      } catch {
        failure =
          `no speaker embedding model at ${path}: export an ECAPA-TDNN speaker model to ONNX ` +
          `(input fbank [B, T, ${settings.melBins}] or waveform [B, N] at ${settings.sampleRate} Hz, output [B, ${embeddingSize}]) ` +
          `and put it there (MODEL_WEIGHTS_DIR sets the directory)`;
        return;
      }
      try {
        speaker = await openSpeakerSession(path, settings.melBins, embeddingSize);
        ctx.logger.info({ model: config.name, path, input: speaker.takesFeatures ? "fbank" : "waveform" }, "loaded speaker embedding model");
      } catch (err) {
        failure = `cannot load the speaker embedding model at ${path}: ${(err as Error).message}`;
      }
    },
    readiness: () => (speaker ? { ready: true } : { ready: false, reason: failure }),
    async infer(inputs) {
      if (!speaker) throw new Error(failure);
      const audio = inputs.get("AUDIO") as Tensor & { data: Float32Array };
      const batched = config.maxBatchSize > 0;
      const rows = batched ? (audio.shape[0] as number) : 1;
      const embedding = await embedRows(speaker, audio.data, rows, settings, embeddingSize);
      return [{ name: "EMBEDDING", datatype: "FP32", shape: batched ? [rows, embeddingSize] : [embeddingSize], data: embedding }];
    },
    async unload() {
      await speaker?.session.release();
      speaker = undefined;
      failure = "unloaded";
    },
  };
}

/** Loads the export at `path`, once its first input and output fit the config. */
async function openSpeakerSession(path: string, melBins: number, embeddingSize: number): Promise<SpeakerSession> {
  let loaded: ort.InferenceSession | undefined;
  try {
    loaded = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const input = loaded.inputMetadata[0];
    if (!input || !input.isTensor) throw new Error("its first input is not a tensor");
    let takesFeatures: boolean;
    if (input.shape.length === 3) {
      if (input.shape[2] !== melBins) throw new Error(`its input takes ${String(input.shape[2])} mel bins, the config says ${melBins}`);
      takesFeatures = true;
    } else if (input.shape.length === 2) {
      takesFeatures = false;
    } else {
      throw new Error(`its first input has rank ${input.shape.length}; expected [B, T, ${melBins}] features or a [B, N] waveform`);
    }
    // A model of another width (WeSpeaker's ResNets give 256) would fail every request.
    const output = loaded.outputMetadata[0];
    const width = output?.isTensor ? output.shape.at(-1) : undefined;
    if (typeof width === "number" && width !== embeddingSize) {
      throw new Error(`it returns embeddings of ${width} values, the config's EMBEDDING has ${embeddingSize}`);
    }
    return { session: loaded, takesFeatures };
  } catch (err) {
    // A session that loaded but does not fit the config holds native memory until released.
    await loaded?.release();
    throw err;
  }
}

/** The embedding of each of `rows` equal rows of `audio`, one after the other. */
async function embedRows(speaker: SpeakerSession, audio: Float32Array, rows: number, settings: EmbeddingSettings, embeddingSize: number): Promise<Float32Array> {
  const { session } = speaker;
  const length = audio.length / rows;
  if (length < settings.minSamples) {
    throw new InferenceInputError(
      "AUDIO",
      `a segment of ${length} samples is too short to embed; it takes at least ${settings.minSamples} (${settings.minSamples / settings.sampleRate} s)`,
    );
  }
  const feed = speaker.takesFeatures ? featureTensor(audio, rows, length, settings) : new ort.Tensor("float32", audio, [rows, length]);
  const result = await session.run({ [session.inputNames[0] as string]: feed });
  const output = result[session.outputNames[0] as string] as ort.Tensor;
  if (output.type !== "float32" || output.data.length !== rows * embeddingSize) {
    throw new Error(`the speaker model returned ${output.type} [${output.dims.join(", ")}], not float32 [${rows}, ${embeddingSize}]`);
  }
  return new Float32Array(output.data as Float32Array);
}

/** Kaldi filterbank features of each row, [rows, frames, mel bins]. */
function featureTensor(audio: Float32Array, rows: number, length: number, settings: EmbeddingSettings): ort.Tensor {
  const { sampleRate, melBins } = settings;
  const perRow = Array.from({ length: rows }, (_, r) => fbank(audio.subarray(r * length, (r + 1) * length), { sampleRate, numMelBins: melBins }));
  const frames = (perRow[0] as { frames: number }).frames;
  // Only reachable when min_samples is set below one frame; an empty [B, 0, mel] tensor
  // would make the graph pool over nothing.
  if (frames === 0) {
    throw new InferenceInputError("AUDIO", `a segment of ${length} samples is shorter than one ${defaultFbankOptions.frameMs} ms filterbank frame`);
  }
  const features = new Float32Array(rows * frames * melBins);
  perRow.forEach((f, r) => features.set(f.features, r * frames * melBins));
  return new ort.Tensor("float32", features, [rows, frames, melBins]);
}
