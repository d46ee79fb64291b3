// A file to a READY media item, the way the console does it (README "Uploading media"): CreateUpload, the
// bytes PUT to the presigned URL (one PUT, or one per part with each part's ETag kept), CompleteUpload with
// the size and SHA-256. The file is streamed from disk twice (once to hash, once to send), never held whole.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import type { Client } from "@connectrpc/connect";
import { MediaService, MediaState, type Media } from "../../proto/gen/arabicstt/v1/media_pb.js";
import { CliFailure, UsageError } from "./errors.js";

/** How long a file the server is still checking (multi-GiB) is waited for, and how often it is asked. */
const PROCESSING_WAIT_MS = 30 * 60_000;
const PROCESSING_POLL_MS = 1_000;
/** The most of an error response's body quoted in the message. */
const MAX_ERROR_BODY = 2_048;

/** Content types by extension; anything else is sent without one and the server probes it. */
const CONTENT_TYPES: Record<string, string> = {
  ".wav": "audio/wav",
  ".mp3": "audio/mpeg",
  ".flac": "audio/flac",
  ".ogg": "audio/ogg",
  ".opus": "audio/ogg",
  ".m4a": "audio/mp4",
  ".mp4": "video/mp4",
  ".webm": "audio/webm",
};

export async function uploadFile(media: Client<typeof MediaService>, file: string, progress: (sent: number, total: number) => void, signal: AbortSignal): Promise<Media> {
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new UsageError(`${file} is not a file`, "transcribe");
    size = info.size;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`, "transcribe");
  }
  if (size === 0) throw new UsageError(`${file} is empty`, "transcribe");
  const sha256 = await hashFile(file);
  const created = await media.createUpload(
    { filename: path.basename(file), contentType: CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "", sizeBytes: BigInt(size) },
    { signal },
  );
  const mediaId = created.media!.mediaId;
  const parts: { partNumber: number; etag: string }[] = [];
  const target = created.target;
  if (target.case === "singlePart") {
    await put(target.value.url, target.value.headers, file, 0, size, (sent) => progress(sent, size), signal);
  } else if (target.case === "multipart") {
    const partSize = Number(target.value.partSizeBytes);
    let done = 0;
    for (const part of target.value.parts) {
      const start = (part.partNumber - 1) * partSize;
      const end = Math.min(size, start + partSize);
      const etag = await put(part.url, target.value.headers, file, start, end, (sent) => progress(done + sent, size), signal);
      done += end - start;
      parts.push({ partNumber: part.partNumber, etag });
    }
  } else {
    throw new CliFailure("CreateUpload gave no upload target", "internal");
  }
  progress(size, size);
  let item = (await media.completeUpload({ mediaId, sizeBytes: BigInt(size), sha256, parts }, { signal })).media!;
  const deadline = Date.now() + PROCESSING_WAIT_MS;
  while (item.state === MediaState.PROCESSING && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, PROCESSING_POLL_MS));
    item = (await media.getMedia({ mediaId }, { signal })).media!;
  }
  if (item.state !== MediaState.READY) {
    const why = item.error ? `${item.error.code}: ${item.error.message}` : (MediaState[item.state] ?? "").toLowerCase();
    throw new CliFailure(`media ${mediaId} is not ready: ${why}`, "media_failed");
  }
  return item;
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * PUTs bytes [start, end) of the file with node:http, reporting bytes as they are handed to the socket
 * (fetch reports no upload progress, and a streamed fetch body goes chunked, which presigned S3 URLs refuse).
 * Resolves to the ETag response header.
 */
function put(url: string, headers: Record<string, string>, file: string, start: number, end: number, sent: (bytes: number) => void, signal: AbortSignal): Promise<string> {
  const target = new URL(url);
  const request = target.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(target, { method: "PUT", headers: { ...headers, "content-length": String(end - start) }, signal }, (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on("data", (chunk: Buffer) => {
        if (kept < MAX_ERROR_BODY) chunks.push(chunk);
        kept += chunk.length;
      });
      res.on("error", reject);
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(String(res.headers.etag ?? ""));
        else reject(new CliFailure(`upload refused: HTTP ${status} ${Buffer.concat(chunks).toString("utf8").slice(0, MAX_ERROR_BODY).trim()}`, "upload_failed"));
      });
    });
    req.on("error", reject);
    let total = 0;
    const source = createReadStream(file, { start, end: end - 1 });
    source.on("data", (chunk) => {
      total += chunk.length;
      sent(total);
    });
    source.on("error", (err) => {
      req.destroy(err);
      reject(err);
    });
    source.pipe(req);
  });
}
