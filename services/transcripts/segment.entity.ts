import { EntitySchema, type Opt } from "@mikro-orm/core";
import { FullTextType } from "@mikro-orm/postgresql";
import { BaseEntity, BaseEntitySchema } from "../platform/database/base.entity.js";
import { Organization } from "../identity/model/organization.entity.js";
import { Transcript } from "./transcript.entity.js";

/** One recognised word with its timing, as the model returned it. */
export interface SegmentWord {
  word: string;
  startMs: number;
  endMs: number;
  confidence?: number;
  speakerLabel?: string;
}

/** One manual correction of a segment: what it said before, who changed it, when. */
export interface SegmentEdit {
  /** The revision the edit produced, from 1. */
  revision?: number;
  previousText: string;
  previousSpeakerLabel?: string | null;
  editedAt: string;
  editedByUserId: string | null;
  editedByApiKeyId?: string | null;
}

/** A timed piece of a transcript (an utterance), in order by `index`. */
export class Segment extends BaseEntity {
  organization!: Organization;
  transcript!: Transcript;
  index!: number;
  /** Audio channel the speech came from (call centres record one party per channel). */
  channel: Opt<number> = 0;
  speakerLabel: string | null = null;
  startMs!: number;
  endMs!: number;
  text!: string;
  /** The recogniser's text, kept when a person edits `text`. */
  originalText: string | null = null;
  confidence: number | null = null;
  words: Opt<SegmentWord[]> = [];
  /**
   * The recogniser's runner-up texts (a job's max_alternatives), most probable first, through the text chain
   * like `text`; cleared by an edit of the text. Not searched: the search columns read `text` only.
   */
  alternatives: Opt<string[]> = [];
  editHistory: Opt<SegmentEdit[]> = [];
  /**
   * Search vectors Postgres derives from `text` (stored generated columns, GIN-indexed): `arabic` stems
   * (مكالمة finds المكالمات), `simple` matches words exactly (names, Latin terms, digits). Query them with
   * `{ searchAr: { $fulltext: "…" } }` or in SQL with `@@`. Lazy, so finds never select them; MikroORM does
   * read them back after an insert or update of a segment, the price of mapping them at all, which keeps the
   * schema drift check covering them.
   */
  searchAr?: Opt<string>;
  searchSimple?: Opt<string>;
}

export const SegmentSchema = new EntitySchema<Segment, BaseEntity>({
  class: Segment,
  extends: BaseEntitySchema,
  tableName: "segments",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    transcript: { kind: "m:1", entity: () => Transcript, deleteRule: "cascade" },
    index: { type: "integer" },
    channel: { type: "integer", default: 0 },
    speakerLabel: { type: "text", nullable: true },
    startMs: { type: "integer" },
    endMs: { type: "integer" },
    text: { type: "text" },
    originalText: { type: "text", nullable: true },
    confidence: { type: "float", nullable: true },
    words: { type: "json", defaultRaw: "'[]'" },
    alternatives: { type: "json", defaultRaw: "'[]'" },
    editHistory: { type: "json", defaultRaw: "'[]'" },
    searchAr: { type: new FullTextType("arabic"), generated: "(to_tsvector('arabic', text)) stored", lazy: true, hidden: true },
    searchSimple: { type: new FullTextType("simple"), generated: "(to_tsvector('simple', text)) stored", lazy: true, hidden: true },
  },
  uniques: [{ properties: ["transcript", "index"] }],
  indexes: [
    { properties: ["organization", "transcript"] },
    { properties: ["searchAr"], type: "fulltext" },
    { properties: ["searchSimple"], type: "fulltext" },
  ],
  checks: [{ name: "segments_time_order_check", expression: "end_ms >= start_ms" }],
});
