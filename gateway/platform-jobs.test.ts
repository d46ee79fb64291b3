// `npm start` alone transcribes: in the embedded mode (no REDIS_URL) the API process also runs the job
// runner, with the in-process queue and the in-process sidecar, so a fresh clone needs no other process.
// A DTMF call goes in as a ready media file and comes back as a transcript through JobService.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { AuthService } from "../proto/gen/arabicstt/v1/auth_pb.js";
import { JobService, JobState } from "../proto/gen/arabicstt/v1/job_pb.js";
import { loadConfig } from "../services/platform/config/config.js";
import { createLogger } from "../services/platform/logger.js";
import { Media } from "../services/media/media.entity.js";
import { createAudioDir, sox, soxDtmf, type AudioDir } from "../inference/local/testing/audio.js";
import { startPlatform, type Platform } from "./platform.js";
import { WebhookEventType, WebhookService } from "../proto/gen/arabicstt/v1/webhook_pb.js";
import { WebhookEndpoint } from "../services/webhooks/webhook-endpoint.entity.js";
import { WebhookDelivery } from "../services/webhooks/webhook-delivery.entity.js";
import { transports, withHeaders } from "./testing/clients.js";
import { freePort } from "../inference/testing/ports.js";
import { testEnvironment } from "../services/platform/config/test-environment.js";

describe.skipIf(Boolean(testEnvironment().redisUrl) || Boolean(testEnvironment().databaseUrl))("npm start in the embedded mode", () => {
  let platform: Platform;
  let dataDir: string;
  let audio: AudioDir;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "arabicstt-platform-jobs-"));
    audio = await createAudioDir("platform-jobs-");
    const config = loadConfig({ HOST: "127.0.0.1", GRPC_PORT: "0", HTTP_PORT: String(await freePort()), DATA_DIR: dataDir, LOG_LEVEL: "silent", JOB_DEFAULT_MODEL: "dtmf", WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" });
    platform = await startPlatform(config, createLogger("silent"));
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await audio?.remove();
  });

  it("runs a job to a transcript with no worker process", async () => {
    await soxDtmf("42", audio.path("left.wav"), { leadMs: 200 });
    await soxDtmf("7#", audio.path("right.wav"), { leadMs: 700 });
    await sox("-D", "-M", audio.path("left.wav"), audio.path("right.wav"), "-e", "u-law", "-b", "8", "-r", "8000", audio.path("call.wav"));

    const t = transports(platform.gateway.grpcPort, platform.gateway.httpPort);
    const registered = await createClient(AuthService, t.grpc).register({ email: `owner-${randomUUID()}@example.com`, password: "كلمة سر طويلة 2026", displayName: "ليلى", organizationName: "مركز" });
    const organizationId = registered.organization!.organizationId;
    const storageKey = `orgs/${organizationId}/media/${randomUUID()}.wav`;
    await platform.blobs.put("media", storageKey, await readFile(audio.path("call.wav")));
    const em = platform.database.fork();
    const media = em.create(Media, { organization: organizationId, filename: "call.wav", contentType: "audio/wav", storageKey, status: "ready" });
    await em.flush();

    const bearer = { authorization: `Bearer ${registered.tokens!.accessToken}` };
    // Nothing listens on port 9: the delivery is logged (and retried), which is all this test reads.
    const hooks = createClient(WebhookService, withHeaders(t.grpc, bearer));
    const { webhook } = await hooks.createWebhook({ url: "https://127.0.0.1:9/hook", eventTypes: [WebhookEventType.JOB_SUCCEEDED] });
    const jobs = createClient(JobService, withHeaders(t.connectH1, bearer));
    const { job, webhookSecret } = await jobs.createJob({ mediaId: media.id, config: { languageCode: "ar" }, webhookUrl: "https://127.0.0.1:9/job-callback" });
    expect(webhookSecret).toMatch(/^whsec_/);
    let last;
    for await (const progress of jobs.watchJob({ jobId: job!.jobId })) last = progress;
    expect(last?.state).toBe(JobState.SUCCEEDED);
    const done = await jobs.getJob({ jobId: job!.jobId });
    expect(done.job!.transcriptId).toBe(last?.transcriptId);
    expect(done.job!.config?.languageCode).toBe("ar");

    // The finished job reached the other capabilities: usage (two channels of the call) and webhooks.
    const quota = await platform.transcripts.usage.quota(organizationId);
    expect(quota.audioSecondsUsed).toBeGreaterThan(0);
    const { deliveries } = await hooks.listDeliveries({ webhookId: webhook!.webhookId });
    expect(deliveries.map((d) => d.eventType)).toEqual([WebhookEventType.JOB_SUCCEEDED]);
    expect(JSON.parse(deliveries[0]!.payload).data.job_id).toBe(job!.jobId);
    // The job's own webhook_url got the same event, from an endpoint that signs with the secret CreateJob gave.
    const check = platform.database.fork();
    const callback = await check.findOneOrFail(WebhookEndpoint, { callbackForJobId: job!.jobId });
    expect(callback.url).toBe("https://127.0.0.1:9/job-callback");
    expect(callback.secretPrefix).toBe(webhookSecret!.slice(0, callback.secretPrefix.length));
    const toCallback = await check.find(WebhookDelivery, { endpoint: callback });
    expect(toCallback.map((d) => d.event)).toEqual(["job.succeeded"]);
  });
});
