// Transcripts as users meet them: written once through the domain (as the job runner and the live engine
// do), then read, paged, corrected, renamed, searched and deleted over gRPC and Connect.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { durationMs as toMs } from "@bufbuild/protobuf/wkt";
import { TranscriptService } from "../../proto/gen/arabicstt/v1/transcript_pb.js";
import { ApiKeyScope, ApiKeyService } from "../../proto/gen/arabicstt/v1/api_key_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../gateway/testing/identity-gateway.js";
import { joinAs, registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import type { EntityManager } from "@mikro-orm/core";
import { Segment } from "./segment.entity.js";
import { Transcript } from "./transcript.entity.js";
import { Job } from "../jobs/job.entity.js";
import { stereoCall } from "./testing.js";
import { seedJob, seedLiveSession } from "../app/testing.js";
import type { Transcripts } from "./transcripts.js";
import { transcriptFromPipeline } from "../jobs/pipeline-transcript.js";
import { billableSeconds } from "../usage/billable.js";
import type { AudioPipelineResult } from "../jobs/pipeline/index.js";

let h: IdentityGateway;
let transcripts: Transcripts;
let owner: TestAccount;
let viewer: TestAccount;
let callId: string;
let jobId: string;
let mediaId: string;

const codeOf = (p: Promise<unknown>) => p.then(() => "ok" as const, (err: unknown) => ConnectError.from(err).code);

beforeAll(async () => {
  h = await startIdentityGateway();
  transcripts = h.transcripts!.transcripts;
  owner = await registerOwner(h, "مركز اتصال الرياض");
  viewer = await joinAs(h, owner.organizationId, "viewer");
  ({ jobId, mediaId } = await seedJob(h.testDb.db, owner.organizationId));
  callId = (await transcripts.create(owner.organizationId, stereoCall({ jobId }))).id;
});
afterAll(() => h?.stop());

describe("writing a transcript", () => {
  it("writes it once per job: a repeated or concurrent create returns the first and adds nothing", async () => {
    const again = await Promise.all([1, 2, 3].map(() => transcripts.create(owner.organizationId, stereoCall({ jobId }))));
    expect(again.map((t) => t.id)).toEqual([callId, callId, callId]);
    expect(await h.testDb.db.fork().count(Segment, { transcript: callId })).toBe(5);
  });

  it("writes a live session's transcript once too", async () => {
    const liveSessionId = await seedLiveSession(h.testDb.db, owner.organizationId);
    const [a, b] = await Promise.all([
      transcripts.create(owner.organizationId, stereoCall({ liveSessionId }, ["مرحبا"])),
      transcripts.create(owner.organizationId, stereoCall({ liveSessionId }, ["مرحبا"])),
    ]);
    expect(a.id).toBe(b.id);
  });

  it("fills what a producer leaves out the same way for a job and a live session: title from the source, default language", async () => {
    const { jobId: untitledJob } = await seedJob(h.testDb.db, owner.organizationId, "مكالمة الفرع ٣.wav");
    const liveSessionId = await seedLiveSession(h.testDb.db, owner.organizationId);
    for (const source of [{ jobId: untitledJob }, { liveSessionId }]) {
      const { title: _title, ...untitled } = stereoCall(source, ["مرحبا"]);
      const written = await transcripts.create(owner.organizationId, { ...untitled, language: "" });
      const { transcript } = await h.client(TranscriptService, { credential: owner.accessToken }).getTranscript({ transcriptId: written.id });
      expect(transcript!.title).toMatch(source.jobId ? /^مكالمة الفرع ٣\.wav$/ : /^Live session \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
      expect(transcript!.model).toBe("whisper");
      expect(transcript!.languageCode).toBe("ar");
      expect(transcript!.speakers.map((s) => [s.speakerLabel, s.channelTag])).toEqual([
        ["S1", 1],
        ["S2", 2],
      ]);
    }
    // A transcript that does not say which model recognised it is refused, not stored with an empty model.
    const { jobId: modelless } = await seedJob(h.testDb.db, owner.organizationId);
    await expect(transcripts.create(owner.organizationId, { ...stereoCall({ jobId: modelless }), model: "" })).rejects.toThrow(/^model: is required/);
  });

  it("commits the caller's bookkeeping with the write, or rolls the write back with it", async () => {
    const { jobId: saved } = await seedJob(h.testDb.db, owner.organizationId);
    // Words no search below looks for.
    const lines = ["نص للتجربة", "سطر ثان"];
    const bookkeeping = (em: EntityManager) => em.nativeUpdate(Job, { id: saved, status: "queued" }, { status: "succeeded" });
    const refused = new Error("the job is no longer this run's");
    await expect(transcripts.create(owner.organizationId, stereoCall({ jobId: saved }, lines), { commitWith: () => Promise.reject(refused) })).rejects.toBe(refused);
    expect(await h.testDb.db.fork().count(Transcript, { job: saved })).toBe(0);

    const written = await transcripts.create(owner.organizationId, stereoCall({ jobId: saved }, lines), { commitWith: async (em) => void (await bookkeeping(em)) });
    expect((await h.testDb.db.fork().findOneOrFail(Job, { id: saved })).status).toBe("succeeded");
    // A repeat finds the transcript written and runs the bookkeeping on its own, which may refuse.
    let ranAgain = false;
    const again = await transcripts.create(owner.organizationId, stereoCall({ jobId: saved }, lines), { commitWith: async () => void (ranAgain = true) });
    expect([again.id, ranAgain]).toEqual([written.id, true]);
    await expect(transcripts.create(owner.organizationId, stereoCall({ jobId: saved }, lines), { commitWith: () => Promise.reject(refused) })).rejects.toBe(refused);
    expect(await h.testDb.db.fork().count(Transcript, { job: saved })).toBe(1);
  });

  it("takes the batch pipeline's result as the job runner hands it over", async () => {
    const result: AudioPipelineResult = {
      probe: { durationSeconds: 4, codec: "pcm_mulaw", channels: 2, sampleRate: 8000, formatName: "wav", streamIndex: 0, hasVideo: false },
      channels: [
        { channel: 0, regions: [{ start: 0.5, end: 1.5 }], chunks: 1 },
        { channel: 1, regions: [{ start: 2, end: 3.2 }], chunks: 1 },
      ],
      identicalChannels: false,
      gate: "energy",
      language: "ar",
      segments: [
        { channel: 0, speaker: "S1", start: 0.5, end: 1.5, text: "1 2 3", confidence: 1, words: [{ word: "1", start: 0.5, end: 0.7, confidence: 1 }] },
        { channel: 1, speaker: "S2", start: 2, end: 3.2, text: "# 0", confidence: 1, words: [] },
      ],
      speakers: [
        { id: "S1", channel: 0 },
        { id: "S2", channel: 1 },
      ],
      diarization: { method: "channel", reason: "2-channel audio: one speaker per channel" },
    };
    const { jobId: pipelineJob } = await seedJob(h.testDb.db, owner.organizationId, "call.wav");
    const written = await transcripts.create(owner.organizationId, transcriptFromPipeline(result, { jobId: pipelineJob, model: "dtmf" }));
    expect(billableSeconds(result.probe.durationSeconds, result.channels.length)).toBe(8);
    const res = await h.client(TranscriptService, { credential: owner.accessToken }).getTranscript({ transcriptId: written.id, includeWords: true });
    expect(res.transcript).toMatchObject({ model: "dtmf", title: "call.wav", segmentCount: 2 });
    expect(res.segments.map((s) => [s.channelTag, s.speakerLabel, s.text, toMs(s.startOffset!)])).toEqual([
      [1, "S1", "1 2 3", 500],
      [2, "S2", "# 0", 2000],
    ]);
    expect(written.metadata).toMatchObject({ diarization: { method: "channel" } });
  });

  it("shows a scored job's accuracy with the counts behind its word error rate, as the job does", async () => {
    const result: AudioPipelineResult = {
      probe: { durationSeconds: 2, codec: "pcm_s16le", channels: 1, sampleRate: 16000, formatName: "wav", streamIndex: 0, hasVideo: false },
      channels: [{ channel: 0, regions: [{ start: 0, end: 2 }], chunks: 1 }],
      identicalChannels: false,
      gate: "energy",
      language: "ar",
      segments: [{ channel: 0, speaker: "S1", start: 0, end: 2, text: "رقم الحساب 12345", confidence: 1, words: [] }],
      speakers: [{ id: "S1", channel: 0 }],
      diarization: { method: "channel", reason: "mono" },
    };
    // An organisation of its own, so the searches below do not find this text.
    const scorer = await registerOwner(h, "منظمة التقييم");
    // As the runner scores "رقم حساب العميل 12345" against "رقم الحساب 12345": one substitution, one deletion.
    const accuracy = { wer: 0.5, cer: 0.2, details: { referenceWordCount: 4, substitutions: 1, deletions: 1, insertions: 0 } };
    const { jobId } = await seedJob(h.testDb.db, scorer.organizationId, "scored.wav");
    const written = await transcripts.create(scorer.organizationId, transcriptFromPipeline(result, { jobId, model: "dtmf", accuracy }));
    const res = await h.client(TranscriptService, { credential: scorer.accessToken }).getTranscript({ transcriptId: written.id });
    expect(res.transcript!.accuracy).toMatchObject({ wordErrorRate: 0.5, referenceWordCount: 4, substitutions: 1, deletions: 1, insertions: 0 });
    expect(res.transcript!.accuracy!.characterErrorRate).toBeCloseTo(0.2, 5);
    // An unscored transcript has none.
    const plain = await transcripts.create(scorer.organizationId, transcriptFromPipeline(result, { jobId: (await seedJob(h.testDb.db, scorer.organizationId)).jobId, model: "dtmf" }));
    expect((await h.client(TranscriptService, { credential: scorer.accessToken }).getTranscript({ transcriptId: plain.id })).transcript!.accuracy).toBeUndefined();
  });

  it("refuses a job of another organisation", async () => {
    const other = await registerOwner(h, "منظمة أخرى");
    await expect(transcripts.create(other.organizationId, stereoCall({ jobId: (await seedJob(h.testDb.db, owner.organizationId)).jobId }))).rejects.toMatchObject({ kind: "not_found" });
  });
});

describe("reading it", () => {
  it.each(["grpc", "connect"] as const)("returns speakers, channels, totals and timed words over %s", async (protocol) => {
    const client = h.client(TranscriptService, { credential: viewer.accessToken, protocol });
    const res = await client.getTranscript({ transcriptId: callId, includeWords: true });
    const t = res.transcript!;
    expect(t).toMatchObject({ transcriptId: callId, jobId, mediaId, title: "مكالمة-خدمة-العملاء.wav", languageCode: "ar", model: "whisper", segmentCount: 5, editCount: 0 });
    expect(toMs(t.audioDuration!)).toBe(15_000);
    expect(t.preview.startsWith("السلام عليكم، معك خدمة العملاء وعليكم السلام")).toBe(true);
    expect(t.wordCount).toBe(24);
    expect(t.confidence).toBeCloseTo(0.9, 5);
    expect(t.speakers.map((s) => [s.speakerLabel, s.channelTag, toMs(s.talkTime!)])).toEqual([
      ["S1", 1, 7500],
      ["S2", 2, 5000],
    ]);
    expect(t.channels.map((c) => [c.channelTag, c.segmentCount])).toEqual([
      [1, 3],
      [2, 2],
    ]);
    expect(res.segments.map((s) => [s.index, s.channelTag, s.speakerLabel, toMs(s.startOffset!), toMs(s.endOffset!)])).toEqual([
      [0, 1, "S1", 0, 2500],
      [1, 2, "S2", 3000, 5500],
      [2, 1, "S1", 6000, 8500],
      [3, 2, "S2", 9000, 11500],
      [4, 1, "S1", 12000, 14500],
    ]);
    const words = res.segments[3]!.words;
    expect(words.map((w) => w.word)).toEqual(["رقم", "الحساب", "12345"]);
    expect(toMs(words[2]!.endOffset!)).toBe(11_500);
    expect(res.segments[0]!.revision).toBe(0);
  });

  it("pages through the segments in time order, with channel, speaker and seek filters", async () => {
    const client = h.client(TranscriptService, { credential: owner.accessToken });
    const seen: number[] = [];
    let pageToken = "";
    do {
      const res = await client.getTranscript({ transcriptId: callId, pageSize: 2, pageToken });
      expect(res.segments.length).toBeLessThanOrEqual(2);
      expect(res.segments.every((s) => s.words.length === 0)).toBe(true);
      seen.push(...res.segments.map((s) => s.index));
      pageToken = res.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect((await client.getTranscript({ transcriptId: callId, channelTag: 2 })).segments.map((s) => s.index)).toEqual([1, 3]);
    expect((await client.getTranscript({ transcriptId: callId, speakerLabel: "S1" })).segments.map((s) => s.index)).toEqual([0, 2, 4]);
    expect((await client.getTranscript({ transcriptId: callId, fromOffset: { seconds: 9n, nanos: 0 } })).segments.map((s) => s.index)).toEqual([3, 4]);
  });

  it("pages through a long transcript (an hour-long lecture) without losing or repeating a segment", async () => {
    const { jobId: lectureJob } = await seedJob(h.testDb.db, owner.organizationId, "lecture.mp3");
    const lines = Array.from({ length: 1200 }, (_, i) => `الجملة رقم ${i} من المحاضرة`);
    const long = await transcripts.create(owner.organizationId, { ...stereoCall({ jobId: lectureJob }, lines), channels: 1, segments: stereoCall({ jobId: lectureJob }, lines).segments.map((s) => ({ ...s, channel: 0 })) });
    const client = h.client(TranscriptService, { credential: owner.accessToken, protocol: "connect" });
    const seen: number[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const res = await client.getTranscript({ transcriptId: long.id, pageSize: 200, pageToken });
      seen.push(...res.segments.map((s) => s.index));
      pageToken = res.nextPageToken;
      pages++;
    } while (pageToken);
    expect(pages).toBe(6);
    expect(seen).toEqual(lines.map((_, i) => i));
    expect((await client.getTranscript({ transcriptId: long.id, pageSize: 1 })).transcript!.segmentCount).toBe(1200);
  });

  it("lists the organisation's transcripts newest first, by media too", async () => {
    const { jobId: second } = await seedJob(h.testDb.db, owner.organizationId, "محاضرة.mp3");
    const lectureId = (await transcripts.create(owner.organizationId, { ...stereoCall({ jobId: second }, ["بسم الله"]), title: "محاضرة.mp3" })).id;
    const client = h.client(TranscriptService, { credential: viewer.accessToken, protocol: "connect" });
    const first = await client.listTranscripts({ pageSize: 1 });
    expect(first.transcripts.map((t) => t.transcriptId)).toEqual([lectureId]);
    expect(first.nextPageToken).not.toBe("");
    const rest = await client.listTranscripts({ pageSize: 50, pageToken: first.nextPageToken });
    expect(rest.transcripts.map((t) => t.transcriptId)).toContain(callId);
    expect((await client.listTranscripts({ mediaId })).transcripts.map((t) => t.transcriptId)).toEqual([callId]);
  });
});

describe("correcting it", () => {
  it("keeps the recogniser's text and every earlier version, and refuses an edit of a stale copy", async () => {
    const client = h.client(TranscriptService, { credential: owner.accessToken });
    const { segments } = await client.getTranscript({ transcriptId: callId });
    const target = segments[1]!;
    const first = await client.updateSegment({ transcriptId: callId, segmentId: target.segmentId, text: "وعليكم السلام، عندي مشكلة في الفاتورة الشهرية", expectedRevision: 0 });
    expect(first.segment).toMatchObject({ revision: 1, text: "وعليكم السلام، عندي مشكلة في الفاتورة الشهرية", confidence: 0 });
    expect(first.segment!.words.map((w) => w.word)).toEqual(["وعليكم", "السلام،", "عندي", "مشكلة", "في", "الفاتورة", "الشهرية"]);
    expect(toMs(first.segment!.words.at(-1)!.endOffset!)).toBe(5500);

    expect(await codeOf(client.updateSegment({ transcriptId: callId, segmentId: target.segmentId, text: "نص آخر", expectedRevision: 0 }))).toBe(Code.Aborted);

    const second = await client.updateSegment({ transcriptId: callId, segmentId: target.segmentId, speakerLabel: "S3", expectedRevision: 1 });
    expect(second.segment!.revision).toBe(2);
    expect(second.segment!.speakerLabel).toBe("S3");
    expect(second.segment!.edits.map((e) => [e.revision, e.previousText, e.previousSpeakerLabel, e.editedByUserId])).toEqual([
      [1, "وعليكم السلام، عندي مشكلة في الفاتورة", "S2", owner.userId],
      [2, "وعليكم السلام، عندي مشكلة في الفاتورة الشهرية", "S2", owner.userId],
    ]);
    const stored = await h.testDb.db.fork().findOneOrFail(Segment, { id: target.segmentId });
    expect(stored.originalText).toBe("وعليكم السلام، عندي مشكلة في الفاتورة");

    const after = await client.getTranscript({ transcriptId: callId, includeEditHistory: true });
    expect(after.transcript!.editCount).toBe(2);
    expect(after.transcript!.speakers.map((s) => s.speakerLabel)).toEqual(["S1", "S2", "S3"]);
    expect(after.segments[1]!.edits).toHaveLength(2);
  });

  it("lets exactly one of two concurrent edits of the same revision through", async () => {
    const client = h.client(TranscriptService, { credential: owner.accessToken });
    const { segments } = await client.getTranscript({ transcriptId: callId });
    const target = segments[2]!;
    const outcomes = await Promise.all(
      ["تفضل، ما رقم الحساب؟", "تفضل، أعطني رقم الحساب"].map((text) => codeOf(client.updateSegment({ transcriptId: callId, segmentId: target.segmentId, text, expectedRevision: 0 }))),
    );
    expect(outcomes.sort()).toEqual([Code.Aborted, "ok"].sort());
    expect((await client.getTranscript({ transcriptId: callId, includeEditHistory: true })).segments[2]!.edits).toHaveLength(1);
  });

  it("searches the corrected text, not the old one", async () => {
    const client = h.client(TranscriptService, { credential: owner.accessToken });
    const { segments } = await client.getTranscript({ transcriptId: callId });
    await client.updateSegment({ transcriptId: callId, segmentId: segments[4]!.segmentId, text: "شكرا لك، سأراجع الحوالة الآن" });
    expect((await client.searchTranscripts({ query: "الحوالة" })).results.map((r) => r.transcriptId)).toEqual([callId]);
    const old = await client.searchTranscripts({ query: "سأراجع الفاتورة" });
    expect(old.results).toEqual([]);
  });

  it("records an API key as the editor, and needs the transcripts:write scope", async () => {
    const keys = h.client(ApiKeyService, { credential: owner.accessToken });
    const writer = await keys.createApiKey({ name: "editor", scopes: [ApiKeyScope.TRANSCRIPTS_READ, ApiKeyScope.TRANSCRIPTS_WRITE] });
    const reader = await keys.createApiKey({ name: "reader", scopes: [ApiKeyScope.TRANSCRIPTS_READ] });
    const { segments } = await h.client(TranscriptService, { credential: reader.secret }).getTranscript({ transcriptId: callId });
    const target = segments[3]!;
    expect(await codeOf(h.client(TranscriptService, { credential: reader.secret }).updateSegment({ transcriptId: callId, segmentId: target.segmentId, text: "لا" }))).toBe(Code.PermissionDenied);
    const res = await h.client(TranscriptService, { credential: writer.secret }).updateSegment({ transcriptId: callId, segmentId: target.segmentId, text: "رقم الحساب هو 12345" });
    expect(res.segment!.edits.at(-1)).toMatchObject({ editedByApiKeyId: writer.apiKey!.apiKeyId, editedByUserId: "", previousText: "رقم الحساب 12345" });
  });

  it("lets viewers read but not edit", async () => {
    const client = h.client(TranscriptService, { credential: viewer.accessToken });
    const { segments } = await client.getTranscript({ transcriptId: callId });
    expect(await codeOf(client.updateSegment({ transcriptId: callId, segmentId: segments[0]!.segmentId, text: "لا" }))).toBe(Code.PermissionDenied);
  });

  it("names a speaker, and clears the name again", async () => {
    const client = h.client(TranscriptService, { credential: owner.accessToken, protocol: "connect" });
    const renamed = await client.renameSpeaker({ transcriptId: callId, speakerLabel: "S1", displayName: "الوكيل" });
    expect(renamed.speaker).toMatchObject({ speakerLabel: "S1", displayName: "الوكيل", channelTag: 1 });
    expect((await client.getTranscript({ transcriptId: callId })).transcript!.speakers.find((s) => s.speakerLabel === "S1")!.displayName).toBe("الوكيل");
    expect(await codeOf(client.renameSpeaker({ transcriptId: callId, speakerLabel: "S9", displayName: "x" }))).toBe(Code.NotFound);
    await client.renameSpeaker({ transcriptId: callId, speakerLabel: "S2", displayName: "العميل" });
  });
});

describe("searching", () => {
  let twiceId: string;
  let onceId: string;

  beforeAll(async () => {
    const twice = await seedJob(h.testDb.db, owner.organizationId);
    const once = await seedJob(h.testDb.db, owner.organizationId);
    twiceId = (await transcripts.create(owner.organizationId, { ...stereoCall({ jobId: twice.jobId }, ["أجريت مكالمة واحدة ثم مكالمة ثانية مع الدعم"]), title: "مرتين" })).id;
    onceId = (await transcripts.create(owner.organizationId, { ...stereoCall({ jobId: once.jobId }, ["المكالمات مسجلة لضمان الجودة"]), title: "مرة" })).id;
  });

  it("ranks a transcript that says the word twice above one that says it once, and matches other inflections", async () => {
    const res = await h.client(TranscriptService, { credential: viewer.accessToken }).searchTranscripts({ query: "مكالمة" });
    expect(res.results.map((r) => r.transcriptId)).toEqual([twiceId, onceId]);
    expect(res.results[0]!.score).toBeGreaterThan(res.results[1]!.score);
    expect(res.totalSize).toBe(2);
    // المكالمات (the calls) matched مكالمة (a call): the arabic configuration stems both to مكالم.
    const snippet = res.results[1]!.snippets[0]!;
    expect(snippet.text).toBe("المكالمات مسجلة لضمان الجودة");
    expect(snippet.highlights.map((r) => snippet.text.slice(r.start, r.end))).toEqual(["المكالمات"]);
    const both = res.results[0]!.snippets[0]!;
    expect(both.highlights.map((r) => both.text.slice(r.start, r.end))).toEqual(["مكالمة", "مكالمة"]);
    expect(both).toMatchObject({ speakerLabel: "S1", channelTag: 1 });
  });

  it("ignores diacritics, tatweel and hamza forms in the query, and pages", async () => {
    const client = h.client(TranscriptService, { credential: viewer.accessToken, protocol: "connect" });
    expect((await client.searchTranscripts({ query: "مُكَالَمَة" })).results.map((r) => r.transcriptId)).toEqual([twiceId, onceId]);
    expect((await client.searchTranscripts({ query: "مكـــالمة" })).results.map((r) => r.transcriptId)).toEqual([twiceId, onceId]);
    expect((await client.searchTranscripts({ query: "اجريت" })).results.map((r) => r.transcriptId)).toEqual([twiceId]);
    const first = await client.searchTranscripts({ query: "مكالمة", pageSize: 1 });
    expect(first.results.map((r) => r.transcriptId)).toEqual([twiceId]);
    const second = await client.searchTranscripts({ query: "مكالمة", pageSize: 1, pageToken: first.nextPageToken });
    expect(second.results.map((r) => r.transcriptId)).toEqual([onceId]);
    expect(second.nextPageToken).toBe("");
  });

  it("takes web-search syntax: phrases and exclusions", async () => {
    const client = h.client(TranscriptService, { credential: viewer.accessToken });
    expect((await client.searchTranscripts({ query: "مكالمة -الدعم" })).results.map((r) => r.transcriptId)).toEqual([onceId]);
    expect((await client.searchTranscripts({ query: '"رقم الحساب"' })).results.map((r) => r.transcriptId)).toEqual([callId]);
  });

  it("never finds another organisation's words", async () => {
    const other = await registerOwner(h, "منافس");
    expect((await h.client(TranscriptService, { credential: other.accessToken }).searchTranscripts({ query: "مكالمة" })).results).toEqual([]);
  });
});

describe("deleting", () => {
  it("hides the transcript from every read, and its job cannot write it again", async () => {
    const { jobId: doomedJob } = await seedJob(h.testDb.db, owner.organizationId);
    const doomed = await transcripts.create(owner.organizationId, stereoCall({ jobId: doomedJob }, ["كلمة نادرة جدا زنجبيل"]));
    const client = h.client(TranscriptService, { credential: owner.accessToken });
    expect(await codeOf(h.client(TranscriptService, { credential: viewer.accessToken }).deleteTranscript({ transcriptId: doomed.id }))).toBe(Code.PermissionDenied);
    await client.deleteTranscript({ transcriptId: doomed.id });
    expect(await codeOf(client.getTranscript({ transcriptId: doomed.id }))).toBe(Code.NotFound);
    expect(await codeOf(client.deleteTranscript({ transcriptId: doomed.id }))).toBe(Code.NotFound);
    expect((await client.searchTranscripts({ query: "زنجبيل" })).results).toEqual([]);
    expect((await client.listTranscripts({ pageSize: 200 })).transcripts.map((t) => t.transcriptId)).not.toContain(doomed.id);
    expect((await transcripts.create(owner.organizationId, stereoCall({ jobId: doomedJob }))).id).toBe(doomed.id);
  });
});
