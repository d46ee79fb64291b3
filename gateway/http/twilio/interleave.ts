// Twilio sends each track of a call as its own messages (20 ms of 8 kHz μ-law each, one byte a sample); the
// platform takes one interleaved stream with a channel per track. Samples are paired in arrival order per
// track; when one track runs `maxSkewFrames` ahead (the other side muted or on hold: Twilio sends nothing for
// it), the missing samples of the other are filled with silence so the stream keeps moving and stays bounded.

export interface InterleaverOptions {
  /** Frames (samples per channel) per chunk given out. */
  sendFrames: number;
  /** How far a track may run ahead before the others are padded with silence. */
  maxSkewFrames: number;
  /** The encoding's silent sample (μ-law: 0xFF). */
  silence: number;
}

export class TrackInterleaver {
  private readonly queues: Uint8Array[][];
  private readonly lengths: number[];

  constructor(
    private readonly channels: number,
    private readonly options: InterleaverOptions,
  ) {
    this.queues = Array.from({ length: channels }, () => []);
    this.lengths = new Array<number>(channels).fill(0);
  }

  /** Adds one track's samples; returns the interleaved chunks that are now complete. */
  push(track: number, samples: Uint8Array): Uint8Array[] {
    if (samples.length > 0) {
      this.queues[track]!.push(samples);
      this.lengths[track]! += samples.length;
    }
    const out: Uint8Array[] = [];
    for (;;) {
      const longest = Math.max(...this.lengths);
      const shortest = Math.min(...this.lengths);
      if (shortest >= this.options.sendFrames) {
        out.push(this.take(this.options.sendFrames));
      } else if (longest - shortest > this.options.maxSkewFrames) {
        // Pad the tracks that lag up to the one ahead, less the skew allowed.
        for (let c = 0; c < this.channels; c++) this.pad(c, longest - this.options.maxSkewFrames);
      } else {
        return out;
      }
    }
  }

  /** Everything left, the shorter tracks padded with silence (the end of the call). */
  flush(): Uint8Array {
    const longest = Math.max(...this.lengths);
    for (let c = 0; c < this.channels; c++) this.pad(c, longest);
    return this.take(longest);
  }

  private pad(track: number, frames: number): void {
    const missing = frames - this.lengths[track]!;
    if (missing <= 0) return;
    this.queues[track]!.push(new Uint8Array(missing).fill(this.options.silence));
    this.lengths[track] = frames;
  }

  private take(frames: number): Uint8Array {
    const out = new Uint8Array(frames * this.channels);
    for (let c = 0; c < this.channels; c++) {
      const samples = this.read(c, frames);
      for (let i = 0; i < frames; i++) out[i * this.channels + c] = samples[i]!;
    }
    return out;
  }

  private read(track: number, frames: number): Uint8Array {
    const out = new Uint8Array(frames);
    const queue = this.queues[track]!;
    let at = 0;
    while (at < frames) {
      const head = queue[0]!;
      const n = Math.min(head.length, frames - at);
      out.set(head.subarray(0, n), at);
      at += n;
      if (n === head.length) queue.shift();
      else queue[0] = head.subarray(n);
    }
    this.lengths[track]! -= frames;
    return out;
  }
}
