// Twilio Media Streams (<Connect><Stream> or <Start><Stream>): Twilio opens a WebSocket and sends JSON
// messages (https://www.twilio.com/docs/voice/media-streams/websocket-messages): `connected`, then one
// `start` (call and stream ids, the tracks, the media format, the <Parameter>s), then `media` (20 ms of
// 8 kHz μ-law per message, base64, per track), `mark`, `dtmf`, and `stop`. The call becomes a live session
// of the platform, created, fed and closed through its own RPCs (CreateLiveSession, SendLiveAudio,
// WatchLiveSession, CloseLiveSession) with the API key the <Stream> passes as its `api_key` parameter, so
// the key's scope, the organisation's live-stream limit, quota, persistence and billing are theirs. Both
// tracks are one stereo stream: channel 1 the inbound track (the caller), channel 2 the outbound one.
// When the call ends, its session and final results go to the organisation's webhooks (`live_session.closed`).
// A malformed message ends that call with a WebSocket close code (1007 bad data, 1008 refused), never the process.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Registry } from "prom-client";
import { ConnectError } from "@connectrpc/connect";
import { AudioEncoding } from "../../../proto/gen/arabicstt/v1/recognition_pb.js";
import type { LiveSession } from "../../../proto/gen/arabicstt/v1/speech_pb.js";
import type { UpgradeRoute } from "../../server.js";
import { PEER_ADDRESS_HEADER } from "../../interceptors/auth.js";
import { CallSession, publishCallClosed, resultOf, type CallAdapterOptions, type FinalResult } from "../telephony/call-session.js";
import { telephonyMetrics, type TelephonyMetrics } from "../telephony/metrics.js";
import { TrackInterleaver } from "./interleave.js";

export const TWILIO_MEDIA_STREAM_PATH = "/v1/twilio/media-stream";
/**
 * μ-law bytes of one track per SendLiveAudio: 500 ms. Each piece is an RPC, authenticated and rate-limited
 * like any other: with 200 ms pieces, 20 concurrent calls fell behind on a busy 2-core machine (ended 1013)
 * where 500 ms pieces kept up (twilio.bench.ts).
 */
const SEND_FRAMES = 4000;
/** A track this far ahead of the other (1 s) is sent with silence for the other: Twilio sends no media for a muted side. */
const MAX_SKEW_FRAMES = 8000;

export interface TwilioMediaStreamsOptions extends CallAdapterOptions {
  /** The calls' metrics (twilioMetrics); unregistered ones when left out. */
  metrics?: TelephonyMetrics;
  /** A call with no message for this long is ended. Default 30 s (Twilio sends media every 20 ms). */
  idleTimeoutMs?: number;
  /** Largest WebSocket message. Default 64 KiB (a media message is about 250 bytes). */
  maxMessageBytes?: number;
  /** Messages waiting for the platform before a call is ended as too slow. Default 1000 (10 s of a two-track call: 50 media messages a second per track). */
  maxPendingMessages?: number;
}

export interface TwilioMediaStreams {
  route: UpgradeRoute;
  /** Calls in progress. */
  active(): number;
  /** Ends every call in progress (their sessions are closed and stored) and stops taking new ones. */
  close(): Promise<void>;
}

export function twilioMediaStreams(options: TwilioMediaStreamsOptions): TwilioMediaStreams {
  const server = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes ?? 64 * 1024 });
  const calls = new Set<TwilioCall>();
  let closing = false;
  const metrics = options.metrics ?? twilioMetrics(undefined);
  return {
    route(req: IncomingMessage, socket: Duplex, head: Buffer) {
      if (new URL(req.url ?? "/", "http://localhost").pathname !== TWILIO_MEDIA_STREAM_PATH) return false;
      if (closing) {
        socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return true;
      }
      server.handleUpgrade(req, socket, head, (ws) => {
        const call = new TwilioCall(ws, String(req.headers[PEER_ADDRESS_HEADER] ?? ""), options, metrics);
        calls.add(call);
        metrics.active.inc();
        void call.ended.then((code) => {
          calls.delete(call);
          metrics.active.dec();
          metrics.ended.inc({ close_code: String(code) });
        });
      });
      return true;
    },
    active: () => calls.size,
    async close() {
      closing = true;
      await Promise.all([...calls].map((call) => call.end(1001, "server is shutting down")));
      server.close();
    },
  };
}

/** The metrics of Twilio's calls: `arabicstt_twilio_calls_active`, `…_calls_total{close_code}`, `…_frames_total`, `…_audio_bytes_total`, `…_errors_total{reason}`. */
export function twilioMetrics(registry: Registry | undefined): TelephonyMetrics {
  return telephonyMetrics(registry, {
    prefix: "arabicstt_twilio",
    what: "Twilio media streams",
    outcome: { label: "close_code", help: "WebSocket close code (1000 ended, 1001 shutdown, 1003/1007 malformed, 1008 refused or idle, 1011 failed, 1013 too slow)" },
    frames: "Media messages",
    bytes: "μ-law bytes",
  });
}

/** Thrown to end a call with a WebSocket close code; `reason` is the label of `arabicstt_twilio_errors_total`. */
class CallError extends Error {
  constructor(
    readonly closeCode: number,
    message: string,
    readonly reason: "malformed" | "refused" = "malformed",
  ) {
    super(message);
  }
}

interface StartMessage {
  streamSid: string;
  accountSid: string;
  callSid: string;
  tracks: Array<"inbound" | "outbound">;
  customParameters: Record<string, string>;
}

class TwilioCall {
  /** Resolves with the close code once the call is over. */
  readonly ended: Promise<number>;
  private resolveEnded!: (code: number) => void;
  private start: StartMessage | undefined;
  private headers: Record<string, string> = {};
  private sessionId = "";
  private sequence = 0n;
  private interleaver: TrackInterleaver | undefined;
  /** Every message is handled in order, one at a time, after the ones before it. */
  private work: Promise<void> = Promise.resolve();
  private pending = 0;
  private idle: NodeJS.Timeout | undefined;
  private finished = false;
  private call: CallSession | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly peer: string,
    private readonly options: TwilioMediaStreamsOptions,
    private readonly metrics: TelephonyMetrics,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.touch();
    ws.on("message", (data, isBinary) => this.receive(data as Buffer, isBinary));
    // Twilio hung up (after `stop`, or without one), or the connection dropped: the messages already received
    // are handled, then the session is closed and stored all the same.
    ws.on("close", () => void this.work.then(() => this.end(1000, "")));
    ws.on("error", (err) => {
      this.options.logger.info({ err, stream_sid: this.start?.streamSid }, "Twilio media stream connection failed");
      this.metrics.errors.inc({ reason: "connection" });
      void this.end(1011, "");
    });
  }

  private touch(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      this.metrics.errors.inc({ reason: "idle" });
      void this.end(1008, "no message for too long");
    }, this.options.idleTimeoutMs ?? 30_000);
    this.idle.unref();
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.finished) return;
    this.touch();
    if (this.pending >= (this.options.maxPendingMessages ?? 1000)) {
      this.metrics.errors.inc({ reason: "too_slow" });
      void this.end(1013, "the platform cannot keep up with this stream");
      return;
    }
    this.pending++;
    this.work = this.work
      .then(() => (this.finished ? undefined : this.handle(data, isBinary)))
      .catch((err: unknown) => this.fail(err))
      .finally(() => this.pending--);
  }

  private async handle(data: Buffer, isBinary: boolean): Promise<void> {
    if (isBinary) throw new CallError(1003, "Twilio media streams send JSON text messages");
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(data.toString("utf8")) as Record<string, unknown>;
    } catch {
      throw new CallError(1007, "a message is not JSON");
    }
    if (typeof message !== "object" || message === null) throw new CallError(1007, "a message is not a JSON object");
    switch (message.event) {
      case "connected":
        return;
      case "start":
        return this.onStart(message.start);
      case "media":
        return this.onMedia(message.media);
      case "mark":
      case "dtmf":
        // Marks echo audio this server never sends; keypad presses are in the audio, found by the dtmf model.
        if (!this.start) throw new CallError(1008, `${String(message.event)} before start`);
        return;
      case "stop":
        return this.onStop();
      default:
        throw new CallError(1007, `unknown event ${JSON.stringify(message.event)}`);
    }
  }

  private async onStart(start: unknown): Promise<void> {
    if (this.start) throw new CallError(1008, "a second start message");
    const s = start as Partial<StartMessage> & { mediaFormat?: { encoding?: string; sampleRate?: number; channels?: number } };
    if (!s || typeof s.streamSid !== "string" || typeof s.callSid !== "string") throw new CallError(1007, "start needs streamSid and callSid");
    const format = s.mediaFormat;
    if (!format || format.encoding !== "audio/x-mulaw" || format.sampleRate !== 8000 || (format.channels ?? 1) !== 1) {
      throw new CallError(1007, "start.mediaFormat must be audio/x-mulaw, 8000 Hz, one channel");
    }
    const tracks: string[] = Array.isArray(s.tracks) && s.tracks.length > 0 ? s.tracks : ["inbound"];
    if (new Set(tracks).size !== tracks.length || tracks.some((t) => t !== "inbound" && t !== "outbound")) {
      throw new CallError(1007, "start.tracks takes inbound and outbound, once each");
    }
    const parameters = typeof s.customParameters === "object" && s.customParameters ? s.customParameters : {};
    const credential = parameters.api_key ?? parameters.apiKey;
    if (!credential) throw new CallError(1008, 'the <Stream> needs <Parameter name="api_key" value="astt_…"/>', "refused");
    // Channel 1 the caller (inbound), channel 2 the other side, whatever order the tracks are listed in.
    const ordered = (["inbound", "outbound"] as const).filter((t) => tracks.includes(t));
    this.start = { streamSid: s.streamSid, callSid: s.callSid, accountSid: String(s.accountSid ?? ""), tracks: [...ordered], customParameters: parameters };
    this.headers = { authorization: `Bearer ${credential}`, [PEER_ADDRESS_HEADER]: this.peer, "x-request-id": `twilio-${s.streamSid}`.slice(0, 128) };
    this.interleaver = new TrackInterleaver(ordered.length, { sendFrames: SEND_FRAMES, maxSkewFrames: MAX_SKEW_FRAMES, silence: 0xff });
    const created = await this.options.clients.speech.createLiveSession(
      {
        streamingConfig: {
          config: {
            encoding: AudioEncoding.MULAW,
            sampleRateHz: 8000,
            audioChannelCount: ordered.length,
            separateRecognitionPerChannel: ordered.length > 1,
            model: parameters.model ?? "",
            languageCode: parameters.language ?? "",
          },
        },
      },
      { headers: this.headers },
    );
    this.sessionId = created.session!.sessionId;
    this.options.logger.info({ stream_sid: s.streamSid, call_sid: s.callSid, session_id: this.sessionId, tracks: ordered }, "Twilio media stream started");
    this.call = new CallSession(this.options.clients, this.sessionId, this.headers, this.options.logger, "a Twilio call");
  }

  private async onMedia(media: unknown): Promise<void> {
    if (!this.start || !this.interleaver) throw new CallError(1008, "media before start");
    const m = media as { track?: string; payload?: string };
    const track = this.start.tracks.indexOf(m?.track as "inbound" | "outbound");
    if (track < 0) throw new CallError(1007, `media for a track the start did not announce: ${JSON.stringify(m?.track)}`);
    if (typeof m.payload !== "string" || m.payload.length > 16_384) throw new CallError(1007, "media.payload must be base64 audio of at most 12 KiB");
    const bytes = Buffer.from(m.payload, "base64");
    this.metrics.frames.inc();
    this.metrics.bytes.inc(bytes.length);
    for (const chunk of this.interleaver.push(track, bytes)) await this.send(chunk);
  }

  private async onStop(): Promise<void> {
    if (!this.start || !this.interleaver) throw new CallError(1008, "stop before start");
    const rest = this.interleaver.flush();
    if (rest.length > 0) await this.send(rest);
    await this.end(1000, "");
  }

  private async send(audioContent: Uint8Array): Promise<void> {
    await this.options.clients.speech.sendLiveAudio({ sessionId: this.sessionId, sequenceNumber: this.sequence++, audioContent }, { headers: this.headers });
  }

  private fail(err: unknown): void {
    if (err instanceof CallError) {
      this.metrics.errors.inc({ reason: err.reason });
      void this.end(err.closeCode, err.message);
      return;
    }
    // The platform refused (a bad key, the organisation's stream limit, its quota) or failed: its message, safe for a client.
    this.metrics.errors.inc({ reason: err instanceof ConnectError ? "refused" : "failed" });
    const message = err instanceof ConnectError ? err.rawMessage : "internal error";
    if (!(err instanceof ConnectError)) this.options.logger.error({ err, stream_sid: this.start?.streamSid }, "Twilio media stream failed");
    void this.end(1008, message);
  }

  private ending: Promise<void> | undefined;

  /** Closes the session (stored and billed by the platform), tells the webhooks, closes the socket. Once. */
  end(code: number, reason: string): Promise<void> {
    return (this.ending ??= this.finish(code, reason));
  }

  private async finish(code: number, reason: string): Promise<void> {
    this.finished = true;
    clearTimeout(this.idle);
    try {
      if (this.call) {
        const { session, finals } = await this.call.close();
        if (session) await this.notify(session, finals);
      }
    } finally {
      if (this.ws.readyState === this.ws.OPEN) this.ws.close(code, truncate(reason, 120));
      this.resolveEnded(code);
    }
  }

  private async notify(session: LiveSession, finals: FinalResult[]): Promise<void> {
    const start = this.start!;
    const { api_key: _key, apiKey: _alsoKey, ...parameters } = start.customParameters;
    await publishCallClosed(this.options, {
      credential: this.headers.authorization!.slice("Bearer ".length),
      session,
      source: "twilio",
      details: { twilio: { callSid: start.callSid, streamSid: start.streamSid, accountSid: start.accountSid, tracks: start.tracks, customParameters: parameters } },
      results: finals.map((f) => ({ ...resultOf(f), track: start.tracks[f.channelTag - 1] ?? start.tracks[0] })),
      what: "a Twilio call",
    });
  }
}

function truncate(text: string, bytes: number): string {
  const encoded = Buffer.from(text, "utf8");
  return encoded.length <= bytes ? text : encoded.subarray(0, bytes).toString("utf8").replace(/\uFFFD$/, "");
}
