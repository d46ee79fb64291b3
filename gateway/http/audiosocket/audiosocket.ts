// Asterisk AudioSocket (the `AudioSocket()` dialplan application, or `Dial(AudioSocket/…)`): Asterisk opens a
// TCP connection and sends frames (frames.ts): the call's UUID first, then 20 ms of 16-bit signed linear audio
// per frame (8 kHz; the channel driver of Asterisk 20+ also 12 to 48 kHz), DTMF digits, and a hangup. Each connection is one mono stream, so one party (see
// docs/integrations/asterisk.md for both). The call becomes a live session of the platform, created, fed and
// closed through its own RPCs (CreateLiveSession, SendLiveAudio, WatchLiveSession, CloseLiveSession), so the
// organisation's live-stream limit, quota, persistence and billing are theirs. AudioSocket carries no
// credential: every call is made with the one API key the deployment configures (AUDIOSOCKET_API_KEY), and
// the listener must be reachable by the PBX only. When the call ends, its session and final results go to the
// organisation's webhooks (`live_session.closed`). A malformed frame ends that call with an error frame
// (kind 0xff), never the process.
import { createServer, type Server, type Socket } from "node:net";
import type { Registry } from "prom-client";
import { ConnectError } from "@connectrpc/connect";
import { AudioEncoding } from "../../../proto/gen/arabicstt/v1/recognition_pb.js";
import type { LiveSession } from "../../../proto/gen/arabicstt/v1/speech_pb.js";
import { PEER_ADDRESS_HEADER } from "../../interceptors/auth.js";
import { CallSession, publishCallClosed, resultOf, type CallAdapterOptions, type FinalResult } from "../telephony/call-session.js";
import { telephonyMetrics, type TelephonyMetrics } from "../telephony/metrics.js";
import { AUDIO_SAMPLE_RATES, encodeFrame, FrameKind, FrameReader, uuidText, type Frame } from "./frames.js";

/** Audio per SendLiveAudio: 500 ms (as Twilio's adapter sends, twilio.bench.ts), so of 16-bit samples as many bytes as the rate. */
const sendBytes = (sampleRate: number) => sampleRate;
/** DTMF digits Asterisk reports that are kept for the webhook event. */
const MAX_DTMF_DIGITS = 256;

/**
 * The code of the error frame this server sends before it closes a call (one byte; AudioSocket leaves error
 * codes to the application). Asterisk logs the frame and ends the application.
 */
export const AudioSocketErrorCode = {
  /** A frame this protocol does not allow there: not a UUID first, a bad length, an unknown kind. */
  Malformed: 0x10,
  /** The platform refused the call: the key, the organisation's live-stream limit or quota. */
  Refused: 0x11,
  /** No frame for too long. */
  Idle: 0x12,
  /** The platform could not keep up with the audio. */
  TooSlow: 0x13,
  /** This server failed. */
  Failed: 0x14,
} as const;

/** Why a call ended, the label of `arabicstt_audiosocket_calls_total`. */
export type EndReason = "hangup" | "closed" | "peer_error" | "malformed" | "refused" | "idle" | "too_slow" | "failed" | "shutdown";

const ERROR_CODES: Partial<Record<EndReason, number>> = {
  malformed: AudioSocketErrorCode.Malformed,
  refused: AudioSocketErrorCode.Refused,
  idle: AudioSocketErrorCode.Idle,
  too_slow: AudioSocketErrorCode.TooSlow,
  failed: AudioSocketErrorCode.Failed,
};

export interface AudioSocketOptions extends CallAdapterOptions {
  /** The API key every call is made with: its organisation owns the calls. */
  apiKey: string;
  host: string;
  /** 0 picks a free port (`port()` says which). */
  port: number;
  /** The calls' metrics (audioSocketMetrics); unregistered ones when left out. */
  metrics?: TelephonyMetrics;
  /** A call with no frame for this long is ended. Default 30 s (Asterisk sends audio every 20 ms). */
  idleTimeoutMs?: number;
  /** Largest frame payload taken. Default 64 KiB less one (all the header's length can say); an audio frame is 320 bytes. */
  maxFrameBytes?: number;
  /** 500 ms pieces waiting for the platform before a call is ended as too slow. Default 20 (10 s of audio). */
  maxPendingSends?: number;
  /** Connections open at once, calls or not; more are refused by closing them. Default 1000. */
  maxConnections?: number;
}

export interface AudioSocketListener {
  /** The port it listens on. */
  port(): number;
  /** Calls in progress. */
  active(): number;
  /** Ends every call in progress (their sessions are closed and stored) and stops listening. */
  close(): Promise<void>;
}

/** The metrics of AudioSocket's calls: `arabicstt_audiosocket_calls_active`, `…_calls_total{reason}`, `…_frames_total`, `…_audio_bytes_total`, `…_errors_total{reason}`. */
export function audioSocketMetrics(registry: Registry | undefined): TelephonyMetrics {
  return telephonyMetrics(registry, {
    prefix: "arabicstt_audiosocket",
    what: "Asterisk AudioSocket calls",
    outcome: { label: "reason", help: "reason (hangup, closed, peer_error, malformed, refused, idle, too_slow, failed, shutdown)" },
    frames: "Audio frames",
    bytes: "16-bit linear audio bytes",
  });
}

export async function startAudioSocket(options: AudioSocketOptions): Promise<AudioSocketListener> {
  const calls = new Set<AudioSocketCall>();
  const metrics = options.metrics ?? audioSocketMetrics(undefined);
  const server: Server = createServer((socket) => {
    const call = new AudioSocketCall(socket, options, metrics);
    calls.add(call);
    metrics.active.inc();
    void call.ended.then((reason) => {
      calls.delete(call);
      metrics.active.dec();
      metrics.ended.inc({ reason });
      if (ERROR_CODES[reason] !== undefined || reason === "peer_error") metrics.errors.inc({ reason });
    });
  });
  server.maxConnections = options.maxConnections ?? 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => options.logger.error({ err }, "the AudioSocket listener failed"));
  options.logger.info({ host: options.host, port: (server.address() as { port: number }).port }, "AudioSocket listener started");
  return {
    port: () => (server.address() as { port: number }).port,
    active: () => calls.size,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...calls].map((call) => call.end("shutdown", "")));
      await closed;
    },
  };
}

/** Thrown to end a call with a reason (and, for the errors, an error frame). */
class CallError extends Error {
  constructor(
    readonly reason: EndReason,
    message: string,
  ) {
    super(message);
  }
}

class AudioSocketCall {
  /** Resolves with the reason once the call is over. */
  readonly ended: Promise<EndReason>;
  private resolveEnded!: (reason: EndReason) => void;
  private readonly reader = new FrameReader();
  private readonly headers: Record<string, string>;
  private uuid = "";
  /** The audio's sample rate, fixed by its first frame. */
  private sampleRate = 0;
  private sessionId = "";
  private sequence = 0n;
  private audio: Buffer[] = [];
  private audioBytes = 0;
  private dtmf = "";
  /** Every piece of work (the session's creation, each send) runs in order, after the ones before it. */
  private work: Promise<void> = Promise.resolve();
  private pending = 0;
  private idle: NodeJS.Timeout | undefined;
  /** No more frames are taken (the call is ending). */
  private closing = false;
  /** No more work is done (the call ended, or failed). */
  private finished = false;
  private call: CallSession | undefined;
  private ending: Promise<void> | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly options: AudioSocketOptions,
    private readonly metrics: TelephonyMetrics,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.headers = { authorization: `Bearer ${options.apiKey}`, [PEER_ADDRESS_HEADER]: socket.remoteAddress ?? "" };
    this.touch();
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    // Asterisk hung up without a hangup frame, or the connection dropped: the audio received is sent, then
    // the session is closed and stored all the same.
    socket.on("end", () => void this.end("closed", ""));
    socket.on("close", () => void this.end("closed", ""));
    socket.on("error", (err) => {
      this.options.logger.info({ err, uuid: this.uuid }, "AudioSocket connection failed");
      void this.end("closed", "");
    });
  }

  private touch(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => void this.end("idle", "no frame for too long"), this.options.idleTimeoutMs ?? 30_000);
    this.idle.unref();
  }

  private receive(chunk: Buffer): void {
    if (this.closing) return;
    this.touch();
    try {
      for (const frame of this.reader.push(chunk)) {
        this.handle(frame);
        if (this.closing) return;
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** Runs `task` after the work before it; a call whose work piles up is ended rather than buffered. */
  private enqueue(task: () => Promise<void>): void {
    if (this.pending >= (this.options.maxPendingSends ?? 20)) throw new CallError("too_slow", "the platform cannot keep up with this call");
    this.pending++;
    this.work = this.work
      .then(() => (this.finished ? undefined : task()))
      .catch((err: unknown) => this.fail(err))
      .finally(() => this.pending--);
  }

  private handle(frame: Frame): void {
    if (frame.payload.length > (this.options.maxFrameBytes ?? 0xffff)) throw new CallError("malformed", `a frame of ${frame.payload.length} bytes`);
    if (!this.uuid && frame.kind !== FrameKind.Uuid) throw new CallError("malformed", "the first frame must be the UUID");
    switch (frame.kind) {
      case FrameKind.Uuid:
        if (this.uuid) throw new CallError("malformed", "a second UUID frame");
        if (frame.payload.length !== 16) throw new CallError("malformed", "a UUID frame holds 16 bytes");
        this.uuid = uuidText(frame.payload);
        this.headers["x-request-id"] = `audiosocket-${this.uuid}`;
        return;
      case FrameKind.Dtmf:
        if (frame.payload.length !== 1) throw new CallError("malformed", "a DTMF frame holds one digit");
        // Kept for the webhook event only: the keys are in the audio too, where the dtmf model finds them.
        if (this.dtmf.length < MAX_DTMF_DIGITS) this.dtmf += String.fromCharCode(frame.payload[0]!).replace(/[^0-9A-D*#]/, "?");
        return;
      case FrameKind.Hangup:
        void this.end("hangup", "");
        return;
      case FrameKind.Error:
        this.options.logger.info({ uuid: this.uuid, code: frame.payload.toString("hex") }, "Asterisk sent an AudioSocket error");
        void this.end("peer_error", "");
        return;
      default:
        if (AUDIO_SAMPLE_RATES[frame.kind]) return this.onAudio(AUDIO_SAMPLE_RATES[frame.kind]!, frame.payload);
        throw new CallError("malformed", `an unknown frame kind 0x${frame.kind.toString(16).padStart(2, "0")}`);
    }
  }

  private onAudio(sampleRate: number, payload: Buffer): void {
    if (payload.length % 2 !== 0) throw new CallError("malformed", "audio is 16-bit samples: an even number of bytes");
    this.metrics.frames.inc();
    this.metrics.bytes.inc(payload.length);
    if (!this.sampleRate) {
      // The session is made at the first audio frame, whose kind says the rate.
      this.sampleRate = sampleRate;
      this.enqueue(() => this.createSession());
    } else if (sampleRate !== this.sampleRate) {
      throw new CallError("malformed", `audio at ${sampleRate} Hz after audio at ${this.sampleRate} Hz`);
    }
    this.audio.push(Buffer.from(payload));
    this.audioBytes += payload.length;
    while (this.audioBytes >= sendBytes(this.sampleRate)) this.enqueueSend(this.takeAudio(sendBytes(this.sampleRate)));
  }

  private takeAudio(bytes: number): Buffer {
    const all = Buffer.concat(this.audio);
    this.audio = bytes < all.length ? [all.subarray(bytes)] : [];
    this.audioBytes = all.length - Math.min(bytes, all.length);
    return all.subarray(0, bytes);
  }

  private enqueueSend(audioContent: Buffer): void {
    this.enqueue(() => this.options.clients.speech.sendLiveAudio({ sessionId: this.sessionId, sequenceNumber: this.sequence++, audioContent }, { headers: this.headers }).then(() => undefined));
  }

  private async createSession(): Promise<void> {
    // No model or language travels with AudioSocket: the organisation's defaults apply (UpdateOrganization).
    const created = await this.options.clients.speech.createLiveSession(
      { streamingConfig: { config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: this.sampleRate, audioChannelCount: 1 } } },
      { headers: this.headers },
    );
    this.sessionId = created.session!.sessionId;
    this.options.logger.info({ uuid: this.uuid, session_id: this.sessionId }, "AudioSocket call started");
    this.call = new CallSession(this.options.clients, this.sessionId, this.headers, this.options.logger, "an AudioSocket call");
  }

  private fail(err: unknown): void {
    if (err instanceof CallError) {
      void this.end(err.reason, err.message);
      return;
    }
    // The platform refused (a bad key, the organisation's stream limit, its quota) or failed.
    if (!(err instanceof ConnectError)) this.options.logger.error({ err, uuid: this.uuid }, "AudioSocket call failed");
    void this.end(err instanceof ConnectError ? "refused" : "failed", err instanceof ConnectError ? err.rawMessage : "internal error");
  }

  /** Sends the audio left, closes the session (stored and billed by the platform), tells the webhooks, closes the socket. Once. */
  end(reason: EndReason, message: string): Promise<void> {
    return (this.ending ??= this.finish(reason, message));
  }

  private async finish(reason: EndReason, message: string): Promise<void> {
    const errorCode = ERROR_CODES[reason];
    this.closing = true;
    // After an error nothing more is sent; the session is closed with what it has.
    if (errorCode !== undefined) this.finished = true;
    clearTimeout(this.idle);
    // A call that ends normally sends what it holds (whole samples) before its session is closed.
    if (errorCode === undefined && this.sampleRate && this.audioBytes > 0) {
      try {
        this.enqueueSend(this.takeAudio(this.audioBytes - (this.audioBytes % 2)));
      } catch (err) {
        // swallowed: too many pieces waiting; the session is closed with the audio it was sent.
        this.options.logger.info({ err, uuid: this.uuid }, "the end of an AudioSocket call's audio was dropped");
      }
    }
    await this.work;
    this.finished = true;
    if (errorCode !== undefined) this.options.logger.info({ uuid: this.uuid, reason, message }, "AudioSocket call ended with an error");
    try {
      if (errorCode !== undefined && !this.socket.destroyed) this.socket.write(encodeFrame(FrameKind.Error, Uint8Array.of(errorCode)));
      else if (reason === "shutdown" && !this.socket.destroyed) this.socket.write(encodeFrame(FrameKind.Hangup));
      this.socket.end();
      if (this.call) {
        const { session, finals } = await this.call.close();
        if (session) await this.notify(session, finals, reason);
      }
    } finally {
      // A peer that does not close its side is cut off.
      setTimeout(() => this.socket.destroy(), 5_000).unref();
      this.resolveEnded(reason);
    }
  }

  private async notify(session: LiveSession, finals: FinalResult[], reason: EndReason): Promise<void> {
    await publishCallClosed(this.options, {
      credential: this.options.apiKey,
      session,
      source: "asterisk",
      details: { audiosocket: { uuid: this.uuid, sampleRateHz: this.sampleRate, dtmf: this.dtmf, endReason: reason } },
      results: finals.map(resultOf),
      what: "an AudioSocket call",
    });
  }
}
