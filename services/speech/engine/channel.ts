// Recognition of one channel: gate → utterance buffer → re-decode every step → LocalAgreement-2 →
// final at the endpoint. Audio is consumed strictly in order by one loop; interim re-decodes run
// beside it, at most one at a time, so when the model lags the next re-decode simply takes all the
// audio that arrived meanwhile (fewer partials, no audio dropped).
//
// A model that keeps an utterance's audio between calls (sequence batching, e.g. dtmf) is sent each
// utterance as a sequence: a call carries only the audio after the previous call's, so a live
// stream costs the model (and the wire) each sample once rather than once per step. Whenever the
// model's copy may not be the buffer's (the buffer was trimmed, a call was cancelled or failed, the
// final ends before audio an interim already sent), the next call restarts the sequence with all the
// audio it decodes, so what the model decodes is always exactly what a whole-buffer call would.
import { MODEL_SAMPLE_RATE } from "../../audio/rates.js";
import { BoundedQueue } from "./bounded-queue.js";
import type { SpeechGate } from "./gate.js";
import { joinWords, LocalAgreement, type TimedWord } from "./local-agreement.js";
import type { AsrFunction, AsrSequenceStep, AsrWords, EngineObserver, EngineSettings, RecognitionResult, SpeechEventOutput } from "./types.js";
import { UtteranceBuffer } from "./utterance-buffer.js";

export type ChannelInput =
  | { kind: "audio"; samples: Float32Array }
  | { kind: "finalize"; done: () => void };

export interface ChannelSink {
  result(result: RecognitionResult): Promise<void>;
  event(event: SpeechEventOutput): Promise<void>;
  /** single_utterance: the first utterance ended; the session reads no more audio. */
  singleUtteranceEnded(): void;
  /** True once the session stops recognising (single utterance done, aborted). */
  readonly stopped: boolean;
  /** The channel scored more audio (its position or quiet span may have moved). */
  progressed?(): void;
  /** Before an utterance_end at stream sample `at`: resolves once every output due before it is out. */
  beforeTurnEnd?(at: number): Promise<void>;
}

/** Trailing non-speech kept at the end of an utterance sent to the model: enough for the last word to fade out. */
const TAIL_MS = 200;
/** Longest prompt of confirmed text given to the model after a trim. */
const PROMPT_CHARS = 200;
/**
 * At a cut made while the speaker is still speaking, a word that ends this close to the cut is taken
 * to be cut short: its end is the cut, not the word's. The models time word edges to tens of
 * milliseconds (dtmf: a few), so a word that really ended earlier is held back at worst, never lost.
 */
const CUT_WORD_MS = 100;

/**
 * Why an utterance ends: enough silence; its maximum length; the client's FINALIZE; the end of the
 * audio (CLOSE, the end of the stream, a session limit).
 */
type EndReason = "silence" | "max_length" | "finalize" | "end";

export class ChannelRecognizer {
  readonly input: BoundedQueue<ChannelInput>;
  private readonly frameSamples: number;
  /**
   * Audio taken in and not yet scored: `pending[0, pendingLength)`, less than a gate frame between
   * chunks. The array is reused (what the gate scores is read from it in place, and frames that must
   * outlive a chunk are copied: the preroll, the utterance buffer) so a chunk allocates nothing here.
   */
  private pending = new Float32Array(0);
  private pendingLength = 0;
  /** Stream sample index of the next frame the gate scores. */
  private position = 0;
  private readonly preroll: Float32Array[] = [];
  private readonly prerollFrames: number;

  private inUtterance = false;
  /** Stream sample since which this channel has been between utterances, with everything it heard out. */
  private quietFrom = 0;
  private utteranceStart = 0;
  private lastSpeechEnd = 0;
  /** Stream sample where the current run of speech frames began (the last frame before it was not speech). */
  private speechRunStart = 0;
  private silenceSamples = 0;
  private readonly buffer = new UtteranceBuffer(MODEL_SAMPLE_RATE);
  private agreement = new LocalAgreement();
  private lastInterim = "";
  /** Stream sample where the last final word ended, until the turn's end is reported or speech resumes. */
  private turnEnd: number | undefined;
  /** Wall time (ms) the utterance began, until its first interim result is out. */
  private utteranceBeganAt: number | undefined;
  /** Bumped at every endpoint, so a re-decode that finishes late is discarded. */
  private generation = 0;
  private decoding: Promise<void> | undefined;
  /** Cancels the interim re-decode in flight: at an endpoint its words would be discarded anyway. */
  private interimAbort: AbortController | undefined;
  private lastDecodedEnd = 0;
  private decodeFailure: unknown;
  /** The current utterance's sequence id (sequence-batching models). */
  private sequenceId = 0;
  /**
   * What the model holds of that sequence after the last call that succeeded: the buffer's audio
   * from stream sample `from` up to `sent`. Undefined while a call is out or after one failed.
   */
  private sequenceHeld: { from: number; sent: number } | undefined;
  /** `reached` callers waiting for the channel to score audio up to a stream sample. */
  private positionWaiters: Array<{ sample: number; resolve: () => void }> = [];

  constructor(
    readonly channel: number,
    private readonly settings: EngineSettings,
    private readonly gate: SpeechGate,
    private readonly asr: AsrFunction,
    private readonly sink: ChannelSink,
    private readonly signal: AbortSignal,
    private readonly observer: EngineObserver = {},
  ) {
    this.input = new BoundedQueue(settings.inputCapacity);
    this.frameSamples = gate.frameSamples;
    this.prerollFrames = Math.ceil((settings.prerollMs * MODEL_SAMPLE_RATE) / 1000 / this.frameSamples);
  }

  /** Stream seconds of audio scored so far. */
  get processedSeconds(): number {
    return this.position / MODEL_SAMPLE_RATE;
  }

  /** Stream samples scored so far. */
  get scoredSamples(): number {
    return this.position;
  }

  /**
   * The stream sample from which this channel has been quiet (between utterances, with every
   * result and event for the audio before it emitted, and none owed for the audio after it), or
   * undefined while it is inside an utterance or still owes an UTTERANCE_END. A fresh recognizer
   * started anywhere in [quietSince, scoredSamples] would emit exactly what this one still will.
   */
  get quietSince(): number | undefined {
    if (this.inUtterance) return undefined;
    if (this.turnEnd !== undefined && this.settings.voiceActivityEvents && this.settings.utteranceEndSilenceMs > 0) return undefined;
    return this.quietFrom;
  }

  /**
   * Resolves once the channel has scored audio up to stream sample `sample` (and emitted whatever
   * that audio ended), or once it stops running.
   */
  reached(sample: number): Promise<void> {
    if (this.position >= sample) return Promise.resolve();
    return new Promise((resolve) => this.positionWaiters.push({ sample, resolve }));
  }

  /** Consumes the input until it closes, then finalises what is left. */
  async run(): Promise<void> {
    try {
      await this.recognise();
    } finally {
      for (const waiter of this.positionWaiters) waiter.resolve();
      this.positionWaiters = [];
      this.gate.close?.();
    }
  }

  private async recognise(): Promise<void> {
    for (;;) {
      // Awaited only when nothing is queued: a chunk already waiting costs no promise.
      for (let waiting = this.input.ready(); waiting; waiting = this.input.ready()) await waiting;
      const item = this.input.poll();
      if (item === undefined || this.sink.stopped) break;
      if (item.kind === "finalize") {
        await this.flushPending();
        if (this.inUtterance) await this.endUtterance("finalize");
        this.sink.progressed?.();
        item.done();
        continue;
      }
      // Take every chunk already waiting: one gate call for all of them.
      const chunks = [item.samples];
      for (let next = this.input.takeIf(isAudio); next; next = this.input.takeIf(isAudio)) {
        chunks.push((next as { samples: Float32Array }).samples);
      }
      const consuming = this.consume(chunks);
      if (consuming) await consuming;
      if (this.decodeFailure !== undefined) throw this.decodeFailure;
      this.sink.progressed?.();
    }
    if (this.sink.stopped) return;
    await this.flushPending();
    if (this.inUtterance) await this.endUtterance("end");
  }

  /**
   * Appends the chunks to the pending audio and scores its whole frames: synchronous (undefined) unless
   * the gate or a step has to wait, as a live channel's every 20 ms chunk of silence or speech does not.
   */
  private consume(chunks: Float32Array[]): Promise<void> | undefined {
    let total = this.pendingLength;
    for (const c of chunks) total += c.length;
    if (total > this.pending.length) {
      const grown = new Float32Array(Math.max(total, 2 * this.pending.length));
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
    }
    const audio = this.pending;
    let at = this.pendingLength;
    for (const c of chunks) {
      audio.set(c, at);
      at += c.length;
    }
    const whole = Math.floor(total / this.frameSamples) * this.frameSamples;
    // The whole frames are scored in place; the rest moves to the front once they are.
    this.pendingLength = total;
    if (whole === 0) return undefined;
    let scoring: Promise<void> | undefined;
    try {
      scoring = this.scoreAndStep(audio.subarray(0, whole));
    } finally {
      if (!scoring) this.dropScored(whole);
    }
    return scoring?.finally(() => this.dropScored(whole));
  }

  /** The first `scored` pending samples are scored: the rest moves to the front. */
  private dropScored(scored: number): void {
    this.pending.copyWithin(0, scored, this.pendingLength);
    this.pendingLength -= scored;
  }

  /** At a finalize or the end: the last partial frame is scored as if padded with silence. */
  private async flushPending(): Promise<void> {
    if (this.pendingLength === 0) return;
    const frame = new Float32Array(this.frameSamples);
    const real = this.pendingLength;
    frame.set(this.pending.subarray(0, real));
    this.pendingLength = 0;
    await this.scoreAndStep(frame, real);
  }

  /** Scores the frames and steps through them: synchronous (undefined) unless the gate or a step has to wait. */
  private scoreAndStep(frames: Float32Array, lastFrameSamples = this.frameSamples): Promise<void> | undefined {
    const scores = this.gate.scoreNow?.(frames);
    if (scores) return this.stepFrom(0, frames, scores, lastFrameSamples);
    return this.gate.score(frames).then((awaited) => this.stepFrom(0, frames, awaited, lastFrameSamples));
  }

  /** Steps through scored frames from frame `from`, going on asynchronously only after a step that waits. */
  private stepFrom(from: number, frames: Float32Array, scores: Float32Array, lastFrameSamples: number): Promise<void> | undefined {
    for (let f = from; f < scores.length; f++) {
      if (this.sink.stopped) return undefined;
      const isLast = f === scores.length - 1;
      const length = isLast ? lastFrameSamples : this.frameSamples;
      const stepping = this.step(frames.subarray(f * this.frameSamples, f * this.frameSamples + length), scores[f]! >= this.settings.speechThreshold);
      if (stepping) {
        return stepping.then(() => {
          this.wakePositionWaiters();
          return this.stepFrom(f + 1, frames, scores, lastFrameSamples);
        });
      }
      this.wakePositionWaiters();
    }
    this.maybeRedecode();
    return undefined;
  }

  private wakePositionWaiters(): void {
    if (this.positionWaiters.length === 0) return;
    const waiting = this.positionWaiters;
    this.positionWaiters = waiting.filter((w) => w.sample > this.position);
    for (const w of waiting) if (w.sample <= this.position) w.resolve();
  }

  /**
   * One gate frame. Synchronous unless the frame begins or ends something: most frames (silence
   * between utterances, speech inside one) then cost no promise, and a live stream has some 30 of
   * them a second per channel.
   */
  private step(frame: Float32Array, speech: boolean): Promise<void> | undefined {
    const frameStart = this.position;
    this.position += frame.length;
    if (!this.inUtterance) {
      if (!speech) {
        this.keepPreroll(frame);
        return this.turnEndDue() ? this.endTurn() : undefined;
      }
      return this.beginUtterance(frameStart).then(() => this.stepInUtterance(frame, frameStart, speech));
    }
    return this.stepInUtterance(frame, frameStart, speech);
  }

  /** Keeps a copy of the frame among the last `prerollFrames` (reusing the array of the one it pushes out). */
  private keepPreroll(frame: Float32Array): void {
    if (this.prerollFrames === 0) return;
    const oldest = this.preroll.length >= this.prerollFrames ? this.preroll.shift() : undefined;
    const copy = oldest?.length === frame.length ? oldest : new Float32Array(frame.length);
    copy.set(frame);
    this.preroll.push(copy);
  }

  private stepInUtterance(frame: Float32Array, frameStart: number, speech: boolean): Promise<void> | undefined {
    this.buffer.append(frame);
    if (speech) {
      if (this.silenceSamples > 0) this.speechRunStart = frameStart;
      this.silenceSamples = 0;
      this.lastSpeechEnd = this.position;
    } else {
      this.silenceSamples += frame.length;
    }
    if (this.silenceSamples >= (this.settings.silenceMs * MODEL_SAMPLE_RATE) / 1000) return this.endUtterance("silence");
    if (this.position - this.utteranceStart >= (this.settings.maxUtteranceMs * MODEL_SAMPLE_RATE) / 1000) return this.endUtterance("max_length");
    return undefined;
  }

  /** Whether the turn's end is due (UTTERANCE_END: silence for utterance_end_silence after the last final word). */
  private turnEndDue(): boolean {
    const wait = (this.settings.utteranceEndSilenceMs * MODEL_SAMPLE_RATE) / 1000;
    return this.turnEnd !== undefined && wait > 0 && this.position - this.turnEnd >= wait;
  }

  private async endTurn(): Promise<void> {
    const at = this.turnEnd! + (this.settings.utteranceEndSilenceMs * MODEL_SAMPLE_RATE) / 1000;
    this.turnEnd = undefined;
    this.quietFrom = this.position;
    if (!this.settings.voiceActivityEvents) return;
    // Keys pressed before the turn ended are part of it: their DTMF events go out first.
    await this.sink.beforeTurnEnd?.(at);
    await this.sink.event({ type: "utterance_end", offsetSeconds: at / MODEL_SAMPLE_RATE, channel: this.channel });
  }

  private async beginUtterance(speechStart: number, announce = true): Promise<void> {
    this.turnEnd = undefined;
    let prerolled = 0;
    for (const f of this.preroll) prerolled += f.length;
    this.utteranceStart = speechStart - prerolled;
    this.buffer.reset(this.utteranceStart);
    for (const f of this.preroll) this.buffer.append(f);
    this.preroll.length = 0;
    this.agreement = new LocalAgreement();
    this.lastInterim = "";
    this.utteranceBeganAt = performance.now();
    this.lastDecodedEnd = this.utteranceStart;
    this.sequenceId = newSequenceId();
    this.sequenceHeld = undefined;
    this.silenceSamples = 0;
    this.lastSpeechEnd = speechStart;
    this.speechRunStart = speechStart;
    this.inUtterance = true;
    if (announce && this.settings.voiceActivityEvents) {
      await this.sink.event({ type: "speech_begin", offsetSeconds: speechStart / MODEL_SAMPLE_RATE, channel: this.channel });
    }
  }

  private async endUtterance(reason: EndReason): Promise<void> {
    const endpointAt = performance.now();
    this.generation++;
    // The re-decode in flight is of an older generation: its words would be dropped. Cancelled, it
    // neither holds the final back nor keeps the model busy. A sequence's step is left to finish:
    // its audio is the start of the final's, which then only adds what follows.
    if (!this.asr.sequences) this.interimAbort?.abort();
    await this.decoding;
    this.decoding = undefined;
    if (this.decodeFailure !== undefined) throw this.decodeFailure;

    const single = this.settings.singleUtterance && reason !== "max_length";
    // Cut while the speaker may still be speaking: the utterance goes on after this final, with no
    // SPEECH_END or SPEECH_BEGIN between (the speech did not end).
    const goesOn = reason === "max_length" || (reason === "finalize" && !single && this.silenceSamples === 0);
    const speechEnd = this.lastSpeechEnd / MODEL_SAMPLE_RATE;
    if (!goesOn && this.settings.voiceActivityEvents) {
      await this.sink.event({ type: "speech_end", offsetSeconds: speechEnd, channel: this.channel });
    }
    if (single) await this.sink.event({ type: "end_of_single_utterance", offsetSeconds: speechEnd, channel: this.channel });

    // The final decode: the whole buffer up to a short tail after the last speech.
    const until = goesOn ? this.buffer.endSample : Math.min(this.buffer.endSample, this.lastSpeechEnd + (TAIL_MS * MODEL_SAMPLE_RATE) / 1000);
    const offset = this.buffer.startSeconds;
    const decoded = until > this.buffer.startSample ? await this.decode("final", until) : [];
    const words = shift(decoded, offset);
    this.agreement.flush(words);
    const heard = [...this.agreement.confirmed];
    const { kept, next } = goesOn && this.silenceSamples === 0 ? this.splitAtCut(heard, until, reason) : { kept: heard.length, next: until };
    const all = heard.slice(0, kept);
    // A final cut short at a pause keeps only some of the decode's words, to which no runner-up text maps.
    const alternatives = kept === heard.length ? finalAlternatives(all, offset, decoded.alternatives ?? []) : [];
    if (all.length > 0) {
      await this.sink.result({
        channel: this.channel,
        isFinal: true,
        transcript: joinWords(all),
        words: all,
        stability: 0,
        confidence: all.reduce((s, w) => s + w.probability, 0) / all.length,
        startSeconds: this.utteranceStart / MODEL_SAMPLE_RATE,
        endSeconds: next / MODEL_SAMPLE_RATE,
        ...(alternatives.length > 0 ? { alternatives } : {}),
      });
      this.observer.finalLatency?.((performance.now() - endpointAt) / 1000);
      this.turnEnd = Math.round(all.at(-1)!.end * MODEL_SAMPLE_RATE);
    }
    if (single) {
      this.inUtterance = false;
      this.sink.singleUtteranceEnded();
      return;
    }
    if (goesOn) {
      // The next utterance starts at `next`, with the audio from there to the cut carried over.
      const carried = this.buffer.snapshotFrom(next);
      const lastSpeech = this.lastSpeechEnd;
      const runStart = this.speechRunStart;
      const silence = this.silenceSamples;
      this.preroll.length = 0;
      if (carried.length > 0) this.preroll.push(carried);
      await this.beginUtterance(this.buffer.endSample, false);
      this.lastSpeechEnd = lastSpeech;
      this.speechRunStart = runStart;
      this.silenceSamples = silence;
      return;
    }
    this.inUtterance = false;
    this.quietFrom = this.position;
    this.silenceSamples = 0;
  }

  /**
   * A cut (FINALIZE, the maximum length) made while the last frame scored was speech may fall inside a
   * word or a key's tone. The words that reach the cut (end within CUT_WORD_MS of it, inside the run of
   * speech frames the cut falls in) are held back: the final ends before them, and
   * the next utterance starts where the first of them starts, its audio carried over, so a word cut
   * in two is recognised once, whole, in the next utterance rather than twice in halves. With no such
   * word, FINALIZE carries over the audio after the last word kept (speech the model has not made a
   * word of yet); the maximum length cuts at the cut, since carrying the whole utterance over would
   * only reach the maximum again.
   *
   * Returns how many of `words` the final keeps and the stream sample the next utterance starts at.
   */
  private splitAtCut(words: readonly TimedWord[], cut: number, reason: EndReason): { kept: number; next: number } {
    const near = cut - (CUT_WORD_MS * MODEL_SAMPLE_RATE) / 1000;
    const first = this.buffer.startSample;
    const sampleOf = (seconds: number) => Math.round(seconds * MODEL_SAMPLE_RATE);
    const reaches = (w: TimedWord) => sampleOf(w.end) >= near && sampleOf(w.end) > this.speechRunStart;
    let kept = words.length;
    // Only words whose audio is still held can be carried over (a long utterance is trimmed at its confirmed words).
    while (kept > 0 && reaches(words[kept - 1]!) && sampleOf(words[kept - 1]!.start) >= first) kept--;
    if (reason === "max_length") {
      if (kept === 0 || kept === words.length) return { kept: words.length, next: cut };
      return { kept, next: sampleOf(words[kept]!.start) };
    }
    if (kept < words.length) return { kept, next: sampleOf(words[kept]!.start) };
    const lastEnd = kept > 0 ? sampleOf(words[kept - 1]!.end) : this.utteranceStart;
    return { kept, next: Math.min(cut, Math.max(first, lastEnd)) };
  }

  private maybeRedecode(): void {
    if (!this.settings.interimResults || !this.inUtterance || this.decoding || this.sink.stopped) return;
    if (this.buffer.endSample - this.lastDecodedEnd < (this.settings.stepMs * MODEL_SAMPLE_RATE) / 1000) return;
    if (this.lastSpeechEnd <= this.utteranceStart) return;
    const generation = this.generation;
    // A sequence that already holds audio past the final's end (a short tail after the last speech)
    // would have to start again for the final, so interim steps stop there too: past it is silence,
    // and a step with no new audio is not taken.
    const until = this.asr.sequences ? Math.min(this.buffer.endSample, this.lastSpeechEnd + (TAIL_MS * MODEL_SAMPLE_RATE) / 1000) : this.buffer.endSample;
    const held = this.sequenceHeld;
    this.lastDecodedEnd = this.buffer.endSample;
    if (this.asr.sequences && held !== undefined && held.from === this.buffer.startSample && held.sent >= until) return;
    const offset = this.buffer.startSeconds;
    const endSeconds = until / MODEL_SAMPLE_RATE;
    const abort = new AbortController();
    this.interimAbort = abort;
    // The call takes its audio before its first await: the buffer as it is now.
    const decoded = this.decode("interim", until, AbortSignal.any([this.signal, abort.signal]));
    this.decoding = (async () => {
      const words = shift(await decoded, offset);
      if (generation !== this.generation || this.sink.stopped) return;
      const step = this.agreement.insert(words);
      if (step.confirmed.length > 0 && this.buffer.durationSeconds * 1000 > this.settings.trimAfterMs) {
        this.buffer.trimBefore(this.agreement.confirmedEnd);
      }
      const all = [...this.agreement.confirmed, ...step.tentative];
      const transcript = joinWords(all);
      if (all.length === 0 || transcript === this.lastInterim) return;
      this.lastInterim = transcript;
      await this.sink.result({
        channel: this.channel,
        isFinal: false,
        transcript,
        words: all,
        stability: Math.min(0.99, Math.max(0.01, this.agreement.confirmed.length / all.length)),
        confidence: 0,
        startSeconds: this.utteranceStart / MODEL_SAMPLE_RATE,
        endSeconds,
      });
      if (this.utteranceBeganAt !== undefined) {
        this.observer.firstInterim?.((performance.now() - this.utteranceBeganAt) / 1000);
        this.utteranceBeganAt = undefined;
      }
    })()
      .catch((err: unknown) => {
        if (generation === this.generation) this.decodeFailure = err;
      })
      .finally(() => {
        if (this.interimAbort === abort) this.interimAbort = undefined;
        if (generation === this.generation) this.decoding = undefined;
      });
  }

  /**
   * Decodes the buffer from its start up to stream sample `until`; word times from the buffer's
   * start. The audio is taken before the first await. With a sequence-batching model, the call
   * sends only what follows the audio the model already holds for this utterance, when it holds a
   * prefix of exactly this audio; otherwise it (re)starts the sequence with all of it.
   */
  private decode(kind: "interim" | "final", until: number, signal = this.signal): Promise<AsrWords> {
    const from = this.buffer.startSample;
    if (!this.asr.sequences) return this.timed(kind, this.buffer.snapshotBetween(from, until), signal);
    const held = this.sequenceHeld;
    // Unknown until this call succeeds: a call cancelled or failed may or may not have been taken in.
    this.sequenceHeld = undefined;
    const id = this.sequenceId;
    const end = kind === "final";
    const whole = () => this.timed(kind, this.buffer.snapshotBetween(from, until), signal, { id, start: true, end });
    const continues = held !== undefined && held.from === from && held.sent <= until;
    const call = continues
      ? this.timed(kind, this.buffer.snapshotBetween(held.sent, until), signal, { id, start: false, end }).catch((err: unknown) => {
          // The model may have lost the sequence (restarted, or another server took the call): start
          // it again. Only a cancellation stands, as it would for a whole-buffer call.
          if (signal.aborted) throw err;
          return whole();
        })
      : whole();
    return call.then((words) => {
      if (!end) this.sequenceHeld = { from, sent: until };
      return words;
    });
  }

  private async timed(kind: "interim" | "final", audio: Float32Array, signal: AbortSignal, sequence?: AsrSequenceStep): Promise<AsrWords> {
    const started = performance.now();
    const words = await this.asr(audio, { prompt: this.prompt(), signal, final: kind === "final", ...(sequence ? { sequence } : {}) });
    this.observer.decode?.(kind, (performance.now() - started) / 1000);
    return words;
  }

  /** The confirmed text whose audio was trimmed away: context for the model's decoder. */
  private prompt(): string | undefined {
    const start = this.buffer.startSeconds;
    const before = this.agreement.confirmed.filter((w) => w.end <= start);
    if (before.length === 0) return undefined;
    return joinWords(before).slice(-PROMPT_CHARS);
  }
}

/**
 * The runner-up transcripts of a final: each runner-up text of the final decode after the words
 * confirmed before the buffer's start (trimmed away, so not in that decode), distinct from the final's
 * own transcript.
 */
function finalAlternatives(final: readonly TimedWord[], bufferStart: number, runnerUps: readonly string[]): string[] {
  const before = joinWords(final.filter((w) => w.end <= bufferStart));
  const transcript = joinWords(final);
  const out: string[] = [];
  for (const text of runnerUps) {
    const whole = before && text ? `${before} ${text}` : before || text;
    if (whole && whole !== transcript && !out.includes(whole)) out.push(whole);
  }
  return out;
}

/** takeIf's test, made once: an arrow written in the loop would be a new closure for every chunk. */
function isAudio(input: ChannelInput): boolean {
  return input.kind === "audio";
}

/** A correlation id for a new sequence: random, as the channels of every gateway share the model servers. */
function newSequenceId(): number {
  return 1 + Math.floor(Math.random() * (Number.MAX_SAFE_INTEGER - 1));
}

function shift(words: TimedWord[], offset: number): TimedWord[] {
  return words.map((w) => ({ ...w, start: w.start + offset, end: w.end + offset }));
}
