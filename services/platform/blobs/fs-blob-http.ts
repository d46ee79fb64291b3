import type { IncomingMessage, ServerResponse } from "node:http";
import { Transform } from "node:stream";
import type { TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  BlobNotFoundError,
  BlobTooLargeError,
  InvalidBlobArgumentError,
  InvalidBlobKeyError,
  InvalidMultipartUploadError,
  MultipartUploadNotFoundError,
  assertValidBlobKey,
  contentDispositionAttachment,
  isBucketName,
} from "./blob-store.js";
import type { BlobInfo, BucketName } from "./blob-store.js";
import type { ByteRange, FsBlobStore } from "./fs-blob-store.js";
import { BLOB_PATH_PREFIX } from "./fs-signed-url.js";
import type { SignedGrant } from "./fs-signed-url.js";

export interface FsBlobHttpOptions {
  /** Largest body one PUT (object or part) may carry; beyond it the request gets 413. */
  maxUploadBytes: number;
  /** Told about failures that became a 500, so the gateway can log them with its request id. */
  onError?: (error: unknown, req: IncomingMessage) => void;
}

export type FsBlobHttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

const ALLOWED_METHODS = "GET, HEAD, PUT, OPTIONS";

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Serves the filesystem store's signed URLs on the gateway's HTTP/1.1 listener, the way S3 serves
 * presigned ones: GET/HEAD downloads (with Range, for seeking audio players), PUT uploads, and PUTs of
 * multipart parts answering with an ETag. Bodies are streamed both ways, never held in memory.
 *
 * Resolves false for paths outside `/blobs/`, so the gateway can chain it with its other routes.
 */
export function createFsBlobHttpHandler(store: FsBlobStore, options: FsBlobHttpOptions): FsBlobHttpHandler {
  if (!Number.isSafeInteger(options.maxUploadBytes) || options.maxUploadBytes < 1) {
    throw new Error("createFsBlobHttpHandler: maxUploadBytes must be a positive integer");
  }

  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://blob.invalid");
    if (!url.pathname.startsWith(BLOB_PATH_PREFIX)) return false;

    // The signed URL is the whole credential (no cookies), so any origin may use it; without this a
    // browser could not PUT to a presigned URL on the gateway from the web app's origin.
    res.setHeader("Access-Control-Allow-Origin", "*");
    res.setHeader("Access-Control-Expose-Headers", "ETag, Content-Length, Content-Range, Accept-Ranges");
    try {
      await handle(store, options, req, res, url);
    } catch (error) {
      respondToError(error, req, res, options);
    }
    return true;
  };
}

async function handle(
  store: FsBlobStore,
  options: FsBlobHttpOptions,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const method = req.method ?? "GET";
  if (method === "OPTIONS") {
    res.writeHead(204, {
      "Access-Control-Allow-Methods": ALLOWED_METHODS,
      "Access-Control-Allow-Headers": "Content-Type, Range",
      "Access-Control-Max-Age": "600",
    });
    res.end();
    return;
  }
  if (method !== "GET" && method !== "HEAD" && method !== "PUT") {
    res.setHeader("Allow", ALLOWED_METHODS);
    throw new HttpError(405, "method not allowed");
  }

  const { bucket, key } = parseBlobPath(url.pathname);
  // HEAD rides on a GET URL: it reveals less than the GET the holder may already make.
  const verdict = store.verifySignedRequest(method === "PUT" ? "PUT" : "GET", bucket, key, url.searchParams);
  if (!verdict.ok) {
    throw new HttpError(403, verdict.reason === "expired" ? "URL expired" : "signature does not match");
  }
  const grant = verdict.grant;

  if (method === "PUT") {
    await handlePut(store, options, grant, req, res);
  } else {
    await handleGet(store, grant, req, res, method === "HEAD");
  }
}

function parseBlobPath(pathname: string): { bucket: BucketName; key: string } {
  let segments: string[];
  try {
    segments = pathname.slice(BLOB_PATH_PREFIX.length).split("/").map(decodeURIComponent);
  } catch {
    throw new HttpError(400, "malformed path");
  }
  const [bucket, ...rest] = segments;
  if (bucket === undefined || !isBucketName(bucket)) throw new HttpError(404, "no such bucket");
  const key = rest.join("/");
  assertValidBlobKey(key);
  return { bucket, key };
}

async function handlePut(
  store: FsBlobStore,
  options: FsBlobHttpOptions,
  grant: SignedGrant,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const sentType = req.headers["content-type"];
  // S3 signs the Content-Type a presigned PUT was made for; an upload with another type is refused there.
  if (grant.contentType !== undefined && sentType !== grant.contentType) {
    throw new HttpError(403, "Content-Type does not match the signed URL");
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > options.maxUploadBytes) throw new BlobTooLargeError(options.maxUploadBytes);

  const body = new ByteLimit(options.maxUploadBytes);
  // pipe() does not pass on a client abort; without this the store would wait for bytes that never come.
  // (pipeline() would, but it also destroys the request on a 413, taking the socket the answer needs.)
  req.once("close", () => {
    if (!req.readableEnded) body.destroy(new HttpError(400, "upload interrupted"));
  });
  req.pipe(body);
  const result =
    grant.uploadId !== undefined && grant.partNumber !== undefined
      ? await store.writeUploadPart(grant.bucket, grant.key, grant.uploadId, grant.partNumber, body)
      : await store.put(grant.bucket, grant.key, body, { contentType: grant.contentType ?? headerSafe(sentType) });
  res.writeHead(200, { ETag: result.etag ?? "", "Content-Length": "0" });
  res.end();
}

async function handleGet(
  store: FsBlobStore,
  grant: SignedGrant,
  req: IncomingMessage,
  res: ServerResponse,
  headOnly: boolean,
): Promise<void> {
  const info = await store.head(grant.bucket, grant.key);
  if (info === null) throw new BlobNotFoundError(grant.bucket, grant.key);

  const headers: Record<string, string> = {
    "Content-Type": info.contentType ?? "application/octet-stream",
    "Accept-Ranges": "bytes",
    "Cache-Control": "private, no-cache",
    // Uploads are user content served from the API's own origin: never let a browser run them as a page.
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
  };
  if (info.etag) headers.ETag = info.etag;
  if (grant.downloadFileName) headers["Content-Disposition"] = contentDispositionAttachment(grant.downloadFileName);

  const range = parseRange(req.headers.range, info);
  if (range === "unsatisfiable") {
    res.writeHead(416, { ...headers, "Content-Range": `bytes */${info.size}`, "Content-Length": "0" });
    res.end();
    return;
  }
  if (headOnly) {
    res.writeHead(200, { ...headers, "Content-Length": String(info.size) });
    res.end();
    return;
  }

  const blob = await store.read(grant.bucket, grant.key, range ?? undefined);
  // The object may have been replaced between head and read; the range was computed for the old size.
  if (range && range.end >= blob.size) {
    blob.stream.destroy();
    throw new HttpError(412, "object changed while reading");
  }
  if (blob.etag) headers.ETag = blob.etag;
  if (range) {
    headers["Content-Range"] = `bytes ${range.start}-${range.end}/${blob.size}`;
    res.writeHead(206, { ...headers, "Content-Length": String(range.end - range.start + 1) });
  } else {
    res.writeHead(200, { ...headers, "Content-Length": String(blob.size) });
  }
  await pipeline(blob.stream, res);
}

/** One `bytes=` range (what audio elements send); multiple ranges are answered with the whole object. */
function parseRange(header: string | undefined, info: BlobInfo): ByteRange | "unsatisfiable" | null {
  if (header === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return null;
  const size = info.size;
  let start: number;
  let end: number;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0) return "unsatisfiable";
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
    if (match[2] !== "" && Number(match[2]) < start) return null;
  }
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

function headerSafe(value: string | undefined): string | undefined {
  // An unsigned Content-Type is the uploader's claim; keep it only if it is a sane single header value.
  if (value === undefined || value.length === 0 || value.length > 255 || /[\u0000-\u001f\u007f]/.test(value)) {
    return undefined;
  }
  return value;
}

/** Fails the upload once more than `limit` bytes arrive, for bodies that lied about or omitted their length. */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) callback(new BlobTooLargeError(this.limit));
    else callback(null, chunk);
  }
}

function statusFor(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof BlobNotFoundError || error instanceof MultipartUploadNotFoundError) return 404;
  if (error instanceof BlobTooLargeError) return 413;
  if (
    error instanceof InvalidBlobKeyError ||
    error instanceof InvalidBlobArgumentError ||
    error instanceof InvalidMultipartUploadError
  ) {
    return 400;
  }
  return 500;
}

function respondToError(error: unknown, req: IncomingMessage, res: ServerResponse, options: FsBlobHttpOptions): void {
  const status = statusFor(error);
  if (res.headersSent) {
    // A client that hangs up mid-download is routine, not a server fault worth logging.
    if ((error as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") options.onError?.(error, req);
    // Mid-body there is no status left to send; cutting the connection is the only honest signal.
    res.destroy();
    return;
  }
  if (status === 500) options.onError?.(error, req);
  const message = status === 500 ? "internal error" : (error as Error).message;
  const headers: Record<string, string> = { "Content-Type": "text/plain; charset=utf-8" };
  if (req.method === "PUT" && !req.readableEnded) {
    // The rest of a refused upload is not worth reading; closing stops the client from sending it all.
    headers.Connection = "close";
  }
  res.writeHead(status, headers);
  res.end(req.method === "HEAD" ? undefined : `${message}\n`);
}
