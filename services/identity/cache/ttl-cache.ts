// A small in-process cache whose entries are trusted for a fixed time, for facts that other replicas
// may change (API keys, organisations, the month's used audio): this replica drops an entry the moment
// it changes the fact itself, and acts on another replica's change within `ttlMs` at the latest.
// Bounded: past `maxEntries` the oldest entry goes, so a flood of distinct keys costs memory once.
//
// Written here rather than taken from npm (lru-cache and the like): what matters is the interplay of
// shared loads with invalidation, a load that began before a revoke must not store what it read
// (the generation below), and that is a few lines on a Map; the libraries' TTL caches would need the
// same guard wrapped around them.

export interface TtlCacheOptions {
  /** How long an entry is trusted; 0 turns the cache off (every read misses). */
  ttlMs: number;
  maxEntries: number;
  /** Milliseconds now; tests move it by hand. */
  now?: () => number;
}

export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; storedAt: number }>();
  /** Loads under way, shared by the callers that missed together. */
  private readonly loading = new Map<K, Promise<V>>();
  /** Bumped by every invalidation: a load that began before one must not store what it read. */
  private generation = 0;
  private readonly now: () => number;

  constructor(private readonly options: TtlCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.options.ttlMs > 0;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.storedAt >= this.options.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: K, value: V): void {
    if (!this.enabled) return;
    this.entries.delete(key);
    this.entries.set(key, { value, storedAt: this.now() });
    // Map order is insertion order: the first key is the one stored longest ago.
    while (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.generation++;
    this.entries.delete(key);
    this.loading.delete(key);
  }

  /** Drops every entry `matches` picks (a revoked key's, whatever its secret's hash), and every load under way. */
  deleteWhere(matches: (value: V, key: K) => boolean): void {
    this.generation++;
    for (const [key, entry] of this.entries) if (matches(entry.value, key)) this.entries.delete(key);
    this.loading.clear();
  }

  /**
   * The value under `key`, loaded once by `load` when missing: callers that miss together share one load
   * (thirty streams starting at once read the database once). A failed load is not kept.
   */
  getOrLoad(key: K, load: () => Promise<V>): Promise<V> {
    const cached = this.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const pending = this.loading.get(key);
    if (pending) return pending;
    const generation = this.generation;
    const loading = load().then(
      (value) => {
        if (this.loading.get(key) === loading) this.loading.delete(key);
        if (generation === this.generation) this.set(key, value);
        return value;
      },
      (err: unknown) => {
        if (this.loading.get(key) === loading) this.loading.delete(key);
        throw err;
      },
    );
    if (this.enabled) this.loading.set(key, loading);
    return loading;
  }
}
