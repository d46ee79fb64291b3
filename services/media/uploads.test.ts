// Uploads by each of the three ways in, as clients do them: a presigned PUT with fetch, a multipart upload
// with one presigned URL per part (PUT in parallel), and the UploadMedia client stream from a plain grpc-js
// client and from Connect-ES. Every file is checked against its declared size and SHA-256 and probed;
// every bad input is refused with the code and a message that names the field.
import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { MediaService, MediaState } from "../../proto/gen/arabicstt/v1/media_pb.js";
import { ApiKeyScope, ApiKeyService } from "../../proto/gen/arabicstt/v1/api_key_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../gateway/testing/identity-gateway.js";
import { joinAs, registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { Media } from "./media.entity.js";
import { MediaLibrary } from "./media-library.js";
import { loadConfig } from "../platform/config/config.js";
import { activeJobsOfMedia } from "../jobs/active-jobs.js";
import { DeadlineExceededError } from "../platform/errors/errors.js";
import {
  makeLongWav,
  makeMediaFiles,
  principalOf,
  putParts,
  putSingle,
  sha256,
  uploadByGrpcJs,
  uploadByPut,
  uploadByStream,
  type MediaFiles,
} from "../../gateway/testing/media.js";

const MiB = 1024 * 1024;
// Small limits, so that multipart, oversize and too-long cases need only small files.
const env = {
  MULTIPART_THRESHOLD_BYTES: String(6 * MiB),
  MULTIPART_PART_BYTES: String(5 * MiB),
  MAX_UPLOAD_BYTES: String(64 * MiB),
  MAX_STREAM_UPLOAD_BYTES: String(2 * MiB),
  MAX_MEDIA_SECONDS: "120",
};

let h: IdentityGateway;
let owner: TestAccount;
let files: MediaFiles;
beforeAll(async () => {
  [h, files] = await Promise.all([startIdentityGateway(env), makeMediaFiles()]);
  owner = await registerOwner(h, "مركز اتصال الدمام");
});
afterAll(async () => {
  await h?.stop();
  await files?.remove();
});

const media = (account: TestAccount = owner, protocol: "grpc" | "connect" = "grpc") => h.client(MediaService, { credential: account.accessToken, protocol });

const failure = async (p: Promise<unknown>): Promise<ConnectError> => {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
};

/** The item as the database has it, deleted or not. */
const row = (id: string) => h.testDb.db.fork().findOneOrFail(Media, { id }, { filters: false });

describe("a presigned PUT", () => {
  it("stores a sox WAV, checks it and probes it: READY with its audio properties", async () => {
    const created = await media(owner, "connect").createUpload({
      filename: "مكالمة العميل ١.wav",
      contentType: "audio/wav",
      sizeBytes: BigInt(files.wav.length),
      labels: { campaign: "رمضان", queue: "billing" },
    });
    expect(created.media).toMatchObject({ filename: "مكالمة العميل ١.wav", state: MediaState.PENDING_UPLOAD, sizeBytes: 0n, sha256: "" });
    expect(created.target.case).toBe("singlePart");
    const target = created.target.value as { headers: Record<string, string>; expiresAt?: { seconds: bigint } };
    expect(target.headers).toEqual({ "Content-Type": "audio/wav" });
    const expiresIn = Number(target.expiresAt!.seconds) - Date.now() / 1000;
    expect(expiresIn).toBeGreaterThan(3500);
    expect(expiresIn).toBeLessThanOrEqual(3600);
    // The upload deadline: a day.
    expect(Number(created.media!.expiresAt!.seconds) - Date.now() / 1000).toBeGreaterThan(86_000);

    expect((await putSingle(created.target, files.wav)).status).toBe(200);
    const { media: done } = await media().completeUpload({ mediaId: created.media!.mediaId, sizeBytes: BigInt(files.wav.length), sha256: sha256(files.wav) });
    expect(done).toMatchObject({
      mediaId: created.media!.mediaId,
      state: MediaState.READY,
      contentType: "audio/wav",
      sizeBytes: BigInt(files.wav.length),
      sha256: sha256(files.wav),
      labels: { campaign: "رمضان", queue: "billing" },
      audioProperties: { container: "wav", codec: "pcm_s16le", sampleRateHz: 16000, channelCount: 1, hasVideo: false },
    });
    expect(Number(done!.audioProperties!.duration!.seconds)).toBe(3);
    expect(done!.uploadedAt).toBeDefined();
    // Kept until deleted by hand (no retention set).
    expect(done!.expiresAt).toBeUndefined();

    // Completing again with the same checksum is a retry: the same item.
    const again = await media().completeUpload({ mediaId: done!.mediaId, sizeBytes: BigInt(files.wav.length), sha256: sha256(files.wav) });
    expect(again.media).toEqual(done);
    const other = await failure(media().completeUpload({ mediaId: done!.mediaId, sizeBytes: BigInt(files.wav.length), sha256: "0".repeat(64) }));
    expect(other.code).toBe(Code.FailedPrecondition);
    expect(other.rawMessage).toMatch(/^sha256: /);
  });

  it("takes an ffmpeg Opus file with no declared type, and names the type from what it finds", async () => {
    const done = await uploadByPut(media(), "voicemail.opus", files.opus);
    expect(done).toMatchObject({
      state: MediaState.READY,
      contentType: "audio/ogg",
      audioProperties: { container: "ogg", codec: "opus", sampleRateHz: 48000, channelCount: 1 },
    });
    expect(Number(done.audioProperties!.duration!.seconds)).toBe(3);
  });

  it("refuses a PUT with another Content-Type than the one signed", async () => {
    const created = await media().createUpload({ filename: "a.wav", contentType: "audio/wav", sizeBytes: BigInt(files.wav.length) });
    const url = (created.target.value as { url: string }).url;
    const res = await fetch(url, { method: "PUT", headers: { "Content-Type": "text/html" }, body: files.wav });
    expect(res.status).toBe(403);
  });
});

describe("a multipart upload", () => {
  it("cuts a large file into parts, takes them in parallel, and assembles them", async () => {
    // 33 s of 48 kHz stereo: about 6.3 MB, over the 6 MiB threshold, so two parts of 5 MiB and the rest.
    const big = await makeLongWav(files.dir, "meeting.wav", 33);
    expect(big.length).toBeGreaterThan(6 * MiB);
    const created = await media().createUpload({ filename: "اجتماع.wav", contentType: "audio/wav", sizeBytes: BigInt(big.length) });
    expect(created.target.case).toBe("multipart");
    const target = created.target.value as { partSizeBytes: bigint; parts: { partNumber: number }[] };
    expect(target.partSizeBytes).toBe(BigInt(5 * MiB));
    expect(target.parts.map((p) => p.partNumber)).toEqual([1, 2]);

    const mediaId = created.media!.mediaId;
    const complete = (parts: { partNumber: number; etag: string }[]) =>
      media().completeUpload({ mediaId, sizeBytes: BigInt(big.length), sha256: sha256(big), parts });

    // Nothing uploaded yet: the missing part is named, and the upload stays open.
    const early = await failure(complete([{ partNumber: 1, etag: '"x"' }, { partNumber: 2, etag: '"y"' }]));
    expect(early.code).toBe(Code.FailedPrecondition);
    expect(early.rawMessage).toMatch(/^parts: /);

    const parts = await putParts(created.target, big);
    const missing = await failure(complete(parts.slice(0, 1)));
    expect(missing.code).toBe(Code.InvalidArgument);
    expect(missing.rawMessage).toMatch(/^parts: .*parts 1 to 2/);
    const wrongTag = await failure(complete([parts[0]!, { partNumber: 2, etag: `"${"0".repeat(32)}"` }]));
    expect(wrongTag.code).toBe(Code.FailedPrecondition);
    expect(wrongTag.rawMessage).toMatch(/^parts: /);
    expect((await row(mediaId)).status).toBe("pending");

    const { media: done } = await complete(parts);
    expect(done).toMatchObject({ state: MediaState.READY, sizeBytes: BigInt(big.length), sha256: sha256(big), audioProperties: { channelCount: 2, sampleRateHz: 48000 } });
    expect(Number(done!.audioProperties!.duration!.seconds)).toBe(33);
    const stored = await h.blobs!.store.head("media", (await row(mediaId)).storageKey);
    expect(stored?.size).toBe(big.length);
  });
});

describe("UploadMedia, the client stream", () => {
  it("takes a WAV from a plain @grpc/grpc-js client, with size and checksum declared", async () => {
    const done = await uploadByGrpcJs(h, owner.accessToken, { filename: "من-الهاتف.wav", content_type: "audio/wav", size_bytes: files.wav.length, sha256: sha256(files.wav) }, files.wav, 16 * 1024);
    expect(done).toMatchObject({
      state: "MEDIA_STATE_READY",
      size_bytes: String(files.wav.length),
      sha256: sha256(files.wav),
      audio_properties: { codec: "pcm_s16le", container: "wav", sample_rate_hz: 16000, channel_count: 1 },
    });
    const stored = await h.blobs!.store.head("media", (await row(done.media_id)).storageKey);
    expect(stored?.size).toBe(files.wav.length);
  });

  it("takes an Opus file from Connect-ES with neither size nor checksum declared", async () => {
    const done = await uploadByStream(media(), { filename: "note.opus", labels: { source: "app" } }, files.opus, 1000);
    expect(done).toMatchObject({ state: MediaState.READY, contentType: "audio/ogg", sha256: sha256(files.opus), sizeBytes: BigInt(files.opus.length), labels: { source: "app" } });
    const listed = await media().getMedia({ mediaId: done.mediaId });
    expect(listed.media).toEqual(done);
  });
});

describe("bad uploads", () => {
  /** A presigned upload of `bytes` completed with `declared` size and checksum. */
  async function completeWith(bytes: Uint8Array, declared: { size?: number; sha256?: string; createSize?: number } = {}) {
    const created = await media().createUpload({ filename: "bad.wav", sizeBytes: BigInt(declared.createSize ?? bytes.length) });
    await putSingle(created.target, bytes);
    const mediaId = created.media!.mediaId;
    const error = await failure(media().completeUpload({ mediaId, sizeBytes: BigInt(declared.size ?? declared.createSize ?? bytes.length), sha256: declared.sha256 ?? sha256(bytes) }));
    return { mediaId, error };
  }

  it("refuses a size that differs from CreateUpload's, and keeps the upload open", async () => {
    const { mediaId, error } = await completeWith(files.wav, { size: files.wav.length + 1, createSize: files.wav.length });
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toMatch(/^size_bytes: \d+ differs from the \d+ bytes CreateUpload was given/);
    expect((await row(mediaId)).status).toBe("pending");
  });

  it("refuses a stored file of another size than declared, and marks the item FAILED", async () => {
    const { mediaId, error } = await completeWith(files.wav.subarray(0, 1000), { createSize: files.wav.length });
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toMatch(/^size_bytes: the stored file is 1000 bytes, not the \d+ declared/);
    const { media: item } = await media().getMedia({ mediaId });
    expect(item).toMatchObject({ state: MediaState.FAILED, error: { code: "SIZE_MISMATCH", retryable: false } });
    // Its bytes are gone.
    expect(await h.blobs!.store.head("media", (await row(mediaId)).storageKey)).toBeNull();
  });

  it("refuses a checksum that differs from the stored bytes', and says so again when asked again", async () => {
    const wrong = sha256(Buffer.from("other bytes"));
    const { mediaId, error } = await completeWith(files.wav, { sha256: wrong });
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toBe(`sha256: the stored file's SHA-256 is ${sha256(files.wav)}, not the ${wrong} declared; upload the file again with CreateUpload`);
    const { media: item } = await media().getMedia({ mediaId });
    expect(item).toMatchObject({ state: MediaState.FAILED, sha256: "", error: { code: "CHECKSUM_MISMATCH", message: error.rawMessage } });
    const again = await failure(media().completeUpload({ mediaId, sizeBytes: BigInt(files.wav.length), sha256: wrong }));
    expect([again.code, again.rawMessage]).toEqual([error.code, error.rawMessage]);
  });

  it("refuses a text file: not audio", async () => {
    const { mediaId, error } = await completeWith(files.text);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toMatch(/^media: not a readable audio or video file/);
    const { media: item } = await media().getMedia({ mediaId });
    expect(item).toMatchObject({ state: MediaState.FAILED, error: { code: "NOT_MEDIA" } });
    expect(item!.audioProperties).toBeUndefined();
    const download = await failure(media().getMediaDownloadUrl({ mediaId }));
    expect(download.code).toBe(Code.FailedPrecondition);
  });

  it("refuses a truncated WAV", async () => {
    const { mediaId, error } = await completeWith(files.truncatedWav);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toMatch(/^media: .*truncated upload\?/);
    expect((await media().getMedia({ mediaId })).media).toMatchObject({ state: MediaState.FAILED, error: { code: "TRUNCATED_MEDIA" } });
  });

  it("refuses audio longer than MAX_MEDIA_SECONDS", async () => {
    const long = await makeLongWav(files.dir, "long.wav", 121, 8000, 1);
    const { error } = await completeWith(long);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("media: the audio lasts 2 min 1 s, longer than this server's limit of 2 min");
  });

  it("refuses zero-length files: at CreateUpload, as a PUT of nothing, and as an empty stream", async () => {
    const zero = await failure(media().createUpload({ filename: "empty.wav", sizeBytes: 0n }));
    expect(zero.code).toBe(Code.InvalidArgument);
    expect(zero.rawMessage).toContain("size_bytes");
    const { error } = await completeWith(new Uint8Array(0), { createSize: 100 });
    expect(error.rawMessage).toMatch(/^size_bytes: the stored file is 0 bytes, not the 100 declared/);
    const empty = await failure(uploadByStream(media(), { filename: "empty.wav" }, new Uint8Array(0)));
    expect(empty.code).toBe(Code.InvalidArgument);
    expect(empty.rawMessage).toBe("media: the file is empty (0 bytes)");
  });

  it("refuses a declared size over MAX_UPLOAD_BYTES, and a nameless or badly typed file", async () => {
    const big = await failure(media().createUpload({ filename: "x.wav", sizeBytes: BigInt(65 * MiB) }));
    expect([big.code, big.rawMessage]).toEqual([Code.InvalidArgument, `size_bytes: ${65 * MiB} bytes is over this server's limit of 64 MiB`]);
    const type = await failure(media().createUpload({ filename: "x.wav", contentType: "wav please", sizeBytes: 10n }));
    expect(type.code).toBe(Code.InvalidArgument);
    expect(type.rawMessage).toMatch(/^content_type: /);
    const control = await failure(media().createUpload({ filename: "a\nb.wav", sizeBytes: 10n }));
    expect(control.rawMessage).toMatch(/^filename: /);
  });

  describe("on the stream", () => {
    const noneStored = async (before: number) => {
      // Refused streams leave no item behind, and no copy in the scratch folder.
      expect(await h.testDb.db.fork().count(Media, { organization: owner.organizationId }, { filters: false })).toBe(before);
      expect(await readdir(path.join(h.dataDir, "scratch"))).toEqual([]);
    };
    const count = () => h.testDb.db.fork().count(Media, { organization: owner.organizationId }, { filters: false });

    it("refuses a file past MAX_STREAM_UPLOAD_BYTES, declared or not, before storing it", async () => {
      const before = await count();
      const tooBig = new Uint8Array(2 * MiB + 1);
      const undeclared = await failure(uploadByStream(media(), { filename: "big.wav" }, tooBig, 1024 * 1024));
      expect(undeclared.code).toBe(Code.InvalidArgument);
      expect(undeclared.rawMessage).toBe("chunk: the file passed this server's limit of 2 MiB for UploadMedia; use CreateUpload for larger files");
      const declared = await failure(uploadByStream(media(), { filename: "big.wav", sizeBytes: tooBig.length }, tooBig.subarray(0, 10)));
      expect(declared.code).toBe(Code.InvalidArgument);
      expect(declared.rawMessage).toMatch(/^metadata\.size_bytes: 2097153 bytes is over this server's limit of 2 MiB/);
      await noneStored(before);
    });

    it("refuses bytes that disagree with the declared size or checksum", async () => {
      const before = await count();
      const more = await failure(uploadByStream(media(), { filename: "a.wav", sizeBytes: 1000 }, files.wav));
      expect([more.code, more.rawMessage]).toEqual([Code.InvalidArgument, "metadata.size_bytes: more than the 1000 bytes declared arrived"]);
      const fewer = await failure(uploadByStream(media(), { filename: "a.wav", sizeBytes: files.wav.length + 5 }, files.wav));
      expect(fewer.rawMessage).toBe(`metadata.size_bytes: ${files.wav.length} bytes arrived, not the ${files.wav.length + 5} declared`);
      const wrong = sha256(Buffer.from("x"));
      const checksum = await failure(uploadByStream(media(), { filename: "a.wav", sha256: wrong }, files.wav));
      expect([checksum.code, checksum.rawMessage]).toEqual([Code.InvalidArgument, `metadata.sha256: the bytes that arrived have SHA-256 ${sha256(files.wav)}, not the ${wrong} declared`]);
      await noneStored(before);
    });

    it("refuses a text file and a truncated file with the probe's reason, keeping nothing", async () => {
      const before = await count();
      const text = await failure(uploadByStream(media(), { filename: "notes.txt" }, files.text));
      expect(text.code).toBe(Code.InvalidArgument);
      expect(text.rawMessage).toMatch(/^media: not a readable audio or video file/);
      const cut = await failure(uploadByStream(media(), { filename: "cut.wav" }, files.truncatedWav));
      expect(cut.rawMessage).toMatch(/^media: .*truncated upload\?/);
      await noneStored(before);
    });

    it("gives up on a stream that stops sending, keeping nothing", async () => {
      const before = await count();
      const impatient = new MediaLibrary(h.testDb.db, h.blobs!.store, h.identity.audit, { ...loadConfig({ DATA_DIR: h.dataDir, ...env }).media, activeJobs: activeJobsOfMedia(h.testDb.db), idleMs: 200 });
      async function* stalls() {
        yield files.wav.subarray(0, 1000);
        await new Promise((r) => setTimeout(r, 3000));
        yield files.wav.subarray(1000);
      }
      const started = Date.now();
      const error = await impatient.uploadStream(principalOf(owner), { filename: "stalled.wav", contentType: "", sizeBytes: 0, sha256: "", labels: {} }, stalls()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeadlineExceededError);
      expect((error as Error).message).toBe("chunk: nothing arrived for 0.2 s; the upload was abandoned");
      expect(Date.now() - started).toBeLessThan(2000);
      await noneStored(before);
    });

    it("needs the metadata first, and only first", async () => {
      const client = media();
      const chunkFirst = await failure(client.uploadMedia((async function* () {
        yield { payload: { case: "chunk" as const, value: files.wav.subarray(0, 10) } };
      })()));
      expect([chunkFirst.code, chunkFirst.rawMessage]).toEqual([Code.InvalidArgument, "metadata: the first message must carry the metadata (file name, type, size); the chunks follow it"]);
      const twice = await failure(client.uploadMedia((async function* () {
        yield { payload: { case: "metadata" as const, value: { filename: "a.wav" } } };
        yield { payload: { case: "metadata" as const, value: { filename: "b.wav" } } };
      })()));
      expect(twice.code).toBe(Code.InvalidArgument);
      expect(twice.rawMessage).toMatch(/^metadata: only the first message/);
    });
  });
});

describe("who may upload", () => {
  it("needs MEMBER or MEDIA_WRITE; a viewer and a read-only key may look but not upload", async () => {
    const viewer = await joinAs(h, owner.organizationId, "viewer");
    const denied = await failure(media(viewer).createUpload({ filename: "a.wav", sizeBytes: 10n }));
    expect(denied.code).toBe(Code.PermissionDenied);
    expect((await media(viewer).listMedia({})).media.length).toBeGreaterThan(0);

    const keys = h.client(ApiKeyService, { credential: owner.accessToken });
    const reader = (await keys.createApiKey({ name: "reader", scopes: [ApiKeyScope.MEDIA_READ] })).secret;
    const writer = (await keys.createApiKey({ name: "writer", scopes: [ApiKeyScope.MEDIA_WRITE] })).secret;
    const asKey = (secret: string) => h.client(MediaService, { headers: { "x-api-key": secret } });
    expect((await failure(uploadByStream(asKey(reader), { filename: "a.wav" }, files.wav))).code).toBe(Code.PermissionDenied);
    const done = await uploadByStream(asKey(writer), { filename: "from-key.wav" }, files.wav);
    expect(done.state).toBe(MediaState.READY);
  });
});
