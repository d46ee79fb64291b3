// The audio of the utterance being recognised on one channel, 16 kHz mono, positioned in stream
// time. It grows as speech arrives and is trimmed from the front at confirmed points, so a long
// utterance is not decoded from its start again at every step.

export class UtteranceBuffer {
  private data: Float32Array;
  private head = 0;
  private tail = 0;
  /** Stream sample index of the first sample held. */
  private first: number;

  constructor(
    readonly sampleRate: number,
    startSample = 0,
    initialCapacity = sampleRate * 2,
  ) {
    this.data = new Float32Array(initialCapacity);
    this.first = startSample;
  }

  /** Stream sample index of the first sample held. */
  get startSample(): number {
    return this.first;
  }

  /** Stream sample index one past the last sample held. */
  get endSample(): number {
    return this.first + this.length;
  }

  get length(): number {
    return this.tail - this.head;
  }

  get startSeconds(): number {
    return this.first / this.sampleRate;
  }

  get durationSeconds(): number {
    return this.length / this.sampleRate;
  }

  append(samples: Float32Array): void {
    if (this.tail + samples.length > this.data.length) {
      // Compact in place while at most half is in use; otherwise double.
      const needed = this.length + samples.length;
      if (needed <= this.data.length / 2) {
        this.data.copyWithin(0, this.head, this.tail);
      } else {
        const grown = new Float32Array(needed * 2);
        grown.set(this.data.subarray(this.head, this.tail));
        this.data = grown;
      }
      this.tail = this.length;
      this.head = 0;
    }
    this.data.set(samples, this.tail);
    this.tail += samples.length;
  }

  /** A copy of the audio held (a decode may run while more audio arrives). */
  snapshot(): Float32Array {
    return this.data.slice(this.head, this.tail);
  }

  /** The audio held up to stream sample `end` (exclusive), as a copy. */
  snapshotUntil(end: number): Float32Array {
    const stop = Math.min(Math.max(end - this.first, 0), this.length);
    return this.data.slice(this.head, this.head + stop);
  }

  /** The audio held from stream sample `start` (inclusive) to the end, as a copy. */
  snapshotFrom(start: number): Float32Array {
    const skip = Math.min(Math.max(start - this.first, 0), this.length);
    return this.data.slice(this.head + skip, this.tail);
  }

  /** The audio held from stream sample `start` (inclusive) to `end` (exclusive), as a copy. */
  snapshotBetween(start: number, end: number): Float32Array {
    const skip = Math.min(Math.max(start - this.first, 0), this.length);
    const stop = Math.min(Math.max(end - this.first, 0), this.length);
    return this.data.slice(this.head + skip, this.head + Math.max(skip, stop));
  }

  /** Drops the audio before stream second `at` (clamped to what is held). Returns the samples dropped. */
  trimBefore(at: number): number {
    const target = Math.round(at * this.sampleRate);
    const drop = Math.min(Math.max(target - this.first, 0), this.length);
    this.head += drop;
    this.first += drop;
    return drop;
  }

  /** Empties the buffer; the next sample appended is stream sample `startSample`. */
  reset(startSample: number): void {
    this.head = 0;
    this.tail = 0;
    this.first = startSample;
  }
}
