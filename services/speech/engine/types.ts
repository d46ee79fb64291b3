// The engine's vocabulary: what it is told, and what it says. Times are seconds of stream time,
// from the first sample the session received; channels count from 1 like `channel_tag`.
import type { TimedWord } from "./local-agreement.js";

/**
 * The words of one decode. `alternatives`: the model's runner-up hypotheses for the same audio, best
 * first, as text (the models time only their best one); absent or empty when it gives one.
 */
export type AsrWords = TimedWord[] & { alternatives?: readonly string[] };

/**
 * Recognises a stretch of 16 kHz mono audio; word times in seconds from the start of `audio`.
 * `final`: the decode of a final, the one whose n-best a result carries (interim re-decodes need none).
 *
 * With `sequences` set, the model keeps the audio of a sequence between calls (Triton's sequence
 * batching): a call with `sequence` carries only the audio that follows the sequence's previous
 * call (all of it at the start), and its words are those of the whole sequence so far, times from
 * the sequence's first sample, exactly as for one call with all that audio.
 */
export type AsrFunction = ((audio: Float32Array, options: { prompt?: string; signal?: AbortSignal; final?: boolean; sequence?: AsrSequenceStep }) => Promise<AsrWords>) & {
  readonly sequences?: boolean;
};

/** One call's place in its sequence. */
export interface AsrSequenceStep {
  /** The same for every call of the sequence; a start with an id in use restarts it. */
  id: number;
  start: boolean;
  /** The last call: the model lets the sequence go. */
  end: boolean;
}

export interface EngineSettings {
  /** Channels recognised separately (1 after a mixdown). */
  channels: number;
  interimResults: boolean;
  voiceActivityEvents: boolean;
  singleUtterance: boolean;
  /** Frame score at or above which a frame counts as speech. */
  speechThreshold: number;
  /** Non-speech that ends an utterance. */
  silenceMs: number;
  /** Silence after the last final word that ends the speaker's turn (an utterance_end event); 0: no such events. */
  utteranceEndSilenceMs: number;
  /** Longest utterance before a final is forced. */
  maxUtteranceMs: number;
  /** Audio added to an utterance between two re-decodes (interim results only). */
  stepMs: number;
  /** Audio kept before the first speech frame, so the onset is not clipped. */
  prerollMs: number;
  /** Once the buffer is longer than this, it is trimmed at the end of the last confirmed word. */
  trimAfterMs: number;
  /** With no audio or keepalive for this long the session fails. */
  idleTimeoutMs: number;
  /** The session finalises and ends after this long. */
  maxSessionMs: number;
  /** Audio chunks (and controls) that may wait per channel before `write` waits. */
  inputCapacity: number;
  /** Outputs that may wait for the transport before the engine waits. */
  outputCapacity: number;
}

export const defaultEngineSettings: EngineSettings = {
  channels: 1,
  interimResults: false,
  voiceActivityEvents: false,
  singleUtterance: false,
  speechThreshold: 0.5,
  silenceMs: 800,
  utteranceEndSilenceMs: 0,
  maxUtteranceMs: 30_000,
  stepMs: 500,
  prerollMs: 192,
  trimAfterMs: 10_000,
  idleTimeoutMs: 10_000,
  maxSessionMs: 4 * 3600_000,
  inputCapacity: 64,
  outputCapacity: 256,
};

export interface RecognitionResult {
  /** 1-based. */
  channel: number;
  isFinal: boolean;
  transcript: string;
  words: TimedWord[];
  /** Interim results: the share of the words already confirmed, in (0, 1). 0 on finals. */
  stability: number;
  /** Finals: mean word probability. 0 on interim results. */
  confidence: number;
  /**
   * Finals only, when the model gave an n-best for the final decode: the runner-up transcripts, best
   * first, without words or confidence. Absent otherwise.
   */
  alternatives?: string[];
  startSeconds: number;
  endSeconds: number;
}

export type SpeechEventKind = "speech_begin" | "speech_end" | "end_of_single_utterance" | "utterance_end" | "dtmf";

export interface SpeechEventOutput {
  type: SpeechEventKind;
  offsetSeconds: number;
  channel: number;
  /** For "dtmf": the key, "0"-"9", "*", "#", "A"-"D". */
  dtmfDigit?: string;
}

/** One output of a session; `index` counts every output from 0, without gaps. */
export type EngineOutput =
  | { index: number; kind: "result"; result: RecognitionResult }
  | { index: number; kind: "event"; event: SpeechEventOutput };

/** Timings the engine reports as they happen (Prometheus histograms in the gateway). Seconds of wall time. */
export interface EngineObserver {
  /** From the start of an utterance (when its first speech frame was scored) to its first interim result. */
  firstInterim?(seconds: number): void;
  /** From the endpoint (silence long enough, FINALIZE, CLOSE, maximum length) to the final result. */
  finalLatency?(seconds: number): void;
  /** One model call: an interim re-decode or the final decode of an utterance. */
  decode?(kind: "interim" | "final", seconds: number): void;
}
