import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Job } from "../jobs/job.entity.js";
import { Media } from "../media/media.entity.js";
import { Organization } from "../identity/model/organization.entity.js";
import { Segment } from "../transcripts/segment.entity.js";
import { Transcript } from "../transcripts/transcript.entity.js";
import type { Database } from "../platform/database/database.js";
import { createTestDatabase, type TestDatabase } from "./testing.js";

let testDb: TestDatabase;
let db: Database;
let orgId: string;
let otherOrgId: string;

/** A transcript per organisation; the other organisation says the same words, and must never be found. */
async function seed(slug: string, texts: string[]): Promise<string> {
  const em = db.fork();
  const org = em.create(Organization, { name: slug, slug });
  const media = em.create(Media, { organization: org, filename: "a.wav", contentType: "audio/wav", storageKey: `media/${slug}` });
  const job = em.create(Job, { organization: org, media });
  const transcript = em.create(Transcript, { organization: org, job, languageCode: "ar", text: texts.join(" ") });
  texts.forEach((text, index) =>
    em.create(Segment, { organization: org, transcript, index, startMs: index * 1000, endMs: index * 1000 + 900, text }),
  );
  await em.flush();
  return org.id;
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.db;
  orgId = await seed("search", [
    "المكالمات الهاتفية مسجلة لضمان الجودة",
    "أجريت مكالمة واحدة ثم مكالمة ثانية مع خدمة العملاء",
    "شكرا لاتصالك، رقم الحساب 12345",
    "Welcome to customer service",
  ]);
  otherOrgId = await seed("elsewhere", ["المكالمات الهاتفية في شركة أخرى"]);
});

afterAll(async () => {
  await testDb?.cleanup();
});

interface Hit {
  text: string;
  rank: number;
  snippet: string;
}

/** The query a search service would run: tenant-scoped, ranked, with a highlighted snippet. */
async function search(config: "arabic" | "simple", words: string, organizationId = orgId): Promise<Hit[]> {
  const column = config === "arabic" ? "search_ar" : "search_simple";
  return db.fork().getConnection().execute<Hit[]>(
    `select s.text,
            ts_rank(s.${column}, q) as rank,
            ts_headline('${config}', s.text, q, 'StartSel=<b>, StopSel=</b>') as snippet
       from segments s
       join transcripts t on t.id = s.transcript_id and t.deleted_at is null,
            plainto_tsquery('${config}', ?) q
      where s.organization_id = ? and s.${column} @@ q
      order by rank desc, s.index`,
    [words, organizationId],
  );
}

describe("transcript search", () => {
  it("finds a segment by another inflection of an Arabic word (arabic configuration stems)", async () => {
    // "مكالمة" (a call) stems like "المكالمات" (the calls): both reduce to مكالم.
    const hits = await search("arabic", "مكالمة");
    expect(hits.map((h) => h.text)).toEqual([
      "أجريت مكالمة واحدة ثم مكالمة ثانية مع خدمة العملاء",
      "المكالمات الهاتفية مسجلة لضمان الجودة",
    ]);
    // Two occurrences outrank one.
    expect(hits[0]!.rank).toBeGreaterThan(hits[1]!.rank);
    expect(hits[1]!.snippet).toContain("<b>المكالمات</b>");
  });

  it("stays inside the organisation", async () => {
    const elsewhere = await search("arabic", "مكالمة", otherOrgId);
    expect(elsewhere.map((h) => h.text)).toEqual(["المكالمات الهاتفية في شركة أخرى"]);
  });

  it("matches exact words, digits and Latin text with the simple configuration", async () => {
    expect((await search("simple", "12345")).map((h) => h.text)).toEqual(["شكرا لاتصالك، رقم الحساب 12345"]);
    expect((await search("simple", "customer")).map((h) => h.text)).toEqual(["Welcome to customer service"]);
    // No stemming: the singular finds only itself, not the plural.
    expect((await search("simple", "مكالمة")).map((h) => h.text)).toEqual(["أجريت مكالمة واحدة ثم مكالمة ثانية مع خدمة العملاء"]);
    expect((await search("simple", "المكالمات")).map((h) => h.text)).toEqual(["المكالمات الهاتفية مسجلة لضمان الجودة"]);
  });

  it("is reachable from the EntityManager through $fulltext on the generated columns", async () => {
    const found = await db.fork().find(
      Segment,
      { organization: orgId, searchAr: { $fulltext: "بالمكالمات" } },
      { orderBy: { index: "asc" } },
    );
    expect(found.map((s) => s.index)).toEqual([0, 1]);
  });

  it("uses the GIN index", async () => {
    const em = db.fork();
    // A handful of rows would always be scanned sequentially; forbid that to see the index is usable.
    await em.transactional(async (tx) => {
      await tx.execute("set local enable_seqscan = off");
      const plan = await tx.execute<{ "QUERY PLAN": string }[]>(
        "explain select id from segments where search_ar @@ plainto_tsquery('arabic', ?)",
        ["مكالمة"],
      );
      expect(plan.map((row) => row["QUERY PLAN"]).join("\n")).toContain("segments_search_ar_index");
    });
  });
});
