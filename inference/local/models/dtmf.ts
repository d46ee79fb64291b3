// The `dtmf` model: keypad tones behind the ASR contract. Each key is a word with its tone's start
// and end; keys closer together than segment_gap_ms form one segment, whose text is the key string.
// Tuning comes from the config's parameters (see inference/models/dtmf/config.pbtxt).
//
// The config declares sequence batching: a request of a sequence carries only the audio that
// follows the sequence's previous request, the detector keeps its state between them (DtmfStream),
// and every response holds the keys of the whole sequence so far, timed from its first sample,
// exactly as one request with all of that audio would.
import type { ModelConfig } from "../../../proto/gen/inference/model_config_pb.js";
import { numericModelParameter } from "../../repository/signature.js";
import type { LocalModel } from "./model.js";
import { asrItems, asrOutputs, type AsrResult, type AsrSegment } from "./asr.js";
import { defaultDtmfOptions, detectDtmf, DtmfStream, type DtmfKey, type DtmfOptions } from "./dtmf-detector.js";
import type { LocalModelContext } from "./context.js";
import { InferenceInputError } from "./model.js";
import { sequenceControlOf, sequenceLimitsOf, SequenceStates } from "./sequences.js";

export function createDtmfModel(config: ModelConfig, _ctx: LocalModelContext): LocalModel {
  let options: DtmfOptions | undefined;
  let segmentGap = 2;
  let failure: string | undefined;
  let sequences: SequenceStates<DtmfStream> | undefined;
  return {
    config,
    async load() {
      try {
        const number = (key: string, fallback: number) => numericModelParameter(config, key, fallback);
        options = {
          ...defaultDtmfOptions,
          sampleRate: number("sample_rate", defaultDtmfOptions.sampleRate),
          frameMs: number("frame_ms", defaultDtmfOptions.frameMs),
          hopMs: number("hop_ms", defaultDtmfOptions.hopMs),
          minToneMs: number("min_tone_ms", defaultDtmfOptions.minToneMs),
          minLevelDbfs: number("min_level_dbfs", defaultDtmfOptions.minLevelDbfs),
          maxTwistDb: number("max_twist_db", defaultDtmfOptions.maxTwistDb),
        };
        segmentGap = number("segment_gap_ms", 2000) / 1000;
        const limits = sequenceLimitsOf(config);
        if (limits) sequences = new SequenceStates(limits);
      } catch (err) {
        failure = (err as Error).message;
      }
    },
    readiness: () => (options ? { ready: true } : { ready: false, reason: failure ?? "not loaded" }),
    async infer(inputs, parameters) {
      if (!options) throw new Error("dtmf is not loaded");
      const o = options;
      const sequence = sequenceControlOf(parameters, sequences !== undefined);
      // A sequence of one request (start and end: every call outside live recognition) needs no
      // state: the whole-audio detector below spares the stream's copy of the audio.
      if (sequence && sequences && !(sequence.start && sequence.end)) {
        const [item, ...more] = asrItems(config, inputs, parameters);
        if (!item || more.length > 0) throw new InferenceInputError("AUDIO", "a request of a sequence carries one item");
        const stream = sequences.take(sequence, () => new DtmfStream(o));
        stream.push(item.audio);
        return asrOutputs(config, [
          { language: item.language ?? "ar", duration: round(stream.samples / o.sampleRate), segments: segmentsOf(stream.keys(), segmentGap) },
        ]);
      }
      // Started and ended at once: whatever the id held is let go, and no slot is taken.
      if (sequence && sequences) sequences.release(sequence);
      const results = asrItems(config, inputs, parameters).map((item): AsrResult => ({
        language: item.language ?? "ar",
        duration: round(item.audio.length / o.sampleRate),
        segments: segmentsOf(detectDtmf(item.audio, o), segmentGap),
      }));
      return asrOutputs(config, results);
    },
    async unload() {
      options = undefined;
    },
  };
}

function segmentsOf(keys: DtmfKey[], gap: number): AsrSegment[] {
  const segments: AsrSegment[] = [];
  let current: DtmfKey[] = [];
  const flush = () => {
    if (current.length === 0) return;
    segments.push({
      start: round((current[0] as DtmfKey).start),
      end: round((current[current.length - 1] as DtmfKey).end),
      text: current.map((k) => k.key).join(""),
      avg_logprob: round(current.reduce((sum, k) => sum + Math.log(Math.max(k.confidence, 1e-6)), 0) / current.length),
      no_speech_prob: 0,
      words: current.map((k) => ({ word: k.key, start: round(k.start), end: round(k.end), probability: round(k.confidence) })),
    });
    current = [];
  };
  for (const key of keys) {
    const last = current[current.length - 1];
    if (last && key.start - last.end > gap) flush();
    current.push(key);
  }
  flush();
  return segments;
}

/** Times and scores to the millisecond / thousandth, which is all they mean. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
