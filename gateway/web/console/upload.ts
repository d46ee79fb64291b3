// The upload flow of README "Uploading media": CreateUpload, the bytes PUT to the presigned URL (one
// PUT, or one per part with each part's ETag kept), then CompleteUpload with the size and SHA-256,
// which checks and probes the file. Progress is reported as the fraction of bytes sent.
import { api } from "./api.js";

export async function uploadFile(file: File, progress: (fraction: number) => void): Promise<string> {
  const sha256 = hex(await crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
  const { media, target } = await api.media.createUpload({
    filename: file.name,
    contentType: file.type || "application/octet-stream",
    sizeBytes: BigInt(file.size),
  });
  const mediaId = media!.mediaId;
  const parts: { partNumber: number; etag: string }[] = [];
  if (target.case === "singlePart") {
    await put(target.value.url, target.value.headers, file, (sent) => progress(sent / file.size));
  } else if (target.case === "multipart") {
    const size = Number(target.value.partSizeBytes);
    let done = 0;
    for (const part of target.value.parts) {
      const start = (part.partNumber - 1) * size;
      const blob = file.slice(start, Math.min(file.size, start + size));
      const etag = await put(part.url, target.value.headers, blob, (sent) => progress((done + sent) / file.size));
      done += blob.size;
      parts.push({ partNumber: part.partNumber, etag });
    }
  }
  progress(1);
  await api.media.completeUpload({ mediaId, sizeBytes: BigInt(file.size), sha256, parts });
  return mediaId;
}

/** One PUT with upload progress (XMLHttpRequest: fetch has none); resolves to the ETag header. */
function put(url: string, headers: Record<string, string>, body: Blob, sent: (bytes: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => sent(e.loaded);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve(xhr.getResponseHeader("ETag") ?? "") : reject(new Error(`upload failed: HTTP ${xhr.status}`)));
    xhr.onerror = () => reject(new Error("upload failed: network error"));
    xhr.send(body);
  });
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
