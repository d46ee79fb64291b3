// Privacy requests over the public API, against the real database and blob store: an owner takes the whole
// organisation away as one ZIP archive (its transcript, members and media file in it); an organisation and a
// user are erased so that no RPC, no table and no bucket shows anything of them afterwards, leaving one audit
// event without personal data; erasure is refused to anyone but the owner, the user themself or a platform
// admin, is answered with the first request when asked twice, and one a crash interrupted is finished when
// the platform starts again. The transcript comes from a real `dtmf` job.
import { inflateRawSync } from "node:zlib";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { AdminService } from "../../proto/gen/arabicstt/v1/admin_pb.js";
import { AuthService } from "../../proto/gen/arabicstt/v1/auth_pb.js";
import { ExportFormat, ExportService } from "../../proto/gen/arabicstt/v1/export_pb.js";
import { JobService, JobState } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { MediaService } from "../../proto/gen/arabicstt/v1/media_pb.js";
import { OrganizationService } from "../../proto/gen/arabicstt/v1/organization_pb.js";
import { DataExportState, ErasureState, ErasureSubjectType, PrivacyService } from "../../proto/gen/arabicstt/v1/privacy_pb.js";
import { TranscriptService } from "../../proto/gen/arabicstt/v1/transcript_pb.js";
import { createAudioDir, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { joinAs, registerOwner, TEST_PASSWORD, uniqueEmail, type TestAccount } from "../../gateway/testing/accounts.js";
import { startJobsGateway, type JobsGateway } from "../../gateway/testing/jobs-gateway.js";
import { startTestPlatform } from "../../gateway/testing/platform.js";
import { BUCKET_NAMES, type BlobStore } from "../platform/blobs/blob-store.js";
import { S3BlobStore } from "../platform/blobs/s3-blob-store.js";

const adminEmail = uniqueEmail();
let h: JobsGateway;
let audio: AudioDir;
let admin: TestAccount;

beforeAll(async () => {
  h = await startJobsGateway({ env: { PLATFORM_ADMIN_EMAILS: adminEmail } });
  audio = await createAudioDir("privacy-");
  await soxDtmf("4711", audio.path("keys.wav"), { leadMs: 300 });
  const res = await h.client(AuthService).register({ email: adminEmail, password: TEST_PASSWORD, displayName: "مشغل", organizationName: "المشغل" });
  admin = { userId: res.user!.userId, email: adminEmail, organizationId: res.organization!.organizationId, accessToken: res.tokens!.accessToken, refreshToken: res.tokens!.refreshToken };
}, 120_000);

afterAll(async () => {
  await h?.stop();
  await audio?.remove();
});

const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => ConnectError.from(e));
const privacy = (account: TestAccount) => h.client(PrivacyService, { credential: account.accessToken });

/** An organisation with a finished job's transcript, a rendered export, and a second member (an admin). */
async function populatedOrganization() {
  const owner = await registerOwner(h, "مركز بيانات خاصة");
  const member = await joinAs(h, owner.organizationId, "admin");
  const jobs = h.client(JobService, { credential: owner.accessToken });
  const mediaId = await h.addMedia(owner.organizationId, audio.path("keys.wav"));
  const { job } = await jobs.createJob({ mediaId, config: { model: "dtmf" } });
  let transcriptId = "";
  let state = job!.state;
  for await (const progress of jobs.watchJob({ jobId: job!.jobId })) {
    state = progress.state;
    transcriptId = progress.transcriptId || transcriptId;
  }
  expect(state).toBe(JobState.SUCCEEDED);
  const { export: rendered } = await h.client(ExportService, { credential: owner.accessToken }).createExport({ transcriptId, format: ExportFormat.TXT });
  return { owner, member, mediaId, transcriptId, exportId: rendered!.exportId };
}

/** Polls until the erasure is COMPLETED (bounded by count, not by time). */
async function completed(erasureId: string, as: TestAccount = admin, client = privacy(as)) {
  for (let i = 0; i < 300; i++) {
    const { erasure } = await client.getErasure({ erasureId });
    if (erasure!.state === ErasureState.COMPLETED) return erasure!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`erasure ${erasureId} did not complete`);
}

/** Every key in every bucket of the test's store. */
async function allBlobKeys(store: BlobStore, dataDir: string): Promise<string[]> {
  const keys: string[] = [];
  if (store instanceof S3BlobStore) {
    // The store keeps its real bucket names to itself; the test reads them to list what S3 holds.
    const buckets = (store as unknown as { buckets: Record<string, string> }).buckets;
    for (const bucket of BUCKET_NAMES) {
      let token: string | undefined;
      do {
        const page = await store.client.send(new ListObjectsV2Command({ Bucket: buckets[bucket], ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((o) => `${bucket}/${o.Key}`));
        token = page.NextContinuationToken;
      } while (token);
    }
    return keys;
  }
  for (const bucket of BUCKET_NAMES) {
    const root = path.join(dataDir, "blobs", bucket);
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    keys.push(...entries.filter((e) => e.isFile()).map((e) => `${bucket}/${path.relative(root, path.join(e.parentPath, e.name))}`));
  }
  return keys;
}

/** Rows anywhere in the database that name `id` in an organisation or user column. */
async function rowsNaming(id: string): Promise<string[]> {
  const connection = h.testDb.db.fork().getConnection();
  const columns = await connection.execute<Array<{ table_name: string; column_name: string }>>(
    `select table_name, column_name from information_schema.columns
      where table_schema = current_schema() and data_type = 'uuid'
        and column_name in ('id', 'organization_id', 'user_id', 'actor_user_id', 'created_by_id', 'invited_by_id', 'requested_by_id')`,
  );
  const found: string[] = [];
  for (const c of columns) {
    const [row] = await connection.execute<Array<{ n: string }>>(`select count(*) as n from "${c.table_name}" where "${c.column_name}" = ?`, [id]);
    if (Number(row!.n) > 0) found.push(`${c.table_name}.${c.column_name}`);
  }
  return found;
}

/** The files of a ZIP archive, by name (stored or deflated entries, as archiver writes them). */
function unzip(zip: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    const local = zip.readUInt32LE(at + 42);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    files.set(name, method === 8 ? inflateRawSync(data) : data);
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return files;
}

describe("data export", () => {
  it("exports an organisation's data as one ZIP archive at a download URL, with progress, that holds its transcript", async () => {
    const { owner, member, mediaId, transcriptId } = await populatedOrganization();
    const { dataExport: started } = await privacy(owner).createDataExport({});
    expect([DataExportState.PENDING, DataExportState.RUNNING]).toContain(started!.state);
    let done = started!;
    const progress: number[] = [];
    for (let i = 0; i < 300 && done.state !== DataExportState.SUCCEEDED && done.state !== DataExportState.FAILED; i++) {
      await new Promise((r) => setTimeout(r, 100));
      done = (await privacy(owner).getDataExport({ dataExportId: started!.dataExportId })).dataExport!;
      progress.push(done.progressPercent);
    }
    expect(done.state).toBe(DataExportState.SUCCEEDED);
    expect(done.progressPercent).toBe(100);
    // Progress only moves forward.
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(done.expiresAt).toBeDefined();
    const res = await fetch(done.downloadUrl);
    expect(res.status).toBe(200);
    const zip = Buffer.from(await res.arrayBuffer());
    expect(BigInt(zip.length)).toBe(done.sizeBytes);
    const files = unzip(zip);
    const rows = (name: string) => files.get(name)!.toString("utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const transcripts = rows("transcripts.ndjson");
    expect(transcripts.map((t) => [t.id, t.text])).toEqual([[transcriptId, "4711"]]);
    expect(rows("segments.ndjson").map((s) => s.text).join(" ")).toContain("4711");
    expect(rows("members.ndjson").map((m) => m.email).sort()).toEqual([owner.email, member.email].sort());
    expect(rows("jobs.ndjson")).toHaveLength(1);
    expect(rows("usage_records.ndjson")).toHaveLength(1);
    expect(rows("audit_events.ndjson").length).toBeGreaterThan(0);
    expect([...files.keys()]).toContain(`media/${mediaId}/keys.wav`);
    expect(files.get(`media/${mediaId}/keys.wav`)!.subarray(0, 4).toString()).toBe("RIFF");
    // Secrets and search vectors stay out.
    expect(files.get("api_keys.ndjson")!.toString()).not.toContain("key_hash");
    expect(files.get("segments.ndjson")!.toString()).not.toContain("search_ar");
    expect(JSON.parse(files.get("manifest.json")!.toString()).organization_id).toBe(owner.organizationId);
  });

  it("is for the owner only: an admin of the organisation is refused, and another organisation's export is not found", async () => {
    const { owner, member } = await populatedOrganization();
    expect((await refusal(privacy(member).createDataExport({})))?.code).toBe(Code.PermissionDenied);
    const { dataExport } = await privacy(owner).createDataExport({});
    const stranger = await registerOwner(h);
    expect((await refusal(privacy(stranger).getDataExport({ dataExportId: dataExport!.dataExportId })))?.code).toBe(Code.NotFound);
  });

  it("writes one export of an organisation at a time: a second while one is being written is refused, naming it", async () => {
    const owner = await registerOwner(h);
    // An export another process is writing now (its lease runs): what a second request meets.
    const [busy] = await h.testDb.db
      .fork()
      .getConnection()
      .execute<Array<{ id: string }>>(`insert into data_exports (organization_id, status, lease_until) values (?, 'running', now() + interval '5 minutes') returning id`, [owner.organizationId]);
    const refused = await refusal(privacy(owner).createDataExport({}));
    expect(refused?.code).toBe(Code.FailedPrecondition);
    expect(refused?.rawMessage).toContain(busy!.id);
  });
});

describe("erasure", () => {
  it("is refused to anyone but the owner, the user themself or a platform admin", async () => {
    const { owner, member } = await populatedOrganization();
    const stranger = await registerOwner(h);
    const denied = await refusal(privacy(member).eraseOrganization({ organizationId: owner.organizationId }));
    expect(denied?.code).toBe(Code.PermissionDenied);
    expect(denied?.rawMessage).toMatch(/owner or a platform admin/);
    expect((await refusal(privacy(stranger).eraseOrganization({ organizationId: owner.organizationId })))?.code).toBe(Code.NotFound);
    expect((await refusal(privacy(member).eraseUser({ userId: owner.userId })))?.code).toBe(Code.PermissionDenied);
    // The only owner of an organisation with other members must hand it over (or erase it) first.
    const alone = await refusal(privacy(owner).eraseUser({ userId: owner.userId }));
    expect(alone?.code).toBe(Code.FailedPrecondition);
    expect(alone?.rawMessage).toContain(owner.organizationId);
    // Nothing was erased by any of it.
    expect((await h.client(OrganizationService, { credential: owner.accessToken }).getOrganization({})).organization?.organizationId).toBe(owner.organizationId);
  });

  it("erases an organisation: afterwards no RPC and no bucket shows anything of it, and the audit event left holds no personal data", async () => {
    const { owner, member, mediaId, transcriptId, exportId } = await populatedOrganization();
    const orgId = owner.organizationId;
    const { dataExport } = await privacy(owner).createDataExport({});
    for (let i = 0; i < 300; i++) {
      const { dataExport: d } = await privacy(owner).getDataExport({ dataExportId: dataExport!.dataExportId });
      if (d!.state === DataExportState.SUCCEEDED) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await allBlobKeys(h.blobs, h.dataDir)).filter((k) => k.includes(orgId)).length).toBeGreaterThanOrEqual(3);

    const { erasure, alreadyRequested } = await privacy(owner).eraseOrganization({ organizationId: orgId });
    expect(alreadyRequested).toBe(false);
    expect(erasure!.subjectType).toBe(ErasureSubjectType.ORGANIZATION);
    expect(erasure!.subjectId).toBe(orgId);
    const done = await completed(erasure!.erasureId);
    expect(done.completedAt).toBeDefined();
    // Checked before this test tries the owner's address again (a failed login is logged with the address tried).
    const adminApi = h.client(AdminService, { credential: admin.accessToken });
    const everything = JSON.stringify((await adminApi.listAuditEvents({ pageSize: 200 })).events, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
    expect(everything).not.toContain(owner.email);

    // Asked again (by a platform admin: the owner's account went with the organisation): the same erasure.
    const again = await privacy(admin).eraseOrganization({ organizationId: orgId });
    expect(again.alreadyRequested).toBe(true);
    expect(again.erasure!.erasureId).toBe(erasure!.erasureId);
    expect(again.erasure!.state).toBe(ErasureState.COMPLETED);

    // The owner belonged to no other organisation: the account is gone; the member's own organisation remains.
    expect((await refusal(h.client(OrganizationService, { credential: owner.accessToken }).getOrganization({})))?.code).toBe(Code.Unauthenticated);
    expect((await refusal(h.client(AuthService).login({ email: owner.email, password: TEST_PASSWORD })))?.code).toBe(Code.Unauthenticated);
    expect((await refusal(h.client(AuthService).login({ email: member.email, password: TEST_PASSWORD, organizationId: orgId })))?.code).toBe(Code.NotFound);
    const memberAgain = await h.client(AuthService).login({ email: member.email, password: TEST_PASSWORD });
    const asMember = { credential: memberAgain.tokens!.accessToken };
    expect(memberAgain.organization?.organizationId).not.toBe(orgId);
    expect((await refusal(h.client(TranscriptService, asMember).getTranscript({ transcriptId })))?.code).toBe(Code.NotFound);
    expect((await refusal(h.client(MediaService, asMember).getMedia({ mediaId })))?.code).toBe(Code.NotFound);
    expect((await refusal(h.client(ExportService, asMember).getExport({ exportId })))?.code).toBe(Code.NotFound);

    const { organizations } = await adminApi.listOrganizations({ pageSize: 200 });
    expect(organizations.map((o) => o.organizationId)).not.toContain(orgId);
    expect((await adminApi.listAuditEvents({ organizationId: orgId })).events).toEqual([]);
    const { events } = await adminApi.listAuditEvents({ actionPrefix: "privacy.organization_erase" });
    const left = events.filter((e) => e.resourceId === orgId);
    expect(left).toHaveLength(1);
    expect(left[0]!.organizationId).toBe("");
    expect(left[0]!.details.accounts_erased).toBe("1");

    expect(await rowsNaming(orgId)).toEqual([]);
    expect(await rowsNaming(owner.userId)).toEqual([]);
    expect((await allBlobKeys(h.blobs, h.dataDir)).filter((k) => k.includes(orgId))).toEqual([]);
  });

  it("erases a user: the account, its sessions and its audit trail, and keeps the organisation it shared", async () => {
    const { owner, member } = await populatedOrganization();
    // The member's own organisation (joinAs registers one) has nobody else: it goes with the member.
    const [ownOrg] = (await h.testDb.db.fork().getConnection().execute<Array<{ organization_id: string }>>(
      `select organization_id from memberships where user_id = ? and organization_id <> ?`,
      [member.userId, owner.organizationId],
    ));
    const { erasure } = await privacy(member).eraseUser({ userId: member.userId });
    expect(erasure!.subjectType).toBe(ErasureSubjectType.USER);
    await completed(erasure!.erasureId);
    const twice = await privacy(admin).eraseUser({ userId: member.userId });
    expect([twice.alreadyRequested, twice.erasure!.erasureId]).toEqual([true, erasure!.erasureId]);

    expect((await refusal(h.client(AuthService).login({ email: member.email, password: TEST_PASSWORD })))?.code).toBe(Code.Unauthenticated);
    expect((await refusal(h.client(OrganizationService, { credential: member.accessToken }).getOrganization({})))?.code).toBe(Code.Unauthenticated);
    const { members } = await h.client(OrganizationService, { credential: owner.accessToken }).listMembers({});
    expect(members.map((m) => m.userId)).toEqual([owner.userId]);
    const adminApi = h.client(AdminService, { credential: admin.accessToken });
    expect((await adminApi.listAuditEvents({ actorUserId: member.userId })).events).toEqual([]);
    const { events } = await adminApi.listAuditEvents({ actionPrefix: "privacy.user_erase" });
    expect(events.filter((e) => e.resourceId === member.userId).map((e) => e.details.organizations_erased)).toEqual(["1"]);
    expect(await rowsNaming(member.userId)).toEqual([]);
    expect(await rowsNaming(ownOrg!.organization_id)).toEqual([]);
  });

  it("finishes an erasure a crash interrupted when the platform starts again", async () => {
    const victim = await registerOwner(h, "منظمة ستمحى");
    // What a process that died right after recording the request leaves behind: a running erasure with a lapsed lease.
    await h.testDb.db
      .fork()
      .getConnection()
      .execute(`insert into erasures (subject_type, subject_id, status, requested_by, attempts, lease_until) values ('organization', ?, 'running', ?, 1, now() - interval '1 minute')`, [
        victim.organizationId,
        victim.userId,
      ]);
    const restarted = await startTestPlatform({ PLATFORM_ADMIN_EMAILS: adminEmail }, {}, { testDb: h.testDb });
    try {
      const login = await restarted.client(AuthService).login({ email: adminEmail, password: TEST_PASSWORD });
      const adminPrivacy = restarted.client(PrivacyService, { credential: login.tokens!.accessToken });
      const { erasure } = await adminPrivacy.eraseOrganization({ organizationId: victim.organizationId });
      const done = await completed(erasure!.erasureId, admin, adminPrivacy);
      expect(done.state).toBe(ErasureState.COMPLETED);
      expect(await rowsNaming(victim.organizationId)).toEqual([]);
      expect(await rowsNaming(victim.userId)).toEqual([]);
    } finally {
      await restarted.stop();
    }
  });
});
