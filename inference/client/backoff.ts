// Retry pacing: exponential backoff with "full jitter" (a uniformly random wait between zero and
// the exponential ceiling), which spreads the retries of many clients after a shared failure
// instead of having them return in lockstep.

export interface RetryOptions {
  /** Attempts per call, the first included; 1 disables retries. */
  maxAttempts: number;
  /** Ceiling of the first wait. */
  initialBackoffMs: number;
  /** Largest ceiling, however many attempts came before. */
  maxBackoffMs: number;
  /** Growth of the ceiling per attempt. */
  multiplier: number;
}

/** Wait before attempt `attempt + 1`, after `attempt` (1-based) attempts failed. */
export function backoffDelayMs(attempt: number, options: RetryOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxBackoffMs, options.initialBackoffMs * options.multiplier ** (attempt - 1));
  return random() * ceiling;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
