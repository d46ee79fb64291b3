import { UniqueConstraintViolationException } from "@mikro-orm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEvent } from "../identity/model/audit-event.entity.js";
import { User } from "../identity/model/user.entity.js";
import { Job } from "../jobs/job.entity.js";
import { Media } from "../media/media.entity.js";
import { Membership } from "../identity/model/membership.entity.js";
import { Organization } from "../identity/model/organization.entity.js";
import { Segment } from "../transcripts/segment.entity.js";
import { Transcript } from "../transcripts/transcript.entity.js";
import { UsageRecord } from "../usage/usage-record.entity.js";
import type { Database } from "../platform/database/database.js";
import { createTestDatabase, type TestDatabase } from "./testing.js";

let testDb: TestDatabase;
let db: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.db;
});

afterAll(async () => {
  await testDb?.cleanup();
});

let counter = 0;
/** An organisation with one ready media file, flushed. */
async function seedOrganization(): Promise<{ org: Organization; media: Media }> {
  const em = db.fork();
  const n = ++counter;
  const org = em.create(Organization, { name: `Org ${n}`, slug: `org-${n}` });
  const media = em.create(Media, {
    organization: org,
    filename: "call.wav",
    contentType: "audio/wav",
    storageKey: `media/${org.id}/call.wav`,
    status: "ready",
  });
  await em.flush();
  return { org, media };
}

describe("entities round-trip through the EntityManager", () => {
  it("stores an organisation's user, membership, media, job, transcript and segments and reads them back", async () => {
    const em = db.fork();
    const org = em.create(Organization, { name: "شركة الاتصالات", slug: "telecom" });
    const user = em.create(User, { email: "Sara@Example.com", passwordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA" });
    em.create(Membership, { organization: org, user, role: "owner" });
    const media = em.create(Media, {
      organization: org,
      filename: "مكالمة.wav",
      contentType: "audio/wav",
      storageKey: `media/${org.id}/call.wav`,
      // Past 2^32, to prove bigint comes back as an exact number.
      sizeBytes: 5_000_000_123,
      sha256: "ab".repeat(32),
      status: "ready",
      durationMs: 30_000,
      codec: "pcm_mulaw",
      channels: 2,
      sampleRateHz: 8000,
    });
    const job = em.create(Job, {
      organization: org,
      media,
      config: { languageCode: "ar-SA", diarization: { enabled: true, maxSpeakers: 2 } },
      idempotencyKey: "upload-42",
      referenceText: "المكالمات الهاتفية",
      wer: 0.1234,
      cer: 1.5,
    });
    const transcript = em.create(Transcript, {
      organization: org,
      job,
      languageCode: "ar-SA",
      text: "المكالمات الهاتفية مسجلة",
      durationMs: 30_000,
      metadata: { model: "whisper-large-v3" },
    });
    const words = [
      { word: "المكالمات", startMs: 0, endMs: 640, confidence: 0.93 },
      { word: "الهاتفية", startMs: 640, endMs: 1200, confidence: 0.88, speakerLabel: "S1" },
    ];
    em.create(Segment, { organization: org, transcript, index: 0, channel: 1, speakerLabel: "S1", startMs: 0, endMs: 1200, text: "المكالمات الهاتفية", confidence: 0.9, words });
    em.create(Segment, { organization: org, transcript, index: 1, startMs: 1200, endMs: 2000, text: "مسجلة" });
    await em.flush();

    const read = db.fork();
    const loadedJob = await read.findOneOrFail(Job, job.id, { populate: ["media"] });
    expect(loadedJob).toMatchObject({
      status: "queued",
      progressPercent: 0,
      priority: 0,
      attempts: 0,
      idempotencyKey: "upload-42",
      config: { languageCode: "ar-SA", diarization: { enabled: true, maxSpeakers: 2 } },
      wer: 0.1234,
      cer: 1.5,
      startedAt: null,
    });
    expect(loadedJob.createdAt).toBeInstanceOf(Date);
    expect(loadedJob.organization.id).toBe(org.id);
    expect(loadedJob.media).toMatchObject({ filename: "مكالمة.wav", sizeBytes: 5_000_000_123, channels: 2, sampleRateHz: 8000 });

    const loadedTranscript = await read.findOneOrFail(Transcript, { job: job.id });
    expect(loadedTranscript).toMatchObject({ id: transcript.id, text: "المكالمات الهاتفية مسجلة", metadata: { model: "whisper-large-v3" }, deletedAt: null });

    const segments = await read.find(Segment, { transcript: transcript.id }, { orderBy: { index: "asc" } });
    expect(segments.map((s) => s.text)).toEqual(["المكالمات الهاتفية", "مسجلة"]);
    expect(segments[0]).toMatchObject({ channel: 1, speakerLabel: "S1", startMs: 0, endMs: 1200, words, editHistory: [] });
    expect(segments[0]?.confidence).toBeCloseTo(0.9, 5);
    expect(segments[1]).toMatchObject({ channel: 0, words: [], originalText: null });
    // The search vectors are lazy: loading segments does not drag them along.
    expect(segments[0]?.searchAr).toBeUndefined();

    const membership = await read.findOneOrFail(Membership, { organization: org.id, user: { email: "Sara@Example.com" } });
    expect(membership.role).toBe("owner");
  });

  it("sets updatedAt on every change", async () => {
    const { org } = await seedOrganization();
    const em = db.fork();
    const loaded = await em.findOneOrFail(Organization, org.id);
    const before = loaded.updatedAt.getTime();
    await new Promise((resolve) => setTimeout(resolve, 5));
    loaded.status = "suspended";
    loaded.suspendedAt = new Date();
    await em.flush();
    const reread = await db.fork().findOneOrFail(Organization, org.id);
    expect(reread.status).toBe("suspended");
    expect(reread.updatedAt.getTime()).toBeGreaterThan(before);
  });
});

describe("constraints", () => {
  it("keep emails unique regardless of case", async () => {
    const em = db.fork();
    em.create(User, { email: "Omar@Example.com", passwordHash: "x" });
    await em.flush();
    const again = db.fork();
    again.create(User, { email: "omar@EXAMPLE.com", passwordHash: "y" });
    await expect(again.flush()).rejects.toBeInstanceOf(UniqueConstraintViolationException);
  });

  it("keep job idempotency keys unique per organisation, and only there", async () => {
    const a = await seedOrganization();
    const b = await seedOrganization();
    const em = db.fork();
    em.create(Job, { organization: a.org.id, media: a.media.id, idempotencyKey: "same" });
    em.create(Job, { organization: b.org.id, media: b.media.id, idempotencyKey: "same" });
    // Jobs without a key never collide.
    em.create(Job, { organization: a.org.id, media: a.media.id });
    em.create(Job, { organization: a.org.id, media: a.media.id });
    await em.flush();

    const duplicate = db.fork();
    duplicate.create(Job, { organization: a.org.id, media: a.media.id, idempotencyKey: "same" });
    await expect(duplicate.flush()).rejects.toBeInstanceOf(UniqueConstraintViolationException);
  });

  it("let a job have one transcript and be billed once", async () => {
    const { org, media } = await seedOrganization();
    const em = db.fork();
    const job = em.create(Job, { organization: org, media });
    em.create(Transcript, { organization: org, job, languageCode: "ar" });
    em.create(UsageRecord, { organization: org, kind: "batch", seconds: 30.5, job });
    await em.flush();

    const secondTranscript = db.fork();
    secondTranscript.create(Transcript, { organization: org.id, job: job.id, languageCode: "ar" });
    await expect(secondTranscript.flush()).rejects.toBeInstanceOf(UniqueConstraintViolationException);
    const secondCharge = db.fork();
    secondCharge.create(UsageRecord, { organization: org.id, kind: "batch", seconds: 30.5, job: job.id });
    await expect(secondCharge.flush()).rejects.toBeInstanceOf(UniqueConstraintViolationException);
  });
});

describe("soft delete", () => {
  it("hides deleted rows from EntityManager queries unless asked", async () => {
    const { org, media } = await seedOrganization();
    const em = db.fork();
    const loaded = await em.findOneOrFail(Media, media.id);
    loaded.deletedAt = new Date();
    loaded.status = "deleted";
    await em.flush();

    const read = db.fork();
    expect(await read.findOne(Media, media.id)).toBeNull();
    expect(await read.count(Media, { organization: org.id })).toBe(0);
    expect(await read.findOne(Media, media.id, { filters: { notDeleted: false } })).toMatchObject({ status: "deleted" });
  });
});

describe("deleting rows", () => {
  it("removes an organisation's data with it but keeps the audit trail and the users", async () => {
    const { org, media } = await seedOrganization();
    const em = db.fork();
    const user = em.create(User, { email: `owner-${org.id}@example.com`, passwordHash: "x" });
    em.create(Membership, { organization: org, user, role: "owner" });
    const job = em.create(Job, { organization: org, media });
    const transcript = em.create(Transcript, { organization: org, job, languageCode: "ar" });
    em.create(Segment, { organization: org, transcript, index: 0, startMs: 0, endMs: 10, text: "نص" });
    const audit = em.create(AuditEvent, { organization: org, actorUser: user, action: "organization.delete" });
    await em.flush();

    await db.fork().nativeDelete(Organization, { id: org.id });

    const read = db.fork();
    expect(await read.count(Job, { organization: org.id })).toBe(0);
    expect(await read.count(Segment, { transcript: transcript.id })).toBe(0);
    expect(await read.count(Membership, { user: user.id })).toBe(0);
    expect(await read.findOne(User, user.id)).not.toBeNull();
    expect(await read.findOneOrFail(AuditEvent, audit.id)).toMatchObject({ organization: null, action: "organization.delete" });
  });

  it("refuses to hard-delete media that jobs still point at", async () => {
    const { org, media } = await seedOrganization();
    const em = db.fork();
    em.create(Job, { organization: org, media });
    await em.flush();
    await expect(db.fork().nativeDelete(Media, { id: media.id }, { filters: false })).rejects.toThrow(/foreign key/);
  });
});
