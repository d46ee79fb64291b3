import { EntitySchema } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../platform/database/base.entity.js";
import { Organization } from "../identity/model/organization.entity.js";
import { Transcript } from "./transcript.entity.js";

/** A voice found in a transcript; users may give its label a name. */
export class Speaker extends BaseEntity {
  organization!: Organization;
  transcript!: Transcript;
  /** As diarization named it ("S1", "S2"…); segments refer to it by this label. */
  label!: string;
  displayName: string | null = null;
  channel: number | null = null;
}

export const SpeakerSchema = new EntitySchema<Speaker, BaseEntity>({
  class: Speaker,
  extends: BaseEntitySchema,
  tableName: "speakers",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade", index: true },
    transcript: { kind: "m:1", entity: () => Transcript, deleteRule: "cascade" },
    label: { type: "text" },
    displayName: { type: "text", nullable: true },
    channel: { type: "integer", nullable: true },
  },
  uniques: [{ properties: ["transcript", "label"] }],
});
