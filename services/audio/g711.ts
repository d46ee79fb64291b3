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
