// Where a StreamingRecognize session lives between connections: its config, which replica runs it
// (and under which epoch), the point up to which its audio is committed, and its kept outputs
// (final results and events). In Redis when the deployment has it, so a client may resume on any
// replica; in memory when embedded. Every write by the replica running a session names the epoch
// it took the session under: once another replica has taken the session over (a higher epoch),
// the old one's writes are refused, so a result is never kept twice.
import type { EngineOutput } from "./engine/types.js";
import type { Commit, LiveRecognitionConfig } from "./live-recognition.js";

export interface StoredStream {
  id: string;
  /** The organisation that started it; only it may resume it. Empty: none (tests, tools). */
  organizationId: string;
  /** The API key that started it (its usage is the key's, whichever replica ends it); null for a user's token. */
  apiKeyId: string | null;
  /** The replica running it, and the epoch it runs it under (1 at the start, one more per takeover). */
  owner: string;
  epoch: number;
  config: LiveRecognitionConfig;
  model: string;
  languageCode: string;
  channels: number;
  /** Unix milliseconds. */
  startedAt: number;
  /** How long after its client was last heard the session may be resumed (LIVE_RESUME_GRACE_MS of the replica that started it). */
  graceMs: number;
  /** Unix milliseconds: when the session was last heard of (created, touched while a client is attached, taken over). */
  heardAt: number;
  committed: Commit;
  /** Over for good: its kept outputs may still be read until it is forgotten. */
  ended: boolean;
}

export type NewStoredStream = Omit<StoredStream, "epoch" | "committed" | "ended" | "heardAt">;

/**
 * Why a replica takes a session over: a client resuming it (only within the grace period after the
 * session was last heard of), or a sweep claiming an orphan (only after it).
 */
export type TakeOverReason = "resume" | "orphan";

export interface StreamStore {
  /** True when every replica of the deployment reads this store (a session may move between them). */
  readonly shared: boolean;
  /** Keeps a new session (epoch 1, nothing committed), alive for `ttlMs` unless touched. */
  create(stream: NewStoredStream, ttlMs: number): Promise<void>;
  /** Keeps an output; false if the session was taken over (or is gone). */
  append(id: string, epoch: number, output: EngineOutput): Promise<boolean>;
  /** Moves the commit point; false if the session was taken over (or is gone). */
  commit(id: string, epoch: number, commit: Commit): Promise<boolean>;
  /** The client is still around (or the session still runs): alive for another `ttlMs`. */
  touch(ids: Array<{ id: string; epoch: number }>, ttlMs: number): Promise<void>;
  /** The session as kept, or undefined if unknown or expired. */
  get(id: string): Promise<StoredStream | undefined>;
  /** Kept outputs with index ≥ fromIndex, in order. */
  outputs(id: string, fromIndex: number): Promise<EngineOutput[]>;
  /**
   * Makes `owner` run the session under the next epoch; the session as it is then (ended sessions as they
   * are, unchanged), or undefined if gone or if `reason` does not fit when it was last heard of.
   */
  takeOver(id: string, owner: string, ttlMs: number, reason?: TakeOverReason): Promise<StoredStream | undefined>;
  /** This replica is alive (for `ttlMs`): sessions it runs are not orphans. */
  heartbeat(replica: string, ttlMs: number): Promise<void>;
  /**
   * Sessions past their grace period (not heard of for longer) whose replica is not alive: a replica
   * that died while running them, and a client that did not come back.
   */
  orphans(): Promise<string[]>;
  /** The session is over: true if `epoch` still held it (then it is forgotten after `ttlMs`, which lets a late resume read its last outputs). */
  end(id: string, epoch: number, ttlMs: number): Promise<boolean>;
}

/** Kept outputs per session; the oldest go first (a session's maximum length bounds them anyway). */
export const MAX_KEPT_OUTPUTS = 10_000;

interface MemoryEntry {
  stream: StoredStream;
  outputs: EngineOutput[];
  expiresAt: number;
}

/** One process's sessions (embedded; a single replica). */
export class MemoryStreamStore implements StreamStore {
  readonly shared = false;
  private readonly entries = new Map<string, MemoryEntry>();

  async create(stream: NewStoredStream, ttlMs: number): Promise<void> {
    this.sweep();
    this.entries.set(stream.id, { stream: { ...stream, epoch: 1, heardAt: Date.now(), committed: { bytes: 0, seconds: 0, nextIndex: 0 }, ended: false }, outputs: [], expiresAt: Date.now() + ttlMs });
  }

  async append(id: string, epoch: number, output: EngineOutput): Promise<boolean> {
    const entry = this.held(id, epoch);
    if (!entry) return false;
    entry.outputs.push(output);
    if (entry.outputs.length > MAX_KEPT_OUTPUTS) entry.outputs.shift();
    return true;
  }

  async commit(id: string, epoch: number, commit: Commit): Promise<boolean> {
    const entry = this.held(id, epoch);
    if (!entry) return false;
    entry.stream.committed = { ...commit };
    return true;
  }

  async touch(ids: Array<{ id: string; epoch: number }>, ttlMs: number): Promise<void> {
    for (const { id, epoch } of ids) {
      const entry = this.held(id, epoch);
      if (!entry) continue;
      entry.expiresAt = Date.now() + ttlMs;
      entry.stream.heardAt = Date.now();
    }
  }

  async get(id: string): Promise<StoredStream | undefined> {
    const entry = this.live(id);
    return entry && { ...entry.stream, committed: { ...entry.stream.committed } };
  }

  async outputs(id: string, fromIndex: number): Promise<EngineOutput[]> {
    return (this.live(id)?.outputs ?? []).filter((o) => o.index >= fromIndex);
  }

  async takeOver(id: string, owner: string, ttlMs: number, reason: TakeOverReason = "resume"): Promise<StoredStream | undefined> {
    const entry = this.live(id);
    if (!entry || entry.stream.ended) return entry && { ...entry.stream };
    const lapsed = Date.now() - entry.stream.heardAt > entry.stream.graceMs;
    if (lapsed !== (reason === "orphan")) return undefined;
    entry.stream = { ...entry.stream, owner, epoch: entry.stream.epoch + 1, heardAt: Date.now() };
    entry.expiresAt = Date.now() + ttlMs;
    return { ...entry.stream, committed: { ...entry.stream.committed } };
  }

  async heartbeat(): Promise<void> {
    // One process, one replica: it is alive while it runs, and its own grace timers end its sessions.
  }

  async orphans(): Promise<string[]> {
    return [];
  }

  async end(id: string, epoch: number, ttlMs: number): Promise<boolean> {
    const entry = this.held(id, epoch);
    if (!entry) return false;
    entry.stream.ended = true;
    entry.expiresAt = Date.now() + ttlMs;
    return true;
  }

  private live(id: string): MemoryEntry | undefined {
    const entry = this.entries.get(id);
    if (entry && entry.expiresAt <= Date.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry;
  }

  private held(id: string, epoch: number): MemoryEntry | undefined {
    const entry = this.live(id);
    return entry && !entry.stream.ended && entry.stream.epoch === epoch ? entry : undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(id);
  }
}
