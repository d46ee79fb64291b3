// The AudioSocket wire format (https://github.com/CyCoreSystems/audiosocket, the Asterisk documentation's
// "AudioSocket" page): every message is a three-byte header, a one-byte kind and the payload's length as a
// 16-bit unsigned big-endian integer, then the payload. So no frame exceeds 3 + 65535 bytes, and a reader
// never holds more than one frame and the bytes of the next.

export const FrameKind = {
  /** Terminate the connection (closing the socket is as good). No payload. */
  Hangup: 0x00,
  /** The stream's UUID, 16 bytes binary: the first frame of a call. */
  Uuid: 0x01,
  /** One DTMF digit, one ASCII byte (Asterisk 20 and later, when a key is pressed on the channel). */
  Dtmf: 0x03,
  /** Signed linear PCM, 16-bit little-endian, 8 kHz, mono (what the `AudioSocket()` application sends). */
  Audio: 0x10,
  /** An error; the payload is an optional application-specific code. */
  Error: 0xff,
} as const;

/**
 * The audio kinds and their sample rates: signed linear PCM, 16-bit little-endian, mono. Asterisk 20 and later
 * add 0x11 to 0x16 for the channel driver's higher rates (and kinds above them for rates past 48 kHz, which the
 * platform does not take).
 */
export const AUDIO_SAMPLE_RATES: Readonly<Record<number, number>> = { 0x10: 8000, 0x11: 12_000, 0x12: 16_000, 0x13: 24_000, 0x14: 32_000, 0x15: 44_100, 0x16: 48_000 };

export const HEADER_BYTES = 3;
export const MAX_PAYLOAD_BYTES = 0xffff;

export interface Frame {
  kind: number;
  payload: Buffer;
}

export function encodeFrame(kind: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  if (payload.length > MAX_PAYLOAD_BYTES) throw new RangeError(`an AudioSocket payload holds at most ${MAX_PAYLOAD_BYTES} bytes`);
  const frame = Buffer.alloc(HEADER_BYTES + payload.length);
  frame[0] = kind;
  frame.writeUInt16BE(payload.length, 1);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/** Splits a TCP byte stream into frames, whatever the chunks' boundaries. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  /** Adds received bytes; returns the frames they complete, in order. */
  push(chunk: Buffer): Frame[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: Frame[] = [];
    let at = 0;
    while (this.buffered.length - at >= HEADER_BYTES) {
      const length = this.buffered.readUInt16BE(at + 1);
      if (this.buffered.length - at < HEADER_BYTES + length) break;
      frames.push({ kind: this.buffered[at]!, payload: this.buffered.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length) });
      at += HEADER_BYTES + length;
    }
    // Copy the partial frame left, so the frames given out do not pin a growing buffer.
    this.buffered = at === 0 ? this.buffered : Buffer.from(this.buffered.subarray(at));
    return frames;
  }

  /** Bytes of a frame begun and not yet complete. */
  get pendingBytes(): number {
    return this.buffered.length;
  }
}

/** The 16 binary bytes of a UUID in its usual text form (8-4-4-4-12 hex digits). */
export function uuidText(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function uuidBytes(text: string): Buffer {
  const hex = text.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`not a UUID: ${JSON.stringify(text)}`);
  return Buffer.from(hex, "hex");
}
