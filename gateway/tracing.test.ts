// Traces across the platform's boundaries, exported as OTLP to a stand-in collector: one CreateJob on a DTMF
// call yields the gateway's server span, the worker's run with its pipeline stages, the inference client's
// calls and the sidecar's ModelInfer (a sidecar process of its own, `npm run sidecar`, exporting as
// `arabicstt-sidecar`), all in one trace, each the child of the one before it across the job queue and
// gRPC metadata; the trace continues the caller's traceparent, and log lines carry its id.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobService, JobState } from "../proto/gen/arabicstt/v1/job_pb.js";
import { TextService } from "../proto/gen/arabicstt/v1/text_pb.js";
import { Media } from "../services/media/media.entity.js";
import { childEnvironment } from "../inference/local/config.js";
import { createAudioDir, soxDtmf, type AudioDir } from "../inference/local/testing/audio.js";
import { freePort } from "../inference/testing/ports.js";
import { startTracing, type Tracing } from "../inference/telemetry/tracing.js";
import { startOtlpCollector, type CollectedSpan, type OtlpCollector } from "../inference/telemetry/testing/otlp-collector.js";
import { registerOwner, type TestAccount } from "./testing/accounts.js";
import { startTestPlatform, type TestPlatform } from "./testing/platform.js";
import { REPOSITORY_MODEL_COUNT } from "../inference/local/testing/repository-models.js";

const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

/** `npm run sidecar` as its own process, exporting its spans to `endpoint`; resolves once its models are loaded. */
async function spawnSidecar(port: number, weightsDir: string, endpoint: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "inference/local/main.ts"], {
    cwd: repoRoot,
    env: childEnvironment({ SIDECAR_HOST: "127.0.0.1", SIDECAR_PORT: String(port), MODEL_WEIGHTS_DIR: weightsDir, LOG_LEVEL: "info", OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      // One "model ready" / "model not ready" line per model of the repository.
      if ((output.match(/"msg":"model (not )?ready"/g) ?? []).length >= REPOSITORY_MODEL_COUNT) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code, signal) => reject(new Error(`the sidecar exited (${signal ?? `code ${code}`}) before it was ready:\n${output}`)));
  });
  return child;
}

const traceparentOf = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;
const randomHex = (bytes: number) => createHash("sha256").update(randomUUID()).digest("hex").slice(0, bytes * 2);

describe("OpenTelemetry traces", () => {
  let collector: OtlpCollector;
  let tracing: Tracing;
  let sidecar: ChildProcess | undefined;
  let weightsDir: string;
  let audio: AudioDir;
  let t: TestPlatform;
  let owner: TestAccount;

  beforeAll(async () => {
    collector = await startOtlpCollector();
    weightsDir = await mkdtemp(path.join(tmpdir(), "arabicstt-tracing-weights-"));
    audio = await createAudioDir("tracing-");
    const sidecarPort = await freePort();
    sidecar = await spawnSidecar(sidecarPort, weightsDir, collector.endpoint);
    // As gateway/process.ts does before it starts the platform.
    tracing = startTracing({ endpoint: collector.endpoint, serviceName: "arabicstt-gateway" });
    t = await startTestPlatform({ TRITON_URL: `127.0.0.1:${sidecarPort}`, JOB_DEFAULT_MODEL: "dtmf" }, { jobs: { runJobs: true } });
    owner = await registerOwner(t);
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    await tracing?.shutdown();
    sidecar?.kill("SIGKILL");
    await collector?.close();
    await rm(weightsDir, { recursive: true, force: true });
    await audio?.remove();
  });

  it("follows one CreateJob from the caller's traceparent through the gateway, the worker, the inference client and the sidecar", async () => {
    await soxDtmf("42", audio.path("call.wav"), { leadMs: 200 });
    const bytes = await readFile(audio.path("call.wav"));
    const storageKey = `orgs/${owner.organizationId}/media/${randomUUID()}.wav`;
    await t.blobs.store.put("media", storageKey, bytes);
    const em = t.testDb.db.fork();
    const media = em.create(Media, { organization: owner.organizationId, filename: "call.wav", contentType: "audio/wav", storageKey, sizeBytes: bytes.length, status: "ready" });
    await em.flush();

    // The caller's own span, as an upstream service (or a browser's tracing) would send it.
    const callerTraceId = randomHex(16);
    const callerSpanId = randomHex(8);
    const jobs = t.client(JobService, { credential: owner.accessToken, headers: { traceparent: traceparentOf(callerTraceId, callerSpanId) } });
    const { job } = await jobs.createJob({ mediaId: media.id, config: { languageCode: "ar" } });
    const watcher = t.client(JobService, { credential: owner.accessToken });
    let last;
    for await (const progress of watcher.watchJob({ jobId: job!.jobId })) last = progress;
    expect(last?.state).toBe(JobState.SUCCEEDED);

    // The sidecar exports its batch when it stops (SIGTERM drains it, as `npm run sidecar` does on a deploy).
    await tracing.flush();
    sidecar!.kill("SIGTERM");
    await new Promise((resolve) => sidecar!.once("exit", resolve));
    sidecar = undefined;
    const inTrace = (spans: CollectedSpan[]) => spans.filter((s) => s.traceId === callerTraceId);
    // The run's span ends after the job reads SUCCEEDED (usage and webhooks come last): the gateway's batch
    // processor exports it on its next round.
    await collector.waitFor((spans) => inTrace(spans).some((s) => s.service === "arabicstt-sidecar") && inTrace(spans).some((s) => s.name === "job run"));
    const spans = inTrace(collector.spans);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (span: CollectedSpan) => byId.get(span.parentSpanId);
    const ancestors = (span: CollectedSpan) => {
      const chain: string[] = [];
      for (let p = parentOf(span); p; p = parentOf(p)) chain.push(p.name);
      return chain;
    };

    // The gateway: a server span continuing the caller's span, carrying the request.
    const rpc = spans.find((s) => s.name === "arabicstt.v1.JobService/CreateJob")!;
    expect(rpc).toBeDefined();
    expect(rpc).toMatchObject({ kind: "SERVER", parentSpanId: callerSpanId, service: "arabicstt-gateway", scope: "arabicstt.gateway", status: "UNSET" });
    expect(rpc.attributes).toMatchObject({ "rpc.system.name": "grpc", "rpc.method": "arabicstt.v1.JobService/CreateJob", "rpc.service": "arabicstt.v1.JobService", "rpc.status_code": "OK", "rpc.grpc.status_code": 0 });
    expect(rpc.attributes["arabicstt.request_id"]).toMatch(/\S/);

    // The worker: the job's run, a consumer span whose parent is the CreateJob span (across the queue).
    const run = spans.find((s) => s.name === "job run")!;
    expect(run).toMatchObject({ kind: "CONSUMER", parentSpanId: rpc.spanId, scope: "arabicstt.jobs" });
    expect(run.attributes).toMatchObject({ "arabicstt.job_id": job!.jobId, "arabicstt.job.claimed": true, "arabicstt.job.attempt": 1 });
    // Its steps and the pipeline's stages, in the run.
    for (const stage of ["download media", "pipeline probe", "pipeline decode", "pipeline segment", "pipeline recognize", "pipeline diarize", "post-process and save"]) {
      expect(spans.find((s) => s.name === stage), stage).toMatchObject({ parentSpanId: run.spanId });
    }

    // The inference client: ModelInfer of the DTMF model under the recognize stage.
    const recognize = spans.find((s) => s.name === "pipeline recognize")!;
    const infers = spans.filter((s) => s.name === "inference.GRPCInferenceService/ModelInfer" && s.service === "arabicstt-gateway");
    const asr = infers.find((s) => s.parentSpanId === recognize.spanId)!;
    expect(asr).toMatchObject({ kind: "CLIENT", scope: "arabicstt.inference-client" });
    expect(asr.attributes).toMatchObject({ "inference.model": "dtmf", "rpc.status_code": "OK", "server.address": expect.stringMatching(/^127\.0\.0\.1:\d+$/) });

    // The sidecar (another process): a server span per ModelInfer, each the child of a client span, so the
    // context crossed in gRPC metadata.
    const served = spans.filter((s) => s.service === "arabicstt-sidecar");
    expect(served.length).toBeGreaterThan(0);
    for (const span of served) {
      expect(span).toMatchObject({ name: "inference.GRPCInferenceService/ModelInfer", kind: "SERVER", scope: "arabicstt.sidecar" });
      expect(infers.map((s) => s.spanId)).toContain(span.parentSpanId);
    }
    const servedAsr = served.find((s) => s.parentSpanId === asr.spanId)!;
    expect(servedAsr.attributes).toMatchObject({ "inference.model": "dtmf", "rpc.status_code": "OK" });
    expect(ancestors(servedAsr)).toEqual(["inference.GRPCInferenceService/ModelInfer", "pipeline recognize", "job run", "arabicstt.v1.JobService/CreateJob"]);

    // Log lines written in those spans carry the trace: the RPC's line and the job's.
    const rpcLine = t.logs.find((l) => l.msg === "rpc" && l.rpc_method === "CreateJob")!;
    expect(rpcLine).toMatchObject({ trace_id: callerTraceId, span_id: rpc.spanId, trace_flags: "01" });
    const started = t.logs.find((l) => l.msg === "job started" && l.job_id === job!.jobId)!;
    expect(started).toMatchObject({ trace_id: callerTraceId, span_id: run.spanId });

    // A server stream's span lasts until its last message, and its end-of-stream line is written inside it.
    await collector.waitFor((all) => all.some((s) => s.name === "arabicstt.v1.JobService/WatchJob"));
    const watch = collector.spans.find((s) => s.name === "arabicstt.v1.JobService/WatchJob")!;
    expect(watch).toMatchObject({ kind: "SERVER", parentSpanId: "" });
    expect(watch.attributes["rpc.status_code"]).toBe("OK");
    const watchLine = t.logs.find((l) => l.msg === "rpc" && l.rpc_method === "WatchJob")!;
    expect(watchLine).toMatchObject({ trace_id: watch.traceId, span_id: watch.spanId });
  });

  it("starts a trace of its own for a call that brings none", async () => {
    const text = t.client(TextService, { credential: owner.accessToken });
    const before = collector.spans.length;
    await text.formatText({ text: "مرحبا" });
    await tracing.flush();
    await collector.waitFor((spans) => spans.slice(before).some((s) => s.name === "arabicstt.v1.TextService/FormatText"));
    const root = collector.spans.slice(before).find((s) => s.name === "arabicstt.v1.TextService/FormatText")!;
    expect(root.parentSpanId).toBe("");
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
    const line = t.logs.find((l) => l.msg === "rpc" && l.rpc_method === "FormatText")!;
    expect(line.trace_id).toBe(root.traceId);
  });
});
