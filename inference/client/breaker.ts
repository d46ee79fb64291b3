// A circuit breaker per server address. Written here rather than taken from opossum because the
// client needs two things opossum's model does not give: a breaker that is consulted before a
// request is sent, to choose among several addresses (opossum wraps and runs one function), and a
// failure rule of "N consecutive transport failures" where only failures to reach the server
// count (opossum counts every rejection in a rolling percentage window, so an INVALID_ARGUMENT
// from a healthy server would count against it).
//
//   closed ──N consecutive failures──▶ open ──cooldown elapsed──▶ half_open (one probe at a time)
//      ▲                                 ▲                              │
//      └────────── probe succeeds ───────┼──────── probe fails ─────────┘

export type BreakerState = "closed" | "open" | "half_open";

export interface BreakerOptions {
  /** Consecutive transport failures that open the breaker. */
  failureThreshold: number;
  /** How long an open breaker refuses requests before it lets one probe through. */
  cooldownMs: number;
}

export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openedAt = 0;
  private isOpen = false;
  private probeInFlight = false;

  constructor(
    private readonly options: BreakerOptions,
    private readonly onChange: (state: BreakerState) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (!this.isOpen) return "closed";
    return this.now() - this.openedAt >= this.options.cooldownMs ? "half_open" : "open";
  }

  /**
   * Whether a request may go to this address now. In half-open it grants one probe and refuses
   * everyone else until that probe reports. Every grant must be followed by exactly one of
   * success(), failure() or release().
   */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.probeInFlight) return false;
    this.probeInFlight = true;
    return true;
  }

  /** The server answered (whatever its status): the address works. */
  success(): void {
    this.probeInFlight = false;
    this.consecutiveFailures = 0;
    if (this.isOpen) {
      this.isOpen = false;
      this.onChange("closed");
    }
  }

  /** The server could not be reached. */
  failure(): void {
    const wasProbe = this.probeInFlight;
    this.probeInFlight = false;
    this.consecutiveFailures++;
    if (wasProbe || (!this.isOpen && this.consecutiveFailures >= this.options.failureThreshold)) {
      this.isOpen = true;
      this.openedAt = this.now();
      this.onChange("open");
    }
  }

  /** The request ended without saying anything about the server (cancelled by the caller, deadline). */
  release(): void {
    this.probeInFlight = false;
  }
}
