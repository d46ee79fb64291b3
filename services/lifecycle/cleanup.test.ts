// The lifecycle cleanup over rows and blobs seeded as the capabilities leave them: exactly the expired and
// long-deleted ones go (rows and files), the rest stay; a second run finds nothing; concurrent runs share
// the work without errors or double deletes.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestDatabase, type TestDatabase } from "../app/testing.js";
import { createTestBlobStore, type TestBlobStore } from "../platform/blobs/testing.js";
import type { BucketName } from "../platform/blobs/index.js";
import { Organization } from "../identity/model/organization.entity.js";
import { Transcript } from "../transcripts/transcript.entity.js";
import { Segment } from "../transcripts/segment.entity.js";
import { Speaker } from "../transcripts/speaker.entity.js";
import { Export } from "../exports/export.entity.js";
import { Exports } from "../exports/exports.js";
import type { Transcripts } from "../transcripts/transcripts.js";
import { Media } from "../media/media.entity.js";
import { Job } from "../jobs/job.entity.js";
import { WebhookEndpoint } from "../webhooks/webhook-endpoint.entity.js";
import { WebhookDelivery } from "../webhooks/webhook-delivery.entity.js";
import { Webhooks } from "../webhooks/webhooks.js";
import { NotFoundError } from "../platform/errors/errors.js";
import type { Logger } from "../platform/logger.js";
import { Cleanup, type CleanupReport, type DeliveryPurger } from "./cleanup.js";

const DAY = 24 * 60 * 60 * 1000;
/** The run's clock, a day ahead of the real one. */
const now = new Date(Date.now() + DAY);
const daysAgo = (days: number) => new Date(now.getTime() - days * DAY);
const OLD = 40;
const RECENT = 5;

let testDb: TestDatabase;
let blobStore: TestBlobStore;
let dataDir: string;
let purgeCalls: Date[];
let organizationId: string;

/** The real purge (webhooks.ts), which needs only the database. */
const deliveries = (): DeliveryPurger => ({
  purgeDeliveries: async (before) => {
    purgeCalls.push(before);
    return new Webhooks(testDb.db, undefined as never, undefined as never, undefined as never).purgeDeliveries(before);
  },
});

const cleanup = () => new Cleanup(testDb.db, blobStore.store, deliveries(), { exportRetentionDays: 30, softDeleteRetentionDays: 30 });

async function putBlob(bucket: BucketName, key: string): Promise<string> {
  await blobStore.store.put(bucket, key, Buffer.from("bytes"));
  return key;
}

const exists = async (bucket: BucketName, key: string) => (await blobStore.store.head(bucket, key)) !== null;

interface Seeded {
  transcripts: { oldDeleted: string; recentDeleted: string; live: string };
  exports: { old: string; recent: string; ofOldDeleted: string };
  exportKeys: { old: string; recent: string; ofOldDeleted: string };
  media: { oldDeleted: string; recentDeleted: string; oldDeletedWithJob: string; live: string };
  mediaKeys: { oldDeleted: string; live: string };
  deliveries: { oldDelivered: string; recentDelivered: string; oldPending: string };
}

async function seed(): Promise<Seeded> {
  const em = testDb.db.fork();
  const org = em.create(Organization, { name: "Lifecycle", slug: `lifecycle-${crypto.randomUUID().slice(0, 8)}` });
  organizationId = org.id;
  const transcript = (deletedAt: Date | null) => {
    const t = em.create(Transcript, { organization: org, languageCode: "ar", text: "مرحبا", deletedAt });
    em.create(Segment, { organization: org, transcript: t, index: 0, startMs: 0, endMs: 1000, text: "مرحبا" });
    em.create(Speaker, { organization: org, transcript: t, label: "S1" });
    return t;
  };
  const oldDeleted = transcript(daysAgo(OLD));
  const recentDeleted = transcript(daysAgo(RECENT));
  const live = transcript(null);

  const exportOf = async (t: Transcript, completedAt: Date) => {
    const row = em.create(Export, { organization: org, transcript: t, format: "txt", status: "ready", completedAt, createdAt: completedAt });
    row.storageKey = await putBlob("exports", `orgs/${org.id}/exports/${row.id}.txt`);
    return row;
  };
  const oldExport = await exportOf(live, daysAgo(OLD));
  const recentExport = await exportOf(live, daysAgo(RECENT));
  // A file DeleteTranscript did not get to remove.
  const ofOldDeleted = await exportOf(oldDeleted, daysAgo(RECENT));

  const media = async (deletedAt: Date | null, withBlob: boolean) => {
    const key = `orgs/${org.id}/media/${crypto.randomUUID()}.wav`;
    if (withBlob) await putBlob("media", key);
    return em.create(Media, { organization: org, filename: "call.wav", contentType: "audio/wav", storageKey: key, status: deletedAt ? "deleted" : "ready", deletedAt });
  };
  // Bytes still there: the delete that soft-deleted it was cut short.
  const oldDeletedMedia = await media(daysAgo(OLD), true);
  const recentDeletedMedia = await media(daysAgo(RECENT), false);
  const withJob = await media(daysAgo(OLD), false);
  em.create(Job, { organization: org, media: withJob });
  const liveMedia = await media(null, true);

  const endpoint = em.create(WebhookEndpoint, { organization: org, url: "https://example.com/hook", secretEncrypted: "x" });
  const delivery = (status: "delivered" | "pending", createdAt: Date) =>
    em.create(WebhookDelivery, { organization: org, endpoint, eventId: crypto.randomUUID(), event: "job.succeeded", payload: {}, status, createdAt });
  const oldDelivered = delivery("delivered", daysAgo(OLD));
  const recentDelivered = delivery("delivered", daysAgo(RECENT));
  const oldPending = delivery("pending", daysAgo(OLD));
  await em.flush();

  return {
    transcripts: { oldDeleted: oldDeleted.id, recentDeleted: recentDeleted.id, live: live.id },
    exports: { old: oldExport.id, recent: recentExport.id, ofOldDeleted: ofOldDeleted.id },
    exportKeys: { old: oldExport.storageKey!, recent: recentExport.storageKey!, ofOldDeleted: ofOldDeleted.storageKey! },
    media: { oldDeleted: oldDeletedMedia.id, recentDeleted: recentDeletedMedia.id, oldDeletedWithJob: withJob.id, live: liveMedia.id },
    mediaKeys: { oldDeleted: oldDeletedMedia.storageKey, live: liveMedia.storageKey },
    deliveries: { oldDelivered: oldDelivered.id, recentDelivered: recentDelivered.id, oldPending: oldPending.id },
  };
}

/** Ids of the rows of each table that are still there, soft-deleted ones included. */
async function remaining() {
  const em = testDb.db.fork();
  const all = { filters: { notDeleted: false } } as const;
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id).sort();
  return {
    transcripts: ids(await em.find(Transcript, {}, all)),
    segments: (await em.find(Segment, {}, { populate: ["transcript"], ...all })).map((s) => s.transcript.id).sort(),
    speakers: (await em.find(Speaker, {}, { populate: ["transcript"], ...all })).map((s) => s.transcript.id).sort(),
    exports: ids(await em.find(Export, {})),
    media: ids(await em.find(Media, {}, all)),
    deliveries: ids(await em.find(WebhookDelivery, {})),
  };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "arabicstt-lifecycle-"));
  testDb = await createTestDatabase();
  blobStore = await createTestBlobStore({ dataDir, publicBaseUrl: "http://127.0.0.1:1" });
});
afterAll(async () => {
  await testDb?.cleanup();
  await blobStore?.cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

describe("lifecycle cleanup", () => {
  it("removes exactly the expired exports and the long-deleted rows with their blobs, once", async () => {
    purgeCalls = [];
    const s = await seed();
    const report = await cleanup().run(now);
    expect(report).toEqual<CleanupReport>({ ran: true, exportsExpired: 1, transcriptsPurged: 1, mediaPurged: 1, deliveriesPurged: 1 });
    expect(purgeCalls).toEqual([daysAgo(30)]);

    const left = await remaining();
    expect(left.transcripts).toEqual([s.transcripts.recentDeleted, s.transcripts.live].sort());
    expect(left.segments).toEqual([s.transcripts.recentDeleted, s.transcripts.live].sort());
    expect(left.speakers).toEqual([s.transcripts.recentDeleted, s.transcripts.live].sort());
    expect(left.exports).toEqual([s.exports.recent]);
    expect(left.media).toEqual([s.media.recentDeleted, s.media.oldDeletedWithJob, s.media.live].sort());
    expect(left.deliveries).toEqual([s.deliveries.recentDelivered, s.deliveries.oldPending].sort());

    expect(await exists("exports", s.exportKeys.old)).toBe(false);
    expect(await exists("exports", s.exportKeys.ofOldDeleted)).toBe(false);
    expect(await exists("exports", s.exportKeys.recent)).toBe(true);
    expect(await exists("media", s.mediaKeys.oldDeleted)).toBe(false);
    expect(await exists("media", s.mediaKeys.live)).toBe(true);

    // GetExport's lookup: the expired export is NOT_FOUND, the recent one is still there.
    const exportsDomain = new Exports(testDb.db, blobStore.store, undefined as unknown as Transcripts);
    await expect(exportsDomain.get(organizationId, s.exports.old)).rejects.toBeInstanceOf(NotFoundError);
    expect((await exportsDomain.get(organizationId, s.exports.recent)).id).toBe(s.exports.recent);

    // Nothing more to do the second time.
    expect(await cleanup().run(now)).toEqual<CleanupReport>({ ran: true, exportsExpired: 0, transcriptsPurged: 0, mediaPurged: 0, deliveriesPurged: 0 });
    expect(await remaining()).toEqual(left);
  });

  it("runs on several replicas at once without errors or double deletes", async () => {
    const before = await remaining();
    const s = await seed();
    const reports = await Promise.all([cleanup().run(now), cleanup().run(now), cleanup().run(now)]);
    const total = (key: keyof Omit<CleanupReport, "ran">) => reports.reduce((sum, r) => sum + r[key], 0);
    expect(total("exportsExpired")).toBe(1);
    expect(total("transcriptsPurged")).toBe(1);
    expect(total("mediaPurged")).toBe(1);
    expect(total("deliveriesPurged")).toBe(1);

    const left = await remaining();
    expect(left.transcripts).toEqual([...before.transcripts, s.transcripts.recentDeleted, s.transcripts.live].sort());
    expect(left.exports).toEqual([...before.exports, s.exports.recent].sort());
    expect(left.media).toEqual([...before.media, s.media.recentDeleted, s.media.oldDeletedWithJob, s.media.live].sort());
    expect(left.deliveries).toEqual([...before.deliveries, s.deliveries.recentDelivered, s.deliveries.oldPending].sort());
    expect(await exists("media", s.mediaKeys.oldDeleted)).toBe(false);
  });

  it("honours the retention periods it is given and the batch bound", async () => {
    const s = await seed();
    const report = await new Cleanup(testDb.db, blobStore.store, deliveries(), { exportRetentionDays: 1, softDeleteRetentionDays: 1, batchSize: 1 }).run(now);
    // One of each per run: the recent export and deleted rows are past a one-day retention too.
    expect(report).toMatchObject({ exportsExpired: 1, transcriptsPurged: 1, mediaPurged: 1 });
    expect((await remaining()).transcripts).toContain(s.transcripts.live);
  });

  it("runs on its schedule until stopped, logging what it did", async () => {
    const info = vi.fn();
    const logger = { info, error: vi.fn(), warn: vi.fn(), debug: vi.fn() } as unknown as Logger;
    const scheduled = new Cleanup(testDb.db, blobStore.store, deliveries(), { exportRetentionDays: 30, softDeleteRetentionDays: 30 }, logger);
    scheduled.start(20);
    await vi.waitFor(() => expect(info).toHaveBeenCalledWith({ lifecycle_cleanup: expect.objectContaining({ ran: true }) }, "lifecycle cleanup"), { timeout: 10_000 });
    await scheduled.stop();
    const runs = info.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(info.mock.calls.length).toBe(runs);
  });
});
