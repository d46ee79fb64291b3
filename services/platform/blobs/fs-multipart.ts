// The filesystem store's multipart uploads, S3's way: an upload is a folder under `.uploads/<id>` with a
// record of its bucket, key and content type, and one file per part; completing it checks each part
// against its ETag while streaming them, in order, into the object.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import {
  InvalidMultipartUploadError,
  MIN_MULTIPART_PART_BYTES,
  MultipartUploadNotFoundError,
  type BucketName,
  type CompletedPart,
  type PutResult,
} from "./blob-store.js";
import { etagOf, type FsBlobFiles } from "./fs-blob-files.js";
import { isMissing, type FsBlobLayout } from "./fs-blob-layout.js";

interface UploadRecord {
  bucket: BucketName;
  key: string;
  contentType?: string;
  createdAt: string;
}

const UPLOAD_ID = /^[0-9a-f]{32}$/;

/** Whether the id has the shape this store gives upload ids; any other names no upload. */
export function isUploadId(uploadId: string): boolean {
  return UPLOAD_ID.test(uploadId);
}

export class FsMultipartUploads {
  constructor(
    private readonly layout: FsBlobLayout,
    private readonly files: FsBlobFiles,
  ) {}

  async create(bucket: BucketName, key: string, contentType: string | undefined): Promise<string> {
    const uploadId = randomBytes(16).toString("hex");
    await mkdir(this.layout.uploadDir(uploadId), { recursive: true });
    const record: UploadRecord = { bucket, key, contentType, createdAt: new Date().toISOString() };
    await writeFile(this.layout.uploadRecordPath(uploadId), JSON.stringify(record));
    return uploadId;
  }

  async writePart(bucket: BucketName, key: string, uploadId: string, partNumber: number, body: Buffer | Readable): Promise<PutResult> {
    await this.load(bucket, key, uploadId);
    const temp = await this.files.writeTemp(body);
    try {
      await rename(temp.path, this.layout.partPath(uploadId, partNumber));
    } catch (error) {
      await rm(temp.path, { force: true });
      // The upload folder vanished between the check and the rename: it was completed or aborted.
      if (isMissing(error)) throw new MultipartUploadNotFoundError(uploadId);
      throw error;
    }
    return { size: temp.size, etag: etagOf(temp.md5) };
  }

  async complete(bucket: BucketName, key: string, uploadId: string, parts: readonly CompletedPart[]): Promise<PutResult> {
    const record = await this.load(bucket, key, uploadId);
    await this.checkPartSizes(uploadId, parts);
    const partDigests: Buffer[] = [];
    const temp = await this.files.writeTemp(this.concatenateParts(uploadId, parts, (digest) => partDigests.push(digest)));
    const etag = `"${createHash("md5").update(Buffer.concat(partDigests)).digest("hex")}-${parts.length}"`;
    await this.files.commit(temp, bucket, key, { ino: temp.ino, size: temp.size, etag, contentType: record.contentType });
    await rm(this.layout.uploadDir(uploadId), { recursive: true, force: true });
    return { size: temp.size, etag };
  }

  async abort(bucket: BucketName, key: string, uploadId: string): Promise<void> {
    if (!isUploadId(uploadId)) return;
    try {
      await this.load(bucket, key, uploadId);
    } catch (error) {
      if (error instanceof MultipartUploadNotFoundError) return;
      throw error;
    }
    await rm(this.layout.uploadDir(uploadId), { recursive: true, force: true });
  }

  private async load(bucket: BucketName, key: string, uploadId: string): Promise<UploadRecord> {
    if (!isUploadId(uploadId)) throw new MultipartUploadNotFoundError(uploadId);
    let record: UploadRecord;
    try {
      record = JSON.parse(await readFile(this.layout.uploadRecordPath(uploadId), "utf8")) as UploadRecord;
    } catch (error) {
      if (isMissing(error)) throw new MultipartUploadNotFoundError(uploadId);
      throw error;
    }
    // S3 scopes an upload id to its bucket and key; a mismatch reads as "no such upload" there too.
    if (record.bucket !== bucket || record.key !== key) throw new MultipartUploadNotFoundError(uploadId);
    return record;
  }

  /** Every part listed was uploaded, and all but the last are at least S3's minimum part size. */
  private async checkPartSizes(uploadId: string, parts: readonly CompletedPart[]): Promise<void> {
    const sizes: number[] = [];
    for (const part of parts) {
      try {
        sizes.push((await stat(this.layout.partPath(uploadId, part.partNumber))).size);
      } catch (error) {
        if (isMissing(error)) throw new InvalidMultipartUploadError(`part ${part.partNumber} was not uploaded`);
        throw error;
      }
    }
    // Enforced here too so that an upload flow built against the embedded store also works on S3.
    sizes.slice(0, -1).forEach((size, i) => {
      if (size < MIN_MULTIPART_PART_BYTES) {
        throw new InvalidMultipartUploadError(
          `part ${parts[i]?.partNumber} is ${size} bytes; all parts but the last need ${MIN_MULTIPART_PART_BYTES}`,
        );
      }
    });
  }

  private async *concatenateParts(
    uploadId: string,
    parts: readonly CompletedPart[],
    onDigest: (digest: Buffer) => void,
  ): AsyncGenerator<Buffer> {
    for (const part of parts) {
      const hash = createHash("md5");
      for await (const chunk of createReadStream(this.layout.partPath(uploadId, part.partNumber))) {
        hash.update(chunk as Buffer);
        yield chunk as Buffer;
      }
      const digest = hash.digest();
      if (normaliseEtag(part.etag) !== digest.toString("hex")) {
        throw new InvalidMultipartUploadError(`part ${part.partNumber}: ETag does not match the uploaded bytes`);
      }
      onDigest(digest);
    }
  }
}

function normaliseEtag(etag: string): string {
  return etag.trim().replace(/^W\//, "").replace(/^"|"$/g, "").toLowerCase();
}
