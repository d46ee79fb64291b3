// A Genesys Cloud AudioHook client, written from the protocol's definition (version 2, as Genesys's reference
// implementation purecloudlabs/audiohook-reference-implementation speaks it), for the tests and the bench: it
// connects with the headers Genesys sends (Audiohook-Organization-Id, -Session-Id, -Correlation-Id,
// X-API-KEY) signed as Genesys signs them (RFC 9421, HMAC-SHA256 with the client secret), offers the media
// (PCMU 8 kHz: both channels, then each alone), waits for `opened`, pings, streams the two channels
// interleaved, pauses and resumes when asked, updates the language, and runs the close transaction. A
// server's `disconnect` is answered with a close transaction too, as the client must.
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import WebSocket from "ws";
import { serializeInnerList, signatureBase, type InnerList } from "./signature.js";

export type ServerMessage = { version: string; type: string; id: string; seq: number; clientseq: number; parameters: Record<string, unknown> };

export interface AudioHookCallOptions {
  /** ws://host:port/v1/genesys/audiohook */
  url: string;
  apiKey: string;
  /** The client secret (decoded); null sends the request unsigned. */
  clientSecret: Uint8Array | null;
  organizationId: string;
  sessionId?: string;
  conversationId?: string;
  /** The external party's (the customer's) audio, 8 kHz μ-law. */
  external: Uint8Array;
  /** The internal party's (the agent's) audio, 8 kHz μ-law. */
  internal: Uint8Array;
  language?: string;
  customConfig?: Record<string, unknown>;
  /** Pause for this stretch of the call (ms of audio from, ms long): `paused`, no audio, `resumed`. */
  pause?: { atMs: number; forMs: number };
  /** Headers changed after signing (to test a tampered request). */
  tamper?: (headers: Record<string, string>) => Record<string, string>;
  /** Sent once `opened` arrives instead of the call's own messages (malformed input). */
  inject?: Array<string | Uint8Array>;
  /** Audio paced as a live call sends it (one 20 ms frame per 20 ms); else all at once. */
  paced?: boolean;
}

export interface SimulatedAudioHookCall {
  /** Every text message the server sent, in order. */
  received: ServerMessage[];
  /** The WebSocket close code. */
  closeCode: number;
  /** From sending `close` to receiving `closed`, in ms (the live session closed and stored). */
  closeToClosedMs: number;
}

/** The headers Genesys sends to open an AudioHook session, signed with `clientSecret` when given. */
export function audioHookHeaders(url: URL, ids: { organizationId: string; sessionId: string; correlationId: string; apiKey: string }, clientSecret: Uint8Array | null): Record<string, string> {
  const headers: Record<string, string> = {
    "Audiohook-Organization-Id": ids.organizationId,
    "Audiohook-Session-Id": ids.sessionId,
    "Audiohook-Correlation-Id": ids.correlationId,
    "X-API-KEY": ids.apiKey,
  };
  if (!clientSecret) return headers;
  const components: Array<[string, string]> = [
    ["@request-target", url.pathname + url.search],
    ["@authority", url.host],
    ["audiohook-organization-id", ids.organizationId],
    ["audiohook-session-id", ids.sessionId],
    ["audiohook-correlation-id", ids.correlationId],
    ["x-api-key", ids.apiKey],
  ];
  const created = Math.floor(Date.now() / 1000);
  const input: InnerList = {
    items: components.map(([name]) => ({ value: name, params: [] })),
    params: [
      ["keyid", ids.apiKey],
      ["nonce", randomBytes(18).toString("base64")],
      ["alg", "hmac-sha256"],
      ["created", created],
      ["expires", created + 30],
    ],
  };
  const mac = createHmac("sha256", clientSecret).update(signatureBase(components, input)).digest();
  return { ...headers, "Signature-Input": `sig1=${serializeInnerList(input)}`, Signature: `sig1=:${mac.toString("base64")}:` };
}

const FRAME = 160; // 20 ms of 8 kHz audio per channel

/** Runs one AudioHook session against `options.url` and resolves once the server has closed or cut it. */
export function simulateAudioHookCall(options: AudioHookCallOptions): Promise<SimulatedAudioHookCall> {
  const url = new URL(options.url);
  const sessionId = options.sessionId ?? randomUUID();
  const signed = audioHookHeaders(url, { organizationId: options.organizationId, sessionId, correlationId: randomUUID(), apiKey: options.apiKey }, options.clientSecret);
  const headers = options.tamper ? options.tamper(signed) : signed;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, followRedirects: false });
    const received: ServerMessage[] = [];
    let seq = 0;
    let serverseq = 0;
    let samples = 0;
    let closing = false;
    let closeSentAt = 0;
    let closedAt = 0;
    const position = () => `PT${(samples / 8000).toFixed(3)}S`;
    const send = (type: string, parameters: Record<string, unknown>) =>
      ws.send(JSON.stringify({ version: "2", id: sessionId, type, seq: ++seq, serverseq, position: position(), parameters }));
    const close = (reason: string) => {
      if (closing) return;
      closing = true;
      closeSentAt = performance.now();
      send("close", { reason });
    };

    const stream = async () => {
      send("ping", {});
      if (options.language) send("update", { language: options.language });
      const frames = Math.ceil(Math.max(options.external.length, options.internal.length) / FRAME);
      const startedAt = performance.now();
      let pausedFor = 0;
      for (let f = 0; f < frames && !closing; f++) {
        const atMs = f * 20;
        if (options.pause && atMs === options.pause.atMs) {
          send("paused", {});
          if (options.paced) await new Promise((r) => setTimeout(r, options.pause!.forMs));
          pausedFor = options.pause.forMs;
          send("resumed", { start: position(), discarded: `PT${(options.pause.forMs / 1000).toFixed(3)}S` });
        }
        const frame = new Uint8Array(FRAME * 2).fill(0xff);
        for (let i = 0; i < FRAME; i++) {
          frame[i * 2] = options.external[f * FRAME + i] ?? 0xff;
          frame[i * 2 + 1] = options.internal[f * FRAME + i] ?? 0xff;
        }
        ws.send(frame);
        samples += FRAME;
        if (options.paced) {
          const due = startedAt + pausedFor + (f + 1) * 20 - performance.now();
          if (due > 0) await new Promise((r) => setTimeout(r, due));
        }
      }
      close("end");
    };

    ws.on("open", () =>
      send("open", {
        organizationId: options.organizationId,
        conversationId: options.conversationId ?? randomUUID(),
        participant: { id: randomUUID(), ani: "tel:+966500000001", aniName: "عميل", dnis: "tel:+966110000000" },
        media: [
          { type: "audio", format: "PCMU", channels: ["external", "internal"], rate: 8000 },
          { type: "audio", format: "PCMU", channels: ["external"], rate: 8000 },
          { type: "audio", format: "PCMU", channels: ["internal"], rate: 8000 },
        ],
        language: "ar-SA",
        ...(options.customConfig ? { customConfig: options.customConfig } : {}),
      }),
    );
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      const message = JSON.parse((data as Buffer).toString("utf8")) as ServerMessage;
      received.push(message);
      serverseq = message.seq;
      switch (message.type) {
        case "opened":
          if (options.inject) for (const m of options.inject) ws.send(m);
          else void stream().catch(reject);
          return;
        case "disconnect":
          close("disconnect");
          return;
        case "closed":
          closedAt = performance.now();
          ws.close(1000);
          return;
      }
    });
    ws.on("close", (code) => resolve({ received, closeCode: code, closeToClosedMs: closedAt && closeSentAt ? closedAt - closeSentAt : 0 }));
    ws.on("error", reject);
  });
}
