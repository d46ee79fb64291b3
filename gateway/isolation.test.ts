// Tenant isolation, as a matrix: every implemented RPC that takes the id of a resource is called by
// the owner of another organisation (the most a stranger can be), over gRPC and Connect, and must
// answer NOT_FOUND and leave the resource as it was. The matrix is checked against the descriptors,
// so a new id-taking RPC without a case fails here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import { AdminService } from "../proto/gen/arabicstt/v1/admin_pb.js";
import { ApiKeyScope, ApiKeyService } from "../proto/gen/arabicstt/v1/api_key_pb.js";
import { AuthService } from "../proto/gen/arabicstt/v1/auth_pb.js";
import { MemberRole } from "../proto/gen/arabicstt/v1/common_pb.js";
import { OrganizationService, OrganizationState } from "../proto/gen/arabicstt/v1/organization_pb.js";
import { WebhookEventType, WebhookService } from "../proto/gen/arabicstt/v1/webhook_pb.js";
import { TranscriptService } from "../proto/gen/arabicstt/v1/transcript_pb.js";
import { ExportFormat, ExportService } from "../proto/gen/arabicstt/v1/export_pb.js";
import { PrivacyService } from "../proto/gen/arabicstt/v1/privacy_pb.js";
import { stereoCall } from "../services/transcripts/testing.js";
import { seedJob } from "../services/app/testing.js";
import { MediaService, MediaState } from "../proto/gen/arabicstt/v1/media_pb.js";
import { makeMediaFiles, sha256, uploadByStream, type MediaFiles } from "./testing/media.js";
import { productServices } from "../services/app/product-services.js";
import { JobService } from "../proto/gen/arabicstt/v1/job_pb.js";
import { SpeechService } from "../proto/gen/arabicstt/v1/speech_pb.js";
import { AudioEncoding } from "../proto/gen/arabicstt/v1/recognition_pb.js";
import { UsageService } from "../proto/gen/arabicstt/v1/usage_pb.js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Job } from "../services/jobs/job.entity.js";
import { startIdentityGateway, type IdentityGateway } from "./testing/identity-gateway.js";
import { joinAs, registerOwner, TEST_PASSWORD, type TestAccount } from "./testing/accounts.js";

type Protocol = "grpc" | "connect";

/** Tenant A's live session: 16 kHz PCM through the keypad model, which needs no weights. */
const LIVE_CONFIG = { config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf" } };
/** Tenant A's own audio chunks, numbered on from the first. */
let aSequence = -1;
interface Case {
  /** Calls the RPC as the stranger, aiming at tenant A's resource. */
  call(protocol: Protocol): Promise<unknown>;
  /** Throws if tenant A's resource changed. */
  unchanged(): Promise<void>;
}

/** `_id` fields that filter the caller's own data rather than name a resource to fetch. */
const NOT_RESOURCE_IDS: Record<string, string> = {
  "arabicstt.v1.AdminService/ListAuditEvents.actor_user_id": "filters events already limited to the caller's organisation",
  // Platform operators act across organisations by design; anyone else is refused by the policy
  // table before any lookup (services/identity/orgs/suspension.test.ts).
  "arabicstt.v1.AdminService/SuspendOrganization.organization_id": "platform admins only",
  // Filters of the caller's own lists: another organisation's id matches nothing (checked below).
  "arabicstt.v1.TranscriptService/ListTranscripts.media_id": "filters transcripts already limited to the caller's organisation",
  "arabicstt.v1.UsageService/GetUsage.api_key_id": "filters usage already limited to the caller's organisation",
  "arabicstt.v1.JobService/ListJobs.media_id": "filters jobs already limited to the caller's organisation",
};

let h: IdentityGateway;
let a: TestAccount;
let aMember: TestAccount;
let aKey: { id: string; secret: string };
let stranger: TestAccount;
let aWebhook: { id: string; secretPrefix: string };
let aDeliveryId: string;
let cases: Record<string, Case>;
let aTranscript: { id: string; segmentId: string; mediaId: string };
let aExportId: string;
let aDataExportId: string;
let aErasureId: string;
let files: MediaFiles;
let aMedia: { id: string; size: bigint; sha256: string };
let aJobId: string;
let aSessionId: string;

beforeAll(async () => {
  // Private targets allowed so tenant A's webhook can point at a closed loopback port: nothing answers.
  h = await startIdentityGateway({ WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" });
  files = await makeMediaFiles();
  a = await registerOwner(h, "المنظمة أ");
  aMember = await joinAs(h, a.organizationId, "member");
  const created = await h.client(ApiKeyService, { credential: a.accessToken }).createApiKey({ name: "a", scopes: [ApiKeyScope.JOBS_READ] });
  aKey = { id: created.apiKey!.apiKeyId, secret: created.secret };
  stranger = await registerOwner(h, "المنظمة ب");
  const hook = await h.client(WebhookService, { credential: a.accessToken }).createWebhook({ url: "https://127.0.0.1:9/hook", eventTypes: [WebhookEventType.JOB_SUCCEEDED] });
  aWebhook = { id: hook.webhook!.webhookId, secretPrefix: hook.webhook!.secretPrefix };
  await h.webhooks.webhooks.publish({ organizationId: a.organizationId, type: "job.succeeded", data: {} });
  const { deliveries } = await h.client(WebhookService, { credential: a.accessToken }).listDeliveries({ webhookId: aWebhook.id });
  aDeliveryId = deliveries[0]!.deliveryId;
  const aJob = await seedJob(h.testDb.db, a.organizationId);
  aJobId = aJob.jobId;
  aSessionId = (await h.client(SpeechService, { credential: a.accessToken }).createLiveSession({ streamingConfig: LIVE_CONFIG })).session!.sessionId;
  const written = await h.transcripts!.transcripts.create(a.organizationId, stereoCall({ jobId: aJob.jobId }));
  const aSegments = await h.transcripts!.transcripts.allSegments(a.organizationId, written.id);
  aTranscript = { id: written.id, segmentId: aSegments[0]!.id, mediaId: aJob.mediaId };
  aExportId = (await h.client(ExportService, { credential: a.accessToken }).createExport({ transcriptId: written.id, format: ExportFormat.TXT })).export!.exportId;
  aDataExportId = (await h.client(PrivacyService, { credential: a.accessToken }).createDataExport({})).dataExport!.dataExportId;
  // An erasure A's owner asked for (of a user already gone), written as the privacy capability leaves one.
  const [erasure] = await h.testDb.db
    .fork()
    .getConnection()
    .execute<Array<{ id: string }>>(`insert into erasures (subject_type, subject_id, status, requested_by, completed_at) values ('user', gen_random_uuid(), 'completed', ?, now()) returning id`, [a.userId]);
  aErasureId = erasure!.id;
  // The stranger's own transcript, to aim a segment id of A's through it.
  const strangerJob = await seedJob(h.testDb.db, stranger.organizationId);
  const strangerTranscriptId = (await h.transcripts!.transcripts.create(stranger.organizationId, stereoCall({ jobId: strangerJob.jobId }))).id;
  const uploaded = await uploadByStream(h.client(MediaService, { credential: a.accessToken }), { filename: "سري.wav" }, files.wav);
  aMedia = { id: uploaded.mediaId, size: BigInt(files.wav.length), sha256: sha256(files.wav) };

  const as = <S extends DescService>(service: S, protocol: Protocol) => h.client(service, { credential: stranger.accessToken, protocol });
  const aMemberRole = async () => {
    const members = await h.client(OrganizationService, { credential: a.accessToken }).listMembers({});
    const found = members.members.find((m) => m.userId === aMember.userId);
    if (found?.role !== MemberRole.MEMBER) throw new Error("tenant A's member was changed or removed");
  };
  const aKeyActive = async () => {
    const { apiKeys } = await h.client(ApiKeyService, { credential: a.accessToken }).listApiKeys({});
    if (!apiKeys.some((k) => k.apiKeyId === aKey.id)) throw new Error("tenant A's key was revoked");
  };
  const aWebhookIntact = async () => {
    const { webhooks } = await h.client(WebhookService, { credential: a.accessToken }).listWebhooks({});
    const found = webhooks.find((w) => w.webhookId === aWebhook.id);
    if (found?.secretPrefix !== aWebhook.secretPrefix || found.previousSecretExpiresAt) throw new Error("tenant A's webhook was deleted or its secret rotated");
    const { deliveries } = await h.client(WebhookService, { credential: a.accessToken }).listDeliveries({ webhookId: aWebhook.id });
    if (!deliveries.some((d) => d.deliveryId === aDeliveryId)) throw new Error("tenant A's delivery is gone");
  };
  const aMediaIntact = async () => {
    const { media } = await h.client(MediaService, { credential: a.accessToken }).getMedia({ mediaId: aMedia.id });
    if (media?.state !== MediaState.READY || media.sha256 !== aMedia.sha256) throw new Error("tenant A's media was changed or deleted");
    const { url } = await h.client(MediaService, { credential: a.accessToken }).getMediaDownloadUrl({ mediaId: aMedia.id });
    if ((await fetch(url)).status !== 200) throw new Error("tenant A's media bytes are gone");
  };
  const nothing = async () => undefined;
  const aJobNotCancelled = async () => {
    const job = await h.testDb.db.fork().findOne(Job, { id: aJobId });
    if (!job || job.status === "cancelled") throw new Error("tenant A's job was cancelled or removed");
  };
  const strangerHasNoJob = async () => {
    if ((await h.testDb.db.fork().count(Job, { organization: stranger.organizationId })) > 1) throw new Error("the stranger made a job of tenant A's media");
  };
  const aSessionOpen = async () => {
    await h.client(SpeechService, { credential: a.accessToken }).sendLiveAudio({ sessionId: aSessionId, sequenceNumber: BigInt(++aSequence), audioContent: new Uint8Array(320) });
  };
  const firstOf = async (stream: AsyncIterable<unknown>) => {
    for await (const message of stream) return message;
  };
  const aTranscriptIntact = async () => {
    const res = await h.client(TranscriptService, { credential: a.accessToken }).getTranscript({ transcriptId: aTranscript.id, includeEditHistory: true });
    if (res.transcript!.editCount !== 0 || res.transcript!.speakers.some((sp) => sp.displayName !== "")) throw new Error("tenant A's transcript was changed");
  };
  const aExportIntact = async () => {
    await h.client(ExportService, { credential: a.accessToken }).getExport({ exportId: aExportId });
  };
  cases = {
    "arabicstt.v1.AuthService/Login.organization_id": {
      call: (p) => h.client(AuthService, { protocol: p }).login({ email: stranger.email, password: TEST_PASSWORD, organizationId: a.organizationId }),
      unchanged: nothing,
    },
    "arabicstt.v1.AuthService/RefreshToken.organization_id": {
      call: (p) => h.client(AuthService, { protocol: p }).refreshToken({ refreshToken: stranger.refreshToken, organizationId: a.organizationId }),
      // The stranger's own refresh token is not spent by the failed switch.
      unchanged: async () => {
        const res = await h.client(AuthService).refreshToken({ refreshToken: stranger.refreshToken });
        stranger = { ...stranger, accessToken: res.tokens!.accessToken, refreshToken: res.tokens!.refreshToken };
      },
    },
    "arabicstt.v1.OrganizationService/UpdateMemberRole.user_id": {
      call: (p) => as(OrganizationService, p).updateMemberRole({ userId: aMember.userId, role: MemberRole.VIEWER }),
      unchanged: aMemberRole,
    },
    "arabicstt.v1.OrganizationService/RemoveMember.user_id": {
      call: (p) => as(OrganizationService, p).removeMember({ userId: aMember.userId }),
      unchanged: aMemberRole,
    },
    "arabicstt.v1.ApiKeyService/RevokeApiKey.api_key_id": {
      call: (p) => as(ApiKeyService, p).revokeApiKey({ apiKeyId: aKey.id }),
      unchanged: aKeyActive,
    },
    "arabicstt.v1.WebhookService/DeleteWebhook.webhook_id": {
      call: (p) => as(WebhookService, p).deleteWebhook({ webhookId: aWebhook.id }),
      unchanged: aWebhookIntact,
    },
    "arabicstt.v1.WebhookService/RotateWebhookSecret.webhook_id": {
      call: (p) => as(WebhookService, p).rotateWebhookSecret({ webhookId: aWebhook.id }),
      unchanged: aWebhookIntact,
    },
    "arabicstt.v1.WebhookService/ListDeliveries.webhook_id": {
      call: (p) => as(WebhookService, p).listDeliveries({ webhookId: aWebhook.id }),
      unchanged: nothing,
    },
    "arabicstt.v1.WebhookService/RedeliverDelivery.delivery_id": {
      call: (p) => as(WebhookService, p).redeliverDelivery({ deliveryId: aDeliveryId }),
      unchanged: aWebhookIntact,
    },
    "arabicstt.v1.TranscriptService/GetTranscript.transcript_id": {
      call: (p) => as(TranscriptService, p).getTranscript({ transcriptId: aTranscript.id }),
      unchanged: nothing,
    },
    "arabicstt.v1.TranscriptService/UpdateSegment.transcript_id": {
      call: (p) => as(TranscriptService, p).updateSegment({ transcriptId: aTranscript.id, segmentId: aTranscript.segmentId, text: "مخترق" }),
      unchanged: aTranscriptIntact,
    },
    "arabicstt.v1.TranscriptService/UpdateSegment.segment_id": {
      call: (p) => as(TranscriptService, p).updateSegment({ transcriptId: strangerTranscriptId, segmentId: aTranscript.segmentId, text: "مخترق" }),
      unchanged: aTranscriptIntact,
    },
    "arabicstt.v1.TranscriptService/RenameSpeaker.transcript_id": {
      call: (p) => as(TranscriptService, p).renameSpeaker({ transcriptId: aTranscript.id, speakerLabel: "S1", displayName: "مخترق" }),
      unchanged: aTranscriptIntact,
    },
    "arabicstt.v1.TranscriptService/DeleteTranscript.transcript_id": {
      call: (p) => as(TranscriptService, p).deleteTranscript({ transcriptId: aTranscript.id }),
      unchanged: aTranscriptIntact,
    },
    "arabicstt.v1.ExportService/CreateExport.transcript_id": {
      call: (p) => as(ExportService, p).createExport({ transcriptId: aTranscript.id, format: ExportFormat.JSON }),
      unchanged: nothing,
    },
    "arabicstt.v1.PrivacyService/GetDataExport.data_export_id": {
      call: (p) => as(PrivacyService, p).getDataExport({ dataExportId: aDataExportId }),
      unchanged: async () => {
        await h.client(PrivacyService, { credential: a.accessToken }).getDataExport({ dataExportId: aDataExportId });
      },
    },
    "arabicstt.v1.PrivacyService/EraseOrganization.organization_id": {
      call: (p) => as(PrivacyService, p).eraseOrganization({ organizationId: a.organizationId }),
      unchanged: async () => {
        const { organization } = await h.client(OrganizationService, { credential: a.accessToken }).getOrganization({});
        if (organization?.state !== OrganizationState.ACTIVE) throw new Error("tenant A was suspended for erasure");
      },
    },
    "arabicstt.v1.PrivacyService/EraseUser.user_id": {
      call: (p) => as(PrivacyService, p).eraseUser({ userId: aMember.userId }),
      unchanged: async () => {
        await h.client(OrganizationService, { credential: aMember.accessToken }).getOrganization({});
      },
    },
    "arabicstt.v1.PrivacyService/GetErasure.erasure_id": {
      call: (p) => as(PrivacyService, p).getErasure({ erasureId: aErasureId }),
      unchanged: async () => {
        await h.client(PrivacyService, { credential: a.accessToken }).getErasure({ erasureId: aErasureId });
      },
    },
    "arabicstt.v1.ExportService/GetExport.export_id": {
      call: (p) => as(ExportService, p).getExport({ exportId: aExportId }),
      unchanged: aExportIntact,
    },
    "arabicstt.v1.MediaService/CompleteUpload.media_id": {
      call: (p) => as(MediaService, p).completeUpload({ mediaId: aMedia.id, sizeBytes: aMedia.size, sha256: aMedia.sha256 }),
      unchanged: aMediaIntact,
    },
    "arabicstt.v1.MediaService/GetMedia.media_id": {
      call: (p) => as(MediaService, p).getMedia({ mediaId: aMedia.id }),
      unchanged: nothing,
    },
    "arabicstt.v1.MediaService/DeleteMedia.media_id": {
      call: (p) => as(MediaService, p).deleteMedia({ mediaId: aMedia.id }),
      unchanged: aMediaIntact,
    },
    "arabicstt.v1.MediaService/GetMediaDownloadUrl.media_id": {
      call: (p) => as(MediaService, p).getMediaDownloadUrl({ mediaId: aMedia.id }),
      unchanged: nothing,
    },
    "arabicstt.v1.JobService/GetJob.job_id": { call: (p) => as(JobService, p).getJob({ jobId: aJobId }), unchanged: nothing },
    "arabicstt.v1.JobService/CancelJob.job_id": { call: (p) => as(JobService, p).cancelJob({ jobId: aJobId }), unchanged: aJobNotCancelled },
    "arabicstt.v1.JobService/RetryJob.job_id": { call: (p) => as(JobService, p).retryJob({ jobId: aJobId }), unchanged: aJobNotCancelled },
    "arabicstt.v1.JobService/WatchJob.job_id": { call: (p) => firstOf(as(JobService, p).watchJob({ jobId: aJobId })), unchanged: nothing },
    "arabicstt.v1.JobService/CreateJob.media_id": {
      call: (p) => as(JobService, p).createJob({ mediaId: aMedia.id, config: { model: "dtmf" } }),
      unchanged: strangerHasNoJob,
    },
    "arabicstt.v1.SpeechService/Recognize.media_id": {
      call: (p) => as(SpeechService, p).recognize({ config: { model: "dtmf" }, audioSource: { case: "mediaId", value: aMedia.id } }),
      unchanged: nothing,
    },
    "arabicstt.v1.SpeechService/SendLiveAudio.session_id": {
      call: (p) => as(SpeechService, p).sendLiveAudio({ sessionId: aSessionId, sequenceNumber: 1000n, audioContent: new Uint8Array(320) }),
      unchanged: aSessionOpen,
    },
    "arabicstt.v1.SpeechService/WatchLiveSession.session_id": { call: (p) => firstOf(as(SpeechService, p).watchLiveSession({ sessionId: aSessionId })), unchanged: aSessionOpen },
    "arabicstt.v1.SpeechService/CloseLiveSession.session_id": { call: (p) => as(SpeechService, p).closeLiveSession({ sessionId: aSessionId }), unchanged: aSessionOpen },
    "arabicstt.v1.AdminService/ListAuditEvents.organization_id": {
      call: (p) => as(AdminService, p).listAuditEvents({ organizationId: a.organizationId }),
      unchanged: nothing,
    },
  };
});
afterAll(async () => {
  await h?.stop();
  await files?.remove();
});

function idTakingRpcs(): string[] {
  const implemented = h.handlers as Record<string, Record<string, unknown> | undefined>;
  const found: string[] = [];
  for (const service of productServices) {
    const impl = implemented[service.typeName] ?? {};
    for (const method of service.methods) {
      if (!(method.localName in impl)) continue;
      for (const field of method.input.fields) {
        const key = `${service.typeName}/${method.name}.${field.name}`;
        if (field.name.endsWith("_id") && !(key in NOT_RESOURCE_IDS)) found.push(key);
      }
    }
  }
  return found.sort();
}

describe("tenant isolation", () => {
  it("has a case for every implemented RPC that takes a resource id", () => {
    expect(Object.keys(cases).sort()).toEqual(idTakingRpcs());
  });

  it("answers NOT_FOUND to a caller from another organisation, over gRPC and Connect, and changes nothing", async () => {
    const outcomes: Record<string, Code | "ok"> = {};
    for (const [name, c] of Object.entries(cases)) {
      for (const protocol of ["grpc", "connect"] as const) {
        outcomes[`${name} over ${protocol}`] = await c.call(protocol).then(
          () => "ok" as const,
          (err: unknown) => ConnectError.from(err).code,
        );
        await c.unchanged();
      }
    }
    const expected = Object.fromEntries(Object.keys(outcomes).map((k) => [k, Code.NotFound]));
    expect(outcomes).toEqual(expected);
    // The figure for the closing note: cases tried and denied.
    console.log(`isolation: ${Object.keys(outcomes).length} cases tried, ${Object.values(outcomes).filter((c) => c === Code.NotFound).length} denied with NOT_FOUND`);
  });

  it("still lets tenant A use what the stranger aimed at", async () => {
    await h.client(OrganizationService, { credential: aMember.accessToken }).getOrganization({});
    const { apiKeys } = await h.client(ApiKeyService, { credential: a.accessToken }).listApiKeys({});
    expect(apiKeys.map((k) => k.apiKeyId)).toContain(aKey.id);
    await h.client(TranscriptService, { credential: aMember.accessToken }).getTranscript({ transcriptId: aTranscript.id });
    expect((await h.client(ExportService, { credential: aMember.accessToken }).getExport({ exportId: aExportId })).export!.downloadUrl).not.toBe("");
    const { media } = await h.client(MediaService, { credential: aMember.accessToken }).listMedia({});
    expect(media.map((m) => m.mediaId)).toContain(aMedia.id);
    // And the stranger's own list does not show it.
    expect((await h.client(MediaService, { credential: stranger.accessToken }).listMedia({})).media.map((m) => m.mediaId)).not.toContain(aMedia.id);
  });

  it("matches nothing of tenant A when the stranger filters a list by A's ids", async () => {
    const listed = await h.client(TranscriptService, { credential: stranger.accessToken }).listTranscripts({ mediaId: aTranscript.mediaId });
    expect(listed.transcripts).toEqual([]);
    const jobs = await h.client(JobService, { credential: stranger.accessToken }).listJobs({ mediaId: aTranscript.mediaId });
    expect(jobs.jobs).toEqual([]);
    const found = await h.client(TranscriptService, { credential: stranger.accessToken }).searchTranscripts({ query: "الفاتورة" });
    expect(found.results.map((r) => r.transcriptId)).not.toContain(aTranscript.id);
    // A Recognize call of tenant A's key: A sees it by the key, the stranger sees nothing by the same id.
    await h.transcripts.usage.recordRecognize(a.organizationId, 7, aKey.id);
    const period = { startTime: timestampFromDate(new Date(Date.now() - 3_600_000)), endTime: timestampFromDate(new Date(Date.now() + 3_600_000)), apiKeyId: aKey.id };
    const byKey = async (account: TestAccount) => Number((await h.client(UsageService, { credential: account.accessToken }).getUsage(period)).total!.recognizeRequestCount);
    expect([await byKey(a), await byKey(stranger)]).toEqual([1, 0]);
  });
});
