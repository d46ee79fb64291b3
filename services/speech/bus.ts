// Where a browser live session's audio and results travel, so any gateway replica can take any
// call of a session: SendLiveAudio appends numbered audio (idempotently), the replica that owns
// the session's engine reads it in order, and every watcher reads the ordered outputs from any
// index. In-process in the embedded mode; Redis streams in production (redis-bus.ts).

export type LiveSessionState = "active" | "closing" | "closed";

/**
 * The state a client is told: an active session whose client has sent no audio or keepalive for a while is
 * "disconnected" (it keeps its audio and results and waits for the client until it expires). Judged when a
 * session is read (LiveSessions.stateOf), from `lastAudioAt`; the bus keeps the three states above.
 */
export type ReportedLiveSessionState = LiveSessionState | "disconnected";

/** What every replica may read about a session. Times in epoch milliseconds. */
export interface SessionRecord {
  id: string;
  /** The organisation that created the session: the only one that may see or use it. */
  organizationId: string;
  state: LiveSessionState;
  /** The session's config as the transport received it, serialised by the transport. */
  config: string;
  nextSequence: number;
  bytesReceived: number;
  /** Outputs published so far: the index the next one gets. */
  nextResultIndex: number;
  /** Seconds of audio processed, per channel, and the channels recognised. */
  processedSeconds: number;
  channels: number;
  createdAt: number;
  /** Audio, keepalive, watchers and close requests: the session expires `idleTimeoutMs` after the last. */
  lastActivityAt: number;
  /** The last chunk (audio or keepalive) taken from the client: it is disconnected some time after. */
  lastAudioAt: number;
  expiresAt: number;
}

export type AudioEntry = { kind: "audio"; sequence: number; audio: Uint8Array; finalize: boolean } | { kind: "close" };

export type SendStatus = "accepted" | "duplicate" | "out_of_order" | "not_active" | "busy";

export interface SendOutcome {
  status: SendStatus;
  nextSequence: number;
  state: LiveSessionState;
}

export interface PublishedOutput {
  index: number;
  /** An EngineOutput as JSON. */
  output: string;
}

export interface LiveSessionBus {
  create(record: SessionRecord): Promise<void>;
  get(id: string): Promise<SessionRecord | undefined>;
  /** Updates some fields of an existing session. */
  patch(id: string, fields: Partial<Omit<SessionRecord, "id">>): Promise<void>;
  /**
   * Appends chunk `sequence` if it is the next one expected and the session is active; a chunk
   * already taken is a duplicate, a later one is out of order, and with `maxBacklog` chunks
   * already waiting for the owner the session is busy (nothing is appended). Atomic across
   * replicas. Undefined when there is no such session.
   */
  send(id: string, sequence: number, audio: Uint8Array, finalize: boolean, now: number, maxBacklog: number): Promise<SendOutcome | undefined>;
  /** Marks an active session closing and queues the close after its audio. Undefined when there is no such session. */
  requestClose(id: string, now: number): Promise<SessionRecord | undefined>;
  /** The session's audio entries from the first, waiting for more, until the signal aborts. */
  audio(id: string, signal: AbortSignal): AsyncIterable<AudioEntry>;
  /** Appends output `index` (indexes are published in order, without gaps). */
  publish(id: string, output: PublishedOutput): Promise<void>;
  /** Marks the end of the outputs: watchers end after the last one. */
  end(id: string): Promise<void>;
  /** Outputs from `fromIndex` on, waiting for more, until the end mark or the signal. */
  outputs(id: string, fromIndex: number, signal: AbortSignal): AsyncIterable<PublishedOutput>;
  /** Forgets a session. */
  remove(id: string): Promise<void>;
}

/** The embedded mode's bus: everything in this process's memory. */
export class InProcessBus implements LiveSessionBus {
  private readonly sessions = new Map<
    string,
    { record: SessionRecord; audio: AudioEntry[]; outputs: PublishedOutput[]; ended: boolean; waiters: Set<() => void> }
  >();

  async create(record: SessionRecord): Promise<void> {
    this.sessions.set(record.id, { record: { ...record }, audio: [], outputs: [], ended: false, waiters: new Set() });
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const s = this.sessions.get(id);
    return s && { ...s.record };
  }

  async patch(id: string, fields: Partial<Omit<SessionRecord, "id">>): Promise<void> {
    const s = this.sessions.get(id);
    if (s) Object.assign(s.record, fields);
  }

  async send(id: string, sequence: number, audio: Uint8Array, finalize: boolean, now: number, maxBacklog: number): Promise<SendOutcome | undefined> {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const { record } = s;
    const outcome = (status: SendStatus): SendOutcome => ({ status, nextSequence: record.nextSequence, state: record.state });
    if (sequence < record.nextSequence) return outcome("duplicate");
    if (record.state !== "active") return outcome("not_active");
    if (sequence > record.nextSequence) return outcome("out_of_order");
    if (s.audio.length >= maxBacklog) return outcome("busy");
    s.audio.push({ kind: "audio", sequence, audio, finalize });
    record.nextSequence++;
    record.bytesReceived += audio.length;
    record.lastActivityAt = now;
    record.lastAudioAt = now;
    this.wake(s);
    return outcome("accepted");
  }

  async requestClose(id: string, now: number): Promise<SessionRecord | undefined> {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.record.state === "active") {
      s.record.state = "closing";
      s.record.lastActivityAt = now;
      s.audio.push({ kind: "close" });
      this.wake(s);
    }
    return { ...s.record };
  }

  async *audio(id: string, signal: AbortSignal): AsyncIterable<AudioEntry> {
    // One reader, the session's owner: what it took, the bus need not keep.
    while (!signal.aborted) {
      const s = this.sessions.get(id);
      if (!s) return;
      const entry = s.audio.shift();
      if (entry) {
        yield entry;
        if (entry.kind === "close") return;
        continue;
      }
      await this.waitFor(s, signal);
    }
  }

  async publish(id: string, output: PublishedOutput): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    s.outputs.push(output);
    s.record.nextResultIndex = output.index + 1;
    this.wake(s);
  }

  async end(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    s.ended = true;
    this.wake(s);
  }

  async *outputs(id: string, fromIndex: number, signal: AbortSignal): AsyncIterable<PublishedOutput> {
    // Outputs are published from index 0 without gaps: output i is at position i.
    let position = fromIndex;
    while (!signal.aborted) {
      const s = this.sessions.get(id);
      if (!s) return;
      if (position < s.outputs.length) {
        yield s.outputs[position++]!;
        continue;
      }
      if (s.ended) return;
      await this.waitFor(s, signal);
    }
  }

  async remove(id: string): Promise<void> {
    const s = this.sessions.get(id);
    this.sessions.delete(id);
    if (s) this.wake(s);
  }

  private wake(s: { waiters: Set<() => void> }): void {
    const waiting = [...s.waiters];
    s.waiters.clear();
    for (const w of waiting) w();
  }

  private waitFor(s: { waiters: Set<() => void> }, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        s.waiters.delete(done);
        resolve();
      };
      s.waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
