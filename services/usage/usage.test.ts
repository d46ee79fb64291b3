// Usage and quotas: audio recorded once per job and live session (as the runner and the live engine will
// record it) and per Recognize call (made here through the API, on the keypad model), summed per day over
// the API, by API key too, with the most media stored; and every limit GetQuota reports, with the monthly
// quota that turns work away when it is used.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { durationMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { QuotaMetric, UsageGranularity, UsageService } from "../../proto/gen/arabicstt/v1/usage_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../gateway/testing/identity-gateway.js";
import { joinAs, registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { Organization } from "../identity/model/organization.entity.js";
import { stereoCall } from "../transcripts/testing.js";
import { seedJob, seedLiveSession } from "../app/testing.js";
import { ExportFormat, ExportService } from "../../proto/gen/arabicstt/v1/export_pb.js";
import { SpeechService, StreamingRecognizeRequestSchema } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { AudioEncoding } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { ApiKeyScope, ApiKeyService } from "../../proto/gen/arabicstt/v1/api_key_pb.js";
import { MediaService } from "../../proto/gen/arabicstt/v1/media_pb.js";
import { JobService } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { OrganizationService } from "../../proto/gen/arabicstt/v1/organization_pb.js";
import { MemberRole } from "../../proto/gen/arabicstt/v1/common_pb.js";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { makeMediaFiles, uploadByPut, type MediaFiles } from "../../gateway/testing/media.js";
import type { Usage } from "./usage.js";
import { UsageRecord } from "./usage-record.entity.js";

let h: IdentityGateway;
let usage: Usage;
let owner: TestAccount;
let viewer: TestAccount;
let files: MediaFiles;

const codeOf = (p: Promise<unknown>) => p.then(() => "ok" as const, (err: unknown) => ConnectError.from(err).code);
const CACHE_TTL_MS = 300;
const day = (d: string) => new Date(`${d}T00:00:00Z`);

beforeAll(async () => {
  // A short REPLICA_CACHE_TTL_MS: an operator's edit in the database is waited out rather than left behind.
  h = await startIdentityGateway({ PLAN_AUDIO_SECONDS_PER_MONTH: "free:600,*:0", REPLICA_CACHE_TTL_MS: String(CACHE_TTL_MS) });
  usage = h.transcripts!.usage;
  owner = await registerOwner(h);
  viewer = await joinAs(h, owner.organizationId, "viewer");
  files = await makeMediaFiles();
}, 60_000);
afterAll(async () => {
  await h?.stop();
  await files?.remove();
});

/** `keys` dialled on a keypad, as 16 kHz PCM with a second of silence after: what Recognize's `dtmf` model hears. */
function keypad(keys: string): Uint8Array {
  const { audio } = dtmfSequence(keys, { sampleRate: 16_000, leadMs: 300 });
  const pcm = Buffer.alloc((audio.length + 16_000) * 2);
  audio.forEach((x, i) => pcm.writeInt16LE(Math.round(x * 32767), 2 * i));
  return new Uint8Array(pcm);
}
const recognizeKeys = (keys: string) => ({ config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf" }, audioSource: { case: "content" as const, value: keypad(keys) } });
const aroundNow = () => ({ startTime: timestampFromDate(new Date(Date.now() - 3_600_000)), endTime: timestampFromDate(new Date(Date.now() + 3_600_000)), granularity: UsageGranularity.HOUR });

describe("recording usage", () => {
  it("counts each job and live session once, rounded up to the whole second", async () => {
    const { jobId } = await seedJob(h.testDb.db, owner.organizationId);
    const results = await Promise.all([1, 2, 3].map(() => usage.record(owner.organizationId, "batch", 61.2, jobId, new Date("2026-03-02T10:00:00Z"))));
    expect(results.filter(Boolean)).toHaveLength(1);
    const rows = await h.testDb.db.fork().find(UsageRecord, { job: jobId });
    expect(rows.map((r) => r.seconds)).toEqual([62]);
  });

  it("refuses a source of another organisation", async () => {
    const other = await registerOwner(h, "أخرى");
    const { jobId } = await seedJob(h.testDb.db, owner.organizationId);
    await expect(usage.record(other.organizationId, "batch", 10, jobId)).rejects.toMatchObject({ kind: "not_found" });
    const liveSessionId = await seedLiveSession(h.testDb.db, owner.organizationId);
    await expect(usage.record(other.organizationId, "live", 10, liveSessionId)).rejects.toMatchObject({ kind: "not_found" });
  });
});

describe("GetUsage", () => {
  it("sums audio per day and kind, empty days included, aligned to the time zone asked for", async () => {
    const other = await registerOwner(h, "منظمة الأيام");
    const job = async () => (await seedJob(h.testDb.db, other.organizationId)).jobId;
    await usage.record(other.organizationId, "batch", 100, await job(), new Date("2026-03-02T10:00:00Z"));
    await usage.record(other.organizationId, "batch", 50, await job(), new Date("2026-03-02T22:30:00Z"));
    await usage.record(other.organizationId, "live", 30, await seedLiveSession(h.testDb.db, other.organizationId), new Date("2026-03-04T08:00:00Z"));

    const client = h.client(UsageService, { credential: other.accessToken });
    const res = await client.getUsage({ startTime: timestampFromDate(day("2026-03-01")), endTime: timestampFromDate(day("2026-03-05")) });
    const rows = res.buckets.map((b) => [
      b.startTime!.seconds,
      durationMs(b.usage!.batchDuration!) / 1000,
      durationMs(b.usage!.streamingDuration!) / 1000,
      Number(b.usage!.jobCount),
    ]);
    expect(rows).toEqual([
      [BigInt(day("2026-03-01").getTime() / 1000), 0, 0, 0],
      [BigInt(day("2026-03-02").getTime() / 1000), 150, 0, 2],
      [BigInt(day("2026-03-03").getTime() / 1000), 0, 0, 0],
      [BigInt(day("2026-03-04").getTime() / 1000), 0, 30, 0],
    ]);
    expect(durationMs(res.total!.billedDuration!) / 1000).toBe(180);
    expect(Number(res.total!.streamingSessionCount)).toBe(1);

    // 22:30 UTC on the 2nd is 01:30 on the 3rd in Riyadh (UTC+3).
    const riyadh = await client.getUsage({
      startTime: timestampFromDate(new Date("2026-03-01T21:00:00Z")),
      endTime: timestampFromDate(new Date("2026-03-04T21:00:00Z")),
      granularity: UsageGranularity.DAY,
      timeZone: "Asia/Riyadh",
    });
    expect(riyadh.buckets.map((b) => [new Date(Number(b.startTime!.seconds) * 1000).toISOString(), durationMs(b.usage!.batchDuration!) / 1000])).toEqual([
      ["2026-03-01T21:00:00.000Z", 100],
      ["2026-03-02T21:00:00.000Z", 50],
      ["2026-03-03T21:00:00.000Z", 0],
    ]);

    const months = await client.getUsage({ startTime: timestampFromDate(day("2026-01-01")), endTime: timestampFromDate(day("2026-04-01")), granularity: UsageGranularity.MONTH });
    expect(months.buckets.map((b) => durationMs(b.usage!.billedDuration!) / 1000)).toEqual([0, 0, 180]);
  });

  it("counts the exports that succeeded", async () => {
    const org = await registerOwner(h, "منظمة التصدير");
    const { jobId } = await seedJob(h.testDb.db, org.organizationId);
    const transcriptId = (await h.transcripts!.transcripts.create(org.organizationId, stereoCall({ jobId }))).id;
    const exports = h.client(ExportService, { credential: org.accessToken });
    await exports.createExport({ transcriptId, format: ExportFormat.TXT });
    await exports.createExport({ transcriptId, format: ExportFormat.SRT });
    const now = Date.now();
    const res = await h.client(UsageService, { credential: org.accessToken }).getUsage({
      startTime: timestampFromDate(new Date(now - 3_600_000)),
      endTime: timestampFromDate(new Date(now + 3_600_000)),
      granularity: UsageGranularity.HOUR,
    });
    expect(Number(res.total!.exportCount)).toBe(2);
    expect(res.buckets.map((b) => Number(b.usage!.exportCount)).reduce((a, b) => a + b, 0)).toBe(2);
    // Partial first and last buckets: the period's own bounds.
    expect(Number(res.buckets[0]!.startTime!.seconds)).toBe(Math.floor((now - 3_600_000) / 1000));
  });

  it("counts and bills Recognize calls, and by api_key_id only the calls made with that key", async () => {
    const org = await registerOwner(h, "منظمة التعرف");
    const key = await h.client(ApiKeyService, { credential: org.accessToken }).createApiKey({ name: "ivr", scopes: [ApiKeyScope.SPEECH] });
    const byUser = await h.client(SpeechService, { credential: org.accessToken }).recognize(recognizeKeys("12"));
    const byKey = await h.client(SpeechService, { credential: key.secret }).recognize(recognizeKeys("3456"));
    expect([byUser, byKey].map((r) => r.results[0]!.alternatives[0]!.transcript)).toEqual(["12", "3456"]);
    const billed = (r: typeof byUser) => Number(r.metadata!.billedDuration!.seconds);
    expect(billed(byUser)).toBeGreaterThan(0);

    const client = h.client(UsageService, { credential: org.accessToken });
    const all = await client.getUsage(aroundNow());
    expect(Number(all.total!.recognizeRequestCount)).toBe(2);
    expect(durationMs(all.total!.recognizeDuration!) / 1000).toBe(billed(byUser) + billed(byKey));
    // The one billing rule: Recognize's audio is in the billed total with the rest.
    expect(durationMs(all.total!.billedDuration!) / 1000).toBe(billed(byUser) + billed(byKey));
    expect(all.buckets.map((b) => Number(b.usage!.recognizeRequestCount)).reduce((a, b) => a + b, 0)).toBe(2);

    const keyOnly = await client.getUsage({ ...aroundNow(), apiKeyId: key.apiKey!.apiKeyId });
    expect(Number(keyOnly.total!.recognizeRequestCount)).toBe(1);
    expect(durationMs(keyOnly.total!.recognizeDuration!) / 1000).toBe(billed(byKey));
    // Another key of the organisation made nothing; nor did an id that names no key.
    const idle = await h.client(ApiKeyService, { credential: org.accessToken }).createApiKey({ name: "idle", scopes: [ApiKeyScope.SPEECH] });
    for (const apiKeyId of [idle.apiKey!.apiKeyId, "00000000-0000-4000-8000-000000000000"]) {
      expect(Number((await client.getUsage({ ...aroundNow(), apiKeyId })).total!.recognizeRequestCount)).toBe(0);
    }
    // Monthly audio counts Recognize too.
    const audio = (await client.getQuota({})).limits.find((l) => l.metric === QuotaMetric.AUDIO_SECONDS)!;
    expect(audio.used).toBe(BigInt(billed(byUser) + billed(byKey)));
  });

  it("by api_key_id also counts the jobs and live sessions created with that key", async () => {
    const org = await registerOwner(h, "منظمة المفاتيح");
    const key = await h.client(ApiKeyService, { credential: org.accessToken }).createApiKey({
      name: "integration",
      scopes: [ApiKeyScope.SPEECH, ApiKeyScope.JOBS_WRITE, ApiKeyScope.MEDIA_WRITE],
    });
    const media = await uploadByPut(h.client(MediaService, { credential: org.accessToken }), "call.wav", files.wav);
    const jobConfig = { mediaId: media.mediaId, config: { model: "dtmf", languageCode: "ar" } };
    const byKeyJob = await h.client(JobService, { credential: key.secret }).createJob(jobConfig);
    const byUserJob = await h.client(JobService, { credential: org.accessToken }).createJob(jobConfig);
    // As the runner records a finished job (idempotent per job, so a run of the job here changes nothing).
    for (const job of [byKeyJob, byUserJob]) await usage.record(org.organizationId, "batch", 3, job.job!.jobId);

    // A live session opened with the key, given a keypad call and closed; its end is persisted after the fact.
    const speech = h.client(SpeechService, { credential: key.secret });
    const { session } = await speech.createLiveSession({ streamingConfig: { config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf" } } });
    await speech.sendLiveAudio({ sessionId: session!.sessionId, sequenceNumber: 0n, audioContent: keypad("42") });
    await speech.closeLiveSession({ sessionId: session!.sessionId });

    const client = h.client(UsageService, { credential: org.accessToken });
    const byKey = async () => (await client.getUsage({ ...aroundNow(), apiKeyId: key.apiKey!.apiKeyId })).total!;
    for (let tries = 0; tries < 200 && Number((await byKey()).streamingSessionCount) === 0; tries++) await new Promise((r) => setTimeout(r, 50));
    const total = await byKey();
    expect([Number(total.jobCount), Number(total.streamingSessionCount)]).toEqual([1, 1]);
    expect(durationMs(total.batchDuration!) / 1000).toBe(3);
    expect(durationMs(total.streamingDuration!) / 1000).toBeGreaterThan(0);
    // The organisation's total has the user's job too.
    expect(Number((await client.getUsage(aroundNow())).total!.jobCount)).toBe(2);
  });

  it("by api_key_id counts the StreamingRecognize streams opened with that key, and not the user's", async () => {
    const org = await registerOwner(h, "منظمة البث");
    const key = await h.client(ApiKeyService, { credential: org.accessToken }).createApiKey({ name: "ivr-stream", scopes: [ApiKeyScope.SPEECH] });
    const stream = async (credential: string, keys: string) => {
      const pcm = keypad(keys);
      async function* requests() {
        yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "streamingConfig", value: { config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf" } } } });
        for (let at = 0; at < pcm.length; at += 3200) yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: pcm.subarray(at, at + 3200) } });
      }
      const finals: string[] = [];
      for await (const r of h.client(SpeechService, { credential }).streamingRecognize(requests())) for (const x of r.results) if (x.isFinal) finals.push(x.alternatives[0]!.transcript);
      return finals;
    };
    expect(await stream(key.secret, "314")).toEqual(["314"]);
    expect(await stream(org.accessToken, "27")).toEqual(["27"]);

    const client = h.client(UsageService, { credential: org.accessToken });
    // A stream's end is persisted after the fact (services/speech/persistence.ts): wait for both.
    const sessions = async (apiKeyId?: string) => Number((await client.getUsage({ ...aroundNow(), apiKeyId })).total!.streamingSessionCount);
    for (let tries = 0; tries < 200 && (await sessions()) < 2; tries++) await new Promise((r) => setTimeout(r, 50));
    expect(await sessions()).toBe(2);
    const byKey = (await client.getUsage({ ...aroundNow(), apiKeyId: key.apiKey!.apiKeyId })).total!;
    expect(Number(byKey.streamingSessionCount)).toBe(1);
    expect(durationMs(byKey.streamingDuration!) / 1000).toBeGreaterThan(0);
    expect(durationMs(byKey.streamingDuration!)).toBeLessThan(durationMs((await client.getUsage(aroundNow())).total!.streamingDuration!));
  });

  it("reports the most media bytes stored at once, deleted items counted while they were held", async () => {
    const org = await registerOwner(h, "منظمة التخزين");
    const media = h.client(MediaService, { credential: org.accessToken });
    const wav = await uploadByPut(media, "call.wav", files.wav);
    const opus = await uploadByPut(media, "call.opus", files.opus);
    await media.deleteMedia({ mediaId: wav.mediaId });
    const res = await h.client(UsageService, { credential: org.accessToken }).getUsage(aroundNow());
    expect(Number(res.total!.peakStorageBytes)).toBe(files.wav.length + files.opus.length);
    // The last bucket starts after the deletion: it holds the Ogg file only, from its start to its end.
    expect(Number(res.buckets.at(-1)!.usage!.peakStorageBytes)).toBe(files.opus.length);
    expect(opus.mediaId).not.toBe(wav.mediaId);
  });

  it("refuses an unknown time zone and a period too long for the granularity", async () => {
    const client = h.client(UsageService, { credential: viewer.accessToken });
    const period = { startTime: timestampFromDate(day("2026-03-01")), endTime: timestampFromDate(day("2026-03-05")) };
    expect(await codeOf(client.getUsage({ ...period, timeZone: "Mars/Olympus" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.getUsage({ startTime: period.startTime, endTime: timestampFromDate(day("2026-06-01")), granularity: UsageGranularity.HOUR }))).toBe(Code.InvalidArgument);
  });
});

describe("quotas", () => {
  it("reports every limit the contract lists, with its use now", async () => {
    const org = await registerOwner(h, "منظمة الحدود");
    await h.client(ApiKeyService, { credential: org.accessToken }).createApiKey({ name: "k", scopes: [ApiKeyScope.SPEECH] });
    await h.client(OrganizationService, { credential: org.accessToken }).inviteMember({ email: `invited-${Date.now()}@example.com`, role: MemberRole.MEMBER });
    await uploadByPut(h.client(MediaService, { credential: org.accessToken }), "call.wav", files.wav);
    const { limits } = await h.client(UsageService, { credential: org.accessToken }).getQuota({});
    const byMetric = Object.fromEntries(limits.map((l) => [QuotaMetric[l.metric], { limit: l.limit, used: l.used, resets: l.resetsAt !== undefined }]));
    expect(byMetric).toEqual({
      AUDIO_SECONDS: { limit: 600n, used: 0n, resets: true },
      CONCURRENT_STREAMS: { limit: BigInt(h.platform.config.maxLiveStreamsPerOrganization), used: 0n, resets: false },
      CONCURRENT_JOBS: { limit: undefined, used: 0n, resets: false },
      STORAGE_BYTES: { limit: undefined, used: BigInt(files.wav.length), resets: false },
      API_KEYS: { limit: undefined, used: 1n, resets: false },
      // The owner and the pending invitation.
      MEMBERS: { limit: undefined, used: 2n, resets: false },
    });
  });

  it("refuses Recognize once the month's audio is used", async () => {
    const org = await registerOwner(h, "منظمة نفدت حصتها");
    await usage.record(org.organizationId, "batch", 600, (await seedJob(h.testDb.db, org.organizationId)).jobId);
    const refused = await h.client(SpeechService, { credential: org.accessToken }).recognize(recognizeKeys("9")).catch((e: unknown) => ConnectError.from(e));
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.ResourceExhausted);
  });

  it("reports the plan's monthly audio and refuses work once it is used", async () => {
    const org = await registerOwner(h, "منظمة الحصة");
    const client = h.client(UsageService, { credential: org.accessToken, protocol: "connect" });
    const before = await client.getQuota({});
    expect(before.plan).toBe("free");
    const audio = before.limits.find((l) => l.metric === QuotaMetric.AUDIO_SECONDS)!;
    expect(audio).toMatchObject({ limit: 600n, used: 0n });
    await usage.assertWithinQuota(org.organizationId);

    await usage.record(org.organizationId, "batch", 400, (await seedJob(h.testDb.db, org.organizationId)).jobId);
    await usage.assertWithinQuota(org.organizationId);
    await usage.record(org.organizationId, "live", 200, await seedLiveSession(h.testDb.db, org.organizationId));
    expect((await client.getQuota({})).limits[0]).toMatchObject({ limit: 600n, used: 600n });
    const refused = await usage.assertWithinQuota(org.organizationId).catch((err: unknown) => err);
    expect(refused).toMatchObject({ kind: "resource_exhausted" });
    expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0);

    // An operator raises this organisation's quota in its settings.
    const em = h.testDb.db.fork();
    const row = await em.findOneOrFail(Organization, { id: org.organizationId });
    row.settings = { ...row.settings, audioSecondsPerMonth: 0 };
    await em.flush();
    expect((await client.getQuota({})).limits[0]!.limit).toBeUndefined();
    // GetQuota reads it at once; the check at work's start within REPLICA_CACHE_TTL_MS.
    await new Promise((resolve) => setTimeout(resolve, CACHE_TTL_MS));
    await usage.assertWithinQuota(org.organizationId);
  });
});
