// Browser live sessions (CreateLiveSession, SendLiveAudio, WatchLiveSession, CloseLiveSession) on
// the same engine as StreamingRecognize. The replica that creates a session runs its engine (the
// owner); audio and outputs travel over the bus, so every other call may land on any replica.
// Watchers come and go: outputs are kept on the bus until the session is forgotten, and a watcher
// that reconnects asks for them again from an index.
import {
  DomainError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  type DomainErrorKind,
} from "../platform/errors/errors.js";
import type { LiveSessionBus, ReportedLiveSessionState, SendStatus, SessionRecord } from "./bus.js";
import { SessionAbortedError } from "./engine/session.js";
import type { EngineOutput, RecognitionResult } from "./engine/types.js";
import type { LiveRecognition, LiveRecognitionConfig, LiveRecognizer } from "./live-recognition.js";
import type { LiveSessionEndListener } from "./persistence.js";
import type { StreamSlot, StreamSlots } from "../platform/limits/stream-slots.js";
import type { Logger } from "pino";
import { heard } from "../platform/failures.js";

export interface LiveSessionsOptions {
  recognizer: LiveRecognizer;
  bus: LiveSessionBus;
  /** A session with no audio, keepalive or watcher for this long is closed. Default 60 s. */
  idleTimeoutMs?: number;
  /**
   * An active session whose client has sent no audio or keepalive for this long reads DISCONNECTED (watchers
   * do not count: they hear, they do not speak) until audio comes again or it expires. Default 10 s.
   */
  disconnectedAfterMs?: number;
  /** How long a closed session stays readable. Default 60 s. */
  retainMs?: number;
  /**
   * Chunks that may wait on the bus for the session's engine; SendLiveAudio beyond that is refused
   * with RESOURCE_EXHAUSTED (retry after a second) rather than queued without bound. Default 100.
   */
  maxBacklog?: number;
  /** How often the owner looks at its sessions' activity. Default 1 s. */
  sweepMs?: number;
  now?: () => number;
  /**
   * Concurrent streams per organisation, shared with StreamingRecognize: a session holds a slot from
   * CreateLiveSession until it ends. None when left out.
   */
  slots?: StreamSlots;
  /** Told once a session this replica owns is over, with its final results (to persist them). */
  onEnded?: LiveSessionEndListener;
  /** Where a session's end that could not be written (bus, slot) is told, with the session's id. */
  logger?: Logger;
}

/** What a watcher receives: an engine output, or the end of the session. */
export type WatchItem = { kind: "output"; output: EngineOutput; state: ReportedLiveSessionState } | { kind: "closed"; record: SessionRecord };

interface Owned {
  recognition: LiveRecognition;
  stop: AbortController;
  slot?: StreamSlot;
}

/** The longest timer Node keeps: about 24.8 days. */
const NEVER_MS = 2 ** 31 - 1;

/** A domain error that ended a session on its owner, as a watcher on any replica rethrows it. */
class SessionFailedError extends DomainError {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export class LiveSessions {
  private readonly owned = new Map<string, Owned>();
  /** Closed sessions this replica owned, and when to forget them. */
  private readonly forgetAt = new Map<string, number>();
  /** Sessions this replica owns that the sweeper closed for idleness: they end as "expired". */
  private readonly expired = new Set<string>();
  private readonly idleTimeoutMs: number;
  private readonly retainMs: number;
  private readonly disconnectedAfterMs: number;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: LiveSessionsOptions) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.retainMs = options.retainMs ?? 60_000;
    this.disconnectedAfterMs = options.disconnectedAfterMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => void this.sweep(), options.sweepMs ?? 1000);
    this.sweeper.unref();
  }

  /** Opens a session: the model is checked and the engine started here. `config` is kept as given, for reads. */
  async create(config: LiveRecognitionConfig, configText: string, organizationId: string, apiKeyId: string | null = null): Promise<SessionRecord> {
    const slot = await this.options.slots?.acquire(organizationId);
    let recognition: LiveRecognition;
    try {
      // Idleness is the sessions' to judge (watchers count as activity), not the engine's.
      recognition = await this.options.recognizer.open(config, { engine: { idleTimeoutMs: NEVER_MS }, organizationId });
    } catch (err) {
      await slot?.release();
      throw err;
    }
    const now = this.now();
    const record: SessionRecord = {
      id: recognition.id,
      organizationId,
      state: "active",
      config: configText,
      nextSequence: 0,
      bytesReceived: 0,
      nextResultIndex: 0,
      processedSeconds: 0,
      channels: recognition.channels,
      createdAt: now,
      lastActivityAt: now,
      lastAudioAt: now,
      expiresAt: now + this.idleTimeoutMs,
    };
    try {
      await this.options.bus.create(record);
    } catch (err) {
      recognition.abort();
      await slot?.release();
      throw err;
    }
    this.own(record, recognition, apiKeyId, slot);
    return record;
  }

  /** The session, when it exists and, given an organisation, belongs to it (else NOT_FOUND, as for no session). */
  async get(id: string, organizationId?: string): Promise<SessionRecord> {
    const record = await this.options.bus.get(id);
    if (!record || (organizationId !== undefined && record.organizationId !== organizationId)) throw new NotFoundError("live session", id);
    return record;
  }

  /** The state the session's client is told now: its bus state, or "disconnected" for an active one gone quiet. */
  stateOf(record: SessionRecord): ReportedLiveSessionState {
    // A record written before lastAudioAt existed is judged by its last activity.
    const lastAudioAt = Number.isFinite(record.lastAudioAt) ? record.lastAudioAt : record.lastActivityAt;
    return record.state === "active" && this.now() - lastAudioAt > this.disconnectedAfterMs ? "disconnected" : record.state;
  }

  /** Appends chunk `sequence`; duplicates are acknowledged, gaps reported. */
  async send(
    id: string,
    sequence: number,
    audio: Uint8Array,
    finalize: boolean,
    organizationId?: string,
  ): Promise<{ status: Exclude<SendStatus, "not_active" | "busy">; record: SessionRecord }> {
    if (organizationId !== undefined) await this.get(id, organizationId);
    const outcome = await this.options.bus.send(id, sequence, audio, finalize, this.now(), this.options.maxBacklog ?? 100);
    if (!outcome) throw new NotFoundError("live session", id);
    if (outcome.status === "busy") {
      throw new ResourceExhaustedError(`live session ${id} is behind: chunk ${sequence} was not taken; send it again in a second`, 1);
    }
    if (outcome.status === "not_active") {
      throw new FailedPreconditionError(`live session ${id} is ${outcome.state}; it takes no more audio`);
    }
    const record = await this.get(id);
    return { status: outcome.status, record: { ...record, expiresAt: record.lastActivityAt + this.idleTimeoutMs } };
  }

  /**
   * The session's outputs from `fromIndex` on, then its end. Holds the session open while it
   * watches (a watcher counts as activity).
   */
  async *watch(id: string, fromIndex: number, signal: AbortSignal, organizationId?: string): AsyncGenerator<WatchItem> {
    const record = await this.get(id, organizationId);
    if (fromIndex > record.nextResultIndex) {
      throw new InvalidArgumentError("from_result_index", `is ${fromIndex}, but the session has produced ${record.nextResultIndex} responses so far`);
    }
    const heartbeat = setInterval(() => void this.options.bus.patch(id, { lastActivityAt: this.now() }), 5000);
    heartbeat.unref();
    try {
      await this.options.bus.patch(id, { lastActivityAt: this.now() });
      for await (const published of this.options.bus.outputs(id, fromIndex, signal)) {
        const output = JSON.parse(published.output) as EngineOutput | { index: number; kind: "error"; error: { kind: DomainErrorKind; message: string } };
        if (output.kind === "error") throw new SessionFailedError(output.error.kind, output.error.message);
        const current = await this.options.bus.get(id);
        yield { kind: "output", output, state: current ? this.stateOf(current) : "closed" };
      }
      if (signal.aborted) return;
      yield { kind: "closed", record: await this.get(id) };
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Asks the session to finish; waits (up to `waitMs`) for its last results. */
  async close(id: string, waitMs = 10_000, organizationId?: string): Promise<SessionRecord> {
    if (organizationId !== undefined) await this.get(id, organizationId);
    const record = await this.options.bus.requestClose(id, this.now());
    if (!record) throw new NotFoundError("live session", id);
    const deadline = this.now() + waitMs;
    let current = record;
    while (current.state !== "closed" && this.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      current = await this.get(id);
    }
    return current;
  }

  /** Stops every session this replica owns (shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    for (const [, owned] of this.owned) {
      owned.stop.abort();
      owned.recognition.abort();
      // swallowed: shutdown: a slot not released lapses with its lease.
      await owned.slot?.release().catch(() => undefined);
    }
    this.owned.clear();
  }

  /** `apiKeyId`: the key the session was created with, persisted with it at its end (its usage is the key's). */
  private own(created: SessionRecord, recognition: LiveRecognition, apiKeyId: string | null, slot?: StreamSlot): void {
    const id = created.id;
    const stop = new AbortController();
    this.owned.set(id, { recognition, stop, slot });
    const { bus } = this.options;
    const feeding = (async () => {
      for await (const entry of bus.audio(id, stop.signal)) {
        if (entry.kind === "close") {
          await recognition.close();
          return;
        }
        if (entry.audio.length > 0) await recognition.write(entry.audio);
        else recognition.keepalive();
        if (entry.finalize) await recognition.finalize();
      }
    })().catch((err: unknown) => recognition.fail(err));
    void (async () => {
      let failure: unknown;
      const finals: RecognitionResult[] = [];
      try {
        for await (const output of recognition.outputs) {
          if (output.kind === "result" && output.result.isFinal) finals.push(output.result);
          await bus.publish(id, { index: output.index, output: JSON.stringify(output) });
          if (output.kind === "result" && output.result.isFinal) {
            await bus.patch(id, { processedSeconds: recognition.processedSeconds });
          }
        }
      } catch (err) {
        failure = err;
      }
      stop.abort();
      await feeding;
      const now = this.now();
      // Whatever the bus does, the slot comes back and the session is persisted.
      try {
        // Closed first: once a watcher sees how the session ended, it takes no more audio.
        await bus.patch(id, { state: "closed", processedSeconds: recognition.processedSeconds, expiresAt: now + this.retainMs });
        if (failure !== undefined) {
          // Watchers learn why the session ended: its own domain error, or (shutdown, a bug) that it is gone.
          const error =
            failure instanceof DomainError
              ? { kind: failure.kind, message: failure.message }
              : { kind: "unavailable", message: failure instanceof SessionAbortedError ? "the live session's server stopped" : "the live session failed" };
          await bus.publish(id, { index: recognition.nextResultIndex, output: JSON.stringify({ index: recognition.nextResultIndex, kind: "error", error }) });
        }
        await bus.end(id);
        this.owned.delete(id);
        this.forgetAt.set(id, now + this.retainMs);
      } finally {
        // A slot not released lapses with its lease.
        await slot?.release().catch((err: unknown) => heard(this.options.logger, "live_session.release_slot", err, { session_id: id }, "a live session's stream slot could not be released; it lapses with its lease"));
        this.options.onEnded?.({
          sessionId: id,
          organizationId: created.organizationId,
          model: recognition.model,
          languageCode: recognition.languageCode,
          channels: recognition.channels,
          processedSeconds: recognition.processedSeconds,
          finals,
          startedAt: new Date(created.createdAt),
          outcome: failure !== undefined ? "failed" : this.expired.delete(id) ? "expired" : "closed",
          transport: "live_session",
          apiKeyId,
        });
      }
    // The session's end is persisted (onEnded, above) whatever the bus did; its watchers wait out the expiry.
    })().catch((err: unknown) => heard(this.options.logger, "live_session.end", err, { session_id: id }, "a live session's end could not be written to the bus; its watchers wait until it expires"));
  }

  /** Closes idle sessions this replica owns, and forgets closed ones once their retention is over. */
  private async sweep(): Promise<void> {
    const now = this.now();
    for (const id of [...this.owned.keys()]) {
      // swallowed: the bus unreachable: the session is looked at again at the next sweep.
      const record = await this.options.bus.get(id).catch(() => undefined);
      if (record?.state === "active" && now - record.lastActivityAt > this.idleTimeoutMs) {
        this.expired.add(id);
        // swallowed: the bus unreachable: the idle session is closed at the next sweep.
        await this.options.bus.requestClose(id, now).catch(() => undefined);
      }
    }
    for (const [id, at] of this.forgetAt) {
      if (now >= at) {
        this.forgetAt.delete(id);
        // swallowed: the bus unreachable: the keys expire on their own (RedisBus keyTtlMs).
        await this.options.bus.remove(id).catch(() => undefined);
      }
    }
  }
}
