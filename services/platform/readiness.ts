/** One dependency the process needs to serve: the database, Redis, blob storage, inference. */
export interface DependencyCheck {
  name: string;
  /** Resolves when the dependency answers; rejects with a reason otherwise. */
  check(): Promise<void>;
}

export interface CheckResult {
  ok: boolean;
  latency_ms: number;
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  draining: boolean;
  checks: Record<string, CheckResult>;
}

/**
 * Answers "can this process serve traffic now?" for /readyz and grpc.health.v1.
 * Checks run concurrently with a timeout each, and a report is reused for `cacheMs`
 * so that probes from many load balancers cost one round of pings.
 */
/** How long one dependency check may take, and how long a report is reused. */
export interface ReadinessOptions {
  timeoutMs: number;
  cacheMs: number;
}

export class Readiness {
  private draining = false;
  private cached?: { at: number; report: Promise<ReadinessReport> };

  constructor(
    private readonly checks: DependencyCheck[],
    private readonly options: ReadinessOptions = { timeoutMs: 2000, cacheMs: 1000 },
  ) {}

  markDraining(): void {
    this.draining = true;
    this.cached = undefined;
  }

  report(): Promise<ReadinessReport> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.options.cacheMs) return this.cached.report;
    const report = this.run();
    this.cached = { at: now, report };
    return report;
  }

  private async run(): Promise<ReadinessReport> {
    const results = await Promise.all(this.checks.map((c) => this.runOne(c)));
    const checks = Object.fromEntries(this.checks.map((c, i) => [c.name, results[i]!]));
    return { ready: !this.draining && results.every((r) => r.ok), draining: this.draining, checks };
  }

  private async runOne(dependency: DependencyCheck): Promise<CheckResult> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        dependency.check(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
        }),
      ]);
      return { ok: true, latency_ms: Math.round(performance.now() - started) };
    } catch (err) {
      return { ok: false, latency_ms: Math.round(performance.now() - started), error: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(timer);
    }
  }
}
