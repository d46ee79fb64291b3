import { BigIntType, EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../database/base.entity.js";
import { notDeletedFilter } from "../database/soft-delete.js";
import { Organization } from "../orgs/organization.entity.js";

export const MEDIA_STATUSES = ["pending", "ready", "failed", "deleted"] as const;
export type MediaStatus = (typeof MEDIA_STATUSES)[number];

/**
 * An uploaded audio file. The row exists from the moment an upload is granted (`pending`); size, hash and the
 * probed audio facts are filled in once the object is in the store (`ready`).
 */
export class Media extends BaseEntity {
  organization!: Organization;
  filename!: string;
  contentType!: string;
  sizeBytes: number | null = null;
  /** Hex SHA-256 of the stored bytes. */
  sha256: string | null = null;
  /** Key in the blob store; unique so two rows never own one object. */
  storageKey!: string;
  status: Opt<MediaStatus> = "pending";
  durationMs: number | null = null;
  codec: string | null = null;
  channels: number | null = null;
  sampleRateHz: number | null = null;
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
    durationMs: { type: "integer", nullable: true },
    codec: { type: "text", nullable: true },
    channels: { type: "integer", nullable: true },
    sampleRateHz: { type: "integer", nullable: true },
    deletedAt: { type: "datetime", nullable: true },
  },
  indexes: [{ properties: ["organization", "createdAt"] }, { properties: ["organization", "sha256"] }],
  filters: { notDeleted: notDeletedFilter },
});
