// A Twilio Media Streams client, written from Twilio's message reference
// (https://www.twilio.com/docs/voice/media-streams/websocket-messages), for the tests and the bench: the
// messages of a call (connected, start, 20 ms of μ-law per track in turn, a mark, stop) and a socket that
// sends them, all at once or paced as Twilio paces them.
import WebSocket from "ws";
import { dtmfSequence } from "../../../inference/client/testing/signals.js";
import { mulawOf } from "../../../services/audio/g711.js";

export const TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000000";

/** One party's keys as 8 kHz μ-law, with a second of silence after them so the last key is heard out. */
export function mulawKeys(keys: string, leadMs: number): Uint8Array {
  const tones = dtmfSequence(keys, { sampleRate: 8000, leadMs }).audio;
  const bytes = new Uint8Array(tones.length + 8000).fill(0xff);
  tones.forEach((sample, i) => (bytes[i] = mulawOf(sample)));
  return bytes;
}

export type TwilioMessage = Record<string, unknown>;

/** A call's messages, as Twilio sends them: connected, start, 20 ms media per track in turn, a mark, stop. */
export function twilioCall(options: { callSid: string; parameters: Record<string, string>; inbound: Uint8Array; outbound: Uint8Array }): TwilioMessage[] {
  const streamSid = `MZ${options.callSid.slice(2)}`;
  let sequence = 1;
  const messages: TwilioMessage[] = [
    { event: "connected", protocol: "Call", version: "1.0.0" },
    {
      event: "start",
      sequenceNumber: String(sequence++),
      streamSid,
      start: {
        streamSid,
        accountSid: TWILIO_ACCOUNT_SID,
        callSid: options.callSid,
        tracks: ["inbound", "outbound"],
        customParameters: options.parameters,
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
      },
    },
  ];
  const frames = Math.max(options.inbound.length, options.outbound.length);
  for (let at = 0, chunk = 1; at < frames; at += 160, chunk++) {
    for (const [track, audio] of [["inbound", options.inbound], ["outbound", options.outbound]] as const) {
      const payload = audio.subarray(at, at + 160);
      if (payload.length === 0) continue;
      messages.push({
        event: "media",
        sequenceNumber: String(sequence++),
        streamSid,
        media: { track, chunk: String(chunk), timestamp: String((at / 8000) * 1000), payload: Buffer.from(payload).toString("base64") },
      });
    }
  }
  messages.push({ event: "mark", sequenceNumber: String(sequence++), streamSid, mark: { name: "greeting" } });
  messages.push({ event: "stop", sequenceNumber: String(sequence++), streamSid, stop: { accountSid: TWILIO_ACCOUNT_SID, callSid: options.callSid } });
  return messages;
}

export interface SimulatedCall {
  closeCode: number;
  closeReason: string;
  /** From sending `stop` to the server's close, in ms (the session closed, stored and announced). */
  stopToCloseMs: number;
}

/**
 * Connects as Twilio does and sends `messages` (strings as they are), then waits for the server to close the
 * socket. Paced: one message pair per 20 ms of audio, as a live call sends them; else all at once.
 */
export function simulateCall(url: string, messages: Array<string | TwilioMessage>, options: { paced?: boolean } = {}): Promise<SimulatedCall> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let stopSentAt = 0;
    const sendOne = (m: string | TwilioMessage) => {
      if (typeof m !== "string" && m.event === "stop") stopSentAt = performance.now();
      ws.send(typeof m === "string" ? m : JSON.stringify(m));
    };
    ws.on("open", () => {
      if (!options.paced) {
        messages.forEach(sendOne);
        return;
      }
      let next = 0;
      const startedAt = performance.now();
      let mediaSent = 0;
      const tick = () => {
        // Everything due by now: media by its place in the call, every other message at once.
        const due = (performance.now() - startedAt) / 20;
        while (next < messages.length) {
          const m = messages[next]!;
          const isMedia = typeof m !== "string" && m.event === "media";
          if (isMedia && mediaSent / 2 > due) break;
          sendOne(m);
          if (isMedia) mediaSent++;
          next++;
        }
        if (next < messages.length && ws.readyState === ws.OPEN) setTimeout(tick, 20);
      };
      tick();
    });
    ws.on("close", (code, reason) => resolve({ closeCode: code, closeReason: reason.toString(), stopToCloseMs: stopSentAt ? performance.now() - stopSentAt : 0 }));
    ws.on("error", reject);
  });
}
