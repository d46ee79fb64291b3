import { BigIntType, EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../platform/database/base.entity.js";
import { Organization } from "../identity/model/organization.entity.js";
import { User } from "../identity/model/user.entity.js";

export const DATA_EXPORT_STATUSES = ["pending", "running", "succeeded", "failed"] as const;
export type DataExportStatus = (typeof DATA_EXPORT_STATUSES)[number];

/** An archive of everything one organisation holds (PrivacyService.CreateDataExport), written in the background. */
export class DataExport extends BaseEntity {
  organization!: Organization;
  requestedBy: User | null = null;
  status: Opt<DataExportStatus> = "pending";
  progressPercent: Opt<number> = 0;
  /** Key of the ZIP archive in the `exports` bucket, once written. */
  storageKey: string | null = null;
  sizeBytes: number | null = null;
  error: string | null = null;
  /** While running: the process writing it holds it until then; a lapsed lease (a crashed process) lets another start over. */
  leaseUntil: Date | null = null;
  completedAt: Date | null = null;
}

export const DataExportSchema = new EntitySchema<DataExport, BaseEntity>({
  class: DataExport,
  extends: BaseEntitySchema,
  tableName: "data_exports",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    requestedBy: { kind: "m:1", entity: () => User, nullable: true, deleteRule: "set null", index: true },
    status: { enum: true, items: [...DATA_EXPORT_STATUSES], default: "pending" },
    progressPercent: { type: "integer", default: 0 },
    storageKey: { type: "text", nullable: true },
    sizeBytes: { type: new BigIntType("number"), nullable: true },
    error: { type: "text", nullable: true },
    leaseUntil: { type: "datetime", nullable: true },
    completedAt: { type: "datetime", nullable: true },
  },
  indexes: [{ properties: ["organization", "createdAt"] }, { properties: ["status", "leaseUntil"] }],
});
