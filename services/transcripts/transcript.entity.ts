import { DecimalType, EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema, type ProducerRef } from "../platform/database/base.entity.js";
import { notDeletedFilter } from "../platform/database/soft-delete.js";
import { Organization } from "../identity/model/organization.entity.js";

/** The result of a job or a live session: full text here, timed pieces in segments. */
export class Transcript extends BaseEntity {
  organization!: Organization;
  /** Unique: a job writes its transcript once, even when a killed worker runs the last step again. */
  /** The job that produced it (by entity name: the jobs capability sits above this one). */
  job: ProducerRef | null = null;
  /** The live session that produced it, likewise. */
  liveSession: ProducerRef | null = null;
  /** BCP-47, e.g. "ar", "ar-EG". */
  languageCode!: string;
  /** What lists and exports show; the producer's choice (the media's file name for a job). */
  title: Opt<string> = "";
  /** The model that recognised it, e.g. "whisper" or "dtmf". */
  model: string | null = null;
  /** Channels of the audio; segments' `channel` runs from 0 to one less. */
  channelCount: Opt<number> = 1;
  text: Opt<string> = "";
  durationMs: number | null = null;
  metadata: Opt<Record<string, unknown>> = {};
  wer: number | null = null;
  cer: number | null = null;
  deletedAt: Date | null = null;
}

export const TranscriptSchema = new EntitySchema<Transcript, BaseEntity>({
  class: Transcript,
  extends: BaseEntitySchema,
  tableName: "transcripts",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    // A transcript outlives the job or session that produced it.
    job: { kind: "m:1", entity: "Job", nullable: true, deleteRule: "set null", unique: true },
    liveSession: { kind: "m:1", entity: "LiveSession", nullable: true, deleteRule: "set null", unique: true },
    languageCode: { type: "text" },
    title: { type: "text", default: "" },
    model: { type: "text", nullable: true },
    channelCount: { type: "integer", default: 1 },
    text: { type: "text", default: "" },
    durationMs: { type: "integer", nullable: true },
    metadata: { type: "json", defaultRaw: "'{}'" },
    wer: { type: new DecimalType("number"), precision: 8, scale: 4, nullable: true },
    cer: { type: new DecimalType("number"), precision: 8, scale: 4, nullable: true },
    deletedAt: { type: "datetime", nullable: true },
  },
  indexes: [{ properties: ["organization", "createdAt"] }],
  filters: { notDeleted: notDeletedFilter },
});
