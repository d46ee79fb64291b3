// Reads a WAV file's format and its PCM samples: the three examples parse the header the same way, so a
// stream's config (encoding, rate, channels) comes from the file rather than from flags.

export interface Wav {
  sampleRateHz: number;
  channels: number;
  /** 16-bit little-endian PCM, channels interleaved. */
  pcm: Uint8Array;
}

/** Parses a RIFF/WAVE file of 16-bit PCM (format 1, or extensible with the PCM subformat). */
export function parseWav(bytes: Uint8Array): Wav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error("not a WAV file");
  let format: { sampleRateHz: number; channels: number } | undefined;
  // Chunks follow the 12-byte header; each is id, size, body (padded to an even length).
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "fmt ") {
      const code = view.getUint16(body, true);
      const bits = view.getUint16(body + 14, true);
      const pcm = code === 1 || (code === 0xfffe && view.getUint16(body + 24, true) === 1);
      if (!pcm || bits !== 16) throw new Error(`only 16-bit PCM WAV is read here (format ${code}, ${bits} bits)`);
      format = { channels: view.getUint16(body + 2, true), sampleRateHz: view.getUint32(body + 4, true) };
    } else if (id === "data") {
      if (!format) throw new Error("WAV data before its fmt chunk");
      return { ...format, pcm: bytes.subarray(body, Math.min(body + size, bytes.length)) };
    }
    at = body + size + (size % 2);
  }
  throw new Error("WAV file without a data chunk");
}
