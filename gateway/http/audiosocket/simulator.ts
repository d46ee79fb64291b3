// An Asterisk AudioSocket client, written from the protocol's definition (https://github.com/CyCoreSystems/audiosocket,
// the Asterisk documentation's "AudioSocket" page), for the tests: the frames `AudioSocket(uuid,host:port)` sends
// for a call (the UUID, 20 ms of 16-bit 8 kHz signed linear little-endian audio per frame, a DTMF frame per key,
// the hangup) and a socket that sends them and reads what the server answers until it closes.
import { connect } from "node:net";
import { dtmfSequence } from "../../../inference/client/testing/signals.js";
import { AUDIO_SAMPLE_RATES, encodeFrame, FrameKind, FrameReader, uuidBytes, type Frame } from "./frames.js";

/** Keys as 16-bit signed linear little-endian, with a second of silence after them so the last key is heard out. */
export function slinKeys(keys: string, leadMs: number, sampleRate = 8000): Buffer {
  const tones = dtmfSequence(keys, { sampleRate, leadMs }).audio;
  const bytes = Buffer.alloc((tones.length + sampleRate) * 2);
  tones.forEach((sample, i) => bytes.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(sample * 32767))), i * 2));
  return bytes;
}

/**
 * A call's frames as Asterisk sends them: the UUID, the audio in 20 ms frames (of the kind for `sampleRate`,
 * 8 kHz unless said), the keys' DTMF frames after the audio, the hangup.
 */
export function audioSocketCall(options: { uuid: string; audio: Buffer; sampleRate?: number; dtmf?: string; hangup?: boolean }): Buffer[] {
  const sampleRate = options.sampleRate ?? 8000;
  const kind = Number(Object.entries(AUDIO_SAMPLE_RATES).find(([, rate]) => rate === sampleRate)?.[0] ?? FrameKind.Audio);
  const frameBytes = (sampleRate / 50) * 2;
  const frames = [encodeFrame(FrameKind.Uuid, uuidBytes(options.uuid))];
  for (let at = 0; at < options.audio.length; at += frameBytes) frames.push(encodeFrame(kind, options.audio.subarray(at, at + frameBytes)));
  for (const key of options.dtmf ?? "") frames.push(encodeFrame(FrameKind.Dtmf, Buffer.from(key, "ascii")));
  if (options.hangup ?? true) frames.push(encodeFrame(FrameKind.Hangup));
  return frames;
}

export interface SimulatedAudioSocketCall {
  /** The frames the server sent (an error frame before it closed a call it refused). */
  received: Frame[];
}

/** Connects as Asterisk does, writes `chunks` (frames, or any bytes) all at once, and waits for the server to close. */
export function simulateAudioSocketCall(port: number, chunks: Buffer[]): Promise<SimulatedAudioSocketCall> {
  return new Promise((resolve, reject) => {
    const reader = new FrameReader();
    const received: Frame[] = [];
    const socket = connect({ host: "127.0.0.1", port }, () => {
      for (const chunk of chunks) socket.write(chunk);
    });
    socket.on("data", (chunk: Buffer) => received.push(...reader.push(chunk)));
    socket.on("end", () => socket.end());
    socket.on("close", () => resolve({ received }));
    socket.on("error", reject);
  });
}
