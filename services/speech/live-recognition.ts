// Live recognition as the domain offers it to both transports (StreamingRecognize and the
// live-session RPCs): bytes in the client's encoding go in, ordered results and events come out.
// This is where a model is checked (the model catalog: known, ready, a recogniser of the
// request's language), its gate taken from its configuration, the audio decoded to 16 kHz per
// channel (and mixed down unless channels are recognised separately), and the engine session driven.
import { randomUUID } from "node:crypto";
import type { InferenceClient, Transcription } from "../../inference/client/index.js";
import { AUDIO_ENCODINGS, headerFormatEncodings } from "../audio/encodings.js";
import type { AudioFormat, StreamDecoder } from "../audio/index.js";
import { MODEL_SAMPLE_RATE } from "../audio/rates.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import { energyGate, vadGate } from "./engine/gate.js";
import { vadSequenceGate } from "./engine/vad-sequence-gate.js";
import type { TimedWord } from "./engine/local-agreement.js";
import { cutRepetitionLoop } from "./engine/repetition.js";
import { KEYPAD_FRAME_SAMPLES, RecognitionSession, type SessionCheckpoint } from "./engine/session.js";
import { defaultEngineSettings, type AsrFunction, type AsrWords, type EngineObserver, type EngineOutput, type EngineSettings, type RecognitionResult } from "./engine/types.js";
import { baseLanguage, DEFAULT_LANGUAGE_CODE } from "../arabic-text/language.js";
import type { ModelCatalog } from "../models/catalog.js";
import { StreamingRedactor } from "../arabic-text/streaming.js";
import { formatText, type TextChainOptions } from "../arabic-text/chain.js";
import { boostWords, promptWithHints, type PhraseHintSet } from "../arabic-text/phrase-hints.js";
import { LiveDiarization, type LiveDiarizationConfig } from "./diarization.js";

/** The audio module's decoder (services/audio's createStreamDecoder), given to the recognizer. */
export type StreamDecoderFactory = (format: AudioFormat, options?: { maxChunkBytes?: number }) => StreamDecoder;

export interface LiveRecognitionConfig {
  /** Empty: the default model. */
  model: string;
  /** BCP-47; empty: the default language. */
  languageCode: string;
  format: AudioFormat;
  separateChannels: boolean;
  interimResults: boolean;
  voiceActivityEvents: boolean;
  singleUtterance: boolean;
  /** Words of final results carry their times / confidence. */
  wordTimeOffsets?: boolean;
  wordConfidence?: boolean;
  /** Keypad presses as DTMF events, found by the `dtmf` model beside the recognition model. */
  dtmfEvents?: boolean;
  /** Endpointing; undefined: the engine's defaults. */
  silenceMs?: number;
  /** Silence after the last final word that ends a turn (UTTERANCE_END); undefined: none. */
  utteranceEndSilenceMs?: number;
  maxUtteranceMs?: number;
  speechThreshold?: number;
  /** The Arabic text chain every result goes through (services/arabic-text); undefined: none (verbatim model output). */
  text?: TextChainOptions;
  /** phrase_hints: in every decode's prompt, and matched against its words (services/arabic-text/phrase-hints.ts). */
  phraseHints?: PhraseHintSet;
  /** max_alternatives, 1 to 10: hypotheses asked of the model for each final decode; undefined: one. */
  maxAlternatives?: number;
  /** diarization_config: a speaker on every word of every final (services/speech/diarization.ts); undefined: none. */
  diarization?: LiveDiarizationConfig;
}

export interface LiveRecognizerOptions {
  inference: InferenceClient;
  /** Checks the model and language of a config, and picks the model of one that names none. */
  models: ModelCatalog;
  createDecoder: StreamDecoderFactory;
  /** Largest audio chunk. Default 1 MiB. */
  maxChunkBytes?: number;
  /** Told the engine's timings (metrics). */
  observer?: EngineObserver;
  /**
   * An organisation's default model and language (OrganizationSettings), for a config that leaves
   * them empty; the server's default model and DEFAULT_LANGUAGE_CODE come after them.
   */
  organizationDefaults?: (organizationId: string) => Promise<{ model: string; languageCode: string }>;
  /** Engine settings that are the server's to choose (step, limits, queue sizes). */
  engine?: Partial<Pick<EngineSettings, "stepMs" | "idleTimeoutMs" | "maxSessionMs" | "trimAfterMs" | "inputCapacity" | "outputCapacity" | "prerollMs">>;
}

/** Up to where a session's audio is safe: everything before it is out and kept. */
export interface Commit {
  /** Bytes of the client's audio. */
  bytes: number;
  /** Seconds of audio, per channel. */
  seconds: number;
  /** Index the next output will have. */
  nextIndex: number;
}

/** Audio chunks whose arrival times are kept for the lag metric (about 5 s of 20 ms frames). */
const ARRIVALS = 256;

/** The keypad recogniser behind dtmf_events. */
const KEYPAD_MODEL = "dtmf";

/** Where a request carries what live recognition checks: field paths in the client's terms, for error messages. */
export interface RecognitionFields {
  model: string;
  languageCode: string;
  channels: string;
  audio: string;
}

/** StreamingRecognize's (and the live-session RPCs', which take the same streaming config). */
const STREAMING_FIELDS: RecognitionFields = {
  model: "streaming_config.config.model",
  languageCode: "streaming_config.config.language_code",
  channels: "streaming_config.config.audio_channel_count",
  audio: "audio_content",
};

/** Recognize's. */
const RECOGNIZE_FIELDS: RecognitionFields = {
  model: "config.model",
  languageCode: "config.language_code",
  channels: "config.audio_channel_count",
  audio: "content",
};

export class LiveRecognizer {
  private readonly maxChunkBytes: number;

  constructor(private readonly options: LiveRecognizerOptions) {
    this.maxChunkBytes = options.maxChunkBytes ?? 1024 * 1024;
  }

  /**
   * Checks the config and the model, and starts recognising. With `resumeAt`, the recognition
   * continues a session another recognition ran up to that commit point (a takeover): its audio
   * starts at that byte of the client's stream, its times and result indexes go on from there.
   */
  async open(
    config: LiveRecognitionConfig,
    options: {
      signal?: AbortSignal;
      engine?: Partial<Pick<EngineSettings, "idleTimeoutMs">>;
      id?: string;
      resumeAt?: Commit;
      maxChunkBytes?: number;
      fields?: RecognitionFields;
      /** Whose defaults fill an empty model or language. */
      organizationId?: string;
    } = {},
  ): Promise<LiveRecognition> {
    if (options.organizationId && this.options.organizationDefaults && (!config.model || !config.languageCode)) {
      const defaults = await this.options.organizationDefaults(options.organizationId);
      config = { ...config, model: config.model || defaults.model, languageCode: config.languageCode || defaults.languageCode };
    }
    const { inference, models } = this.options;
    const fields = options.fields ?? STREAMING_FIELDS;
    const format = config.format;
    if (config.separateChannels && AUDIO_ENCODINGS[format.encoding].headerCarriesFormat && format.channels === 0) {
      throw new InvalidArgumentError(fields.channels, `separate_recognition_per_channel needs audio_channel_count for ${headerFormatEncodings.join(" and ")} audio`);
    }
    // The decoder checks encoding, rate and channel count first: bad audio config is named as such.
    const maxChunkBytes = options.maxChunkBytes ?? this.maxChunkBytes;
    const decoder = this.options.createDecoder(format, { maxChunkBytes });
    try {
      const { signal } = options;
      const { name: model, languageCode: language, gate: gateKind, sequenceBatching, streamingVad } = await models.recognizer(
        { model: config.model, languageCode: config.languageCode },
        { fields, signal },
      );
      const keypad = config.dtmfEvents ? await models.recognizer({ model: KEYPAD_MODEL }, { fields, signal, purpose: "streaming_config.dtmf_events needs" }) : undefined;
      const channels = config.separateChannels ? Math.max(format.channels, 1) : 1;
      const settings: EngineSettings = {
        ...defaultEngineSettings,
        ...this.options.engine,
        ...options.engine,
        channels,
        interimResults: config.interimResults,
        voiceActivityEvents: config.voiceActivityEvents,
        singleUtterance: config.singleUtterance,
        ...(config.silenceMs ? { silenceMs: config.silenceMs } : {}),
        ...(config.utteranceEndSilenceMs ? { utteranceEndSilenceMs: config.utteranceEndSilenceMs } : {}),
        ...(config.maxUtteranceMs ? { maxUtteranceMs: config.maxUtteranceMs } : {}),
        ...(config.speechThreshold ? { speechThreshold: config.speechThreshold } : {}),
      };
      const diarization = config.diarization ? await LiveDiarization.open(inference, config.diarization, channels, signal) : undefined;
      let recognition: LiveRecognition | undefined;
      const session = new RecognitionSession(settings, {
        onCheckpoint: (checkpoint) => recognition?.checkpointed(checkpoint),
        // Speech models (VAD-gated) get the repetition-loop guard; keypad digits may repeat.
        asr: asrOf(inference, model, baseLanguage(language), {
          cutLoops: gateKind === "vad",
          phraseHints: config.phraseHints,
          maxAlternatives: config.maxAlternatives,
          sequences: sequenceBatching,
        }),
        gate: () => (gateKind === "energy" ? energyGate() : streamingVad ? vadSequenceGate(inference) : vadGate(inference)),
        observer: this.options.observer,
        ...(keypad
          ? {
              keypad: {
                asr: asrOf(inference, KEYPAD_MODEL, DEFAULT_LANGUAGE_CODE, { sequences: keypad.sequenceBatching }),
                gate: () => energyGate({ frameSamples: KEYPAD_FRAME_SAMPLES }),
              },
            }
          : {}),
      });
      recognition = new LiveRecognition(options.id ?? randomUUID(), model, language, config, decoder, session, maxChunkBytes, fields, options.resumeAt, diarization);
      return recognition;
    } catch (err) {
      decoder.close();
      throw err;
    }
  }

  /**
   * Recognises a whole recording at once (Recognize): the same gate, endpointing and model calls
   * as live audio, fed as fast as the engine takes it. Returns the final results in order.
   */
  async recognizeAll(config: LiveRecognitionConfig, audio: Uint8Array, options: { signal?: AbortSignal; maxSeconds?: number; organizationId?: string } = {}): Promise<RecognizedAudio> {
    // The whole request is one chunk: its size is the contract's to bound (Recognize: 10 MiB), not a stream chunk's.
    const recognition = await this.open({ ...config, interimResults: false, voiceActivityEvents: false, singleUtterance: false }, { ...options, maxChunkBytes: audio.length, fields: RECOGNIZE_FIELDS });
    const onAbort = () => recognition.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const results: RecognitionResult[] = [];
      const collecting = (async () => {
        for await (const output of recognition.outputs) if (output.kind === "result" && output.result.isFinal) results.push(output.result);
      })();
      try {
        await recognition.writeAll(audio, options.maxSeconds);
        await recognition.close();
      } catch (err) {
        recognition.fail(err);
      }
      await collecting;
      return { results, audioSeconds: recognition.decodedSeconds, channels: recognition.channels, languageCode: recognition.languageCode };
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      recognition.abort();
    }
  }
}

export interface RecognizedAudio {
  /** Final results, in order of output. */
  results: RecognitionResult[];
  /** Duration of the audio, per channel. */
  audioSeconds: number;
  /** Channels recognised. */
  channels: number;
  /** The language recognised: the config's, or the default. */
  languageCode: string;
}

/** One live recognition: feed it the client's bytes, read `outputs`. */
export class LiveRecognition {
  private bytes: number;
  private decodedSamples = 0;
  private decoderEnded = false;
  private ended = false;
  /** Where this recognition's audio starts in the session (0 unless it took the session over). */
  private readonly base: Commit;
  /** Bytes of one sample of every channel, for raw encodings; 0 when bytes do not map to samples (containers). */
  private readonly frameBytes: number;
  private committed: Commit;
  private commitListener: ((commit: Commit) => void) | undefined;
  /** When recent audio arrived: a ring of (stream seconds decoded after the chunk, performance.now()). */
  private readonly arrivals = { seconds: new Float64Array(ARRIVALS), at: new Float64Array(ARRIVALS), next: 0 };

  constructor(
    readonly id: string,
    readonly model: string,
    readonly languageCode: string,
    readonly config: LiveRecognitionConfig,
    private readonly decoder: StreamDecoder,
    private readonly session: RecognitionSession,
    private readonly maxChunkBytes: number,
    private readonly fields: RecognitionFields = STREAMING_FIELDS,
    resumeAt?: Commit,
    /** Labels each final's words with their speakers, when diarization was asked for. */
    private readonly diarization?: LiveDiarization,
  ) {
    this.base = resumeAt ?? { bytes: 0, seconds: 0, nextIndex: 0 };
    this.committed = this.base;
    this.bytes = this.base.bytes;
    const spec = AUDIO_ENCODINGS[config.format.encoding];
    this.frameBytes = spec.headerCarriesFormat ? 0 : spec.bytesPerSample * Math.max(config.format.channels, 1);
  }

  /** Results and events in order; ends after the last final, or with the failure that ended recognition. */
  get outputs(): AsyncIterable<EngineOutput> {
    const text = this.config.text ? formatted(this.session.outputs, this.config.text) : this.session.outputs;
    // After the text chain, which may join words ("خمسة وعشرين" → "25"): labels go on the words sent, by their times.
    const raw = this.diarization ? this.diarization.label(text) : text;
    return this.base.nextIndex === 0 && this.base.seconds === 0 ? raw : shifted(raw, this.base);
  }

  /** Up to where the session's audio is safe: every output for the audio before it is out. */
  get commit(): Commit {
    return this.committed;
  }

  /** Told each time the commit point moves (raw encodings only: containers' bytes do not map to times). */
  onCommit(listener: (commit: Commit) => void): void {
    this.commitListener = listener;
  }

  /** The session's checkpoint, in the client's bytes. */
  checkpointed(checkpoint: SessionCheckpoint): void {
    if (this.frameBytes === 0) return;
    const rate = this.config.format.sampleRateHertz;
    const frames = Math.floor((checkpoint.sample * rate) / MODEL_SAMPLE_RATE);
    const bytes = this.base.bytes + frames * this.frameBytes;
    this.committed = { bytes, seconds: bytes / this.frameBytes / rate, nextIndex: this.base.nextIndex + checkpoint.nextIndex };
    this.commitListener?.(this.committed);
  }

  get acceptsAudio(): boolean {
    return this.session.acceptsAudio;
  }

  get bytesReceived(): number {
    return this.bytes;
  }

  /** Seconds of audio processed, per channel. */
  get processedSeconds(): number {
    return this.base.seconds + this.session.processedSeconds;
  }

  /** Channels recognised (and billed). */
  get channels(): number {
    return this.session.settings.channels;
  }

  get nextResultIndex(): number {
    return this.base.nextIndex + this.session.nextResultIndex;
  }

  /** One chunk of audio in the config's encoding. Waits while the engine's queues are full. */
  write(chunk: Uint8Array): Promise<void> {
    try {
      return this.writeNow(chunk) ?? RESOLVED;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * `write` without a promise when the chunk is decoded and queued at once (a raw encoding, with room
   * in the engine's queues: a live stream's every frame, while the engine keeps up): undefined then,
   * else the promise of the rest. Throws what `write` would reject with.
   */
  writeNow(chunk: Uint8Array): Promise<void> | undefined {
    this.session.keepalive();
    if (!this.acceptsAudio) return undefined;
    if (chunk.length > this.maxChunkBytes) {
      throw new InvalidArgumentError(this.fields.audio, `a chunk holds at most ${this.maxChunkBytes} bytes; this one has ${chunk.length}`);
    }
    // Chunks may split a sample or a frame of channels anywhere (chunking is the transport's): the
    // decoder carries a partial one over to the next chunk. Only the stream as a whole must end on
    // a whole one, which close() holds it to.
    this.bytes += chunk.length;
    const arrivedAt = performance.now();
    const decoded = this.decoder.pushNow?.(chunk);
    const feeding = decoded ? this.feed(decoded) : this.decoder.push(chunk).then((audio) => this.feed(audio));
    if (!feeding) {
      this.arrived(arrivedAt);
      return undefined;
    }
    return feeding.then(() => this.arrived(arrivedAt));
  }

  private arrived(at: number): void {
    const i = this.arrivals.next++ % ARRIVALS;
    this.arrivals.seconds[i] = this.base.seconds + this.decodedSamples / MODEL_SAMPLE_RATE;
    this.arrivals.at[i] = at;
  }

  /**
   * When the audio up to `seconds` (stream time) arrived, in performance.now() milliseconds, if it
   * arrived recently: the start of a result's processing lag.
   */
  arrivalOf(seconds: number): number | undefined {
    const { seconds: ends, at, next } = this.arrivals;
    for (let k = Math.max(0, next - ARRIVALS); k < next; k++) {
      const i = k % ARRIVALS;
      if (ends[i]! >= seconds - 1e-6) return at[i];
    }
    return undefined;
  }

  /** Seconds of audio decoded so far, per channel. */
  get decodedSeconds(): number {
    return this.decodedSamples / MODEL_SAMPLE_RATE;
  }

  /**
   * A whole recording in one go, decoded at once and fed to the engine in 1 s pieces (its queues
   * stay small). More than `maxSeconds` of audio is refused before anything is recognised.
   */
  async writeAll(bytes: Uint8Array, maxSeconds = Number.POSITIVE_INFINITY): Promise<void> {
    this.bytes += bytes.length;
    const head = await this.decoder.push(bytes);
    this.decoderEnded = true;
    const tail = await this.decoder.end();
    const decoded = tail.map((channel, c) => concatSamples(head[c], channel));
    const seconds = (decoded[0]?.length ?? 0) / MODEL_SAMPLE_RATE;
    if (seconds > maxSeconds) {
      throw new InvalidArgumentError(this.fields.audio, `the audio is ${seconds.toFixed(1)} s long; Recognize takes at most ${maxSeconds} s (use JobService for longer audio)`);
    }
    const length = decoded[0]?.length ?? 0;
    for (let at = 0; at < length; at += MODEL_SAMPLE_RATE) {
      await this.feed(decoded.map((c) => c.subarray(at, Math.min(at + MODEL_SAMPLE_RATE, length))));
    }
  }

  keepalive(): void {
    this.session.keepalive();
  }

  /** Ends the current utterances; resolves once their finals are out. */
  async finalize(): Promise<void> {
    await this.session.finalize();
  }

  /**
   * No more audio: decoder tails go in, then everything is finalised and the outputs end. Audio
   * that ends badly (inside a sample, a frame of channels or a FLAC/Ogg header) ends the outputs with
   * that INVALID_ARGUMENT, after the finals of everything heard before it.
   */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    let failure: unknown;
    try {
      if (this.acceptsAudio && !this.decoderEnded) {
        this.decoderEnded = true;
        await this.feed(await this.decoder.end());
      }
    } catch (err) {
      failure = err;
    } finally {
      this.decoder.close();
    }
    await this.session.close(failure);
  }

  /** Ends recognition with an error the outputs then throw (a bad request message, say). */
  fail(error: unknown): void {
    this.decoder.close();
    this.session.fail(error);
  }

  /** Frees everything now: the client is gone. */
  abort(): void {
    this.ended = true;
    this.decoder.close();
    this.session.abort();
  }

  /** Decoded audio to the session: undefined once queued, else the promise of the wait for room. */
  private feed(decoded: Float32Array[]): Promise<void> | undefined {
    const length = decoded[0]?.length ?? 0;
    if (length === 0) return undefined;
    this.decodedSamples += length;
    const channels = this.session.settings.channels;
    if (channels === 1) {
      const mono = mixdown(decoded);
      this.diarization?.push([mono]);
      return this.session.writeNow([mono]);
    }
    if (decoded.length !== channels) {
      throw new InvalidArgumentError(this.fields.channels, `the audio has ${decoded.length} channels, the config says ${channels}`);
    }
    this.diarization?.push(decoded);
    return this.session.writeNow(decoded);
  }
}

const RESOLVED = Promise.resolve();

/**
 * Results through the Arabic text chain, word by word (times and confidences kept): finals whole,
 * interim results as the streaming redactor shows them (a digit run that redaction might still
 * claim is held back until it is complete). Fail-closed: a chain that throws fails the recognition
 * rather than letting a result through unformatted.
 */
async function* formatted(outputs: AsyncIterable<EngineOutput>, options: TextChainOptions): AsyncGenerator<EngineOutput> {
  const redactor = new StreamingRedactor(options);
  for await (const output of outputs) {
    if (output.kind === "event") {
      yield output;
      continue;
    }
    const r = output.result;
    const input = r.words.map((w) => ({ word: w.word, start: w.start, end: w.end, confidence: w.probability, separator: w.separator }));
    const out = r.isFinal ? redactor.final(input) : redactor.partial(input);
    const words = out.words.map((w) => ({ word: w.word, start: w.start, end: w.end, probability: w.confidence, separator: w.separator ?? " " }));
    // A partial whose every word is held back says nothing yet.
    if (!r.isFinal && words.length === 0 && r.words.length > 0) continue;
    // Runner-up transcripts (finals only) go through the same chain as whole texts, each on its own:
    // they have no word times to keep, and none is shown before it is complete.
    const alternatives = r.alternatives?.map((text) => formatText(text, options).text);
    yield { ...output, result: { ...r, words, transcript: out.text, ...(alternatives ? { alternatives } : {}) } };
  }
}

/** Outputs of a recognition that took a session over, in the session's times and indexes. */
async function* shifted(outputs: AsyncIterable<EngineOutput>, base: Commit): AsyncGenerator<EngineOutput> {
  const s = base.seconds;
  for await (const output of outputs) {
    const index = output.index + base.nextIndex;
    if (output.kind === "event") {
      yield { ...output, index, event: { ...output.event, offsetSeconds: output.event.offsetSeconds + s } };
    } else {
      const r = output.result;
      const words = r.words.map((w) => ({ ...w, start: w.start + s, end: w.end + s }));
      yield { ...output, index, result: { ...r, words, startSeconds: r.startSeconds + s, endSeconds: r.endSeconds + s } };
    }
  }
}

function concatSamples(a: Float32Array | undefined, b: Float32Array): Float32Array {
  if (!a || a.length === 0) return b;
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function mixdown(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const out = new Float32Array(channels[0]!.length);
  for (const c of channels) for (let i = 0; i < out.length; i++) out[i] = out[i]! + c[i]! / channels.length;
  return out;
}

/** The model behind the engine's recogniser: words with their separators, times from the start of the audio. */
export function asrOf(
  inference: Pick<InferenceClient, "transcribe">,
  model: string,
  language: string,
  options: { cutLoops?: boolean; phraseHints?: PhraseHintSet; maxAlternatives?: number; sequences?: boolean } = {},
): AsrFunction {
  const asr = async (audio: Float32Array, { prompt, signal, final, sequence }: Parameters<AsrFunction>[1]) => {
    // Only a final's decode asks for an n-best: beams cost the model time, and interim results carry one hypothesis.
    const maxAlternatives = final ? options.maxAlternatives : undefined;
    const transcription = await inference.transcribe(model, audio, { language, prompt: promptWithHints(options.phraseHints, prompt), signal, maxAlternatives, sequence });
    const words = wordsOf(transcription);
    const boosted: AsrWords = boostWords(options.cutLoops ? cutRepetitionLoop(words) : words, options.phraseHints);
    // The first hypothesis is `words`; a model without an n-best gives no others.
    const runnerUps = transcription.alternatives.slice(1);
    if (runnerUps.length > 0) boosted.alternatives = runnerUps;
    return boosted;
  };
  return Object.assign(asr, { sequences: options.sequences === true });
}

/**
 * Words of a transcription. A model that writes its segments with spaces (whisper) gets " "
 * between words; one that does not (dtmf: "123#") gets none.
 */
export function wordsOf(transcription: Transcription): TimedWord[] {
  return transcription.segments.flatMap((segment) => {
    const separator = /\s/.test(segment.text.trim()) || segment.words.length <= 1 ? " " : "";
    return segment.words.map((w) => ({ word: w.word, start: w.start, end: w.end, probability: w.probability, separator }));
  });
}
