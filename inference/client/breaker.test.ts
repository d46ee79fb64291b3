import { describe, expect, it } from "vitest";
import { backoffDelayMs, sleep } from "./backoff.js";
import { CircuitBreaker, type BreakerState } from "./breaker.js";

function breakerWithClock(failureThreshold = 3, cooldownMs = 1_000) {
  let now = 0;
  const changes: BreakerState[] = [];
  const breaker = new CircuitBreaker({ failureThreshold, cooldownMs }, (s) => changes.push(s), () => now);
  return { breaker, changes, advance: (ms: number) => (now += ms) };
}

describe("circuit breaker", () => {
  it("opens after N consecutive failures, not after N scattered ones", () => {
    const { breaker, changes } = breakerWithClock(3);
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe("closed");
    breaker.failure();
    expect(breaker.state).toBe("open");
    expect(breaker.tryAcquire()).toBe(false);
    expect(changes).toEqual(["open"]);
  });

  it("lets exactly one probe through after the cooldown, and closes when it succeeds", () => {
    const { breaker, changes, advance } = breakerWithClock(1, 1_000);
    breaker.failure();
    advance(999);
    expect(breaker.tryAcquire()).toBe(false);
    advance(1);
    expect(breaker.state).toBe("half_open");
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.success();
    expect(breaker.state).toBe("closed");
    expect(breaker.tryAcquire()).toBe(true);
    expect(changes).toEqual(["open", "closed"]);
  });

  it("re-opens for a full cooldown when the probe fails", () => {
    const { breaker, advance } = breakerWithClock(2, 1_000);
    breaker.failure();
    breaker.failure();
    advance(1_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe("open");
    advance(999);
    expect(breaker.tryAcquire()).toBe(false);
    advance(1);
    expect(breaker.tryAcquire()).toBe(true);
  });

  it("frees the probe slot when the probe ends without a verdict (cancelled)", () => {
    const { breaker, advance } = breakerWithClock(1, 10);
    breaker.failure();
    advance(10);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release();
    expect(breaker.state).toBe("half_open");
    expect(breaker.tryAcquire()).toBe(true);
  });
});

describe("backoff with full jitter", () => {
  const retry = { maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 1_000, multiplier: 2 };

  it("draws uniformly below an exponential ceiling that stops at the maximum", () => {
    expect([1, 2, 3, 4, 5, 10].map((a) => backoffDelayMs(a, retry, () => 0.999_999))).toEqual(
      [100, 200, 400, 800, 1_000, 1_000].map((c) => expect.closeTo(c, 0)),
    );
    expect(backoffDelayMs(3, retry, () => 0)).toBe(0);
    expect(backoffDelayMs(3, retry, () => 0.5)).toBe(200);
  });

  it("stops waiting when the signal aborts", async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new Error("caller gave up"));
    await expect(waiting).rejects.toThrow("caller gave up");
  });
});
