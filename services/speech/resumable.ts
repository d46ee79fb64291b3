// StreamingRecognize streams that outlive a dropped connection. The recognition keeps running
// while no client is attached; its final results and events are kept, so a client that comes
// back (StreamingRecognitionConfig.resume) within the grace period gets every one it missed, from
// the index it asks for, then the live outputs. Interim results produced while nobody listens are
// not kept (the next one supersedes them). Kept on the replica that runs the recognition: a
// resume that reaches another replica finds nothing there.
import { NotFoundError } from "../platform/errors/errors.js";
import { BoundedQueue } from "./engine/bounded-queue.js";
import type { EngineOutput, RecognitionResult } from "./engine/types.js";
import type { LiveRecognition } from "./live-recognition.js";
import type { LiveSessionEndListener } from "./persistence.js";

export interface ResumableOptions {
  /** How long a detached recognition waits for its client. Default 60 s. */
  graceMs?: number;
  /** Kept outputs per recognition (the oldest go first). Default 10 000. */
  maxKept?: number;
  /** Told once a recognition of an organisation is over, with all its final results (to persist them). */
  onEnded?: LiveSessionEndListener;
}

/** One attachment: the outputs from the requested index on, then the live ones. */
export interface Attachment {
  outputs: AsyncIterable<EngineOutput>;
  /** The client went away without closing: the recognition waits for it for the grace period. */
  detach(): void;
}

class Resumable {
  private readonly kept: EngineOutput[] = [];
  private attached: BoundedQueue<EngineOutput> | undefined;
  private ended = false;
  private failure: unknown;
  private expiry: NodeJS.Timeout | undefined;
  /** Every final result, unlike `kept` (the session's maximum length bounds them). */
  private readonly finals: RecognitionResult[] = [];
  private readonly startedAt = new Date();

  constructor(
    readonly recognition: LiveRecognition,
    private readonly maxKept: number,
    private readonly onGone: () => void,
    private readonly onEnded?: (ended: { finals: RecognitionResult[]; startedAt: Date; failed: boolean }) => void,
  ) {
    void this.pump();
  }

  attach(fromIndex: number, graceMs: number): Attachment {
    clearTimeout(this.expiry);
    this.attached?.close();
    const replay = this.kept.filter((o) => o.index >= fromIndex);
    const queue = new BoundedQueue<EngineOutput>(replay.length + 256);
    for (const output of replay) void queue.push(output);
    if (this.ended) this.finish(queue);
    else this.attached = queue;
    return {
      outputs: queue,
      detach: () => {
        if (this.attached !== queue) return;
        this.attached = undefined;
        queue.close();
        if (this.ended) return;
        this.expiry = setTimeout(() => {
          this.recognition.abort();
          this.onGone();
        }, graceMs);
        this.expiry.unref();
      },
    };
  }

  /** The recognition ended for good (closed by its client, or failed). */
  release(): void {
    clearTimeout(this.expiry);
    this.onGone();
  }

  private async pump(): Promise<void> {
    try {
      for await (const output of this.recognition.outputs) {
        if (output.kind === "result" && output.result.isFinal) this.finals.push(output.result);
        const keep = output.kind === "event" || output.result.isFinal;
        if (keep) {
          this.kept.push(output);
          if (this.kept.length > this.maxKept) this.kept.shift();
        }
        // Waiting on an attached client is backpressure; nobody attached, the output is kept or dropped.
        await this.attached?.push(output).catch(() => undefined);
      }
    } catch (err) {
      this.failure = err;
    }
    this.ended = true;
    this.onEnded?.({ finals: this.finals, startedAt: this.startedAt, failed: this.failure !== undefined });
    if (this.attached) this.finish(this.attached);
  }

  private finish(queue: BoundedQueue<EngineOutput>): void {
    if (this.failure !== undefined) queue.fail(this.failure);
    else queue.close();
  }
}

/** NOT_FOUND, saying why a stream that existed may be gone. */
class ResumeNotFoundError extends NotFoundError {
  constructor(id: string) {
    super("live session", id);
    this.message = `streaming_config.resume.session_id: live session ${id} is not on this server, or its grace period is over`;
  }
}

export class ResumableStreams {
  private readonly streams = new Map<string, Resumable>();
  /** The organisation of each kept stream: only it may resume the stream. */
  private readonly owners = new Map<string, string | undefined>();
  private readonly graceMs: number;
  private readonly maxKept: number;
  private readonly onEnded: LiveSessionEndListener | undefined;

  constructor(options: ResumableOptions = {}) {
    this.onEnded = options.onEnded;
    this.graceMs = options.graceMs ?? 60_000;
    this.maxKept = options.maxKept ?? 10_000;
  }

  /** Registers a new recognition and attaches its first client from index 0. */
  start(recognition: LiveRecognition, organizationId?: string): Attachment {
    const listener = this.onEnded;
    const onEnded =
      listener && organizationId !== undefined
        ? ({ finals, startedAt, failed }: { finals: RecognitionResult[]; startedAt: Date; failed: boolean }) =>
            listener({
              sessionId: recognition.id,
              organizationId,
              model: recognition.model,
              languageCode: recognition.languageCode,
              channels: recognition.channels,
              processedSeconds: recognition.processedSeconds,
              finals,
              startedAt,
              outcome: failed ? "failed" : "closed",
              transport: "streaming_recognize",
            })
        : undefined;
    const stream = new Resumable(
      recognition,
      this.maxKept,
      () => {
        this.streams.delete(recognition.id);
        this.owners.delete(recognition.id);
      },
      onEnded,
    );
    this.streams.set(recognition.id, stream);
    this.owners.set(recognition.id, organizationId);
    return stream.attach(0, this.graceMs);
  }

  /** A returning client: the recognition it left, attached from `fromIndex`. */
  resume(id: string, fromIndex: number, organizationId?: string): { recognition: LiveRecognition; attachment: Attachment } {
    const stream = this.streams.get(id);
    // Another organisation's stream is answered as no stream at all.
    if (!stream || this.owners.get(id) !== organizationId) throw new ResumeNotFoundError(id);
    return { recognition: stream.recognition, attachment: stream.attach(fromIndex, this.graceMs) };
  }

  /** The recognition is over: forget it. */
  release(id: string): void {
    this.streams.get(id)?.release();
  }

  /** Stops every recognition (shutdown). */
  stop(): void {
    for (const stream of this.streams.values()) {
      stream.recognition.abort();
      stream.release();
    }
  }
}
