// The platform's operators, over the public API: a new install gets its first platform admin from
// PLATFORM_ADMIN_EMAILS (at registration, and at start for an account that already exists), and
// GetSystemStats shows the platform moving when a job runs (the `dtmf` model, which needs no weights).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { AdminService } from "../../proto/gen/arabicstt/v1/admin_pb.js";
import { AuthService } from "../../proto/gen/arabicstt/v1/auth_pb.js";
import { JobService, JobState } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { ModelState } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { createAudioDir, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { registerOwner, TEST_PASSWORD, uniqueEmail, type TestAccount } from "../../gateway/testing/accounts.js";
import { startJobsGateway, type JobsGateway } from "../../gateway/testing/jobs-gateway.js";
import { startTestPlatform } from "../../gateway/testing/platform.js";
import { createTestDatabase } from "../app/testing.js";
import { loadConfig } from "../platform/config/config.js";

const adminEmail = uniqueEmail();
let h: JobsGateway;
let audio: AudioDir;
let admin: TestAccount;
let owner: TestAccount;

beforeAll(async () => {
  h = await startJobsGateway({ env: { PLATFORM_ADMIN_EMAILS: ` ${adminEmail.toUpperCase()} , someone-else@example.com` } });
  audio = await createAudioDir("operators-");
  await soxDtmf("4711", audio.path("keys.wav"), { leadMs: 300 });
  const res = await h.client(AuthService).register({ email: adminEmail, password: TEST_PASSWORD, displayName: "مشغل", organizationName: "المشغل" });
  admin = { userId: res.user!.userId, email: adminEmail, organizationId: res.organization!.organizationId, accessToken: res.tokens!.accessToken, refreshToken: res.tokens!.refreshToken };
  owner = await registerOwner(h);
}, 120_000);

afterAll(async () => {
  await h?.stop();
  await audio?.remove();
});

const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => ConnectError.from(e));

describe("the first platform admin", () => {
  it("is the account registered with an address PLATFORM_ADMIN_EMAILS names (any case), and nobody else", async () => {
    const me = await h.client(AuthService, { credential: admin.accessToken }).getCurrentUser({});
    expect(me.user?.platformAdmin).toBe(true);
    const other = await h.client(AuthService, { credential: owner.accessToken }).getCurrentUser({});
    expect(other.user?.platformAdmin).toBe(false);
    const { organizations } = await h.client(AdminService, { credential: admin.accessToken }).listOrganizations({});
    expect(organizations.map((o) => o.organizationId)).toContain(owner.organizationId);
    expect((await refusal(h.client(AdminService, { credential: owner.accessToken }).listOrganizations({})))?.code).toBe(Code.PermissionDenied);
  });

  it("is made at start from an account that already exists, and the grant is audited", async () => {
    const testDb = await createTestDatabase();
    const first = await startTestPlatform({}, {}, { testDb });
    const email = uniqueEmail();
    try {
      await first.client(AuthService).register({ email, password: TEST_PASSWORD, displayName: "نورة", organizationName: "قبل الإعداد" });
      const before = await first.client(AuthService).login({ email, password: TEST_PASSWORD });
      expect(before.user?.platformAdmin).toBe(false);
    } finally {
      await first.stop();
    }
    const second = await startTestPlatform({ PLATFORM_ADMIN_EMAILS: email }, {}, { testDb });
    try {
      const login = await second.client(AuthService).login({ email, password: TEST_PASSWORD });
      expect(login.user?.platformAdmin).toBe(true);
      const adminApi = second.client(AdminService, { credential: login.tokens!.accessToken });
      const { events } = await adminApi.listAuditEvents({ actionPrefix: "user.platform_admin_grant" });
      expect(events.map((e) => [e.resourceId, e.details.reason])).toEqual([[login.user!.userId, "setting_at_start"]]);
    } finally {
      await second.stop();
      await testDb.cleanup();
    }
  });

  it("refuses a setting that is not a list of addresses, naming it", () => {
    expect(() => loadConfig({ PLATFORM_ADMIN_EMAILS: "admin at example.com" })).toThrow(/PLATFORM_ADMIN_EMAILS/);
  });
});

describe("GetSystemStats", () => {
  it("counts organisations, users, jobs, billed audio, workers and models, and moves when a job runs", async () => {
    const stats = () => h.client(AdminService, { credential: admin.accessToken }).getSystemStats({});
    const before = await stats();
    expect(before.organizationCount).toBe(2n);
    expect(before.userCount).toBe(2n);
    expect(before.workerCount).toBeGreaterThanOrEqual(1);
    expect(before.activeStreamCount).toBe(0);
    expect(before.generatedAt).toBeDefined();
    expect(before.models.find((m) => m.name === "dtmf")?.state).toBe(ModelState.READY);
    const vad = before.inferenceModels.find((m) => m.name === "vad");
    expect(vad?.state).toBe(ModelState.READY);
    // No weights in the test's sidecar: Whisper is listed, not ready, with why.
    const whisper = before.inferenceModels.find((m) => m.name === "whisper");
    expect(whisper?.state).toBe(ModelState.UNAVAILABLE);
    expect(whisper?.reason).not.toBe("");

    const jobs = h.client(JobService, { credential: owner.accessToken });
    const mediaId = await h.addMedia(owner.organizationId, audio.path("keys.wav"));
    const { job } = await jobs.createJob({ mediaId, config: { model: "dtmf" } });
    let state = job!.state;
    for await (const progress of jobs.watchJob({ jobId: job!.jobId })) state = progress.state;
    expect(state).toBe(JobState.SUCCEEDED);

    const after = await stats();
    expect(after.jobsSucceededLastDay - before.jobsSucceededLastDay).toBe(1n);
    expect(after.jobsFailedLastDay).toBe(before.jobsFailedLastDay);
    const billed = (d: typeof after.audioBilledLastDay) => Number(d?.seconds ?? 0n) + (d?.nanos ?? 0) / 1e9;
    expect(billed(after.audioBilledLastDay)).toBeGreaterThan(billed(before.audioBilledLastDay));
    expect(after.queuedJobCount + after.runningJobCount).toBe(0);
  });

  it("is for platform admins only: an organisation's owner is refused", async () => {
    expect((await refusal(h.client(AdminService, { credential: owner.accessToken }).getSystemStats({})))?.code).toBe(Code.PermissionDenied);
  });
});
