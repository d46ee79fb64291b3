import { BigIntType, EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../platform/database/base.entity.js";
import { Organization } from "../identity/model/organization.entity.js";
import { Transcript } from "../transcripts/transcript.entity.js";
import { exportFormatNames, type ExportFormat } from "./format/index.js";

export const EXPORT_STATUSES = ["pending", "ready", "failed"] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

/** A transcript rendered to a file in the blob store. */
export class Export extends BaseEntity {
  organization!: Organization;
  transcript!: Transcript;
  format!: ExportFormat;
  status: Opt<ExportStatus> = "pending";
  /** The layout options as given (ExportOptions of services/exports/format), for GetExport to echo. */
  options: Opt<Record<string, unknown>> = {};
  /** Suggested download name, e.g. "call-2026-06-01.srt". */
  filename: Opt<string> = "";
  storageKey: string | null = null;
  sizeBytes: number | null = null;
  error: string | null = null;
  completedAt: Date | null = null;
}

export const ExportSchema = new EntitySchema<Export, BaseEntity>({
  class: Export,
  extends: BaseEntitySchema,
  tableName: "exports",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    transcript: { kind: "m:1", entity: () => Transcript, deleteRule: "cascade", index: true },
    format: { enum: true, items: [...exportFormatNames] },
    status: { enum: true, items: [...EXPORT_STATUSES], default: "pending" },
    options: { type: "json", defaultRaw: "'{}'" },
    filename: { type: "text", default: "" },
    storageKey: { type: "text", nullable: true },
    sizeBytes: { type: new BigIntType("number"), nullable: true },
    error: { type: "text", nullable: true },
    completedAt: { type: "datetime", nullable: true },
  },
  indexes: [{ properties: ["organization", "createdAt"] }],
});
