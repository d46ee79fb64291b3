// Live diarization (diarization_config on StreamingRecognize, the live-session trio and Recognize): every
// final's words get a speaker label. One channel (mono, or mixed down): an online diarizer
// (services/audio/speakers/online.ts) hears the channel's audio and labels each final's utterance when it
// comes out, with the speaker_embedding model's prints when the model is ready, else the weights-free
// spectral ones. Several channels recognised separately: one speaker per channel, exactly as the batch path
// labels them. Labels are "S1", "S2", ... as in transcripts. A session taken over by another replica starts
// its diarizer afresh there (its clusters are not part of the commit point), so its labels may be renumbered
// after the takeover.
import type { InferenceClient } from "../../inference/client/index.js";
import { SPEAKER_MODEL } from "../audio/speakers/cluster.js";
import { OnlineDiarizer, speakerAt, type Embedder } from "../audio/speakers/online.js";
import type { EngineOutput } from "./engine/types.js";

export interface LiveDiarizationConfig {
  /** 0: 1. */
  minSpeakers: number;
  /** 0: 6 (recognition.proto). */
  maxSpeakers: number;
}

/** Who spoke each final's words, channel by channel. */
export class LiveDiarization {
  private constructor(
    /** One per channel when the audio is one channel; none when channels are recognised separately. */
    private readonly diarizers: OnlineDiarizer[],
  ) {}

  /** Voice prints from the speaker_embedding model when it is ready, else spectral ones. */
  static async open(inference: Pick<InferenceClient, "modelReady" | "embed">, config: LiveDiarizationConfig, channels: number, signal?: AbortSignal): Promise<LiveDiarization> {
    if (channels > 1) return new LiveDiarization([]);
    // A model that cannot be asked is a model not ready: diarization falls back rather than fails the stream.
    const ready = await inference.modelReady(SPEAKER_MODEL, { signal }).catch(() => false);
    const embed: Embedder | undefined = ready ? (samples, options) => inference.embed(samples, options) : undefined;
    return new LiveDiarization([new OnlineDiarizer({ embed, minSpeakers: config.minSpeakers, maxSpeakers: config.maxSpeakers })]);
  }

  /** "embedding", "spectral", or "channel" when each channel is its own speaker. */
  get method(): "embedding" | "spectral" | "channel" {
    return this.diarizers[0]?.method ?? "channel";
  }

  /** The audio the engine gets, as it gets it (one 16 kHz array per channel recognised). */
  push(channels: readonly Float32Array[]): void {
    this.diarizers.forEach((d, c) => d.push(channels[c]!));
  }

  /** Outputs with a speaker on every word of every final; interim results and events pass as they are. */
  async *label(outputs: AsyncIterable<EngineOutput>, signal?: AbortSignal): AsyncGenerator<EngineOutput> {
    for await (const output of outputs) {
      if (output.kind !== "result" || !output.result.isFinal) {
        yield output;
        continue;
      }
      const r = output.result;
      const diarizer = this.diarizers[r.channel - 1];
      if (!diarizer) {
        yield { ...output, result: { ...r, words: r.words.map((w) => ({ ...w, speaker: `S${r.channel}` })) } };
        continue;
      }
      const turns = await diarizer.turns({ start: r.startSeconds, end: r.endSeconds }, signal);

      const words = r.words.map((w) => ({ ...w, speaker: `S${(speakerAt(turns, (w.start + w.end) / 2) ?? 0) + 1}` }));
      yield { ...output, result: { ...r, words } };
    }
  }
}
