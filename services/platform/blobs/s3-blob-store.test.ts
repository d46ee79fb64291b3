import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { ListMultipartUploadsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testEnvironment } from "../config/test-environment.js";
import { BlobStoreUnavailableError, MIN_MULTIPART_PART_BYTES } from "./blob-store.js";
import type { BucketName } from "./blob-store.js";
import { describeBlobStoreContract, expectSameBytes, readAll } from "./blob-store-contract.js";
import { createBlobStore } from "./index.js";
import { S3BlobStore } from "./s3-blob-store.js";
import type { S3BlobStoreConfig } from "./s3-blob-store.js";
import { removeTestBuckets, testS3Config } from "./testing.js";

// Runs only against a real server: CI starts Ceph RGW with .ci/ceph-rgw.sh and exports what it prints.
const endpoint = testEnvironment().s3?.endpoint;

describe.skipIf(!endpoint)("S3BlobStore against a real S3 server", () => {
  describeBlobStoreContract("s3", async () => {
    const config = testS3Config();
    const store = createBlobStore({ kind: "s3", ...config });
    return { store, cleanup: () => removeTestBuckets(store, config) };
  });

  describe("S3-specific behaviour", () => {
    let config: S3BlobStoreConfig;
    let store: S3BlobStore;

    beforeAll(async () => {
      config = testS3Config();
      // The smallest legal part size, so the stream test crosses into multipart without a huge body.
      store = new S3BlobStore(config, { streamPartSizeBytes: MIN_MULTIPART_PART_BYTES });
      await store.ensureBuckets();
    });
    afterAll(async () => {
      if (store) await removeTestBuckets(store, config);
    });

    it("puts a stream longer than one part as a multipart upload and leaves no upload behind", async () => {
      const chunks = Array.from({ length: 12 }, () => randomBytes(1024 * 1024));
      const put = await store.put("media", "long/stream.bin", Readable.from(chunks), { contentType: "audio/ogg" });
      expect(put.size).toBe(12 * 1024 * 1024);
      expect(put.etag).toMatch(/-3"$/);
      const got = await store.get("media", "long/stream.bin");
      expect(got.contentType).toBe("audio/ogg");
      expectSameBytes(await readAll(got.stream), Buffer.concat(chunks));
      const uploads = await store.client.send(new ListMultipartUploadsCommand({ Bucket: config.buckets.media }));
      expect(uploads.Uploads ?? []).toHaveLength(0);
    });

    it("aborts the multipart upload when the source stream fails", async () => {
      async function* failing() {
        yield randomBytes(MIN_MULTIPART_PART_BYTES);
        yield randomBytes(MIN_MULTIPART_PART_BYTES);
        throw new Error("source broke");
      }
      await expect(store.put("media", "long/broken.bin", Readable.from(failing()))).rejects.toThrow("source broke");
      expect(await store.head("media", "long/broken.bin")).toBeNull();
      const uploads = await store.client.send(new ListMultipartUploadsCommand({ Bucket: config.buckets.media }));
      expect(uploads.Uploads ?? []).toHaveLength(0);
    });

    it("maps each logical bucket to its configured bucket", async () => {
      for (const bucket of ["media", "processed", "exports"] as BucketName[]) {
        await store.put(bucket, "where.txt", Buffer.from(bucket));
        const listed = await store.client.send(new ListObjectsV2Command({ Bucket: config.buckets[bucket] }));
        expect(listed.Contents?.map((o) => o.Key)).toContain("where.txt");
      }
    });

    it("signs presigned URLs for the public endpoint when one is configured", async () => {
      await store.put("exports", "public/hello.txt", Buffer.from("مرحبا"));
      // A gateway that reaches S3 under a name clients cannot resolve (as `minio:9000` inside compose): its
      // presigned URLs point at the public endpoint, and the server accepts them there.
      const behindCompose = new S3BlobStore({ ...config, endpoint: "http://s3.internal.invalid:7480", publicEndpoint: endpoint });
      const url = new URL(await behindCompose.presignGet("exports", "public/hello.txt", { expiresInSeconds: 60 }));
      expect(url.origin).toBe(new URL(endpoint!).origin);
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("مرحبا");
      // The signature covers the host: signed for another name, the same path and query are refused here.
      const elsewhere = new S3BlobStore({ ...config, publicEndpoint: "http://s3.public.invalid:7480" });
      const foreign = new URL(await elsewhere.presignGet("exports", "public/hello.txt", { expiresInSeconds: 60 }));
      expect(foreign.host).toBe("s3.public.invalid:7480");
      const resent = new URL(foreign.pathname + foreign.search, endpoint);
      expect((await fetch(resent)).status).toBe(403);
    });

    it("is not ready when a bucket is missing", async () => {
      const missing = new S3BlobStore({ ...config, buckets: { ...config.buckets, exports: `${config.buckets.exports}-x` } });
      await expect(missing.ping()).rejects.toBeInstanceOf(BlobStoreUnavailableError);
    });
  });
});

describe("S3BlobStore without a server", () => {
  it("opens nothing on construction and reports an unreachable endpoint as unavailable", async () => {
    const store = new S3BlobStore(
      {
        endpoint: "http://127.0.0.1:9",
        region: "us-east-1",
        accessKeyId: "k",
        secretAccessKey: "s",
        buckets: { media: "m", processed: "p", exports: "e" },
      },
      { pingTimeoutMs: 2_000 },
    );
    await expect(store.ping()).rejects.toBeInstanceOf(BlobStoreUnavailableError);
    // Presigning is local computation; it needs no server.
    const url = new URL(await store.presignGet("media", "a/b.wav", { expiresInSeconds: 60 }));
    expect(url.pathname).toBe("/m/a/b.wav");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("60");
  });
});
