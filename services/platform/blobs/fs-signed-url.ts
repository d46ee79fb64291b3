import { createHmac, timingSafeEqual } from "node:crypto";
import type { BucketName } from "./blob-store.js";

/**
 * Signed, expiring URLs for the filesystem store, shaped like S3 presigned URLs so clients treat both alike:
 * `<publicBaseUrl>/blobs/<bucket>/<key>?expires=<unix>&sig=<hex>` plus the operation's own parameters.
 *
 * The signature covers everything that changes what the URL lets its holder do: method, bucket, key,
 * expiry, the multipart upload and part, the Content-Type a PUT must send and the download file name a GET
 * answers with. Anything else in the query is ignored, so it cannot widen the grant.
 */
export type SignedMethod = "GET" | "PUT";

export interface SignedGrant {
  method: SignedMethod;
  bucket: BucketName;
  key: string;
  /** Unix seconds after which the URL stops working. */
  expires: number;
  uploadId?: string;
  partNumber?: number;
  contentType?: string;
  downloadFileName?: string;
}

export type Verdict = { ok: true; grant: SignedGrant } | { ok: false; reason: "invalid" | "expired" };

// Bumping the version invalidates every URL in flight, which is what a format change needs.
const PAYLOAD_VERSION = "arabicstt-blob-v1";
const SIG_HEX = /^[0-9a-f]{64}$/;
const UNSIGNED_INT = /^\d{1,12}$/;

export const BLOB_PATH_PREFIX = "/blobs/";

/** Percent-encodes each segment so Arabic names and spaces survive, while keeping `/` as the separator. */
export function blobPath(bucket: BucketName, key: string): string {
  return BLOB_PATH_PREFIX + [bucket, ...key.split("/")].map(encodeURIComponent).join("/");
}

export class FsUrlSigner {
  private readonly secret: Buffer;
  private readonly baseUrl: string;

  constructor(secret: string, publicBaseUrl: string) {
    // A guessable secret would let anyone mint upload and download URLs for every tenant's media.
    if (secret.length < 32) throw new Error("fs blob store: signingSecret must be at least 32 characters");
    const base = new URL(publicBaseUrl);
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new Error("fs blob store: publicBaseUrl must be an http(s) URL");
    }
    this.secret = Buffer.from(secret, "utf8");
    this.baseUrl = publicBaseUrl.replace(/\/+$/, "");
  }

  sign(grant: SignedGrant): string {
    const query = new URLSearchParams();
    if (grant.uploadId !== undefined) query.set("uploadId", grant.uploadId);
    if (grant.partNumber !== undefined) query.set("partNumber", String(grant.partNumber));
    if (grant.contentType !== undefined) query.set("contentType", grant.contentType);
    if (grant.downloadFileName !== undefined) query.set("filename", grant.downloadFileName);
    query.set("expires", String(grant.expires));
    query.set("sig", this.mac(grant).toString("hex"));
    return `${this.baseUrl}${blobPath(grant.bucket, grant.key)}?${query.toString()}`;
  }

  verify(
    method: SignedMethod,
    bucket: BucketName,
    key: string,
    query: URLSearchParams,
    nowSeconds = Math.floor(Date.now() / 1000),
  ): Verdict {
    const sig = query.get("sig") ?? "";
    const expires = query.get("expires") ?? "";
    const partNumber = query.get("partNumber");
    if (!SIG_HEX.test(sig) || !UNSIGNED_INT.test(expires)) return { ok: false, reason: "invalid" };
    if (partNumber !== null && !UNSIGNED_INT.test(partNumber)) return { ok: false, reason: "invalid" };

    const grant: SignedGrant = { method, bucket, key, expires: Number(expires) };
    const uploadId = query.get("uploadId");
    const contentType = query.get("contentType");
    const downloadFileName = query.get("filename");
    // Empty means absent, exactly as the payload encodes it; treating "" as a value would let anyone append
    // `contentType=` to a URL and have the server act on a parameter nobody signed.
    if (uploadId) grant.uploadId = uploadId;
    if (partNumber !== null) grant.partNumber = Number(partNumber);
    if (contentType) grant.contentType = contentType;
    if (downloadFileName) grant.downloadFileName = downloadFileName;

    if (!timingSafeEqual(Buffer.from(sig, "hex"), this.mac(grant))) return { ok: false, reason: "invalid" };
    // Checked after the signature so that a forged URL never learns whether its expiry would have passed.
    if (nowSeconds > grant.expires) return { ok: false, reason: "expired" };
    return { ok: true, grant };
  }

  private mac(grant: SignedGrant): Buffer {
    // Newline-joined is unambiguous: keys, content types and file names are validated to hold no control
    // characters, and the remaining fields are numbers or hex.
    const payload = [
      PAYLOAD_VERSION,
      grant.method,
      grant.bucket,
      grant.key,
      String(grant.expires),
      grant.uploadId ?? "",
      grant.partNumber === undefined ? "" : String(grant.partNumber),
      grant.contentType ?? "",
      grant.downloadFileName ?? "",
    ].join("\n");
    return createHmac("sha256", this.secret).update(payload, "utf8").digest();
  }
}
