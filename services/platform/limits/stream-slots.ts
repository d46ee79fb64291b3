// How many live streams an organisation may hold open at once. A slot is a lease: held while the
// stream is open, renewed by a heartbeat, and gone by itself if its process dies, so a crashed
// gateway never leaves an organisation locked out. In Redis (a sorted set of leases per
// organisation, changed by one Lua script) when the platform has it, so every replica counts
// together; in memory otherwise.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { ResourceExhaustedError } from "../errors/errors.js";

export interface StreamSlot {
  release(): Promise<void>;
}

export interface StreamSlots {
  /** Takes a slot for the organisation or throws RESOURCE_EXHAUSTED. */
  acquire(organizationId: string): Promise<StreamSlot>;
  /** The slots the organisation holds now (GetQuota's CONCURRENT_STREAMS). */
  held(organizationId: string): Promise<number>;
  /** How many it may hold. */
  readonly limit: number;
  /** Slots held now across every organisation (every replica's, in Redis): the platform's open live streams. */
  openCount(): Promise<number>;
}

/** How long a client should wait before trying again when every slot is taken. */
const RETRY_AFTER_SECONDS = 5;

function exhausted(limit: number): ResourceExhaustedError {
  return new ResourceExhaustedError(
    `the organisation already has ${limit} live streams open, its limit; close one or retry in ${RETRY_AFTER_SECONDS} s`,
    RETRY_AFTER_SECONDS,
  );
}

export class MemoryStreamSlots implements StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(readonly limit: number) {}

  async held(organizationId: string): Promise<number> {
    return this.open.get(organizationId) ?? 0;
  }

  async acquire(organizationId: string): Promise<StreamSlot> {
    const held = this.open.get(organizationId) ?? 0;
    if (held >= this.limit) throw exhausted(this.limit);
    this.open.set(organizationId, held + 1);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        const left = (this.open.get(organizationId) ?? 1) - 1;
        if (left > 0) this.open.set(organizationId, left);
        else this.open.delete(organizationId);
      },
    };
  }

  async openCount(): Promise<number> {
    let total = 0;
    for (const held of this.open.values()) total += held;
    return total;
  }
}

// KEYS[1]: the organisation's leases; ARGV: now, lease expiry, limit, lease id, key ttl (ms).
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`;

export interface RedisStreamSlotsOptions {
  limit: number;
  /** How long a lease lives without a heartbeat. Default 60 s; renewed every third of it. */
  leaseMs?: number;
  keyPrefix?: string;
  /** The clock leases are measured with (tests move it). */
  now?: () => number;
  /** Whether open slots renew their lease on a timer. Default true. */
  heartbeat?: boolean;
}

export class RedisStreamSlots implements StreamSlots {
  private readonly leaseMs: number;
  private readonly prefix: string;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisStreamSlotsOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 60_000;
    this.prefix = options.keyPrefix ?? "arabicstt:streams";
    this.now = options.now ?? Date.now;
  }

  get limit(): number {
    return this.options.limit;
  }

  /** Leases not yet lapsed. */
  async held(organizationId: string): Promise<number> {
    return this.redis.zcount(`${this.prefix}:${organizationId}`, this.now(), "+inf");
  }

  async acquire(organizationId: string): Promise<StreamSlot> {
    const key = `${this.prefix}:${organizationId}`;
    const id = randomUUID();
    const now = this.now();
    const won = await this.redis.eval(ACQUIRE, 1, key, now, now + this.leaseMs, this.options.limit, id, this.leaseMs * 2);
    if (won !== 1) throw exhausted(this.options.limit);
    const timer =
      this.options.heartbeat === false
        ? undefined
        : setInterval(() => {
            // swallowed: a missed lease refresh is retried at the next tick; a lease that lapses frees a slot early, never loses a stream.
            void this.redis.zadd(key, "XX", this.now() + this.leaseMs, id).catch(() => undefined);
          }, this.leaseMs / 3);
    timer?.unref();
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        await this.redis.zrem(key, id);
      },
    };
  }

  async openCount(): Promise<number> {
    // Leases not yet lapsed, over every organisation's set; SCAN pages, so a large keyspace is never blocked.
    const now = this.now();
    let total = 0;
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", `${this.prefix}:*`, "COUNT", 500);
      cursor = next;
      for (const key of keys) total += await this.redis.zcount(key, `(${now}`, "+inf");
    } while (cursor !== "0");
    return total;
  }
}
