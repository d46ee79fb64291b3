import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BlobNotFoundError,
  InvalidBlobKeyError,
  InvalidMultipartUploadError,
  MIN_MULTIPART_PART_BYTES,
  MultipartUploadNotFoundError,
} from "./blob-store.js";
import type { BlobStore } from "./blob-store.js";

export interface ContractSubject {
  store: BlobStore;
  /** Removes everything the run created (buckets, temp dirs, servers). */
  cleanup(): Promise<void>;
}

/** What each group of contract tests works on; `store` is set once the subject is made, before any test. */
interface ContractContext {
  store: BlobStore;
  /** A key under this run's own prefix, so runs against a shared server never see each other's objects. */
  key(suffix: string): string;
}

/**
 * The behaviour every BlobStore must show, run against the filesystem store everywhere and against a real
 * S3 server (Ceph RGW in CI) when one is configured. Presigned URLs are exercised with plain `fetch`, the
 * way browsers and SDK users will call them.
 */
export function describeBlobStoreContract(name: string, makeSubject: () => Promise<ContractSubject>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let subject: ContractSubject | undefined;
    const prefix = `contract-${randomBytes(4).toString("hex")}`;
    const ctx = { key: (suffix: string) => `${prefix}/${suffix}` } as ContractContext;

    beforeAll(async () => {
      subject = await makeSubject();
      ctx.store = subject.store;
      await ctx.store.ensureBuckets();
    });

    afterAll(async () => {
      await subject?.cleanup();
    });

    objectContract(ctx);
    presignedUrlContract(ctx);
    multipartAssemblyContract(ctx);
    abandonedMultipartContract(ctx);
  });
}

/** Buckets, and objects written, read and deleted through the store's own calls; keys are validated. */
function objectContract(ctx: ContractContext): void {
  it("creates buckets idempotently and reports ready", async () => {
    const { store } = ctx;
    await store.ensureBuckets();
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it("puts, heads, gets and deletes an object", async () => {
    const { store, key } = ctx;
    const body = Buffer.from("مرحبا بالعالم — hello", "utf8");
    const put = await store.put("media", key("hello.txt"), body, { contentType: "text/plain; charset=utf-8" });
    expect(put.size).toBe(body.length);
    expect(put.etag).toBe(`"${md5(body)}"`);

    const info = await store.head("media", key("hello.txt"));
    expect(info).toMatchObject({ size: body.length, contentType: "text/plain; charset=utf-8", etag: put.etag });

    const got = await store.get("media", key("hello.txt"));
    expect(got.size).toBe(body.length);
    expect(got.contentType).toBe("text/plain; charset=utf-8");
    expectSameBytes(await readAll(got.stream), body);

    await store.delete("media", key("hello.txt"));
    expect(await store.head("media", key("hello.txt"))).toBeNull();
    // Deleting what is already gone succeeds, as on S3, so retries and cleanup stay simple.
    await expect(store.delete("media", key("hello.txt"))).resolves.toBeUndefined();
  });

  it("streams a body in and replaces an existing object", async () => {
    const { store, key } = ctx;
    const chunks = [randomBytes(70_000), randomBytes(1), randomBytes(200_000)];
    await store.put("processed", key("stream.bin"), Buffer.from("old"));
    const put = await store.put("processed", key("stream.bin"), Readable.from(chunks), {
      contentType: "application/octet-stream",
    });
    const whole = Buffer.concat(chunks);
    expect(put.size).toBe(whole.length);
    const got = await store.get("processed", key("stream.bin"));
    expectSameBytes(await readAll(got.stream), whole);
  });

  it("keeps buckets apart", async () => {
    const { store, key } = ctx;
    await store.put("exports", key("only-in-exports.txt"), Buffer.from("x"));
    expect(await store.head("media", key("only-in-exports.txt"))).toBeNull();
    expect(await store.head("exports", key("only-in-exports.txt"))).not.toBeNull();
  });

  it("reports a missing object with a typed error", async () => {
    const { store, key } = ctx;
    await expect(store.get("media", key("missing.wav"))).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await store.head("media", key("missing.wav"))).toBeNull();
  });

  it("rejects keys that could escape the bucket or are not portable", async () => {
    const { store } = ctx;
    const bad = ["../secret", "a/../../b", "/etc/passwd", "a//b", "a/./b", "", "a\\b", "a\u0000b", "a\nb"];
    for (const k of bad) {
      await expect(store.put("media", k, Buffer.from("x")), JSON.stringify(k)).rejects.toBeInstanceOf(
        InvalidBlobKeyError,
      );
      await expect(store.get("media", k)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.head("media", k)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.delete("media", k)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.presignGet("media", k, { expiresInSeconds: 60 })).rejects.toBeInstanceOf(
        InvalidBlobKeyError,
      );
    }
  });
}

/** Presigned PUT and GET URLs, used with plain HTTP, and refused when tampered with, reused or expired. */
function presignedUrlContract(ctx: ContractContext): void {
  it("uploads through a presigned PUT and downloads through a presigned GET", async () => {
    const { store, key } = ctx;
    const k = key("uploads/تسجيل مكالمة 1.wav");
    const body = randomBytes(64 * 1024);
    const putUrl = await store.presignPut("media", k, { expiresInSeconds: 300, contentType: "audio/wav" });
    const put = await fetch(putUrl, { method: "PUT", body, headers: { "Content-Type": "audio/wav" } });
    expect(put.status, await put.clone().text()).toBe(200);
    expect(put.headers.get("etag")).toBe(`"${md5(body)}"`);

    expect(await store.head("media", k)).toMatchObject({ size: body.length, contentType: "audio/wav" });

    const getUrl = await store.presignGet("media", k, { expiresInSeconds: 300, downloadFileName: "مكالمة.wav" });
    const get = await fetch(getUrl);
    expect(get.status).toBe(200);
    expectSameBytes(Buffer.from(await get.arrayBuffer()), body);
    const disposition = get.headers.get("content-disposition") ?? "";
    expect(disposition).toMatch(/^attachment;/);
    expect(disposition).toContain(`filename*=UTF-8''${encodeURIComponent("مكالمة.wav")}`);
  });

  it("refuses a presigned PUT sent with a Content-Type other than the signed one", async () => {
    const { store, key } = ctx;
    const url = await store.presignPut("media", key("typed.wav"), { expiresInSeconds: 300, contentType: "audio/wav" });
    const res = await fetch(url, { method: "PUT", body: "x", headers: { "Content-Type": "text/html" } });
    expect(res.status).toBe(403);
    expect(await store.head("media", key("typed.wav"))).toBeNull();
  });

  it("refuses a tampered signature with 403", async () => {
    const { store, key } = ctx;
    await store.put("media", key("signed.txt"), Buffer.from("secret"));
    const url = new URL(await store.presignGet("media", key("signed.txt"), { expiresInSeconds: 300 }));
    const sigParam = url.searchParams.has("sig") ? "sig" : "X-Amz-Signature";
    const sig = url.searchParams.get(sigParam)!;
    url.searchParams.set(sigParam, flipLastHexDigit(sig));
    expect((await fetch(url)).status).toBe(403);
  });

  it("refuses a URL reused for another key or method with 403", async () => {
    const { store, key } = ctx;
    await store.put("media", key("a.txt"), Buffer.from("a"));
    await store.put("media", key("b.txt"), Buffer.from("b"));
    const url = await store.presignGet("media", key("a.txt"), { expiresInSeconds: 300 });
    expect((await fetch(url.replace("/a.txt", "/b.txt"))).status).toBe(403);
    const put = await fetch(url, { method: "PUT", body: "overwrite" });
    expect(put.status).toBe(403);
    expectSameBytes(await readAll((await store.get("media", key("a.txt"))).stream), Buffer.from("a"));
  });

  it("refuses an expired URL with 403", async () => {
    const { store, key } = ctx;
    await store.put("media", key("expiring.txt"), Buffer.from("soon gone"));
    // Long enough that a loaded machine still uses the URL inside its lifetime (signing times are in
    // whole seconds), short enough to wait out.
    const getUrl = await store.presignGet("media", key("expiring.txt"), { expiresInSeconds: 4 });
    const putUrl = await store.presignPut("media", key("expiring-put.txt"), { expiresInSeconds: 4 });
    expect((await fetch(getUrl)).status).toBe(200);
    await sleep(5500);
    expect((await fetch(getUrl)).status).toBe(403);
    expect((await fetch(putUrl, { method: "PUT", body: "late" })).status).toBe(403);
    expect(await store.head("media", key("expiring-put.txt"))).toBeNull();
  });
}

/** Multipart uploads completed from presigned part PUTs, and refused when the parts break S3's rules. */
function multipartAssemblyContract(ctx: ContractContext): void {
  it("assembles a multipart upload from presigned part PUTs, in part order", async () => {
    const { store, key } = ctx;
    const k = key("multipart/long-call.wav");
    const part1 = randomBytes(MIN_MULTIPART_PART_BYTES);
    const part2 = randomBytes(123_457);
    const uploadId = await store.createMultipartUpload("media", k, { contentType: "audio/wav" });

    // Part 2 first: clients upload in parallel and finish in any order.
    const etag2 = await putPart(store, k, uploadId, 2, part2);
    const etag1 = await putPart(store, k, uploadId, 1, part1);
    expect(etag1).toBe(`"${md5(part1)}"`);
    expect(await store.head("media", k)).toBeNull();

    const done = await store.completeMultipartUpload("media", k, uploadId, [
      { partNumber: 1, etag: etag1 },
      { partNumber: 2, etag: etag2 },
    ]);
    const whole = Buffer.concat([part1, part2]);
    expect(done.size).toBe(whole.length);
    expect(done.etag).toBe(`"${multipartEtag([part1, part2])}"`);
    const got = await store.get("media", k);
    expect(got.contentType).toBe("audio/wav");
    expectSameBytes(await readAll(got.stream), whole);
    // A completed upload is gone: completing it again cannot resurrect or rewrite the object.
    await expect(
      store.completeMultipartUpload("media", k, uploadId, [{ partNumber: 1, etag: etag1 }]),
    ).rejects.toBeInstanceOf(MultipartUploadNotFoundError);
  });

  it("refuses to complete a multipart upload whose ETags do not match", async () => {
    const { store, key } = ctx;
    const k = key("multipart/tampered.bin");
    const part1 = randomBytes(MIN_MULTIPART_PART_BYTES);
    const uploadId = await store.createMultipartUpload("media", k);
    const etag1 = await putPart(store, k, uploadId, 1, part1);
    const etag2 = await putPart(store, k, uploadId, 2, Buffer.from("tail"));
    await expect(
      store.completeMultipartUpload("media", k, uploadId, [
        { partNumber: 1, etag: etag1 },
        { partNumber: 2, etag: `"${md5(Buffer.from("other tail"))}"` },
      ]),
    ).rejects.toBeInstanceOf(InvalidMultipartUploadError);
    expect(await store.head("media", k)).toBeNull();
    expect(etag2).toBe(`"${md5(Buffer.from("tail"))}"`);
    await store.abortMultipartUpload("media", k, uploadId);
  });

  it("refuses parts below S3's minimum size except the last", async () => {
    const { store, key } = ctx;
    const k = key("multipart/small-parts.bin");
    const uploadId = await store.createMultipartUpload("media", k);
    const etag1 = await putPart(store, k, uploadId, 1, Buffer.from("too small"));
    const etag2 = await putPart(store, k, uploadId, 2, Buffer.from("last"));
    await expect(
      store.completeMultipartUpload("media", k, uploadId, [
        { partNumber: 1, etag: etag1 },
        { partNumber: 2, etag: etag2 },
      ]),
    ).rejects.toBeInstanceOf(InvalidMultipartUploadError);
    await store.abortMultipartUpload("media", k, uploadId);
  });
}

/** Multipart uploads aborted or never created: their ids are refused from then on. */
function abandonedMultipartContract(ctx: ContractContext): void {
  it("aborts a multipart upload idempotently, after which its parts are refused", async () => {
    const { store, key } = ctx;
    const k = key("multipart/aborted.bin");
    const uploadId = await store.createMultipartUpload("media", k);
    const partUrl = await store.presignUploadPart("media", k, uploadId, 1, { expiresInSeconds: 300 });
    await store.abortMultipartUpload("media", k, uploadId);
    await store.abortMultipartUpload("media", k, uploadId);
    expect((await fetch(partUrl, { method: "PUT", body: "late part" })).status).toBe(404);
    await expect(
      store.completeMultipartUpload("media", k, uploadId, [{ partNumber: 1, etag: '"x"' }]),
    ).rejects.toBeInstanceOf(MultipartUploadNotFoundError);
    expect(await store.head("media", k)).toBeNull();
  });

  it("reports an unknown upload id with a typed error", async () => {
    const { store, key } = ctx;
    await expect(
      store.completeMultipartUpload("media", key("nope.bin"), "no-such-upload", [{ partNumber: 1, etag: '"x"' }]),
    ).rejects.toBeInstanceOf(MultipartUploadNotFoundError);
  });
}

async function putPart(store: BlobStore, key: string, uploadId: string, partNumber: number, body: Buffer) {
  const url = await store.presignUploadPart("media", key, uploadId, partNumber, { expiresInSeconds: 300 });
  const res = await fetch(url, { method: "PUT", body });
  expect(res.status, await res.clone().text()).toBe(200);
  const etag = res.headers.get("etag");
  expect(etag).toBeTruthy();
  return etag!;
}

/** Compares digests: vitest's deep equality walks a Buffer byte by byte and takes minutes on a few MiB. */
export function expectSameBytes(actual: Buffer, expected: Buffer): void {
  expect(actual.length).toBe(expected.length);
  expect(sha256(actual)).toBe(sha256(expected));
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function md5(data: Buffer): string {
  return createHash("md5").update(data).digest("hex");
}

function multipartEtag(parts: Buffer[]): string {
  const digests = parts.map((p) => createHash("md5").update(p).digest());
  return `${createHash("md5").update(Buffer.concat(digests)).digest("hex")}-${parts.length}`;
}

function flipLastHexDigit(hex: string): string {
  const last = hex.at(-1)!;
  return hex.slice(0, -1) + (last === "0" ? "1" : "0");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
