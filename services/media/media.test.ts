// Media after upload: reading and listing, download URLs (working, expired, tampered), deletion (soft,
// bytes removed, audited, refused while a job needs the file), CompleteUpload answering PROCESSING when
// the check takes long, the sweeper (abandoned uploads, interrupted checks, retention), and how a job
// reads a file: openForProcessing.
import { readFile, stat } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { MediaService, MediaState } from "../../proto/gen/arabicstt/v1/media_pb.js";
import { ApiKeyScope, ApiKeyService } from "../../proto/gen/arabicstt/v1/api_key_pb.js";
import { OrganizationService } from "../../proto/gen/arabicstt/v1/organization_pb.js";
import { AdminService, AuditActorType } from "../../proto/gen/arabicstt/v1/admin_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../gateway/testing/identity-gateway.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { loadConfig } from "../platform/config/config.js";
import { activeJobsOfMedia } from "../jobs/active-jobs.js";
import { FailedPreconditionError, NotFoundError } from "../platform/errors/errors.js";
import { AuditEvent } from "../identity/model/audit-event.entity.js";
import { Job } from "../jobs/job.entity.js";
import { Media } from "./media.entity.js";
import { MediaLibrary } from "./media-library.js";
import { heardCount } from "../platform/failures.js";
import { pino } from "pino";
import { makeMediaFiles, principalOf, putParts, putSingle, sha256, uploadByPut, uploadByStream, type MediaFiles } from "../../gateway/testing/media.js";

const MiB = 1024 * 1024;
const env = { MULTIPART_THRESHOLD_BYTES: String(6 * MiB), MULTIPART_PART_BYTES: String(5 * MiB) };

let h: IdentityGateway;
let files: MediaFiles;
beforeAll(async () => {
  [h, files] = await Promise.all([startIdentityGateway(env), makeMediaFiles()]);
});
afterAll(async () => {
  await h?.stop();
  await files?.remove();
});

const media = (account: TestAccount, protocol: "grpc" | "connect" = "grpc") => h.client(MediaService, { credential: account.accessToken, protocol });
const failure = async (p: Promise<unknown>): Promise<ConnectError> => {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
};
const row = (id: string) => h.testDb.db.fork().findOneOrFail(Media, { id }, { filters: false });
async function until<T>(what: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await what();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("reading and listing", () => {
  it("lists the organisation's items newest first, page by page, and by state", async () => {
    const owner = await registerOwner(h);
    const ids: string[] = [];
    for (const name of ["أ.wav", "ب.wav", "ج.wav"]) ids.push((await uploadByStream(media(owner), { filename: name }, files.wav)).mediaId);
    const pending = await media(owner).createUpload({ filename: "د.wav", sizeBytes: 100n });

    const first = await media(owner, "connect").listMedia({ pageSize: 2 });
    expect(first.media.map((m) => m.filename)).toEqual(["د.wav", "ج.wav"]);
    const second = await media(owner).listMedia({ pageSize: 2, pageToken: first.nextPageToken });
    expect(second.media.map((m) => m.filename)).toEqual(["ب.wav", "أ.wav"]);
    expect(second.nextPageToken).toBe("");

    const ready = await media(owner).listMedia({ state: MediaState.READY });
    expect(ready.media.map((m) => m.mediaId)).toEqual([...ids].reverse());
    const waiting = await media(owner).listMedia({ state: MediaState.PENDING_UPLOAD });
    expect(waiting.media.map((m) => m.mediaId)).toEqual([pending.media!.mediaId]);

    const bad = await failure(media(owner).listMedia({ pageToken: "nonsense" }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.rawMessage).toMatch(/^page_token: /);
  });

  it("answers NOT_FOUND for an id that does not exist", async () => {
    const owner = await registerOwner(h);
    const missing = await failure(media(owner).getMedia({ mediaId: "00000000-0000-4000-8000-000000000000" }));
    expect(missing.code).toBe(Code.NotFound);
  });
});

describe("download URLs", () => {
  it("GET the original bytes under the file name, for the time asked; a tampered or expired URL is refused", async () => {
    const owner = await registerOwner(h);
    const item = await uploadByPut(media(owner), "مكالمة الرياض.wav", files.wav, "audio/wav");
    const { url, expiresAt } = await media(owner).getMediaDownloadUrl({ mediaId: item.mediaId, expiresIn: { seconds: 120n, nanos: 0 } });
    expect(Number(expiresAt!.seconds) - Date.now() / 1000).toBeGreaterThan(110);

    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(files.wav)).toBe(true);
    expect(res.headers.get("content-disposition")).toContain(`filename*=UTF-8''${encodeURIComponent("مكالمة الرياض.wav")}`);

    // One character of the signature changed.
    const tampered = url.replace(/([0-9a-f])(?=[^0-9a-f]*$)|([0-9a-f])$/i, (c) => (c === "0" ? "1" : "0"));
    expect(tampered).not.toBe(url);
    expect((await fetch(tampered)).status).toBe(403);
    // Another object's key under the same signature.
    const otherKey = url.replace(item.mediaId, "00000000-0000-4000-8000-000000000000");
    expect((await fetch(otherKey)).status).toBe(403);

    // The RPC's minimum is a minute; the domain takes a second, to see one lapse.
    const short = await h.media!.library.downloadUrl(principalOf(owner), item.mediaId, 1);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await fetch(short.url)).status).toBe(403);
  });

  it("serves the verified bytes even after the upload URL is used again once CompleteUpload is done", async () => {
    const owner = await registerOwner(h);
    const created = await media(owner).createUpload({ filename: "call.wav", sizeBytes: BigInt(files.wav.length) });
    expect((await putSingle(created.target, files.wav)).ok).toBe(true);
    const mediaId = created.media!.mediaId;
    const done = await media(owner).completeUpload({ mediaId, sizeBytes: BigInt(files.wav.length), sha256: sha256(files.wav) });
    expect(done.media!.state).toBe(MediaState.READY);

    // The presigned URL lives an hour and no store can revoke it; what it writes now must not be served.
    const replacement = Buffer.alloc(files.wav.length, 0x41);
    await putSingle(created.target, replacement);

    const { url } = await media(owner).getMediaDownloadUrl({ mediaId });
    const downloaded = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(sha256(downloaded)).toBe(sha256(files.wav));
    expect((await media(owner).getMedia({ mediaId })).media!.sha256).toBe(sha256(files.wav));
    // A job reads the same bytes.
    const local = await h.media!.library.openForProcessing(owner.organizationId, mediaId);
    try {
      expect((await readFile(local.path)).equals(files.wav)).toBe(true);
    } finally {
      await local.release();
    }
  });

  it("names the download after the file without its folders or quotes, with the Arabic name in filename*", async () => {
    const owner = await registerOwner(h);
    const names: [string, RegExp][] = [
      ["../../etc/passwd", /^attachment; filename="passwd"; filename\*=UTF-8''passwd$/],
      ["..\\..\\boot.ini", /^attachment; filename="boot.ini"; filename\*=UTF-8''boot.ini$/],
      ['a"b;c.wav', /^attachment; filename="a_b_c.wav"; filename\*=UTF-8''a_b_c.wav$/],
      [".hidden", /^attachment; filename="hidden"; filename\*=UTF-8''hidden$/],
      ["مكالمة/الرياض.wav", new RegExp(`^attachment; filename="_+.wav"; filename\\*=UTF-8''${encodeURIComponent("الرياض.wav")}$`)],
    ];
    for (const [name, expected] of names) {
      const item = await uploadByStream(media(owner), { filename: name }, files.wav);
      const { url } = await media(owner).getMediaDownloadUrl({ mediaId: item.mediaId });
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-disposition")).toMatch(expected);
    }
  });

  it("has a default lifetime of 15 minutes and is only for READY items", async () => {
    const owner = await registerOwner(h);
    const item = await uploadByStream(media(owner), { filename: "a.opus" }, files.opus);
    const { expiresAt } = await media(owner).getMediaDownloadUrl({ mediaId: item.mediaId });
    expect(Math.round((Number(expiresAt!.seconds) - Date.now() / 1000) / 60)).toBe(15);
    const pending = await media(owner).createUpload({ filename: "b.wav", sizeBytes: 10n });
    const refused = await failure(media(owner).getMediaDownloadUrl({ mediaId: pending.media!.mediaId }));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.rawMessage).toMatch(/^media_id: the item is still waiting for its upload/);
  });
});

describe("deleting", () => {
  it("hides the item, removes its bytes, and is audited with who did it", async () => {
    const owner = await registerOwner(h);
    const item = await uploadByPut(media(owner), "حذف.wav", files.wav);
    const { url } = await media(owner).getMediaDownloadUrl({ mediaId: item.mediaId });
    await media(owner, "connect").deleteMedia({ mediaId: item.mediaId });

    expect((await failure(media(owner).getMedia({ mediaId: item.mediaId }))).code).toBe(Code.NotFound);
    expect((await media(owner).listMedia({})).media).toEqual([]);
    expect((await failure(media(owner).deleteMedia({ mediaId: item.mediaId }))).code).toBe(Code.NotFound);
    const kept = await row(item.mediaId);
    expect(kept).toMatchObject({ status: "deleted" });
    expect(kept.deletedAt).toBeInstanceOf(Date);
    expect(await h.blobs!.store.head("media", kept.storageKey)).toBeNull();
    expect((await fetch(url)).status).toBe(404);

    const events = await h.testDb.db.fork().find(AuditEvent, { organization: owner.organizationId, action: "media.delete" });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ targetType: "media", targetId: item.mediaId, actorUser: { id: owner.userId } });
    expect(events[0]!.metadata).toMatchObject({ outcome: "success", details: { filename: "حذف.wav" } });
  });

  it("is refused while a queued or running job uses the item", async () => {
    const owner = await registerOwner(h);
    const item = await uploadByStream(media(owner), { filename: "job.wav" }, files.wav);
    const em = h.testDb.db.fork();
    const job = em.create(Job, { organization: owner.organizationId, media: item.mediaId, status: "running" });
    await em.flush();
    const refused = await failure(media(owner).deleteMedia({ mediaId: item.mediaId }));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.rawMessage).toMatch(/^media_id: a job that uses this item is queued or running/);
    job.status = "succeeded";
    await em.flush();
    await media(owner).deleteMedia({ mediaId: item.mediaId });
  });

  it("aborts an unfinished multipart upload, and records an API key as the actor", async () => {
    const owner = await registerOwner(h);
    const keys = h.client(ApiKeyService, { credential: owner.accessToken });
    const created = await keys.createApiKey({ name: "cleaner", scopes: [ApiKeyScope.MEDIA_WRITE] });
    const asKey = h.client(MediaService, { headers: { "x-api-key": created.secret } });
    const upload = await asKey.createUpload({ filename: "big.wav", sizeBytes: BigInt(7 * MiB) });
    expect(upload.target.case).toBe("multipart");
    await asKey.deleteMedia({ mediaId: upload.media!.mediaId });
    await expect(putParts(upload.target, new Uint8Array(7 * MiB))).rejects.toThrow(/HTTP 404/);
    const events = await h.testDb.db.fork().find(AuditEvent, { organization: owner.organizationId, action: "media.delete" });
    expect(events[0]).toMatchObject({ actorApiKey: { id: created.apiKey!.apiKeyId }, actorUser: null });
  });
});

describe("a check that takes longer than CompleteUpload waits", () => {
  it("answers PROCESSING, then the item becomes READY; a retry meanwhile answers PROCESSING too", async () => {
    const owner = await registerOwner(h);
    const impatient = new MediaLibrary(h.testDb.db, h.blobs!.store, h.identity.audit, { ...loadConfig({ DATA_DIR: h.dataDir, ...env }).media, activeJobs: activeJobsOfMedia(h.testDb.db), completeWaitMs: 0 });
    try {
      const created = await media(owner).createUpload({ filename: "slow.wav", sizeBytes: BigInt(files.wav.length) });
      await putSingle(created.target, files.wav);
      const mediaId = created.media!.mediaId;
      const completion = { mediaId, sizeBytes: files.wav.length, sha256: sha256(files.wav), parts: [] };
      const first = await impatient.completeUpload(principalOf(owner), completion);
      expect(first.status).toBe("processing");
      // The gateway's own library is another replica here: not its check, not stalled, so it reports progress.
      const retry = await media(owner).completeUpload({ mediaId, sizeBytes: BigInt(files.wav.length), sha256: sha256(files.wav) });
      expect([MediaState.PROCESSING, MediaState.READY]).toContain(retry.media!.state);
      const other = await failure(media(owner).completeUpload({ mediaId, sizeBytes: BigInt(files.wav.length), sha256: "1".repeat(64) }));
      if (retry.media!.state === MediaState.PROCESSING) expect(other.rawMessage).toMatch(/^sha256: the upload is being verified against another/);
      const done = await until(() => media(owner).getMedia({ mediaId }), (r) => r.media!.state === MediaState.READY);
      expect(done.media).toMatchObject({ state: MediaState.READY, sha256: sha256(files.wav) });
    } finally {
      await impatient.close();
    }
  });
});

describe("a check cut short", () => {
  it("by a storage fault leaves the item PROCESSING for the sweep, and is logged with its id and counted", async () => {
    const owner = await registerOwner(h);
    // A store whose reads fail: the check cannot start, through no fault of the file.
    const broken = new Proxy(h.blobs!.store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop === "get") return async () => Promise.reject(new Error("storage read refused (test)"));
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const library = new MediaLibrary(h.testDb.db, broken, h.identity.audit, { ...loadConfig({ DATA_DIR: h.dataDir, ...env }).media, activeJobs: activeJobsOfMedia(h.testDb.db), completeWaitMs: 0, logger });
    try {
      const before = await heardCount("media.verify");
      const created = await media(owner).createUpload({ filename: "unlucky.wav", sizeBytes: BigInt(files.wav.length) });
      await putSingle(created.target, files.wav);
      const mediaId = created.media!.mediaId;
      const answer = await library.completeUpload(principalOf(owner), { mediaId, sizeBytes: files.wav.length, sha256: sha256(files.wav), parts: [] });
      expect(answer.status).toBe("processing");
      const count = await until(() => heardCount("media.verify"), (n) => n > before);
      expect(count).toBe(before + 1);
      expect(lines.filter((l) => l.site === "media.verify").map((l) => [l.media_id, (l.err as { message: string }).message])).toEqual([[mediaId, "storage read refused (test)"]]);
      expect((await row(mediaId)).status).toBe("processing");
      // Released at once: the next sweep (here the gateway's library, whose store works) finishes it.
      expect((await h.media!.library.sweep()).resumedVerifications).toBe(1);
      const done = await until(() => media(owner).getMedia({ mediaId }), (r) => r.media!.state === MediaState.READY);
      expect(done.media!.state).toBe(MediaState.READY);
    } finally {
      await library.close();
    }
  });

  it("by shutdown leaves the item PROCESSING, and the next sweep (on any replica) finishes it", async () => {
    const owner = await registerOwner(h);
    // A store that takes its time to start sending, so the shutdown lands mid-check.
    const slow = new Proxy(h.blobs!.store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== "get" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          await new Promise((r) => setTimeout(r, 300));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const stopping = new MediaLibrary(h.testDb.db, slow, h.identity.audit, { ...loadConfig({ DATA_DIR: h.dataDir, ...env }).media, activeJobs: activeJobsOfMedia(h.testDb.db), completeWaitMs: 0 });
    const created = await media(owner).createUpload({ filename: "shutdown.wav", sizeBytes: BigInt(files.wav.length) });
    await putSingle(created.target, files.wav);
    const mediaId = created.media!.mediaId;
    const answer = await stopping.completeUpload(principalOf(owner), { mediaId, sizeBytes: files.wav.length, sha256: sha256(files.wav), parts: [] });
    expect(answer.status).toBe("processing");
    await stopping.close();
    expect((await row(mediaId)).status).toBe("processing");

    const report = await h.media!.library.sweep();
    expect(report.resumedVerifications).toBe(1);
    const done = await until(() => media(owner).getMedia({ mediaId }), (r) => r.media!.state === MediaState.READY);
    expect(done.media!.state).toBe(MediaState.READY);
  });
});

describe("the sweeper", () => {
  it("discards uploads not completed within a day, bytes and all", async () => {
    const owner = await registerOwner(h);
    const created = await media(owner).createUpload({ filename: "forgotten.wav", sizeBytes: BigInt(files.wav.length) });
    await putSingle(created.target, files.wav);
    const mediaId = created.media!.mediaId;
    await h.testDb.db.fork().nativeUpdate(Media, { id: mediaId }, { uploadExpiresAt: new Date(Date.now() - 1000) });

    const late = await failure(media(owner).completeUpload({ mediaId, sizeBytes: BigInt(files.wav.length), sha256: sha256(files.wav) }));
    expect([late.code, late.rawMessage]).toEqual([Code.FailedPrecondition, "media_id: the upload expired; start again with CreateUpload"]);

    const report = await h.media!.library.sweep();
    expect(report.expiredUploads).toBeGreaterThanOrEqual(1);
    expect((await failure(media(owner).getMedia({ mediaId }))).code).toBe(Code.NotFound);
    expect(await h.blobs!.store.head("media", (await row(mediaId)).storageKey)).toBeNull();
  });

  it("resumes a check whose process died", async () => {
    const owner = await registerOwner(h);
    const created = await media(owner).createUpload({ filename: "interrupted.wav", sizeBytes: BigInt(files.wav.length) });
    await putSingle(created.target, files.wav);
    const mediaId = created.media!.mediaId;
    // As a CompleteUpload leaves it when its gateway is killed mid-check: claimed, and no heartbeat since.
    await h.testDb.db.fork().nativeUpdate(Media, { id: mediaId }, { status: "processing", sha256: sha256(files.wav), updatedAt: new Date(Date.now() - 10 * 60_000) });

    const report = await h.media!.library.sweep();
    expect(report.resumedVerifications).toBe(1);
    const done = await until(() => media(owner).getMedia({ mediaId }), (r) => r.media!.state === MediaState.READY);
    expect(done.media!.state).toBe(MediaState.READY);
  });

  it("deletes items past the organisation's retention, and says when in expires_at", async () => {
    const owner = await registerOwner(h);
    await h.client(OrganizationService, { credential: owner.accessToken }).updateOrganization({ retentionDays: 7 });
    const fresh = await uploadByStream(media(owner), { filename: "new.wav" }, files.wav);
    const old = await uploadByStream(media(owner), { filename: "old.wav" }, files.wav);
    const uploaded = Number(fresh.uploadedAt!.seconds);
    expect(Number(fresh.expiresAt!.seconds) - uploaded).toBe(7 * 86_400);
    await h.testDb.db.fork().nativeUpdate(Media, { id: old.mediaId }, { uploadedAt: new Date(Date.now() - 8 * 86_400_000) });

    const report = await h.media!.library.sweep();
    expect(report.retentionDeletes).toBe(1);
    expect((await media(owner).listMedia({})).media.map((m) => m.mediaId)).toEqual([fresh.mediaId]);
    expect(await h.blobs!.store.head("media", (await row(old.mediaId)).storageKey)).toBeNull();
    const events = await h.testDb.db.fork().find(AuditEvent, { organization: owner.organizationId, action: "media.delete" });
    expect(events.map((e) => [e.targetId, (e.metadata.details as Record<string, string>).reason])).toEqual([[old.mediaId, "retention"]]);
    // The platform did it, not a caller: the audit log says SYSTEM.
    const listed = await h.client(AdminService, { credential: owner.accessToken }).listAuditEvents({ actionPrefix: "media.delete" });
    expect(listed.events.map((e) => [e.resourceId, e.actor!.type, e.actor!.userId])).toEqual([[old.mediaId, AuditActorType.SYSTEM, ""]]);
  });
});

describe("openForProcessing, how a job reads a file", () => {
  it("gives a private local copy of a READY item's bytes with its probe, removed on release", async () => {
    const owner = await registerOwner(h);
    const item = await uploadByPut(media(owner), "للتفريغ.opus", files.opus);
    const opened = await h.media!.library.openForProcessing(owner.organizationId, item.mediaId);
    expect((await readFile(opened.path)).equals(files.opus)).toBe(true);
    expect(opened.probe).toMatchObject({ codec: "opus", channels: 1, sampleRate: 48000, formatName: "ogg", streamIndex: 0 });
    expect(opened.media).toMatchObject({ id: item.mediaId, filename: "للتفريغ.opus", status: "ready" });
    await opened.release();
    await expect(stat(opened.path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("is NOT_FOUND for another organisation's item and FAILED_PRECONDITION for one not READY", async () => {
    const owner = await registerOwner(h);
    const stranger = await registerOwner(h);
    const item = await uploadByStream(media(owner), { filename: "x.wav" }, files.wav);
    await expect(h.media!.library.openForProcessing(stranger.organizationId, item.mediaId)).rejects.toBeInstanceOf(NotFoundError);
    const pending = await media(owner).createUpload({ filename: "y.wav", sizeBytes: 10n });
    await expect(h.media!.library.openForProcessing(owner.organizationId, pending.media!.mediaId)).rejects.toBeInstanceOf(FailedPreconditionError);
  });
});
