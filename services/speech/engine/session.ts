// A recognition session: one ChannelRecognizer per channel, one ordered output for all of them.
// Transport-free: StreamingRecognize and the live-session RPCs both drive it. Every queue is
// bounded, so a client that does not read its results eventually stops the reading of its audio
// rather than growing memory, and nothing it sent is dropped.
import { MODEL_SAMPLE_RATE } from "../../audio/rates.js";
import { DeadlineExceededError } from "../../platform/errors/errors.js";
import { BoundedQueue } from "./bounded-queue.js";
import { ChannelRecognizer, type ChannelInput, type ChannelSink } from "./channel.js";
import type { SpeechGate } from "./gate.js";
import type { AsrFunction, EngineObserver, EngineOutput, EngineSettings, RecognitionResult, SpeechEventOutput } from "./types.js";

export interface SessionDependencies {
  asr: AsrFunction;
  /** A fresh gate for each channel (gates keep per-channel state). */
  gate: () => SpeechGate;
  observer?: EngineObserver;
  /**
   * dtmf_events: a keypad recogniser run beside each channel on the same audio (its own gate and
   * endpointing, no interim results); each key it finds becomes a DTMF event instead of a result.
   */
  keypad?: { asr: AsrFunction; gate: () => SpeechGate };
  /**
   * Told each time every channel (and keypad) is quiet together at a later stream sample: all
   * outputs for the audio before `sample` have been emitted, with indexes below `nextIndex`, and
   * none is owed for it. A fresh session started at `sample`, numbering from `nextIndex`, would
   * go on exactly as this one (how a resume on another server loses and repeats nothing).
   */
  onCheckpoint?: (checkpoint: SessionCheckpoint) => void;
}

export interface SessionCheckpoint {
  /** Stream sample (16 kHz) before which everything is out. */
  sample: number;
  /** Index the next output will have. */
  nextIndex: number;
}

/** A second of 16 kHz audio. */
const CHECKPOINT_EVERY_SAMPLES = 16_000;

/**
 * The keypad recogniser's gate frame: 10 ms, so that a gap between two keys as short as ITU-T Q.24
 * allows (40 ms) holds whole frames of silence. Its gate (energyGate, from the caller) must use it.
 */
export const KEYPAD_FRAME_SAMPLES = 160;

/**
 * The keypad's endpoint: a key's final (its DTMF event) goes out after this much silence, 30 to
 * 40 ms of stream time after its tone ends (whole gate frames). Q.24 keys are tones of at least 40 ms with gaps of at least
 * 40 ms, so each key is an utterance of its own, reported as soon as it is over, rather than at
 * the speech endpoint (800 ms by default) after the last key of a run.
 */
export const KEYPAD_SILENCE_MS = 30;

export class SessionAbortedError extends Error {
  constructor() {
    super("the recognition session was aborted");
  }
}

export class RecognitionSession {
  /** Results and events in order; ends after the last final, or with the session's failure. */
  readonly outputs: BoundedQueue<EngineOutput>;
  private readonly channels: ChannelRecognizer[];
  /** The channels' recognizers, then the keypads'. */
  private readonly recognizers: ChannelRecognizer[];
  /** dtmf_events: a keypad recogniser per channel, fed the same audio. */
  private keypads: ChannelRecognizer[] = [];
  private readonly abortController = new AbortController();
  private nextIndex = 0;
  /** Samples per channel passed to `write` (every channel's recognisers get all of them). */
  private writtenSamples = 0;
  private writesWaiting = 0;
  private emitting: Promise<void> = Promise.resolve();
  private stoppedFlag = false;
  private closing = false;
  private endError: unknown;
  private idleTimer: NodeJS.Timeout | undefined;
  /** performance.now() of the last audio or keepalive: the idle timeout counts from it. */
  private lastActivity = performance.now();
  private readonly lifetimeTimer: NodeJS.Timeout;
  private readonly done: Promise<void>;
  private lastCheckpoint = 0;
  private lastCheckpointIndex = 0;

  constructor(
    readonly settings: EngineSettings,
    deps: SessionDependencies,
  ) {
    this.outputs = new BoundedQueue(settings.outputCapacity);
    const session = this;
    // A sink per recognizer, built whole: spreading one would copy `stopped`'s value at that moment
    // instead of its getter, and a channel would never see the session stop.
    const sinkWith = (own: Partial<Omit<ChannelSink, "stopped">> = {}): ChannelSink => ({
      result: (result) => this.emit({ kind: "result", result }),
      event: (event) => this.emit({ kind: "event", event }),
      singleUtteranceEnded: () => this.stopRecognising(),
      progressed: deps.onCheckpoint ? () => this.maybeCheckpoint(deps.onCheckpoint!) : undefined,
      ...own,
      get stopped() {
        return session.stoppedFlag;
      },
    });
    // A turn's keys go out before its UTTERANCE_END: the channel's keypad recogniser has scored
    // the audio up to the turn's end and past one keypad endpoint, so it has reported every key
    // whose tone ended before it. It is never asked to go further than the audio already written
    // (less the part of a frame it may hold back): audio still to come may wait for this very
    // channel to move on, when the writes are small and the queues full.
    const keysBefore = (channel: number) => (at: number) => {
      const keypad = this.keypads[channel];
      if (!keypad) return Promise.resolve();
      const endpoint = (KEYPAD_SILENCE_MS * MODEL_SAMPLE_RATE) / 1000 + KEYPAD_FRAME_SAMPLES;
      return keypad.reached(Math.min(at + endpoint, this.writtenSamples - KEYPAD_FRAME_SAMPLES + 1));
    };
    this.channels = Array.from(
      { length: settings.channels },
      (_, i) => new ChannelRecognizer(i + 1, settings, deps.gate(), deps.asr, sinkWith({ beforeTurnEnd: keysBefore(i) }), this.abortController.signal, deps.observer),
    );
    if (deps.keypad) {
      const keypad = deps.keypad;
      const keySettings: EngineSettings = {
        ...settings,
        interimResults: false,
        voiceActivityEvents: false,
        singleUtterance: false,
        utteranceEndSilenceMs: 0,
        silenceMs: KEYPAD_SILENCE_MS,
      };
      const keySink = (channel: number): ChannelSink =>
        sinkWith({
          result: async (result) => {
            for (const key of result.words) {
              await this.emit({ kind: "event", event: { type: "dtmf", offsetSeconds: key.start, channel, dtmfDigit: key.word } });
            }
          },
        });
      this.keypads = Array.from(
        { length: settings.channels },
        (_, i) => new ChannelRecognizer(i + 1, keySettings, keypad.gate(), keypad.asr, keySink(i + 1), this.abortController.signal),
      );
    }
    this.recognizers = [...this.channels, ...this.keypads];
    const idle = () => {
      if (this.idleTimer === undefined) return;
      const quiet = performance.now() - this.lastActivity;
      // Audio waiting for room is the server's slowness, not the client's silence. A client gone
      // quiet still gets the finals of what it said, then the error.
      if (this.writesWaiting === 0 && quiet >= settings.idleTimeoutMs) {
        void this.close(new DeadlineExceededError(`no audio or keepalive for ${settings.idleTimeoutMs / 1000} s`));
        return;
      }
      this.idleTimer = setTimeout(idle, this.writesWaiting > 0 ? settings.idleTimeoutMs : Math.max(1, Math.ceil(settings.idleTimeoutMs - quiet)));
      this.idleTimer.unref?.();
    };
    this.idleTimer = setTimeout(idle, settings.idleTimeoutMs);
    this.lifetimeTimer = setTimeout(() => {
      void this.close(new DeadlineExceededError(`the session reached its maximum length of ${settings.maxSessionMs / 1000} s`));
    }, settings.maxSessionMs);
    this.idleTimer.unref?.();
    this.lifetimeTimer.unref?.();
    this.done = Promise.all(this.all().map((c) => c.run())).then(
      () => {
        this.clearTimers();
        if (this.endError !== undefined) this.outputs.fail(this.endError);
        else this.outputs.close();
      },
      (err: unknown) => this.fail(err),
    );
  }

  /** True once no more audio is taken: closing, single utterance ended, failed or aborted. */
  get acceptsAudio(): boolean {
    return !this.closing && !this.stoppedFlag;
  }

  /** Index the next output will have. */
  get nextResultIndex(): number {
    return this.nextIndex;
  }

  /** Seconds of audio scored so far (the slowest channel). */
  get processedSeconds(): number {
    return Math.min(...this.channels.map((c) => c.processedSeconds));
  }

  /**
   * Queues audio: one Float32Array of 16 kHz samples per channel, all of the same length. Waits
   * while the channels' queues are full. Audio after the session stopped taking it is ignored.
   */
  write(channels: Float32Array[]): Promise<void> {
    try {
      return this.writeNow(channels) ?? RESOLVED;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * `write` without a promise when every queue has room (a live stream's every frame, while the
   * engine keeps up): undefined once queued, or the promise of the wait for room. Throws what
   * `write` would reject with.
   */
  writeNow(channels: Float32Array[]): Promise<void> | undefined {
    if (channels.length !== this.channels.length) throw new Error(`expected ${this.channels.length} channels, got ${channels.length}`);
    this.keepalive();
    if (!this.acceptsAudio) return undefined;
    this.writtenSamples += channels[0]!.length;
    // Queues with room take the chunk at once; only a full one (or a closed one, to say so) is waited on.
    let pushes: Promise<void>[] | undefined;
    for (let r = 0; r < this.recognizers.length; r++) {
      const input = this.recognizers[r]!.input;
      const item: ChannelInput = { kind: "audio", samples: channels[r % channels.length]! };
      if (!input.offer(item)) (pushes ??= []).push(input.push(item).catch(ignoreClosed));
    }
    return pushes && this.waitForRoom(pushes);
  }

  private async waitForRoom(pushes: Promise<void>[]): Promise<void> {
    this.writesWaiting++;
    try {
      await Promise.all(pushes);
    } finally {
      this.writesWaiting--;
      this.keepalive();
    }
  }

  /** Audio or a keepalive arrived: the idle timeout starts again. */
  keepalive(): void {
    // A timestamp, not a timer refresh: this runs for every audio frame; the timer reads it when it fires.
    this.lastActivity = performance.now();
  }

  /** Ends every current utterance with its final results; resolves once they are emitted. */
  async finalize(): Promise<void> {
    this.keepalive();
    if (!this.acceptsAudio) return;
    this.writesWaiting++;
    try {
      await Promise.all(
        this.all().map(
          (c) => new Promise<void>((resolve) => c.input.push({ kind: "finalize", done: resolve }).catch(() => resolve())),
        ),
      );
    } finally {
      this.writesWaiting--;
      this.keepalive();
    }
  }

  /**
   * No more audio: the channels finalise what they hold and the outputs end after the last result,
   * with `error` when given (the first error given wins).
   */
  async close(error?: unknown): Promise<void> {
    if (error !== undefined) this.endError ??= error;
    this.closing = true;
    // The client is done: what is left is the server's work, however long it takes.
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    for (const c of this.all()) c.input.close();
    await this.done;
  }

  /** Frees everything now (the client went away): queued audio and pending outputs are dropped. */
  abort(reason: unknown = new SessionAbortedError()): void {
    this.stopRecognising();
    this.clearTimers();
    this.abortController.abort(reason);
    for (const c of this.all()) c.input.abort(reason);
    this.outputs.abort(reason);
  }

  /** Ends the session with an error that the outputs throw after what is queued. */
  fail(error: unknown): void {
    this.stopRecognising();
    this.clearTimers();
    this.abortController.abort(error);
    for (const c of this.all()) c.input.abort(error);
    this.outputs.fail(error);
  }

  /** A checkpoint once all recognizers are quiet over a common sample past the last one. */
  private maybeCheckpoint(tell: (checkpoint: SessionCheckpoint) => void): void {
    if (this.stoppedFlag) return;
    let sample = Number.POSITIVE_INFINITY;
    let quietFrom = 0;
    for (const c of this.all()) {
      const since = c.quietSince;
      if (since === undefined) return;
      quietFrom = Math.max(quietFrom, since);
      sample = Math.min(sample, c.scoredSamples);
    }
    if (quietFrom > sample || sample <= this.lastCheckpoint) return;
    // In a long silence, one a second is plenty: each is a write to the session store.
    if (this.nextIndex === this.lastCheckpointIndex && sample - this.lastCheckpoint < CHECKPOINT_EVERY_SAMPLES) return;
    this.lastCheckpoint = sample;
    this.lastCheckpointIndex = this.nextIndex;
    // After the outputs emitted so far have their indexes.
    this.emitting = this.emitting.then(() => tell({ sample, nextIndex: this.nextIndex }));
  }

  private stopRecognising(): void {
    this.stoppedFlag = true;
    this.closing = true;
    for (const c of this.all()) c.input.close();
  }

  private all(): ChannelRecognizer[] {
    return this.recognizers;
  }

  private clearTimers(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    clearTimeout(this.lifetimeTimer);
  }

  /** Outputs of all channels pass one at a time, so indexes follow the order of the queue. */
  private emit(output: { kind: "result"; result: RecognitionResult } | { kind: "event"; event: SpeechEventOutput }): Promise<void> {
    const pushed = this.emitting.then(() => this.outputs.push({ ...output, index: this.nextIndex++ } as EngineOutput));
    // swallowed: the push's own promise rejects to its caller; this chain only keeps the order.
    this.emitting = pushed.catch(() => undefined);
    return pushed;
  }
}

const RESOLVED = Promise.resolve();

function ignoreClosed(): void {
  // The session stopped taking audio while this chunk waited for room: it is not recognised, as
  // documented for single_utterance and CLOSE.
}

