// The VAD gate over `vad_stream`: Silero VAD with its state kept per channel by the inference server
// (sequence batching, inference/models/vad_stream/config.pbtxt). The channel is one sequence: each
// call sends only the frames the model has not seen, where the stateless gate (vadGate, gate.ts)
// resends 16 frames of run-up with every new frame (17 frames through the model and over the wire
// for one score), and the scores are those of the detector run over the whole channel without a
// break, as Silero is meant to run.
//
// The model holds the sequence only while calls succeed: after a failed or cancelled call (the state
// may have moved past frames whose scores never came back), or when the server let an idle sequence
// go, the next call starts a new sequence with the frames already scored before as run-up, exactly
// as the stateless gate does on every call, and carries on from there. When the channel is done, the
// gate ends the sequence (a request with no audio and sequence_end), so the server frees its state.
import { newSequenceId, VAD_STREAM_MODEL, type InferenceClient } from "../../../inference/client/index.js";
import { DEFAULT_FRAME_SAMPLES, type SpeechGate } from "./gate.js";

export function vadSequenceGate(inference: InferenceClient, options: { frameSamples?: number; contextFrames?: number; signal?: AbortSignal } = {}): SpeechGate {
  const frameSamples = options.frameSamples ?? DEFAULT_FRAME_SAMPLES;
  const contextSamples = (options.contextFrames ?? 16) * frameSamples;
  /** The last frames scored (up to contextSamples), the run-up of a restarted sequence. */
  const context = new Float32Array(contextSamples);
  let contextLength = 0;
  /** The sequence the model holds for this channel; undefined until the next call (re)starts one. */
  let sequenceId: number | undefined;

  const remember = (fresh: Float32Array) => {
    if (fresh.length >= contextSamples) {
      context.set(fresh.subarray(fresh.length - contextSamples));
      contextLength = contextSamples;
      return;
    }
    const keep = Math.min(contextLength, contextSamples - fresh.length);
    context.copyWithin(0, contextLength - keep, contextLength);
    context.set(fresh, keep);
    contextLength = keep + fresh.length;
  };

  /** Scores `audio` (whole frames) as the sequence's next request, or as the start of a new one. */
  const call = async (audio: Float32Array, start: boolean): Promise<Float32Array> => {
    const { probabilities } = await inference.vad(audio, { model: VAD_STREAM_MODEL, sequence: { id: sequenceId!, start, end: false }, signal: options.signal });
    if (probabilities.length !== audio.length / frameSamples) throw new Error(`${VAD_STREAM_MODEL} returned ${probabilities.length} frames for ${audio.length / frameSamples}`);
    return probabilities;
  };

  return {
    frameSamples,
    close() {
      if (sequenceId === undefined) return;
      const id = sequenceId;
      sequenceId = undefined;
      // Its last request, with no audio, frees the state now rather than after the server's idle limit.
      // swallowed: the channel is over either way, and a sequence the server no longer holds is let go when idle.
      void inference.vad(new Float32Array(0), { model: VAD_STREAM_MODEL, sequence: { id, start: false, end: true } }).catch(() => undefined);
    },
    async score(frames) {
      const count = Math.floor(frames.length / frameSamples);
      if (count === 0) return new Float32Array(0);
      const fresh = frames.subarray(0, count * frameSamples);
      if (sequenceId !== undefined) {
        try {
          const probabilities = await call(fresh, false);
          remember(fresh);
          return probabilities;
        } catch (err) {
          // The sequence is lost (the call failed part-way, the server restarted or let it go idle):
          // restarting it with run-up is what the stateless gate does on every call, so it is tried
          // once here rather than failing the stream.
          sequenceId = undefined;
          if (options.signal?.aborted) throw err;
        }
      }
      let audio = fresh;
      if (contextLength > 0) {
        audio = new Float32Array(contextLength + fresh.length);
        audio.set(context.subarray(0, contextLength));
        audio.set(fresh, contextLength);
      }
      sequenceId = newSequenceId();
      try {
        const probabilities = await call(audio, true);
        remember(fresh);
        return probabilities.slice(probabilities.length - count);
      } catch (err) {
        sequenceId = undefined;
        throw err;
      }
    },
  };
}
