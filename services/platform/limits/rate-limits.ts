// Rate limits: per API key, per user and per client IP for every RPC, and per account and per IP for
// login attempts. Each limit is a sustained rate with an optional burst pool on top
// (rate-limiter-flexible's BurstyRateLimiter), kept in Redis when the platform has it, so every gateway
// replica counts together, and in memory in the embedded mode.
import type { Redis } from "ioredis";
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { ResourceExhaustedError } from "../errors/errors.js";

/** `points` per `seconds`. */
export interface LimitWindow {
  points: number;
  seconds: number;
}

/** The sustained rate, then optionally a burst pool drawn on when the rate is used up. */
export type LimitSpec = [LimitWindow] | [LimitWindow, LimitWindow];

export interface RateLimitConfig {
  apiKey: LimitSpec;
  user: LimitSpec;
  /** Calls without a valid credential (Register, Login…), per client IP. */
  ip: LimitSpec;
  loginPerAccount: LimitSpec;
  loginPerIp: LimitSpec;
}

export type LimitKind = keyof RateLimitConfig;

const DESCRIPTIONS: Record<LimitKind, string> = {
  apiKey: "too many requests with this API key",
  user: "too many requests for this user",
  ip: "too many requests from this address",
  loginPerAccount: "too many login attempts for this account",
  loginPerIp: "too many login attempts from this address",
};

interface Limiter {
  consume(key: string): Promise<unknown>;
  delete?(key: string): Promise<unknown>;
}

export class RateLimits {
  private readonly limiters: Record<LimitKind, { limiter: Limiter; reset: Array<(key: string) => Promise<unknown>> }>;

  constructor(config: RateLimitConfig, options: { redis?: Redis; keyPrefix?: string } = {}) {
    const prefix = options.keyPrefix ?? "arabicstt:rl";
    const make = (kind: LimitKind, part: string, window: LimitWindow) => {
      const base = { keyPrefix: `${prefix}:${kind}:${part}`, points: window.points, duration: window.seconds };
      return options.redis ? new RateLimiterRedis({ ...base, storeClient: options.redis }) : new RateLimiterMemory(base);
    };
    const build = (kind: LimitKind) => {
      const [rate, burst] = config[kind];
      const main = make(kind, "rate", rate);
      if (!burst) return { limiter: main, reset: [(key: string) => main.delete(key)] };
      const pool = make(kind, "burst", burst);
      return { limiter: new BurstyRateLimiter(main, pool), reset: [(key: string) => main.delete(key), (key: string) => pool.delete(key)] };
    };
    this.limiters = {
      apiKey: build("apiKey"),
      user: build("user"),
      ip: build("ip"),
      loginPerAccount: build("loginPerAccount"),
      loginPerIp: build("loginPerIp"),
    };
  }

  /** Takes one point; throws RESOURCE_EXHAUSTED with the seconds until the next point when none is left. */
  async consume(kind: LimitKind, key: string): Promise<void> {
    try {
      await this.limiters[kind].limiter.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const retryAfterSeconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new ResourceExhaustedError(`${DESCRIPTIONS[kind]}; retry in ${retryAfterSeconds} s`, retryAfterSeconds);
    }
  }

  /** Forgets the points taken (a successful login clears the account's failed attempts). */
  async reset(kind: LimitKind, key: string): Promise<void> {
    await Promise.all(this.limiters[kind].reset.map((reset) => reset(key)));
  }
}

/** Parses `points/seconds[,points/seconds]`: the rate, then the optional burst pool. */
export function parseLimitSpec(text: string): LimitSpec | undefined {
  const windows = text.split(",").map((part) => {
    const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(part);
    return match ? { points: Number(match[1]), seconds: Number(match[2]) } : undefined;
  });
  if (windows.length < 1 || windows.length > 2 || windows.some((w) => !w || w.points < 1 || w.seconds < 1)) return undefined;
  return windows as LimitSpec;
}
