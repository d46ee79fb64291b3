// Failures a path survives but must not hide. Where a step's fault is not the caller's (a lost notification,
// a requeue that could not be written, a verification a sweep will resume), the path goes on, and the fault
// is heard: logged with the ids of what it touched, and counted in arabicstt_swallowed_failures_total{site},
// so an operator sees both the one case and the trend.
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";

export const SWALLOWED_FAILURES_METRIC = "arabicstt_swallowed_failures_total";

/** One counter for the process, registered on no registry until a composition root exposes it. */
export const swallowedFailures = new Counter({
  name: SWALLOWED_FAILURES_METRIC,
  help: "Faults a path survived (logged with what they touched), by site",
  labelNames: ["site"] as const,
  registers: [],
});

/** Puts the counter on the process's /metrics (the gateway's and the worker's registry); once per registry. */
export function exposeFailureMetrics(registry: Registry): void {
  if (!registry.getSingleMetric(SWALLOWED_FAILURES_METRIC)) registry.registerMetric(swallowedFailures);
}

/**
 * Hears a fault the caller goes on without: a warning with `context` (job, session, media, request ids) and
 * the site, and one more in the counter under `site` ("job_events.publish", "job_runner.fail", …).
 */
export function heard(logger: Logger | undefined, site: string, err: unknown, context: Record<string, unknown>, message: string): void {
  swallowedFailures.inc({ site });
  logger?.warn({ err, site, ...context }, message);
}

/** How many faults `site` has heard in this process (tests, and a check that wants the number). */
export async function heardCount(site: string): Promise<number> {
  const { values } = await swallowedFailures.get();
  return values.find((v) => v.labels.site === site)?.value ?? 0;
}
