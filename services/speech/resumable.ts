// StreamingRecognize sessions that outlive their connections. A session runs on one replica at a
// time; its config, its commit point and its kept outputs (finals and events) are in the stream
// store (Redis when the deployment has it), so a client whose connection dropped, went silent or
// was cancelled resumes it, within the grace period, on any replica:
// - on the replica running it, the recognition it left simply gets a new attachment: the kept
//   outputs from the index asked, then the live ones; the client resends audio from the bytes the
//   recognition received;
// - on another replica, that replica takes the session over (the next epoch, which fences the old
//   one's writes off), starts a recognition at the commit point, replays the kept outputs from the
//   store, and asks the client for its audio from the commit point's byte.
// Either way every final reaches the client exactly once, and no audio is recognised twice into
// an output. Interim results produced while nobody listens are not kept (the next one supersedes them).
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { AbortedError, FailedPreconditionError, NotFoundError, UnavailableError } from "../platform/errors/errors.js";
import { BoundedQueue } from "./engine/bounded-queue.js";
import type { EngineOutput, RecognitionResult } from "./engine/types.js";
import { joinWords } from "./engine/local-agreement.js";
import type { Commit, LiveRecognition, LiveRecognizer } from "./live-recognition.js";
import { silentLiveObserver, type LiveDropReason, type LiveStreamObserver } from "./live-observer.js";
import type { LiveSessionEndListener } from "./persistence.js";
import { MemoryStreamStore, type StreamStore } from "./stream-store.js";
import { AUDIO_ENCODINGS } from "../audio/encodings.js";

export interface ResumableOptions {
  /** Where sessions are kept between connections; in this process's memory when left out. */
  store?: StreamStore;
  /** Opens the recognition of a session taken over from another replica; without it, resumes work only where the session runs. */
  recognizer?: Pick<LiveRecognizer, "open">;
  /** How long a session whose client went away waits for it. Default 60 s. */
  graceMs?: number;
  /** Told once a session of an organisation is over, with all its final results (to persist them). */
  onEnded?: LiveSessionEndListener;
  observer?: LiveStreamObserver;
  logger?: Pick<Logger, "warn" | "error">;
}

/** What an attached client reads: outputs from the index it asked, then the live ones. */
export interface Attachment {
  outputs: AsyncIterable<EngineOutput>;
  /** False once another attachment (a resume) replaced this one: its connection must not touch the recognition any more. */
  readonly current: boolean;
  /** The client went away without closing: the session waits for it for the grace period. */
  detach(reason: LiveDropReason): void;
}

/** A session as a stream handler sees it: the recognition running it here (the client resends audio from its `bytesReceived`), and the attachment. */
export interface ResumedStream {
  recognition: LiveRecognition;
  attachment: Attachment;
}

/**
 * A replica is alive while its heartbeat is: long enough that an event loop busy for seconds (a
 * loaded box) never makes a live replica's sessions look orphaned.
 */
const HEARTBEAT_TTL_MS = 15_000;

/** Times of the same output found twice on the same audio differ by at most a frame or so. */
const COVERAGE_SLACK_SECONDS = 0.05;

/** NOT_FOUND, saying why a stream that existed may be gone. */
class ResumeNotFoundError extends NotFoundError {
  constructor(id: string) {
    super("live session", id);
    this.message = `streaming_config.resume.session_id: live session ${id} is unknown, or its grace period is over`;
  }
}

/** One session run by this replica. */
class LocalSession {
  /** Outputs kept for a resume here (the store has them for a resume elsewhere). */
  private readonly kept: EngineOutput[];
  private attached: { queue: BoundedQueue<EngineOutput>; current: boolean; fromIndex: number } | undefined;
  private ended = false;
  private handedOver = false;
  /** Drained for a takeover elsewhere: neither ended in the store nor persisted here. */
  private leftInStore = false;
  private failure: unknown;
  private expiry: NodeJS.Timeout | undefined;
  /** Index one past the last output the pump has seen (kept or not). */
  private pumpedNext: number;
  /** Index one past the last output the pump is done with (kept, and handed to the attached client). */
  private settledNext: number;
  /** Commit points wait here until the pump has kept every output before them. */
  private pendingCommit: Commit | undefined;
  private commitWrites: Promise<unknown> = Promise.resolve();
  /** The last commit point the store holds. */
  committed: Commit;

  constructor(
    readonly recognition: LiveRecognition,
    readonly organizationId: string,
    /** The key the session was started with (kept in the store, so a takeover bills it too). */
    readonly apiKeyId: string | null,
    readonly epoch: number,
    readonly startedAt: Date,
    kept: EngineOutput[],
    private readonly streams: ResumableStreams,
    /**
     * After a takeover: per channel, the stream seconds up to which the previous replica's outputs
     * (stored after its last commit point) already cover the audio. This recognition hears that
     * audio again; what it finds there again is dropped, not sent or kept twice.
     */
    private readonly covered: Map<number, number> = new Map(),
  ) {
    this.kept = kept;
    this.committed = recognition.commit;
    this.pumpedNext = recognition.commit.nextIndex;
    this.settledNext = recognition.commit.nextIndex;
    recognition.onCommit((commit) => {
      this.pendingCommit = commit;
      this.flushCommit();
    });
    void this.pump();
  }

  get isAttached(): boolean {
    return this.attached !== undefined;
  }

  attach(fromIndex: number): Attachment {
    clearTimeout(this.expiry);
    if (this.attached) {
      this.attached.current = false;
      this.attached.queue.close();
    }
    const replay = this.kept.filter((o) => o.index >= fromIndex);
    this.streams.observer.replayed(replay.length);
    const queue = new BoundedQueue<EngineOutput>(replay.length + 256);
    for (const output of replay) void queue.push(output);
    const slot = { queue, current: true, fromIndex };
    if (this.ended) this.finish(queue);
    else this.attached = slot;
    return {
      outputs: queue,
      get current() {
        return slot.current;
      },
      detach: (reason) => {
        if (!slot.current) return;
        slot.current = false;
        if (this.attached === slot) this.attached = undefined;
        queue.close();
        if (this.ended) return;
        this.streams.observer.dropped(reason);
        // Nobody came back: what was heard is finalised and stored, as if the client had closed.
        this.expiry = setTimeout(() => void this.recognition.close().catch((err: unknown) => this.logFailure(err, "could not finalise a live session nobody resumed")), this.streams.graceMs);
        this.expiry.unref();
      },
    };
  }

  /** The session is over for its client (it closed, or its stream failed): nothing to wait for. */
  release(): void {
    clearTimeout(this.expiry);
    this.streams.forget(this.recognition.id, this);
  }

  private async pump(): Promise<void> {
    try {
      for await (let output of this.recognition.outputs) {
        this.pumpedNext = output.index + 1;
        if (this.covered.size > 0) {
          const fresh = this.notYetOut(output);
          if (!fresh) continue;
          output = fresh;
        }
        const keep = output.kind === "event" || output.result.isFinal;
        if (keep) {
          // Stored before it is sent: a client never holds an output a takeover would not know of.
          if (!(await this.streams.store.append(this.recognition.id, this.epoch, output))) return this.handOver();
          this.kept.push(output);
        }
        this.flushCommit();
        // Waiting on an attached client is backpressure; nobody attached, the output is kept or dropped.
        const attached = this.attached;
        // swallowed: a queue closed under the push is a client that just left: the output is in the store for its resume.
        if (attached && output.index >= attached.fromIndex) await attached.queue.push(output).catch(() => undefined);
        this.settledNext = output.index + 1;
      }
    } catch (err) {
      this.failure = err;
    }
    await this.commitWrites;
    this.ended = true;
    if (this.handedOver || this.leftInStore) return;
    const ours = await this.streams.store.end(this.recognition.id, this.epoch, this.streams.graceMs).catch((err: unknown) => {
      this.streams.logger?.error({ err, session_id: this.recognition.id }, "could not mark a live session ended in the stream store");
      return true;
    });
    if (!ours) return this.handOver();
    this.streams.ended(this, this.failure !== undefined);
    if (this.attached) this.finish(this.attached.queue);
    else {
      // Ended with nobody attached: a client that comes back within the grace period still gets its last outputs.
      this.expiry = setTimeout(() => this.streams.forget(this.recognition.id, this), this.streams.graceMs);
      this.expiry.unref();
    }
  }

  /**
   * The server is shutting down. Every pending utterance is finalised, its finals kept and sent.
   * Then, where another replica can take the session over (a shared store), the client's stream
   * ends UNAVAILABLE with where to resume, and the session is left in the store for it; where none
   * can (embedded), the session is closed and stored as if the client had closed it.
   */
  async drain(deadline: number): Promise<void> {
    if (this.ended) return;
    clearTimeout(this.expiry);
    const { recognition } = this;
    if (!this.streams.store.shared) {
      await recognition.close().catch((err: unknown) => this.logFailure(err, "could not finalise a live session at shutdown"));
      return;
    }
    await recognition.finalize().catch((err: unknown) => this.logFailure(err, "could not finalise a live session at shutdown"));
    while (this.settledNext < recognition.nextResultIndex && !this.ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await this.commitWrites;
    if (this.ended) return;
    this.leftInStore = true;
    this.streams.forget(recognition.id, this);
    const attached = this.attached;
    if (attached) {
      this.streams.observer.dropped("drain");
      attached.current = false;
      attached.queue.fail(
        new UnavailableError(`the server is shutting down: resume live session ${recognition.id} on another server, sending audio from byte ${this.committed.bytes}`),
      );
    }
    recognition.abort();
  }

  /** Another replica took the session over: this one stops, stores nothing more and persists nothing. */
  private handOver(): void {
    if (this.handedOver) return;
    this.handedOver = true;
    this.ended = true;
    clearTimeout(this.expiry);
    this.recognition.abort();
    this.streams.forget(this.recognition.id, this);
    this.streams.observer.sessionHandedOver();
    this.attached?.queue.fail(new AbortedError(`live session ${this.recognition.id} was resumed on another server`));
  }

  /**
   * What of an output the previous replica had not sent yet: an event after its coverage, or a
   * result's words that end after it. The audio is cut where the old replica cut it only if nothing
   * (a FINALIZE, a drain) cut it there: so the comparison is word by word, not result by result.
   */
  private notYetOut(output: EngineOutput): EngineOutput | undefined {
    const channel = output.kind === "event" ? output.event.channel : output.result.channel;
    const until = this.covered.get(channel);
    if (until === undefined) return output;
    const limit = until + COVERAGE_SLACK_SECONDS;
    if (output.kind === "event") return output.event.offsetSeconds <= limit ? undefined : output;
    const { result } = output;
    if (result.endSeconds <= limit) return undefined;
    const words = result.words.filter((w) => w.end > limit);
    if (words.length === result.words.length) return output;
    if (words.length === 0) return undefined;
    return { ...output, result: { ...result, words, transcript: joinWords(words), startSeconds: Math.max(result.startSeconds, words[0]!.start) } };
  }

  private flushCommit(): void {
    const commit = this.pendingCommit;
    if (!commit || commit.nextIndex > this.pumpedNext || this.handedOver) return;
    this.pendingCommit = undefined;
    this.commitWrites = this.commitWrites.then(async () => {
      if (await this.streams.store.commit(this.recognition.id, this.epoch, commit)) this.committed = commit;
      else this.handOver();
    }).catch((err: unknown) => this.streams.logger?.warn({ err, session_id: this.recognition.id }, "could not store a live session's commit point"));
  }

  private finish(queue: BoundedQueue<EngineOutput>): void {
    if (this.failure !== undefined) queue.fail(this.failure);
    else queue.close();
  }

  private logFailure(err: unknown, message: string): void {
    this.streams.logger?.error({ err, session_id: this.recognition.id }, message);
  }

  finals(): RecognitionResult[] {
    return this.kept.flatMap((o) => (o.kind === "result" && o.result.isFinal ? [o.result] : []));
  }
}

export class ResumableStreams {
  private readonly sessions = new Map<string, LocalSession>();
  readonly store: StreamStore;
  readonly graceMs: number;
  readonly observer: LiveStreamObserver;
  readonly logger: Pick<Logger, "warn" | "error"> | undefined;
  /** This replica, as the store names session owners. */
  readonly replicaId = randomUUID();
  private readonly recognizer: Pick<LiveRecognizer, "open"> | undefined;
  private readonly onEnded: LiveSessionEndListener | undefined;
  private readonly toucher: NodeJS.Timeout;

  constructor(options: ResumableOptions = {}) {
    this.store = options.store ?? new MemoryStreamStore();
    this.recognizer = options.recognizer;
    this.graceMs = options.graceMs ?? 60_000;
    this.onEnded = options.onEnded;
    this.observer = options.observer ?? silentLiveObserver;
    this.logger = options.logger;
    // Sessions whose client is attached stay in the store; a detached one lapses after the grace period.
    this.toucher = setInterval(() => void this.touch(), this.touchEveryMs);
    this.toucher.unref();
  }

  private get touchEveryMs(): number {
    return Math.max(50, Math.min(5000, Math.floor(this.graceMs / 3)));
  }

  /**
   * How long the store keeps a session nobody touches: its grace period, then long enough for a live
   * replica to notice that the running one died (its heartbeat lapsed) and claim the orphan.
   */
  private get ttlMs(): number {
    return this.graceMs + HEARTBEAT_TTL_MS + 3 * this.touchEveryMs;
  }

  /** Registers a new recognition and attaches its first client from index 0. `apiKeyId`: the key it was opened with, whose usage it is. */
  async start(recognition: LiveRecognition, organizationId = "", apiKeyId: string | null = null): Promise<Attachment> {
    const startedAt = new Date();
    await this.store.create(
      {
        id: recognition.id,
        organizationId,
        apiKeyId,
        owner: this.replicaId,
        config: recognition.config,
        model: recognition.model,
        languageCode: recognition.languageCode,
        channels: recognition.channels,
        startedAt: startedAt.getTime(),
        graceMs: this.graceMs,
      },
      this.ttlMs,
    );
    const session = new LocalSession(recognition, organizationId, apiKeyId, 1, startedAt, [], this);
    this.sessions.set(recognition.id, session);
    this.observer.sessionStarted();
    return session.attach(0);
  }

  /** A returning client: the session it left, here or taken over from another replica. */
  async resume(id: string, fromIndex: number, organizationId = ""): Promise<ResumedStream> {
    const local = this.sessions.get(id);
    if (local) {
      // Another organisation's stream is answered as no stream at all.
      if (local.organizationId !== organizationId) throw new ResumeNotFoundError(id);
      this.observer.resumed("local");
      return { recognition: local.recognition, attachment: local.attach(fromIndex) };
    }
    return this.takeOver(id, fromIndex, organizationId);
  }

  private async takeOver(id: string, fromIndex: number, organizationId: string): Promise<ResumedStream> {
    const stored = await this.store.get(id);
    if (!stored || stored.organizationId !== organizationId || !this.recognizer) throw new ResumeNotFoundError(id);
    const kept = await this.store.outputs(id, 0);
    if (stored.ended) throw new ResumeNotFoundError(id);
    if (AUDIO_ENCODINGS[stored.config.format.encoding].headerCarriesFormat && kept.length > 0) {
      throw new FailedPreconditionError(
        `live session ${id} runs on a server that cannot be reached, and its ${stored.config.format.encoding} audio cannot be resumed from the middle on another; start a new stream (raw LINEAR16, MULAW or ALAW audio resumes anywhere)`,
      );
    }
    const taken = await this.store.takeOver(id, this.replicaId, this.ttlMs);
    if (!taken || taken.ended) throw new ResumeNotFoundError(id);
    const all = await this.store.outputs(id, 0);
    // Audio from the commit point on is heard again; outputs the old replica kept for it are not produced twice.
    const covered = new Map<number, number>();
    for (const o of all) {
      if (o.index < taken.committed.nextIndex) continue;
      const channel = o.kind === "event" ? o.event.channel : o.result.channel;
      const at = o.kind === "event" ? o.event.offsetSeconds : o.result.endSeconds;
      covered.set(channel, Math.max(covered.get(channel) ?? 0, at));
    }
    // New outputs are numbered after every index already used: kept ones, and interim ones the client saw.
    const nextIndex = Math.max(taken.committed.nextIndex, (all.at(-1)?.index ?? -1) + 1, fromIndex);
    const recognition = await this.recognizer.open(taken.config, { id, resumeAt: { ...taken.committed, nextIndex } });
    const session = new LocalSession(recognition, organizationId, taken.apiKeyId, taken.epoch, new Date(stored.startedAt), all, this, covered);
    this.sessions.set(id, session);
    this.observer.resumed("takeover");
    return { recognition, attachment: session.attach(fromIndex) };
  }

  /** Bytes of a session's audio whose outputs are all stored (its last commit point the store holds). */
  committed(id: string): number {
    return this.sessions.get(id)?.committed.bytes ?? 0;
  }

  /** The session's client closed it: no grace period any more. */
  release(id: string): void {
    this.sessions.get(id)?.release();
  }

  /** Forgets a session that ended or moved away. */
  forget(id: string, session: LocalSession): void {
    if (this.sessions.get(id) === session) this.sessions.delete(id);
  }

  /** A session ended for good here: persisted, counted. */
  ended(session: LocalSession, failed: boolean): void {
    this.observer.sessionEnded(failed ? "failed" : "closed");
    const { recognition } = session;
    if (!this.onEnded || session.organizationId === "") return;
    this.onEnded({
      sessionId: recognition.id,
      organizationId: session.organizationId,
      model: recognition.model,
      languageCode: recognition.languageCode,
      channels: recognition.channels,
      processedSeconds: recognition.processedSeconds,
      finals: session.finals(),
      startedAt: session.startedAt,
      outcome: failed ? "failed" : "closed",
      transport: "streaming_recognize",
      apiKeyId: session.apiKeyId,
    });
  }

  /** Sessions running here (for drains and tests). */
  get running(): LiveRecognition[] {
    return [...this.sessions.values()].map((s) => s.recognition);
  }

  private async touch(): Promise<void> {
    const attached = [...this.sessions.values()].filter((s) => s.isAttached).map((s) => ({ id: s.recognition.id, epoch: s.epoch }));
    try {
      await this.store.touch(attached, this.ttlMs);
      if (!this.store.shared) return;
      await this.store.heartbeat(this.replicaId, HEARTBEAT_TTL_MS);
      // Sessions whose replica died and whose client did not come back: stored from what was kept.
      for (const id of await this.store.orphans()) await this.closeOrphan(id);
    } catch (err) {
      this.logger?.warn({ err }, "could not refresh live sessions in the stream store");
    }
  }

  /**
   * A session whose replica died (and whose client did not resume it within the grace period):
   * this replica claims it, ends it, and stores it from what the store kept, so its finals reach
   * the transcript once. Audio after its last commit point was heard by the dead replica only: it
   * is neither in the transcript nor billed (the commit point is all that is known for sure).
   */
  private async closeOrphan(id: string): Promise<void> {
    const taken = await this.store.takeOver(id, this.replicaId, this.ttlMs, "orphan");
    if (!taken || taken.ended || !(await this.store.end(id, taken.epoch, this.graceMs))) return;
    const outputs = await this.store.outputs(id, 0);
    this.logger?.warn({ session_id: id, outputs: outputs.length }, "stored a live session whose server died and whose client did not resume it");
    this.observer.sessionEnded("abandoned");
    if (!this.onEnded || taken.organizationId === "") return;
    this.onEnded({
      sessionId: id,
      organizationId: taken.organizationId,
      model: taken.model,
      languageCode: taken.languageCode,
      channels: taken.channels,
      processedSeconds: taken.committed.seconds,
      finals: outputs.flatMap((o) => (o.kind === "result" && o.result.isFinal ? [o.result] : [])),
      startedAt: new Date(taken.startedAt),
      outcome: "failed",
      transport: "streaming_recognize",
      apiKeyId: taken.apiKeyId,
    });
  }

  /** Shutdown: finalises every session here and leaves it to be resumed elsewhere (or stores it, embedded). */
  async drain(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all([...this.sessions.values()].map((s) => s.drain(deadline)));
  }

  /** Stops every recognition (shutdown). */
  stop(): void {
    clearInterval(this.toucher);
    for (const session of this.sessions.values()) session.recognition.abort();
  }
}

