// MediaService over the wire.
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { ProcessingErrorSchema } from "../../proto/gen/arabicstt/v1/common_pb.js";
import {
  AudioPropertiesSchema,
  MediaSchema,
  MediaState,
  type Media as MediaMessage,
  type MediaService,
  type UploadMediaRequest,
} from "../../proto/gen/arabicstt/v1/media_pb.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import { callerOf, principalOf } from "../identity/model/context.js";
import type { Media, MediaStatus } from "./media.entity.js";
import { expiresAtOf, type MediaLibrary } from "./media-library.js";

const stateOf: Record<MediaStatus, MediaState> = {
  pending: MediaState.PENDING_UPLOAD,
  processing: MediaState.PROCESSING,
  ready: MediaState.READY,
  failed: MediaState.FAILED,
  // Never shown: deleted items are not found.
  deleted: MediaState.UNSPECIFIED,
};

const statusOf: Partial<Record<MediaState, MediaStatus>> = {
  [MediaState.PENDING_UPLOAD]: "pending",
  [MediaState.PROCESSING]: "processing",
  [MediaState.READY]: "ready",
  [MediaState.FAILED]: "failed",
};

export function toMedia(media: Media): MediaMessage {
  const status = media.status as MediaStatus;
  const expiresAt = expiresAtOf(media);
  return create(MediaSchema, {
    mediaId: media.id,
    filename: media.filename,
    contentType: media.contentType,
    sizeBytes: BigInt(status === "ready" ? (media.sizeBytes ?? 0) : 0),
    sha256: status === "ready" ? (media.sha256 ?? "") : "",
    state: stateOf[status],
    audioProperties:
      status === "ready"
        ? create(AudioPropertiesSchema, {
            duration: durationFromMs(media.durationMs ?? 0),
            // ffprobe names a container by every format it can be ("mov,mp4,m4a,…"); the first is its name.
            container: (media.container ?? "").split(",")[0],
            codec: media.codec ?? "",
            sampleRateHz: media.sampleRateHz ?? 0,
            channelCount: media.channels ?? 0,
            hasVideo: media.hasVideo ?? false,
          })
        : undefined,
    error:
      status === "failed"
        ? create(ProcessingErrorSchema, {
            code: media.errorCode ?? "INTERNAL",
            message: media.errorMessage ?? "",
            occurredAt: timestampFromDate(media.updatedAt),
            retryable: false,
          })
        : undefined,
    labels: media.labels,
    createdAt: timestampFromDate(media.createdAt),
    uploadedAt: media.uploadedAt ? timestampFromDate(media.uploadedAt) : undefined,
    expiresAt: expiresAt ? timestampFromDate(expiresAt) : undefined,
  });
}

/** The chunks after the metadata message; a second metadata message is refused. */
async function* chunksAfterMetadata(requests: AsyncIterator<UploadMediaRequest>): AsyncGenerator<Uint8Array> {
  for (;;) {
    const next = await requests.next();
    if (next.done) return;
    if (next.value.payload.case !== "chunk") {
      throw new InvalidArgumentError("metadata", "only the first message may carry the metadata; every later one carries a chunk");
    }
    yield next.value.payload.value;
  }
}

export function mediaHandler(media: MediaLibrary): Partial<ServiceImpl<typeof MediaService>> {
  return {
    async createUpload(req, ctx) {
      const { media: item, target } = await media.createUpload(principalOf(ctx.values), {
        filename: req.filename,
        contentType: req.contentType,
        sizeBytes: Number(req.sizeBytes),
        labels: req.labels,
      });
      const expiresAt = timestampFromDate(target.expiresAt);
      return {
        media: toMedia(item),
        target:
          target.kind === "single"
            ? { case: "singlePart", value: { url: target.url, headers: target.headers, expiresAt } }
            : {
                case: "multipart",
                value: { partSizeBytes: BigInt(target.partSizeBytes), parts: target.parts, headers: target.headers, expiresAt },
              },
      };
    },
    async completeUpload(req, ctx) {
      const item = await media.completeUpload(
        principalOf(ctx.values),
        { mediaId: req.mediaId, sizeBytes: Number(req.sizeBytes), sha256: req.sha256, parts: req.parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })) },
        ctx.signal,
      );
      return { media: toMedia(item) };
    },
    async uploadMedia(requests, ctx) {
      const iterator = requests[Symbol.asyncIterator]();
      const first = await iterator.next();
      if (first.done || first.value.payload.case !== "metadata") {
        throw new InvalidArgumentError("metadata", "the first message must carry the metadata (file name, type, size); the chunks follow it");
      }
      const metadata = first.value.payload.value;
      const item = await media.uploadStream(
        principalOf(ctx.values),
        { filename: metadata.filename, contentType: metadata.contentType, sizeBytes: Number(metadata.sizeBytes), sha256: metadata.sha256, labels: metadata.labels },
        chunksAfterMetadata(iterator),
      );
      return { media: toMedia(item) };
    },
    async getMedia(req, ctx) {
      return { media: toMedia(await media.get(principalOf(ctx.values), req.mediaId)) };
    },
    async listMedia(req, ctx) {
      const page = await media.list(principalOf(ctx.values), { pageSize: req.pageSize, pageToken: req.pageToken, status: statusOf[req.state] });
      return { media: page.items.map(toMedia), nextPageToken: page.nextPageToken };
    },
    async deleteMedia(req, ctx) {
      await media.delete(principalOf(ctx.values), req.mediaId, callerOf(ctx.values));
      return {};
    },
    async getMediaDownloadUrl(req, ctx) {
      const seconds = req.expiresIn ? Number(req.expiresIn.seconds) + Math.ceil(req.expiresIn.nanos / 1e9) : undefined;
      const { url, expiresAt } = await media.downloadUrl(principalOf(ctx.values), req.mediaId, seconds);
      return { url, expiresAt: timestampFromDate(expiresAt) };
    },
  };
}
