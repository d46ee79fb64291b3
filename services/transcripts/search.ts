// Full-text search over the organisation's transcripts: Postgres's `arabic` configuration (Snowball's
// Arabic stemmer: مكالمة finds المكالمات; it also drops diacritics and tatweel, folds hamza seats and reads
// Arabic-Indic digits), web-search syntax (words, "phrases", OR, -word), ts_rank per segment summed per
// transcript, and ts_headline snippets whose marks become ranges.
import type { Database } from "../platform/database/database.js";
import { decodeOffset, encodeOffset, pageSize } from "../platform/database/paging.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import { normalizeArabic } from "../arabic-text/index.js";

export interface SearchInput {
  query: string;
  pageSize: number;
  pageToken: string;
  languageCode?: string;
  createdAfter?: Date;
  createdBefore?: Date;
}

export interface SearchSnippet {
  segmentId: string;
  speakerLabel: string | null;
  /** From 0. */
  channel: number;
  startMs: number;
  /** The passage, without marks. */
  text: string;
  /** [start, end) in UTF-16 code units of `text`. */
  highlights: Array<{ start: number; end: number }>;
}

export interface SearchHit {
  transcriptId: string;
  title: string;
  score: number;
  durationMs: number | null;
  createdAt: Date;
  snippets: SearchSnippet[];
}

export interface SearchResults {
  hits: SearchHit[];
  nextPageToken: string;
  totalSize: number;
}

const SNIPPETS_PER_TRANSCRIPT = 3;
// Marks ts_headline puts around matches; control characters never occur in stored text, so they can be
// cut out again without confusing them with the text's own characters.
const START = "\u0001";
const STOP = "\u0002";
const HEADLINE_OPTIONS = `StartSel=${START}, StopSel=${STOP}, MaxWords=35, MinWords=12, ShortWord=2, HighlightAll=false`;

/**
 * What the query is normalised to before Postgres parses it. Only what the stored vectors do not already
 * absorb and what cannot change meaning: invisible format controls (an RLM pasted from a subtitle would
 * otherwise split a word), presentation forms, diacritics and tatweel (the stemmer drops them too; doing it
 * here also keeps them out of phrase quotes). Alef and taa marbuta folding stay off: the stemmer handles
 * hamza seats itself, and folding ة → ه in the query alone would stop it matching the stored text.
 */
export function normalizeQuery(query: string): string {
  return normalizeArabic(query, {
    foldPresentationForms: true,
    unicodeForm: "NFC",
    removeFormatControls: true,
    removeDiacritics: true,
    removeTatweel: true,
    foldAlef: false,
    foldHamza: false,
    foldTaaMarbuta: false,
    foldAlefMaqsura: false,
    foldFarsiLetters: true,
    digits: "keep",
    punctuation: "keep",
    lowercase: false,
  });
}

export class TranscriptSearch {
  constructor(private readonly database: Database) {}

  async search(organizationId: string, input: SearchInput): Promise<SearchResults> {
    const query = normalizeQuery(input.query);
    if (!query) throw new InvalidArgumentError("query", "has no words to search for");
    const limit = pageSize(input.pageSize);
    const offset = decodeOffset(input.pageToken);
    const connection = this.database.fork().getConnection();

    const filters: string[] = [];
    const filterParams: unknown[] = [];
    if (input.languageCode) {
      filters.push("t.language_code = ?");
      filterParams.push(input.languageCode);
    }
    if (input.createdAfter) {
      filters.push("t.created_at >= ?");
      filterParams.push(input.createdAfter);
    }
    if (input.createdBefore) {
      filters.push("t.created_at < ?");
      filterParams.push(input.createdBefore);
    }
    const matches = `
      select s.id, s.transcript_id, ts_rank(s.search_ar, q) as rank
        from segments s
        join transcripts t on t.id = s.transcript_id and t.deleted_at is null and t.organization_id = s.organization_id,
             websearch_to_tsquery('arabic', ?) q
       where s.organization_id = ? and s.search_ar @@ q ${filters.map((f) => `and ${f}`).join(" ")}`;
    const params = [query, organizationId, ...filterParams];

    const ranked = await connection.execute<Array<{ transcript_id: string; score: number; total: string; title: string; duration_ms: number | null; created_at: Date }>>(
      `with m as (${matches})
       select m.transcript_id, sum(m.rank) as score, count(*) over () as total, t.title, t.duration_ms, t.created_at
         from m join transcripts t on t.id = m.transcript_id
        group by m.transcript_id, t.title, t.duration_ms, t.created_at
        order by score desc, t.created_at desc, m.transcript_id
        limit ? offset ?`,
      [...params, limit + 1, offset],
    );
    const page = ranked.slice(0, limit);
    if (page.length === 0) return { hits: [], nextPageToken: "", totalSize: offset > 0 ? Number(ranked[0]?.total ?? 0) : 0 };

    const ids = page.map((r) => r.transcript_id);
    const snippets = await connection.execute<
      Array<{ id: string; transcript_id: string; speaker_label: string | null; channel: number; start_ms: number; headline: string }>
    >(
      `with m as (${matches} and s.transcript_id in (${ids.map(() => "?").join(", ")})),
            best as (select m.*, row_number() over (partition by m.transcript_id order by m.rank desc, m.id) as n from m)
       select s.id, s.transcript_id, s.speaker_label, s.channel, s.start_ms,
              ts_headline('arabic', s.text, websearch_to_tsquery('arabic', ?), ?) as headline
         from best join segments s on s.id = best.id
        where best.n <= ?
        order by s.transcript_id, best.rank desc, s.start_ms`,
      [...params, ...ids, query, HEADLINE_OPTIONS, SNIPPETS_PER_TRANSCRIPT],
    );
    return {
      hits: page.map((r) => ({
        transcriptId: r.transcript_id,
        title: r.title,
        score: Number(r.score),
        durationMs: r.duration_ms,
        createdAt: new Date(r.created_at),
        snippets: snippets
          .filter((s) => s.transcript_id === r.transcript_id)
          .map((s) => ({ segmentId: s.id, speakerLabel: s.speaker_label, channel: s.channel, startMs: s.start_ms, ...unmark(s.headline) })),
      })),
      nextPageToken: ranked.length > limit ? encodeOffset(offset + limit) : "",
      totalSize: Number(page[0]!.total),
    };
  }
}

/** Splits ts_headline's marked text into plain text and the ranges that were marked. */
export function unmark(marked: string): { text: string; highlights: Array<{ start: number; end: number }> } {
  let text = "";
  const highlights: Array<{ start: number; end: number }> = [];
  let open = -1;
  for (const ch of marked) {
    if (ch === START) open = text.length;
    else if (ch === STOP) {
      if (open >= 0) highlights.push({ start: open, end: text.length });
      open = -1;
    } else text += ch;
  }
  return { text, highlights };
}
