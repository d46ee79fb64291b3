// Stereo keypad calls over StreamingRecognize, as the resume tests drive them: a plain @grpc/grpc-js
// client sends 8 kHz μ-law (one party per channel, 20 ms frames) to the `dtmf` model, so every final
// is exact, and reopens the stream after a drop with the session id, the index after the last output
// it processed and its audio from the byte the first response names.
import * as grpc from "@grpc/grpc-js";
import { expect } from "vitest";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { mulawOf } from "../../services/audio/g711.js";

export const RATE = 8000;
/** 20 ms of stereo μ-law. */
export const FRAME_BYTES = (RATE / 50) * 2;

export interface WireResponse {
  result_index: string;
  results: Array<{ alternatives: Array<{ transcript: string }>; is_final: boolean; channel_tag: number }>;
  speech_event: { type: string; channel_tag: number; dtmf_digit: string } | null;
  metadata: { session_id: string; audio_bytes_received: string; audio_bytes_committed: string } | null;
}

type Call = grpc.ClientDuplexStream<object, WireResponse>;

/**
 * A stereo call: on each channel, keypad groups at the given start times (seconds), 100 ms tones
 * with 100 ms gaps, silence elsewhere; `seconds` long.
 */
export function stereoCall(seconds: number, channels: [Array<[number, string]>, Array<[number, string]>]): Buffer {
  const samples = channels.map((groups) => {
    const out = new Float32Array(RATE * seconds);
    for (const [at, keys] of groups) out.set(dtmfSequence(keys, { sampleRate: RATE, leadMs: 0, toneMs: 100, gapMs: 100 }).audio, Math.round(at * RATE));
    return out;
  });
  const bytes = Buffer.alloc(RATE * seconds * 2);
  for (let i = 0; i < RATE * seconds; i++) {
    bytes[2 * i] = mulawOf(samples[0]![i]!);
    bytes[2 * i + 1] = mulawOf(samples[1]![i]!);
  }
  return bytes;
}

/** One connection of a client: what it received, and how it ended. */
export class Connection {
  readonly responses: WireResponse[] = [];
  readonly ended: Promise<grpc.ServiceError | undefined>;
  private readonly call: Call;
  private waiters: Array<() => void> = [];

  constructor(client: grpc.Client, token: string, first: object) {
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${token}`);
    this.call = (client as unknown as { StreamingRecognize(m: grpc.Metadata): Call }).StreamingRecognize(metadata);
    this.call.on("data", (r: WireResponse) => {
      this.responses.push(r);
      for (const w of this.waiters.splice(0)) w();
    });
    this.ended = new Promise((resolve) => {
      this.call.on("error", resolve);
      this.call.on("end", () => resolve(undefined));
    });
    this.call.write(first);
  }

  /** Waits until a response satisfies `test`. */
  async until(test: (r: WireResponse) => boolean): Promise<WireResponse> {
    for (;;) {
      const found = this.responses.find(test);
      if (found) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Sends `audio` in 20 ms frames, paced at `speed` times real time; stops once the call is over. */
  async send(audio: Buffer, speed = 4): Promise<void> {
    for (let at = 0; at < audio.length && !this.call.destroyed; at += FRAME_BYTES) {
      if (!this.call.write({ audio_content: audio.subarray(at, at + FRAME_BYTES) })) await new Promise((r) => this.call.once("drain", r));
      await new Promise((r) => setTimeout(r, 20 / speed));
    }
  }

  end(): void {
    this.call.end();
  }

  cancel(): void {
    this.call.cancel();
  }

  /** Outputs (responses with results or an event), without the metadata-only ones. */
  get outputs(): WireResponse[] {
    return this.responses.filter((r) => r.results.length > 0 || r.speech_event);
  }
}

/** Finals per channel, in order, across connections (each index counted once: a replay must not repeat one). */
export function finalsByChannel(connections: Connection[]): Record<number, string[]> {
  const seen = new Set<string>();
  const out: Record<number, string[]> = { 1: [], 2: [] };
  for (const c of connections) {
    for (const r of c.outputs) {
      expect(seen.has(r.result_index), `index ${r.result_index} delivered twice`).toBe(false);
      seen.add(r.result_index);
      for (const x of r.results) if (x.is_final) out[x.channel_tag]!.push(x.alternatives[0]!.transcript);
    }
  }
  return out;
}

/** The first message of a new call: stereo μ-law keypad audio with interim results. */
export const configMessage = {
  streaming_config: {
    config: { encoding: "AUDIO_ENCODING_MULAW", sample_rate_hz: RATE, audio_channel_count: 2, separate_recognition_per_channel: true, model: "dtmf" },
    interim_results: true,
  },
};

/** The first message of a resumed call. */
export const resumeMessage = (sessionId: string, from: number) => ({ streaming_config: { resume: { session_id: sessionId, from_result_index: String(from) } } });

/** One past the index of the last output a connection received (what a client resumes from). */
export const nextIndexOf = (c: Connection) => Number(c.outputs.at(-1)?.result_index ?? -1) + 1;
