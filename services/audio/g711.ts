// G.711 μ-law and A-law expansion (ITU-T G.711), as lookup tables built once on first use.
// The values are the standard 14/13-bit linear codes scaled to 16 bits, exactly what sox and ffmpeg produce,
// divided by 32768 to land in [-1, 1].

let mulaw: Float32Array | undefined;
let alaw: Float32Array | undefined;

/** μ-law byte → linear 16-bit integer value (−32124..32124). */
export function mulawToInt16(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = (((u & 0x0f) << 3) + 0x84) << exponent;
  return u & 0x80 ? 0x84 - magnitude : magnitude - 0x84;
}

/** A-law byte → linear 16-bit integer value (−32256..32256). */
export function alawToInt16(byte: number): number {
  const a = (byte ^ 0x55) & 0xff;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

function table(expand: (byte: number) => number): Float32Array {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) t[b] = expand(b) / 32768;
  return t;
}

export function mulawTable(): Float32Array {
  return (mulaw ??= table(mulawToInt16));
}

export function alawTable(): Float32Array {
  return (alaw ??= table(alawToInt16));
}

/**
 * A sample in [-1, 1] → μ-law byte (the G.711 compression, as telephony gear does it): for test
 * calls and benchmarks that must send what a media server sends.
 */
export function mulawOf(sample: number): number {
  const BIAS = 0x84;
  let v = Math.max(-32635, Math.min(32635, Math.round(sample * 32767)));
  const sign = v < 0 ? 0x80 : 0;
  if (v < 0) v = -v;
  v += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (v & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (v >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}
