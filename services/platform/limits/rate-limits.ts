// Rate limits: per API key, per user and per client IP for every RPC, and per IP for login attempts. Each
// limit is a sustained rate with an optional burst pool on top (rate-limiter-flexible's BurstyRateLimiter),
// kept in Redis when the platform has it, so every gateway replica counts together, and in memory in the
// embedded mode. Failed logins are slowed per account and client together (loginBackoff), never per account
// alone: a limit on the account would let anyone lock its owner out by failing on purpose.
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
  loginPerIp: LimitSpec;
  loginBackoff: LoginBackoffConfig;
}

/**
 * Growing delays after failed logins to one account from one client (OWASP's "authentication cheat sheet":
 * throttle by account and source together, delay rather than lock). After `freeFailures` failures in a row
 * the client waits 1 s before its next try for that account, then 2 s, 4 s… up to `maxDelaySeconds`. A
 * success, or a day without a failure, clears the count.
 */
export interface LoginBackoffConfig {
  freeFailures: number;
  maxDelaySeconds: number;
}

/** Failures are counted over this window, from the first one. */
const LOGIN_FAILURE_WINDOW_SECONDS = 24 * 60 * 60;

export type LimitKind = Exclude<keyof RateLimitConfig, "loginBackoff">;

const DESCRIPTIONS: Record<LimitKind, string> = {
  apiKey: "too many requests with this API key",
  user: "too many requests for this user",
  ip: "too many requests from this address",
  loginPerIp: "too many login attempts from this address",
};

interface Limiter {
  consume(key: string): Promise<unknown>;
  delete?(key: string): Promise<unknown>;
}

type StoreLimiter = RateLimiterMemory | RateLimiterRedis;

export class RateLimits {
  private readonly limiters: Record<LimitKind, { limiter: Limiter; reset: Array<(key: string) => Promise<unknown>> }>;
  /** Failed logins per account and client, counted over a day. */
  private readonly loginFailures: StoreLimiter;
  /** Per account and client: held (blocked) until the current delay has passed. */
  private readonly loginHolds: StoreLimiter;
  private readonly backoff: LoginBackoffConfig;

  constructor(config: RateLimitConfig, options: { redis?: Redis; keyPrefix?: string } = {}) {
    const prefix = options.keyPrefix ?? "arabicstt:rl";
    const store = (keyPrefix: string, points: number, duration: number): StoreLimiter =>
      options.redis ? new RateLimiterRedis({ keyPrefix, points, duration, storeClient: options.redis }) : new RateLimiterMemory({ keyPrefix, points, duration });
    this.backoff = config.loginBackoff;
    this.loginFailures = store(`${prefix}:loginBackoff:failures`, Number.MAX_SAFE_INTEGER, LOGIN_FAILURE_WINDOW_SECONDS);
    this.loginHolds = store(`${prefix}:loginBackoff:hold`, 1, config.loginBackoff.maxDelaySeconds);
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

  /** Forgets the points taken. */
  async reset(kind: LimitKind, key: string): Promise<void> {
    await Promise.all(this.limiters[kind].reset.map((reset) => reset(key)));
  }

  /**
   * Throws RESOURCE_EXHAUSTED, with the seconds to wait, while this client must wait before trying this
   * account again (loginBackoff). Another client, the account's owner on their own device, is not held.
   */
  async assertLoginAllowed(account: string, client: string): Promise<void> {
    const held = await this.loginHolds.get(loginKey(account, client));
    if (!held || held.consumedPoints < 1 || held.msBeforeNext <= 0) return;
    const retryAfterSeconds = Math.max(1, Math.ceil(held.msBeforeNext / 1000));
    throw new ResourceExhaustedError(`too many failed logins to this account from this address; retry in ${retryAfterSeconds} s`, retryAfterSeconds);
  }

  /** Counts a failed login of this client to this account; past the free failures, holds the pair for the next delay. */
  async recordLoginFailure(account: string, client: string): Promise<void> {
    const key = loginKey(account, client);
    const failures = (await this.loginFailures.penalty(key, 1)).consumedPoints;
    const beyond = failures - this.backoff.freeFailures;
    if (beyond < 0) return;
    const delaySeconds = Math.min(this.backoff.maxDelaySeconds, 2 ** Math.min(beyond, 30));
    await this.loginHolds.block(key, delaySeconds);
  }

  /** A successful login clears this client's failures on this account. */
  async clearLoginFailures(account: string, client: string): Promise<void> {
    const key = loginKey(account, client);
    await Promise.all([this.loginFailures.delete(key), this.loginHolds.delete(key)]);
  }
}

/** One key per account and client; the account is an email address, lower-cased by the caller. */
function loginKey(account: string, client: string): string {
  return `${account}|${client}`;
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
