import { BigIntType, EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../platform/database/base.entity.js";
import { notDeletedFilter } from "../platform/database/soft-delete.js";
import { Organization } from "../identity/model/organization.entity.js";

/**
 * `pending`: granted by CreateUpload, bytes not yet verified. `processing`: CompleteUpload is checking and
 * probing the stored bytes. `ready`: probed and usable by jobs. `failed`: refused (see `errorCode`); its bytes
 * are gone. `deleted`: soft-deleted (with `deletedAt`), bytes gone.
 */
export const MEDIA_STATUSES = ["pending", "processing", "ready", "failed", "deleted"] as const;
export type MediaStatus = (typeof MEDIA_STATUSES)[number];

/**
 * An uploaded audio file. The row exists from the moment an upload is granted (`pending`); size, hash and the
 * probed audio facts are filled in once the object is in the store (`ready`).
 */
export class Media extends BaseEntity {
  organization!: Organization;
  filename!: string;
  /** As given at upload, or detected from the container when none was given ("" until then). */
  contentType!: string;
  /** Size of the stored bytes; null until verified. */
  sizeBytes: number | null = null;
  /** Hex SHA-256 of the stored bytes; while `processing`, the checksum they are being verified against. */
  sha256: string | null = null;
  /**
   * Key in the blob store's `media` bucket; unique so two rows never own one object. The upload's key
   * (mediaBlobKey) until the bytes are verified, then a key no presigned URL writes (verifiedMediaBlobKey).
   */
  storageKey!: string;
  status: Opt<MediaStatus> = "pending";
  labels: Opt<Record<string, string>> = {};
  /** The size CreateUpload was given; CompleteUpload and the stored object must agree with it. */
  expectedSizeBytes: number | null = null;
  /** The multipart upload in the blob store, until it is assembled; null for a single PUT. */
  uploadId: string | null = null;
  partSizeBytes: number | null = null;
  /** When a `pending` upload is discarded. */
  uploadExpiresAt: Date | null = null;
  uploadedAt: Date | null = null;
  durationMs: number | null = null;
  codec: string | null = null;
  channels: number | null = null;
  sampleRateHz: number | null = null;
  /** ffmpeg's name of the container, as ffprobe prints it ("wav", "ogg", "mov,mp4,m4a,3gp,3g2,mj2"). */
  container: string | null = null;
  hasVideo: boolean | null = null;
  /** Why the item `failed`: a stable UPPER_SNAKE_CASE code and the message its uploader was given. */
  errorCode: string | null = null;
  errorMessage: string | null = null;
  deletedAt: Date | null = null;
}

export const MediaSchema = new EntitySchema<Media, BaseEntity>({
  class: Media,
  extends: BaseEntitySchema,
  tableName: "media",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    filename: { type: "text" },
    contentType: { type: "text" },
    // Files can pass 2 GiB; numbers stay exact up to 2^53 bytes.
    sizeBytes: { type: new BigIntType("number"), nullable: true },
    sha256: { type: "text", nullable: true },
    storageKey: { type: "text", unique: true },
    status: { enum: true, items: [...MEDIA_STATUSES], default: "pending" },
    labels: { type: "json", defaultRaw: "'{}'" },
    expectedSizeBytes: { type: new BigIntType("number"), nullable: true },
    uploadId: { type: "text", nullable: true },
    partSizeBytes: { type: new BigIntType("number"), nullable: true },
    uploadExpiresAt: { type: "datetime", nullable: true },
    uploadedAt: { type: "datetime", nullable: true },
    durationMs: { type: "integer", nullable: true },
    codec: { type: "text", nullable: true },
    channels: { type: "integer", nullable: true },
    sampleRateHz: { type: "integer", nullable: true },
    container: { type: "text", nullable: true },
    hasVideo: { type: "boolean", nullable: true },
    errorCode: { type: "text", nullable: true },
    errorMessage: { type: "text", nullable: true },
    deletedAt: { type: "datetime", nullable: true },
  },
  indexes: [
    { properties: ["organization", "createdAt"] },
    { properties: ["organization", "sha256"] },
    // The sweeper's lookups: expired uploads and stalled verifications, across organisations.
    { properties: ["status", "updatedAt"] },
  ],
  filters: { notDeleted: notDeletedFilter },
});
