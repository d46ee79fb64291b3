// Genesys Cloud AudioHook (protocol version 2; an AudioHook Monitor integration): Genesys opens a WebSocket,
// signed with the integration's API key and client secret (signature.ts), and runs a session over it: text
// messages (JSON, each with the session `id`, a `seq` one above its last and the `serverseq` it has seen,
// and the audio `position`) for the `open`/`opened` transaction that negotiates the media (8 kHz PCMU, the
// `external` channel (the customer) and the `internal` one (the agent)), `ping`/`pong`, `paused`/`resumed`,
// `discarded`, `update`, `error`, and the `close`/`closed` transaction; binary messages carry the audio, the
// channels' samples interleaved. The server may send `disconnect` (reason `unauthorized`, `error` or
// `completed`) to ask the client to close.
//
// The call becomes a live session of the platform, created, fed and closed through its own RPCs with the
// API key of X-API-KEY, so the key's scope, the organisation's live-stream limit (its concurrent calls),
// quota, persistence and billing are theirs: one stereo stream, channel 1 external, channel 2 internal
// (in the negotiated order). When the session ends, it and its final results go to the organisation's
// webhooks (`live_session.closed`). A message that breaks the protocol ends that call with `disconnect`
// (reason `error`), never the process; a bad signature or key with `disconnect` (reason `unauthorized`).
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Registry } from "prom-client";
import { Code, ConnectError } from "@connectrpc/connect";
import { AudioEncoding } from "../../../proto/gen/arabicstt/v1/recognition_pb.js";
import type { LiveSession } from "../../../proto/gen/arabicstt/v1/speech_pb.js";
import { UnauthenticatedError } from "../../../services/platform/errors/errors.js";
import type { UpgradeRoute } from "../../server.js";
import { PEER_ADDRESS_HEADER } from "../../interceptors/auth.js";
import { CallSession, publishCallClosed, resultOf, type CallAdapterOptions, type FinalResult } from "../telephony/call-session.js";
import { telephonyMetrics, type TelephonyMetrics } from "../telephony/metrics.js";
import { canonicalHeader, NonceRegistry, verifyAudioHookSignature } from "./signature.js";

export const AUDIOHOOK_PATH = "/v1/genesys/audiohook";
/** The session id of a connection probe's `open`: Genesys checks the endpoint and closes again. */
export const NULL_UUID = "00000000-0000-0000-0000-000000000000";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DURATION = /^PT(\d*\.)?\d+S$/;
/** Frames (one sample per channel) per SendLiveAudio: 500 ms, as the Twilio adapter sends (twilio.bench.ts). */
const SEND_FRAMES = 4000;
/** How long the client has to close after `disconnect` or `closed` before the socket is cut. */
const CLOSE_GRACE_MS = 5_000;

export interface AudioHookOptions extends CallAdapterOptions {
  /** The integration's client secret, decoded from base64: every connection must be signed with it. */
  clientSecret: Uint8Array;
  /** The calls' metrics (audioHookMetrics); unregistered ones when left out. */
  metrics?: TelephonyMetrics;
  /** A session with no message for this long is ended. Default 30 s (Genesys pings every few seconds and sends audio every 20–100 ms). */
  idleTimeoutMs?: number;
  /** Largest WebSocket message, text or audio. Default 64 KiB (the protocol's own bound for text). */
  maxMessageBytes?: number;
  /** Messages waiting for the platform before a call is ended as too slow. Default 500 (10 s of 20 ms audio). */
  maxPendingMessages?: number;
  /** Connections open at once; more are answered 503. Default 1000. */
  maxConnections?: number;
  /** Epoch seconds, for the signatures' freshness (tests move it). */
  now?: () => number;
}

export interface AudioHookServer {
  route: UpgradeRoute;
  /** Sessions in progress. */
  active(): number;
  /** Ends every session in progress (their live sessions are closed and stored) and stops taking new ones. */
  close(): Promise<void>;
}

/** The metrics of AudioHook's sessions: `arabicstt_audiohook_calls_active`, `…_calls_total{outcome}`, `…_frames_total`, `…_audio_bytes_total`, `…_errors_total{reason}`. */
export function audioHookMetrics(registry: Registry | undefined): TelephonyMetrics {
  return telephonyMetrics(registry, {
    prefix: "arabicstt_audiohook",
    what: "Genesys AudioHook sessions",
    outcome: { label: "outcome", help: "outcome (closed: the client's close transaction, dropped: the socket went without one, probe, unauthorized, error, shutdown)" },
    frames: "Binary audio messages",
    bytes: "PCMU bytes (all channels)",
  });
}

export function audioHookServer(options: AudioHookOptions): AudioHookServer {
  const server = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes ?? 64 * 1024 });
  const sessions = new Set<AudioHookSession>();
  const nonces = new NonceRegistry();
  const metrics = options.metrics ?? audioHookMetrics(undefined);
  let closing = false;
  return {
    route(req: IncomingMessage, socket: Duplex, head: Buffer) {
      const url = req.url ?? "/";
      if (new URL(url, "http://localhost").pathname !== AUDIOHOOK_PATH) return false;
      if (closing || sessions.size >= (options.maxConnections ?? 1000)) {
        socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return true;
      }
      // Without its session id a request is no AudioHook client: nothing to address a `disconnect` to.
      const sessionId = canonicalHeader(req.headers["audiohook-session-id"]) ?? "";
      if (!UUID.test(sessionId)) {
        socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return true;
      }
      const verified = verifyAudioHookSignature({
        headers: req.headers,
        requestTarget: url,
        secret: options.clientSecret,
        now: options.now?.() ?? Date.now() / 1000,
        nonces,
      });
      server.handleUpgrade(req, socket, head, (ws) => {
        const session = new AudioHookSession(ws, {
          sessionId: sessionId.toLowerCase(),
          organizationId: canonicalHeader(req.headers["audiohook-organization-id"]) ?? "",
          correlationId: canonicalHeader(req.headers["audiohook-correlation-id"]) ?? "",
          apiKey: verified.ok ? verified.keyId : "",
          peer: String(req.headers[PEER_ADDRESS_HEADER] ?? ""),
        }, options, metrics);
        sessions.add(session);
        metrics.active.inc();
        void session.ended.then((outcome) => {
          sessions.delete(session);
          metrics.active.dec();
          metrics.ended.inc({ outcome });
        });
        if (!verified.ok) {
          // The reason stays in the log: a client learns only that it was refused.
          options.logger.info({ audiohook_session_id: sessionId, reason: verified.reason }, "AudioHook connection refused");
          session.refuse("unauthorized", "the request's signature or API key was refused");
        }
      });
      return true;
    },
    active: () => sessions.size,
    async close() {
      closing = true;
      await Promise.all([...sessions].map((s) => s.shutdown()));
      server.close();
    },
  };
}

/** Why a session ended, the `outcome` of `arabicstt_audiohook_calls_total`. */
type Outcome = "closed" | "dropped" | "probe" | "unauthorized" | "error" | "shutdown";

/** Thrown to end a session with `disconnect`; `reason` is the errors counter's label. */
class ProtocolError extends Error {
  constructor(
    readonly reason: "malformed" | "unsupported_media" | "refused" | "unauthorized" | "idle" | "too_slow" | "failed",
    message: string,
  ) {
    super(message);
  }
}

interface Connection {
  sessionId: string;
  organizationId: string;
  correlationId: string;
  /** The verified API key; empty when the signature was refused. */
  apiKey: string;
  peer: string;
}

interface Opened {
  conversationId: string;
  participant: { id: string; ani: string; aniName: string; dnis: string };
  channels: string[];
  language: string;
  customConfig: Record<string, unknown>;
}

type State = "connected" | "opening" | "active" | "paused" | "closing" | "closed" | "disconnecting";

type Message = { version: string; id: string; type: string; seq: number; serverseq: number; position: string; parameters: Record<string, unknown> };

class AudioHookSession {
  /** Resolves with the outcome once the session is over. */
  readonly ended: Promise<Outcome>;
  private resolveEnded!: (outcome: Outcome) => void;
  private state: State = "connected";
  private seq = 0;
  private clientseq = 0;
  private opened: Opened | undefined;
  private headers: Record<string, string> = {};
  private liveSessionId = "";
  private sequence = 0n;
  private call: CallSession | undefined;
  /** Interleaved PCMU not yet sent. */
  private audio: Buffer[] = [];
  private audioBytes = 0;
  private pauses = 0;
  private discardedSeconds = 0;
  private languageUpdates: string[] = [];
  private closeReason = "";
  /** Every message is handled in order, one at a time, after the ones before it. */
  private work: Promise<void> = Promise.resolve();
  private pending = 0;
  private idle: NodeJS.Timeout | undefined;
  private cutOff: NodeJS.Timeout | undefined;
  private outcome: Outcome = "dropped";
  private finishing: Promise<void> | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly connection: Connection,
    private readonly options: AudioHookOptions,
    private readonly metrics: TelephonyMetrics,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.touch();
    ws.on("message", (data, isBinary) => this.receive(data as Buffer, isBinary));
    // The client closed the socket (after `closed`, or without a close transaction): the messages received
    // are handled, then the live session is closed and stored all the same.
    ws.on("close", () => void this.work.then(() => this.finish()));
    ws.on("error", (err) => {
      this.options.logger.info({ err, audiohook_session_id: connection.sessionId }, "AudioHook connection failed");
      this.metrics.errors.inc({ reason: "connection" });
      ws.terminate();
    });
  }

  /** Ends the session at once with `disconnect` (an unauthorized connection); nothing it sends is taken after. */
  refuse(reason: "unauthorized", info: string): void {
    this.metrics.errors.inc({ reason });
    this.outcome = "unauthorized";
    this.disconnect(reason, info);
  }

  /** The server is stopping: the call's live session is stored, and the client told it is over. */
  async shutdown(): Promise<void> {
    if (this.state === "active" || this.state === "paused" || this.state === "opening" || this.state === "connected") {
      this.outcome = "shutdown";
      this.disconnect("completed", "the server is shutting down");
    }
    await this.work;
    this.ws.terminate();
    await this.finish();
  }

  private touch(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.fail(new ProtocolError("idle", "no message for too long")), this.options.idleTimeoutMs ?? 30_000);
    this.idle.unref();
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.state === "closed" || this.state === "disconnecting") return;
    this.touch();
    if (this.pending >= (this.options.maxPendingMessages ?? 500)) {
      this.fail(new ProtocolError("too_slow", "the server cannot keep up with this session"));
      return;
    }
    this.pending++;
    this.work = this.work
      .then(() => (this.state === "closed" || this.state === "disconnecting" ? undefined : isBinary ? this.onAudio(data) : this.onText(data)))
      .catch((err: unknown) => this.fail(err))
      .finally(() => this.pending--);
  }

  private async onText(data: Buffer): Promise<void> {
    let message: Message;
    try {
      message = JSON.parse(data.toString("utf8")) as Message;
    } catch {
      throw new ProtocolError("malformed", "a text message is not JSON");
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) throw new ProtocolError("malformed", "a message is not a JSON object");
    if (message.version !== "2") throw new ProtocolError("malformed", 'version must be "2"');
    if (typeof message.id !== "string" || message.id.toLowerCase() !== this.connection.sessionId) throw new ProtocolError("malformed", "id is not the session's (audiohook-session-id)");
    if (message.seq !== this.clientseq + 1) throw new ProtocolError("malformed", `seq must be ${this.clientseq + 1}`);
    this.clientseq = message.seq;
    if (!Number.isInteger(message.serverseq) || message.serverseq < 0 || message.serverseq > this.seq) throw new ProtocolError("malformed", "serverseq is not one this server sent");
    if (typeof message.position !== "string" || !DURATION.test(message.position)) throw new ProtocolError("malformed", "position must be a duration (PT…S)");
    if (typeof message.parameters !== "object" || message.parameters === null || Array.isArray(message.parameters)) throw new ProtocolError("malformed", "parameters must be an object");
    const p = message.parameters;
    switch (message.type) {
      case "open":
        return this.onOpen(p);
      case "ping":
        this.send("pong", {});
        return;
      case "paused":
        // Genesys paused the audio (on hold, a secure flow, or asked): the audio stops until `resumed`.
        this.requireOpen(message.type);
        if (this.state === "active") this.pauses++;
        this.state = "paused";
        return;
      case "resumed":
        this.requireOpen(message.type);
        if (!isDuration(p.start) || !isDuration(p.discarded)) throw new ProtocolError("malformed", "resumed needs start and discarded durations");
        // The paused stretch is left out of the live session: its times count the audio received.
        this.discardedSeconds += seconds(p.discarded);
        this.state = "active";
        return;
      case "discarded":
        this.requireOpen(message.type);
        if (!isDuration(p.start) || !isDuration(p.discarded)) throw new ProtocolError("malformed", "discarded needs start and discarded durations");
        this.discardedSeconds += seconds(p.discarded);
        return;
      case "update":
        this.requireOpen(message.type);
        if (typeof p.language !== "string" || p.language.length > 35) throw new ProtocolError("malformed", "update needs a language");
        // A live session keeps the language it was created with; the change is reported in the webhook event.
        if (this.languageUpdates.length < 32) this.languageUpdates.push(p.language);
        this.send("updated", {});
        return;
      case "error":
        // The client reports a fault of its own; it closes the session itself if it must.
        this.metrics.errors.inc({ reason: "client_error" });
        this.options.logger.info({ audiohook_session_id: this.connection.sessionId, code: p.code, message: String(p.message ?? "").slice(0, 256) }, "AudioHook client reported an error");
        return;
      case "close":
        return this.onClose(p);
      default:
        throw new ProtocolError("malformed", `unknown message type ${JSON.stringify(String(message.type).slice(0, 32))}`);
    }
  }

  private requireOpen(type: string): void {
    if (this.state !== "active" && this.state !== "paused") throw new ProtocolError("malformed", `${type} before the session is open`);
  }

  private async onOpen(p: Record<string, unknown>): Promise<void> {
    if (this.state !== "connected") throw new ProtocolError("malformed", "a second open");
    this.state = "opening";
    if (p.organizationId !== this.connection.organizationId) throw new ProtocolError("unauthorized", "organizationId is not the audiohook-organization-id header");
    if (typeof p.conversationId !== "string" || !UUID.test(p.conversationId)) throw new ProtocolError("malformed", "open needs a conversationId");
    const participant = p.participant as Opened["participant"] | undefined;
    if (!participant || typeof participant !== "object" || typeof participant.id !== "string") throw new ProtocolError("malformed", "open needs a participant");
    if (!Array.isArray(p.media)) throw new ProtocolError("malformed", "open needs media offers");
    const media = chooseMedia(p.media);
    if (!media) throw new ProtocolError("unsupported_media", "no offered media is audio, PCMU, 8000 Hz, external and/or internal channels");
    const customConfig = typeof p.customConfig === "object" && p.customConfig !== null && !Array.isArray(p.customConfig) ? (p.customConfig as Record<string, unknown>) : {};
    const language = typeof p.language === "string" ? p.language : "";
    this.headers = {
      authorization: `Bearer ${this.connection.apiKey}`,
      [PEER_ADDRESS_HEADER]: this.connection.peer,
      "x-request-id": `audiohook-${this.connection.sessionId}`,
    };
    if (p.conversationId === NULL_UUID) {
      // A connection probe: the key is checked, the media answered, and no call is made of it.
      await this.checkKey();
      if (this.state !== "opening") return;
      this.outcome = "probe";
    } else {
      const model = typeof customConfig.model === "string" ? customConfig.model : "";
      let created;
      try {
        created = await this.options.clients.speech.createLiveSession(
          {
            streamingConfig: {
              config: {
                encoding: AudioEncoding.MULAW,
                sampleRateHz: 8000,
                audioChannelCount: media.channels.length,
                separateRecognitionPerChannel: media.channels.length > 1,
                model,
                languageCode: typeof customConfig.language === "string" ? customConfig.language : language,
              },
            },
          },
          { headers: this.headers },
        );
      } catch (err) {
        if (err instanceof ConnectError && (err.code === Code.Unauthenticated || err.code === Code.PermissionDenied)) throw new ProtocolError("unauthorized", err.rawMessage);
        throw err;
      }
      this.liveSessionId = created.session!.sessionId;
      if (this.state !== "opening") {
        // The session was ended (idle, shutdown) while the platform made the call's live session: it is closed at once.
        await this.options.clients.speech.closeLiveSession({ sessionId: this.liveSessionId }, { headers: this.headers }).catch((err: unknown) => {
          // swallowed: the platform's sweeper ends a session nobody closes; logged for the operator.
          this.options.logger.info({ err, session_id: this.liveSessionId }, "closing an abandoned AudioHook live session failed");
        });
        return;
      }
      this.call = new CallSession(this.options.clients, this.liveSessionId, this.headers, this.options.logger, "an AudioHook session");
      this.options.logger.info({ audiohook_session_id: this.connection.sessionId, conversation_id: p.conversationId, session_id: this.liveSessionId, channels: media.channels }, "AudioHook session opened");
    }
    this.opened = { conversationId: p.conversationId, participant, channels: media.channels, language, customConfig };
    this.state = "active";
    this.send("opened", { media: [media], startPaused: false });
  }

  private async checkKey(): Promise<void> {
    try {
      await this.options.authenticator.authenticate(this.connection.apiKey);
    } catch (err) {
      if (err instanceof UnauthenticatedError) throw new ProtocolError("unauthorized", err.message);
      throw err;
    }
  }

  private async onAudio(data: Buffer): Promise<void> {
    if (this.state !== "active" || !this.opened) throw new ProtocolError("malformed", `audio while the session is ${this.state === "paused" ? "paused" : "not open"}`);
    const channels = this.opened.channels.length;
    if (data.length === 0 || data.length % channels !== 0) throw new ProtocolError("malformed", `an audio message holds whole frames of ${channels} byte(s)`);
    this.metrics.frames.inc();
    this.metrics.bytes.inc(data.length);
    if (!this.call) return;
    this.audio.push(Buffer.from(data));
    this.audioBytes += data.length;
    const piece = SEND_FRAMES * channels;
    while (this.audioBytes >= piece) await this.sendAudio(this.takeAudio(piece));
  }

  private takeAudio(bytes: number): Buffer {
    const all = Buffer.concat(this.audio);
    this.audio = bytes < all.length ? [all.subarray(bytes)] : [];
    this.audioBytes = all.length - Math.min(bytes, all.length);
    return all.subarray(0, bytes);
  }

  private async sendAudio(audioContent: Buffer): Promise<void> {
    await this.options.clients.speech.sendLiveAudio({ sessionId: this.liveSessionId, sequenceNumber: this.sequence++, audioContent }, { headers: this.headers });
  }

  private async onClose(p: Record<string, unknown>): Promise<void> {
    if (this.state === "closing" || this.state === "closed") return;
    if (typeof p.reason !== "string") throw new ProtocolError("malformed", "close needs a reason");
    this.closeReason = p.reason.slice(0, 32);
    if (this.outcome === "dropped") this.outcome = "closed";
    this.state = "closing";
    await this.finishCall();
    this.send("closed", {});
    this.state = "closed";
    this.cutOffLater();
  }

  private send(type: string, parameters: Record<string, unknown>): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(JSON.stringify({ version: "2", type, id: this.connection.sessionId, seq: ++this.seq, clientseq: this.clientseq, parameters }));
  }

  /** Asks the client to close (it answers with a close transaction); the socket is cut if it does not. */
  private disconnect(reason: "unauthorized" | "error" | "completed", info: string): void {
    if (this.state === "closed" || this.state === "disconnecting") return;
    this.send("disconnect", { reason, info: info.slice(0, 256) });
    // After `disconnect` only the client's `close` is answered (with `closed`); nothing else is taken.
    this.state = "disconnecting";
    this.ws.removeAllListeners("message");
    this.ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      try {
        const m = JSON.parse((data as Buffer).toString("utf8")) as Message;
        if (m?.type === "close") {
          this.clientseq = Number.isInteger(m.seq) ? m.seq : this.clientseq;
          void this.finishCall().then(() => {
            this.send("closed", {});
            this.state = "closed";
          });
        }
      } catch {
        // ignored: after a disconnect the client's only expected message is close; the cut-off timer ends the rest.
      }
    });
    this.cutOffLater();
  }

  private fail(err: unknown): void {
    if (this.state === "closed" || this.state === "disconnecting") return;
    if (err instanceof ProtocolError) {
      this.metrics.errors.inc({ reason: err.reason });
      this.options.logger.info({ audiohook_session_id: this.connection.sessionId, reason: err.reason, message: err.message }, "AudioHook session ended with an error");
      if (this.outcome === "dropped" || this.outcome === "probe") this.outcome = err.reason === "unauthorized" ? "unauthorized" : "error";
      this.disconnect(err.reason === "unauthorized" ? "unauthorized" : "error", err.message);
      return;
    }
    // The platform refused (the organisation's stream limit, its quota) or failed: its message, safe for a client.
    this.metrics.errors.inc({ reason: err instanceof ConnectError ? "refused" : "failed" });
    if (!(err instanceof ConnectError)) this.options.logger.error({ err, audiohook_session_id: this.connection.sessionId }, "AudioHook session failed");
    if (this.outcome === "dropped" || this.outcome === "probe") this.outcome = "error";
    this.disconnect("error", err instanceof ConnectError ? err.rawMessage : "internal error");
  }

  private cutOffLater(): void {
    clearTimeout(this.cutOff);
    this.cutOff = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
    this.cutOff.unref();
  }

  private callClosed: Promise<void> | undefined;

  /** Closes the live session (stored and billed by the platform) and tells the webhooks. Once. */
  private finishCall(): Promise<void> {
    return (this.callClosed ??= (async () => {
      if (!this.call) return;
      if (this.audioBytes > 0) {
        try {
          await this.sendAudio(this.takeAudio(this.audioBytes));
        } catch (err) {
          // swallowed: the session is closed and stored with the audio it was sent before.
          this.options.logger.info({ err, audiohook_session_id: this.connection.sessionId }, "the end of an AudioHook session's audio was not taken");
        }
      }
      const { session, finals } = await this.call.close();
      if (session) await this.notify(session, finals);
    })());
  }

  /** The socket is gone: the live session is closed if no close transaction did it, and the session is over. Once. */
  private finish(): Promise<void> {
    return (this.finishing ??= (async () => {
      clearTimeout(this.idle);
      clearTimeout(this.cutOff);
      this.state = "closed";
      try {
        await this.finishCall();
      } finally {
        this.resolveEnded(this.outcome);
      }
    })());
  }

  private async notify(session: LiveSession, finals: FinalResult[]): Promise<void> {
    const opened = this.opened!;
    await publishCallClosed(this.options, {
      credential: this.connection.apiKey,
      session,
      source: "genesys",
      details: {
        audiohook: {
          sessionId: this.connection.sessionId,
          correlationId: this.connection.correlationId,
          organizationId: this.connection.organizationId,
          conversationId: opened.conversationId,
          participant: { id: opened.participant.id, ani: String(opened.participant.ani ?? ""), aniName: String(opened.participant.aniName ?? ""), dnis: String(opened.participant.dnis ?? "") },
          channels: opened.channels,
          language: opened.language,
          languageUpdates: this.languageUpdates,
          pauses: this.pauses,
          discardedSeconds: Number(this.discardedSeconds.toFixed(3)),
          closeReason: this.closeReason,
        },
      },
      results: finals.map((f) => ({ ...resultOf(f), channel: opened.channels[f.channelTag - 1] ?? opened.channels[0] })),
      what: "an AudioHook session",
    });
  }
}

function isDuration(value: unknown): value is string {
  return typeof value === "string" && DURATION.test(value);
}

function seconds(duration: string): number {
  return Number(duration.slice(2, -1));
}

interface Media {
  type: "audio";
  format: "PCMU";
  channels: string[];
  rate: 8000;
}

/** The offer taken: PCMU at 8 kHz, both channels if offered (the whole call), else the first single channel. */
export function chooseMedia(offers: unknown[]): Media | undefined {
  const usable = offers.filter((o): o is Media => {
    const m = o as Partial<Media> | null;
    if (!m || m.type !== "audio" || m.format !== "PCMU" || m.rate !== 8000 || !Array.isArray(m.channels)) return false;
    const channels = m.channels as unknown[];
    return channels.length >= 1 && channels.length <= 2 && new Set(channels).size === channels.length && channels.every((c) => c === "external" || c === "internal");
  });
  const chosen = usable.find((m) => m.channels.length === 2) ?? usable[0];
  return chosen && { type: "audio", format: "PCMU", channels: [...chosen.channels], rate: 8000 };
}
