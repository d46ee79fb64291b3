// gRPC's length-prefixed messages on an HTTP/2 stream's bytes: one flags byte, a 4-byte big-endian
// length, then the message. The reader is synchronous and keeps at most one partial envelope, so a
// stream's `data` chunks turn into messages in the same turn they arrive, however the chunks split
// or merge the envelopes.
//
// Hand-written rather than @connectrpc/connect's envelope decoder: that one is not exported (only its
// async-generator transform, transformSplitEnvelope, is, and that chain is what this path avoids).
// The size check and its message are connect's (assertReadMaxBytes in its limit-io.ts), so a client
// sees the same RESOURCE_EXHAUSTED on either path.
import { Code, ConnectError } from "@connectrpc/connect";

const HEADER_BYTES = 5;

export type EnvelopeSink = (flags: number, data: Uint8Array) => void;

export class GrpcEnvelopeReader {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Bytes the partial envelope in `pending` needs before it can be read: its header, or all of it. */
  private need = HEADER_BYTES;

  constructor(private readonly readMaxBytes: number) {}

  /** Bytes of an envelope still incomplete: more than zero at the request's end is a protocol error. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /**
   * Hands every envelope that `chunk` completes to `sink`, in order. Throws connect's RESOURCE_EXHAUSTED
   * for an envelope that announces more than readMaxBytes (the envelopes before it are delivered).
   */
  push(chunk: Uint8Array, sink: EnvelopeSink): void {
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.byteLength;
      if (this.pendingBytes < this.need) return;
      // Joined at most twice per envelope (its header, then its whole), so a large message that
      // arrives in many chunks costs one copy, not one per chunk.
      chunk = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let offset = 0;
    const end = chunk.byteLength;
    while (end - offset >= HEADER_BYTES) {
      const length = ((chunk[offset + 1]! << 24) >>> 0) + (chunk[offset + 2]! << 16) + (chunk[offset + 3]! << 8) + chunk[offset + 4]!;
      if (length > this.readMaxBytes) {
        throw new ConnectError(`message size ${length} is larger than configured readMaxBytes ${this.readMaxBytes}`, Code.ResourceExhausted);
      }
      const next = offset + HEADER_BYTES + length;
      if (next > end) {
        this.keep(chunk.subarray(offset), HEADER_BYTES + length);
        return;
      }
      sink(chunk[offset]!, chunk.subarray(offset + HEADER_BYTES, next));
      offset = next;
    }
    if (offset < end) this.keep(chunk.subarray(offset), HEADER_BYTES);
  }

  private keep(partial: Uint8Array, need: number): void {
    this.pending = [partial];
    this.pendingBytes = partial.byteLength;
    this.need = need;
  }
}
