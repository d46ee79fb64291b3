// Exports end to end: a transcript written as the job runner writes it, rendered in every format over the
// API, stored in the exports bucket (filesystem or S3) and fetched back through the download URL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { ExportFormat, ExportService, ExportState } from "../../proto/gen/arabicstt/v1/export_pb.js";
import { TranscriptService } from "../../proto/gen/arabicstt/v1/transcript_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../gateway/testing/identity-gateway.js";
import { joinAs, registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { stereoCall } from "../transcripts/testing.js";
import { seedJob } from "../app/testing.js";
import { BlobNotFoundError } from "../platform/blobs/index.js";
import { Export } from "./export.entity.js";
import { Exports } from "./exports.js";

let h: IdentityGateway;
let owner: TestAccount;
let viewer: TestAccount;
let transcriptId: string;

const codeOf = (p: Promise<unknown>) => p.then(() => "ok" as const, (err: unknown) => ConnectError.from(err).code);

beforeAll(async () => {
  h = await startIdentityGateway();
  owner = await registerOwner(h);
  viewer = await joinAs(h, owner.organizationId, "viewer");
  const { jobId } = await seedJob(h.testDb.db, owner.organizationId);
  transcriptId = (await h.transcripts!.transcripts.create(owner.organizationId, stereoCall({ jobId }))).id;
  await h.client(TranscriptService, { credential: owner.accessToken }).renameSpeaker({ transcriptId, speakerLabel: "S1", displayName: "الوكيل" });
});
afterAll(() => h?.stop());

async function exportAs(format: ExportFormat, protocol: "grpc" | "connect" = "grpc") {
  const client = h.client(ExportService, { credential: viewer.accessToken, protocol });
  const { export: created } = await client.createExport({ transcriptId, format });
  expect(created!.state).toBe(ExportState.SUCCEEDED);
  const res = await fetch(created!.downloadUrl);
  expect(res.status).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  expect(Number(created!.sizeBytes)).toBe(bytes.byteLength);
  return { created: created!, bytes, contentType: res.headers.get("content-type") ?? "" };
}

/** SRT cues: index, start and end in milliseconds, and the text lines without bidi marks. */
function parseSrt(srt: string): Array<{ index: number; startMs: number; endMs: number; text: string }> {
  const ms = (t: string) => {
    const [h, m, rest] = t.split(":");
    const [s, milli] = rest!.split(",");
    return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000 + Number(milli);
  };
  return srt
    .replace(/^\uFEFF/, "")
    .trim()
    .split(/\r?\n\r?\n/)
    .map((block) => {
      const [index, times, ...lines] = block.split(/\r?\n/);
      const [start, end] = times!.split(" --> ");
      return { index: Number(index), startMs: ms(start!), endMs: ms(end!), text: lines.join(" ").replace(/[\u200e\u200f]/g, "") };
    });
}

describe("exports", () => {
  it("renders SubRip that parses back into the segments, timed, with speaker names", async () => {
    const { created, bytes } = await exportAs(ExportFormat.SRT);
    expect(created.filename).toBe("مكالمة-خدمة-العملاء.srt");
    const cues = parseSrt(bytes.toString("utf8"));
    expect(cues.map((c) => c.index)).toEqual([1, 2, 3, 4, 5]);
    expect(cues.map((c) => [c.startMs, c.endMs])).toEqual([
      [0, 2500],
      [3000, 5500],
      [6000, 8500],
      [9000, 11500],
      [12000, 14500],
    ]);
    expect(cues[0]!.text).toContain("الوكيل");
    expect(cues[0]!.text).toContain("السلام عليكم، معك خدمة العملاء");
    expect(cues[3]!.text).toContain("رقم الحساب 12345");
  });

  it("renders WebVTT, plain text, JSON and a DOCX (a zip with the document in it)", async () => {
    const vtt = await exportAs(ExportFormat.VTT, "connect");
    expect(vtt.bytes.toString("utf8").startsWith("WEBVTT")).toBe(true);
    expect(vtt.created.filename.endsWith(".vtt")).toBe(true);

    const txt = (await exportAs(ExportFormat.TXT)).bytes.toString("utf8");
    expect(txt).toContain("الوكيل");
    expect(txt).toContain("وعليكم السلام، عندي مشكلة في الفاتورة");

    const json = JSON.parse((await exportAs(ExportFormat.JSON)).bytes.toString("utf8")) as {
      schema: string;
      version: number;
      segments: Array<{ text: string; start: number; end: number }>;
      speakers: Array<{ label: string }>;
    };
    expect(json.schema).toBe("arabicstt.transcript-export");
    expect(json.version).toBe(1);
    expect(json.segments.map((s) => [s.start, s.end])[3]).toEqual([9, 11.5]);
    expect(JSON.stringify(json.speakers)).toContain("الوكيل");

    const docx = await exportAs(ExportFormat.DOCX);
    expect(docx.bytes.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    expect(docx.bytes.includes(Buffer.from("word/document.xml"))).toBe(true);
    expect(docx.created.filename.endsWith(".docx")).toBe(true);
  });

  it("gives a fresh download URL on every GetExport, and echoes the options", async () => {
    const client = h.client(ExportService, { credential: viewer.accessToken });
    const { export: created } = await client.createExport({
      transcriptId,
      format: ExportFormat.SRT,
      options: { includeSpeakers: false, maxLineLength: 30, addRtlMarks: false },
    });
    const got = (await client.getExport({ exportId: created!.exportId })).export!;
    expect(got).toMatchObject({ exportId: created!.exportId, transcriptId, state: ExportState.SUCCEEDED, format: ExportFormat.SRT });
    expect(got.options).toMatchObject({ includeSpeakers: false, maxLineLength: 30, addRtlMarks: false });
    expect(got.downloadUrl).not.toBe("");
    expect(got.expiresAt!.seconds - got.completedAt!.seconds).toBe(7n * 24n * 3600n);
    const srt = await (await fetch(got.downloadUrl)).text();
    expect(srt).not.toContain("الوكيل");
    expect(srt).not.toContain("\u200f");
  });

  it("refuses options out of range and an unspecified format, and writes nothing", async () => {
    const client = h.client(ExportService, { credential: viewer.accessToken });
    expect(await codeOf(client.createExport({ transcriptId, format: ExportFormat.SRT, options: { maxLineLength: 10 } }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.createExport({ transcriptId, format: ExportFormat.UNSPECIFIED }))).toBe(Code.InvalidArgument);
  });

  it("refuses a transcript past the synchronous size bound, and stores nothing for it", async () => {
    const bounded = new Exports(h.testDb.db, h.blobs!.store, h.transcripts!.transcripts, 4);
    const before = await h.testDb.db.fork().count(Export, {});
    await expect(bounded.create(owner.organizationId, transcriptId, "txt", {})).rejects.toMatchObject({ kind: "failed_precondition" });
    expect(await h.testDb.db.fork().count(Export, {})).toBe(before);
    const ok = await new Exports(h.testDb.db, h.blobs!.store, h.transcripts!.transcripts, 5).create(owner.organizationId, transcriptId, "txt", {});
    expect(ok.storageKey).toBe(`orgs/${owner.organizationId}/exports/${ok.id}.txt`);
    expect((await h.blobs!.store.head("exports", ok.storageKey!))!.size).toBe(ok.sizeBytes);
    await expect(h.blobs!.store.get("exports", `orgs/${owner.organizationId}/exports/none.txt`)).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it("is gone with its transcript, file included", async () => {
    const { jobId } = await seedJob(h.testDb.db, owner.organizationId);
    const doomed = (await h.transcripts!.transcripts.create(owner.organizationId, stereoCall({ jobId }))).id;
    const client = h.client(ExportService, { credential: owner.accessToken });
    const { export: created } = await client.createExport({ transcriptId: doomed, format: ExportFormat.TXT });
    const key = `orgs/${owner.organizationId}/exports/${created!.exportId}.txt`;
    expect(await h.blobs!.store.head("exports", key)).not.toBeNull();
    await h.client(TranscriptService, { credential: owner.accessToken }).deleteTranscript({ transcriptId: doomed });
    expect(await h.blobs!.store.head("exports", key)).toBeNull();
    expect(await codeOf(client.getExport({ exportId: created!.exportId }))).toBe(Code.NotFound);
    expect(await codeOf(client.createExport({ transcriptId: doomed, format: ExportFormat.TXT }))).toBe(Code.NotFound);
  });
});

describe("GetExport's expires_at", () => {
  it("is completion plus EXPORT_RETENTION_DAYS, the setting the cleanup deletes by", async () => {
    const g = await startIdentityGateway({ EXPORT_RETENTION_DAYS: "30" });
    try {
      const account = await registerOwner(g);
      const { jobId } = await seedJob(g.testDb.db, account.organizationId);
      const id = (await g.transcripts!.transcripts.create(account.organizationId, stereoCall({ jobId }))).id;
      const client = g.client(ExportService, { credential: account.accessToken });
      const { export: created } = await client.createExport({ transcriptId: id, format: ExportFormat.TXT });
      const { export: read } = await client.getExport({ exportId: created!.exportId });
      const days = (Number(read!.expiresAt!.seconds) - Number(read!.completedAt!.seconds)) / 86_400;
      expect(Math.round(days)).toBe(30);
    } finally {
      await g.stop();
    }
  });
});
