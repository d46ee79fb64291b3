// The Grafana dashboards (deploy/grafana/dashboards) against the metrics the code exports: every metric family
// on the gateway's /metrics (the embedded mode, which also runs jobs) and on the worker's /metrics appears in
// some dashboard query, and no query reads a family that nobody exports. The families come from the registries
// the processes build: the gateway's is scraped from a running test platform, the worker's is assembled as
// services/worker/main.ts assembles it (default metrics, the inference client's, composeWorker's, the queue depth).
import { randomUUID } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry, collectDefaultMetrics } from "prom-client";
import { startTestPlatform, type TestPlatform } from "../gateway/testing/platform.js";
import { composeWorker } from "../services/app/compose.js";
import { exposeQueueDepth } from "../services/jobs/queue.js";
import { createInferenceMetrics } from "../inference/client/metrics.js";

const dashboardsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "grafana", "dashboards");

/** Families other programs export, which the dashboards may query: Prometheus's own `up`, and Triton's (gpu profile). */
const EXTERNAL = new Set([
  "up",
  "nv_inference_request_success",
  "nv_inference_request_failure",
  "nv_inference_count",
  "nv_inference_queue_duration_us",
  "nv_inference_compute_infer_duration_us",
  "nv_gpu_utilization",
  "nv_gpu_memory_used_bytes",
  "nv_gpu_memory_total_bytes",
]);

interface Query {
  dashboard: string;
  panel: string;
  expr: string;
}

function dashboardQueries(): Query[] {
  const queries: Query[] = [];
  const walk = (dashboard: string, panels: Array<Record<string, any>>) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) if (target.expr) queries.push({ dashboard, panel: panel.title, expr: target.expr });
      walk(dashboard, panel.panels ?? []);
    }
  };
  for (const file of readdirSync(dashboardsDir).filter((f) => f.endsWith(".json"))) {
    const json = JSON.parse(readFileSync(path.join(dashboardsDir, file), "utf8"));
    walk(file, json.panels ?? []);
    // Template variables query families too (label_values(metric{...}, label)).
    for (const v of json.templating?.list ?? []) if (typeof v.definition === "string" && v.definition) queries.push({ dashboard: file, panel: `$${v.name}`, expr: v.definition });
  }
  return queries;
}

/** Metric names a PromQL expression selects: every `name{` (all dashboard selectors carry a label matcher). */
function selectedNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...withoutStrings.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)].map((m) => m[1]!);
}

/** The family a selected series name belongs to (a histogram's _bucket, _sum and _count series are its family's). */
function familyOf(name: string, families: Set<string>): string | undefined {
  if (families.has(name) || EXTERNAL.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return families.has(base) ? base : undefined;
}

async function familyNames(registry: Registry): Promise<string[]> {
  return (await registry.getMetricsAsJSON()).map((m) => m.name);
}

let tp: TestPlatform;
const gatewayFamilies = new Set<string>();
const histograms = new Set<string>();
const workerFamilies = new Set<string>();

beforeAll(async () => {
  // A queue of this file's own (the worker composed below consumes it when REDIS_URL is set), and jobs run
  // in the gateway whether or not Redis is there, so its registry carries what the embedded mode exports.
  tp = await startTestPlatform({ JOB_QUEUE_NAME: `dashboards-${randomUUID()}` }, { jobs: { runJobs: true } });
  for (const m of await tp.platform.metrics.registry.getMetricsAsJSON()) {
    gatewayFamilies.add(m.name);
    if (String(m.type) === "histogram") histograms.add(m.name);
  }
  // The worker process's registry, built as services/worker/main.ts builds it.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  createInferenceMetrics(registry); // what openAdapters' inference client registers
  const worker = await composeWorker(tp.config, { database: tp.platform.database, blobs: tp.platform.blobs, redis: tp.platform.redis, inference: tp.platform.inference, logger: tp.logger }, { registry });
  exposeQueueDepth(registry, worker.jobs.queue);
  for (const name of await familyNames(registry)) workerFamilies.add(name);
  await worker.close();
});

afterAll(async () => {
  await tp?.stop();
});

describe("Grafana dashboards and the exported metrics", () => {
  it("finds the families the gateway and the worker export, and queries in every dashboard", () => {
    // Guards against a collector that finds nothing (then every other check would pass vacuously).
    for (const family of ["arabicstt_rpc_requests_total", "arabicstt_live_lag_seconds", "arabicstt_twilio_calls_total", "arabicstt_audiosocket_errors_total", "arabicstt_audiohook_frames_total", "arabicstt_openai_requests_total", "arabicstt_inference_duration_seconds", "arabicstt_webhook_attempts_total", "arabicstt_swallowed_failures_total", "arabicstt_jobs_queue_depth", "process_cpu_seconds_total"]) {
      expect(gatewayFamilies, family).toContain(family);
    }
    for (const family of ["arabicstt_inference_errors_total", "arabicstt_webhook_attempts_total", "arabicstt_swallowed_failures_total", "arabicstt_jobs_queue_depth", "nodejs_heap_size_used_bytes"]) {
      expect(workerFamilies, family).toContain(family);
    }
    const files = new Set(dashboardQueries().map((q) => q.dashboard));
    expect([...files].sort()).toEqual(["batch.json", "gateway.json", "identity.json", "inference.json", "live.json"]);
  });

  it("shows every exported family in some dashboard", () => {
    const exported = new Set([...gatewayFamilies, ...workerFamilies]);
    const queried = new Set<string>();
    for (const q of dashboardQueries()) for (const name of selectedNames(q.expr)) queried.add(familyOf(name, exported) ?? name);
    const missing = [...exported].filter((family) => !queried.has(family)).sort();
    expect(missing, "exported families no dashboard shows").toEqual([]);
  });

  it("queries no family that nobody exports", () => {
    const exported = new Set([...gatewayFamilies, ...workerFamilies]);
    const unknown = dashboardQueries().flatMap((q) =>
      selectedNames(q.expr)
        .filter((name) => !familyOf(name, exported))
        .map((name) => `${q.dashboard} / ${q.panel}: ${name}`),
    );
    expect(unknown, "dashboard queries of families nobody exports").toEqual([]);
  });

  it("reads a histogram only through its _bucket, _sum or _count series (its bare name selects nothing)", () => {
    const misuse = dashboardQueries().flatMap((q) =>
      selectedNames(q.expr)
        .filter((name) => histograms.has(name))
        .map((name) => `${q.dashboard} / ${q.panel}: ${name}`),
    );
    expect(histograms.size).toBeGreaterThan(0);
    expect(misuse).toEqual([]);
  });
});
