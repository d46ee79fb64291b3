// Helpers of the media tests: generated media files, and uploads by each of the three ways in, done the way
// a client does them (fetch to presigned URLs, a grpc-js client stream, a Connect client stream).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import * as grpc from "@grpc/grpc-js";
import type { Client } from "@connectrpc/connect";
import { MediaService, type CreateUploadResponse, type Media } from "../../proto/gen/arabicstt/v1/media_pb.js";
import { createAudioDir, sox, type AudioDir } from "../../inference/local/testing/audio.js";
import { ffmpeg } from "../../services/audio/ffmpeg-testing.js";
import { grpcJsClient, loadGrpcJsPackage } from "./clients.js";
import type { IdentityGateway } from "./identity-gateway.js";
import type { TestAccount } from "./accounts.js";
import type { Principal } from "../../services/identity/model/principal.js";

/** The account as the domain sees a caller, for tests that call MediaLibrary directly. */
export function principalOf(account: TestAccount): Principal {
  return {
    kind: "user",
    userId: account.userId,
    organizationId: account.organizationId,
    role: "owner",
    platformAdmin: false,
    organizationSuspended: false,
    tokenId: "test",
    tokenExpiresAt: new Date(Date.now() + 60_000),
  };
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export interface MediaFiles {
  dir: AudioDir;
  /** 3 s of a 300–3400 Hz sweep, 16 kHz mono 16-bit PCM WAV, made by sox. */
  wav: Buffer;
  /** The same as Ogg/Opus, made by ffmpeg. */
  opus: Buffer;
  /** The first half of `wav`, as an interrupted upload leaves it. */
  truncatedWav: Buffer;
  /** Arabic text, not audio. */
  text: Buffer;
  remove(): Promise<void>;
}

export async function makeMediaFiles(): Promise<MediaFiles> {
  const dir = await createAudioDir("arabicstt-media-");
  await sox("-D", "-n", "-r", "16000", "-c", "1", "-b", "16", dir.path("call.wav"), "synth", "3", "sine", "300-3400", "vol", "0.5");
  await ffmpeg("-i", dir.path("call.wav"), "-c:a", "libopus", "-b:a", "24k", dir.path("call.opus"));
  const wav = await readFile(dir.path("call.wav"));
  return {
    dir,
    wav,
    opus: await readFile(dir.path("call.opus")),
    truncatedWav: wav.subarray(0, Math.floor(wav.length / 2)),
    text: Buffer.from("محضر الاجتماع: هذا ملف نصي وليس تسجيلا صوتيا\n", "utf8"),
    remove: () => dir.remove(),
  };
}

/** A sox WAV of `seconds` at 48 kHz stereo (192,000 bytes a second), for multipart uploads. */
export async function makeLongWav(dir: AudioDir, name: string, seconds: number, rate = 48000, channels = 2): Promise<Buffer> {
  await sox("-D", "-n", "-r", String(rate), "-c", String(channels), "-b", "16", dir.path(name), "synth", String(seconds), "sine", "440", "vol", "0.3");
  return readFile(dir.path(name));
}

/** PUTs the whole file to a single-part target, as a browser or curl would. */
export async function putSingle(target: CreateUploadResponse["target"], bytes: Uint8Array): Promise<Response> {
  if (target.case !== "singlePart") throw new Error(`expected a single-part target, got ${target.case}`);
  return fetch(target.value.url, { method: "PUT", headers: target.value.headers, body: bytes });
}

/** PUTs every part of a multipart target in parallel; returns the parts with their ETags, in order. */
export async function putParts(target: CreateUploadResponse["target"], bytes: Uint8Array): Promise<{ partNumber: number; etag: string }[]> {
  if (target.case !== "multipart") throw new Error(`expected a multipart target, got ${target.case}`);
  const size = Number(target.value.partSizeBytes);
  return Promise.all(
    target.value.parts.map(async (part) => {
      const body = bytes.subarray((part.partNumber - 1) * size, part.partNumber * size);
      const res = await fetch(part.url, { method: "PUT", headers: target.value.headers, body });
      if (!res.ok) throw new Error(`part ${part.partNumber}: HTTP ${res.status} ${await res.text()}`);
      return { partNumber: part.partNumber, etag: res.headers.get("etag") ?? "" };
    }),
  );
}

/** CreateUpload, one PUT, CompleteUpload: the presigned path end to end. */
export async function uploadByPut(client: Client<typeof MediaService>, filename: string, bytes: Uint8Array, contentType = ""): Promise<Media> {
  const created = await client.createUpload({ filename, contentType, sizeBytes: BigInt(bytes.length) });
  const put = await putSingle(created.target, bytes);
  if (!put.ok) throw new Error(`PUT: HTTP ${put.status} ${await put.text()}`);
  const done = await client.completeUpload({ mediaId: created.media!.mediaId, sizeBytes: BigInt(bytes.length), sha256: sha256(bytes) });
  return done.media!;
}

/** UploadMedia over a Connect-ES gRPC client: metadata, then the file in `chunkSize` chunks. */
export async function uploadByStream(
  client: Client<typeof MediaService>,
  metadata: { filename: string; contentType?: string; sizeBytes?: number; sha256?: string; labels?: Record<string, string> },
  bytes: Uint8Array,
  chunkSize = 64 * 1024,
): Promise<Media> {
  async function* messages() {
    yield { payload: { case: "metadata" as const, value: { ...metadata, sizeBytes: BigInt(metadata.sizeBytes ?? 0) } } };
    for (let offset = 0; offset < bytes.length; offset += chunkSize) {
      yield { payload: { case: "chunk" as const, value: bytes.subarray(offset, offset + chunkSize) } };
    }
  }
  return (await client.uploadMedia(messages())).media!;
}

/** What a plain @grpc/grpc-js client (any gRPC SDK) gets back: proto-loader's plain objects. */
export interface GrpcJsMedia {
  media_id: string;
  state: string;
  size_bytes: string;
  sha256: string;
  audio_properties: { codec: string; container: string; sample_rate_hz: number; channel_count: number } | null;
}

/** UploadMedia from a plain @grpc/grpc-js client, writing with backpressure. */
export async function uploadByGrpcJs(
  h: IdentityGateway,
  accessToken: string,
  metadata: { filename: string; content_type?: string; size_bytes?: number; sha256?: string },
  bytes: Uint8Array,
  chunkSize = 256 * 1024,
): Promise<GrpcJsMedia> {
  const client = grpcJsClient(loadGrpcJsPackage(), "arabicstt.v1.MediaService", `127.0.0.1:${h.gw.grpcPort}`);
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${accessToken}`);
  try {
    return await new Promise<GrpcJsMedia>((resolve, reject) => {
      type Call = grpc.ClientWritableStream<unknown>;
      const upload = (client as unknown as { UploadMedia(md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: { media: GrpcJsMedia }) => void): Call }).UploadMedia;
      const call = upload.call(client, md, (err, res) => (err ? reject(err) : resolve(res!.media)));
      void (async () => {
        call.write({ metadata: { ...metadata, size_bytes: String(metadata.size_bytes ?? 0) } });
        for (let offset = 0; offset < bytes.length; offset += chunkSize) {
          if (!call.write({ chunk: Buffer.from(bytes.subarray(offset, offset + chunkSize)) })) {
            await new Promise((r) => call.once("drain", r));
          }
        }
        call.end();
      })();
    });
  } finally {
    client.close();
  }
}
