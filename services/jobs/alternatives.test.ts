// max_alternatives on batch jobs, over the public API: the runner asks the model for an n-best on every
// chunk, and each transcript segment keeps its runner-ups (TranscriptSegment.alternatives), each through the
// job's Arabic text chain, redaction included, stored nowhere in the clear, not searched, cleared by an edit
// of the text. The rules that map a chunk's n-best to its segments: pipeline/runner-ups.test.ts.
//
// The one stub: no model the sidecar can run here has an n-best (the `dtmf` model has one reading of a key
// sequence, and the CPU Whisper runtime returns its best path), so the sidecar's own `dtmf` model is wrapped
// to answer MAX_ALTERNATIVES as a model with beams would: its keys, then "رقمي <keys>", then "<keys> شكرا",
// as many as it was asked for. Everything after the model is the production path.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { withWrappedInfer } from "../../inference/local/testing/wrapped-models.js";
import { createAudioDir, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { startJobsGateway, type JobsGateway } from "../../gateway/testing/jobs-gateway.js";
import { NumeralStyle, RedactionType } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { JobService, JobState } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { TranscriptService } from "../../proto/gen/arabicstt/v1/transcript_pb.js";
import { Segment } from "../transcripts/segment.entity.js";

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/** MAX_ALTERNATIVES of every request the dtmf model received (1 when the request had none). */
const asked: number[] = [];
/** Off: the wrapped model answers as the keypad model does, with its one reading. */
let nBest = true;

/** The sidecar's models, the dtmf one giving up to two runner-ups when asked for them. */
function keypadWithBeams() {
  return withWrappedInfer("dtmf", (infer) => async (inputs, parameters, signal) => {
    const outputs = await infer(inputs, parameters, signal);
    const counts = inputs.get("MAX_ALTERNATIVES")?.data as Int32Array | undefined;
    const transcripts = (outputs.find((t) => t.name === "TRANSCRIPT")!.data as Uint8Array[]).map((row) => utf8.decode(row));
    transcripts.forEach((_, row) => asked.push(counts?.[row] ?? 1));
    if (!nBest) return outputs;
    return outputs.map((t) =>
      t.name === "ALTERNATIVES"
        ? { ...t, data: transcripts.map((keys, row) => encoder.encode(JSON.stringify([keys, `رقمي ${keys}`, `${keys} شكرا`].slice(0, counts?.[row] ?? 1)))) }
        : t,
    );
  });
}

let h: JobsGateway;
let audio: AudioDir;
let owner: TestAccount;
let phone: string;
let short: string;

beforeAll(async () => {
  h = await startJobsGateway({ models: keypadWithBeams() });
  audio = await createAudioDir("jobs-alternatives-");
  phone = audio.path("phone.wav");
  short = audio.path("short.wav");
  await soxDtmf("0551234567", phone, { leadMs: 300 });
  await soxDtmf("4711", short, { leadMs: 300 });
  owner = await registerOwner(h);
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await audio?.remove();
});

const jobs = () => h.client(JobService, { credential: owner.accessToken });
const transcripts = () => h.client(TranscriptService, { credential: owner.accessToken });

/** A job over `file` with `config`: its transcript id, the segments GetTranscript returns, and the stored rows. */
async function jobOf(config: object, file: string) {
  const mediaId = await h.addMedia(owner.organizationId, file);
  asked.length = 0;
  const { job } = await jobs().createJob({ mediaId, config: { model: "dtmf", ...config } });
  let last = { state: job!.state, transcriptId: "" };
  for await (const progress of jobs().watchJob({ jobId: job!.jobId })) last = { state: progress.state, transcriptId: progress.transcriptId || last.transcriptId };
  expect(last.state).toBe(JobState.SUCCEEDED);
  const { segments } = await transcripts().getTranscript({ transcriptId: last.transcriptId });
  const rows = await h.testDb.db.fork().find(Segment, { transcript: last.transcriptId }, { orderBy: { index: "asc" } });
  return {
    transcriptId: last.transcriptId,
    segments: segments.map((s) => ({ id: s.segmentId, text: s.text, alternatives: s.alternatives.map((a) => a.text) })),
    rows,
  };
}

describe("max_alternatives on a batch job", () => {
  it("keeps up to max_alternatives - 1 runner-ups per segment, each through the text chain, redaction included", async () => {
    const redacted = await jobOf({ maxAlternatives: 3, redactionConfig: { types: [RedactionType.PHONE_NUMBER] } }, phone);
    // Every chunk's decode was asked for three.
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((n) => n === 3)).toBe(true);
    expect(redacted.segments).toEqual([{ id: expect.any(String), text: "[REDACTED]", alternatives: ["رقمي [REDACTED]", "[REDACTED] شكرا"] }]);
    // Fail-closed: the number is in no stored runner-up either.
    for (const row of redacted.rows) for (const text of [row.text, ...row.alternatives]) expect(text).not.toMatch(/\d{3}/);

    // Two hypotheses: one runner-up, its digits written as numeral_style asks, like the text's.
    const indic = await jobOf({ maxAlternatives: 2, arabicTextConfig: { numeralStyle: NumeralStyle.ARABIC_INDIC } }, short);
    expect(indic.segments.map((s) => [s.text, s.alternatives])).toEqual([["٤٧١١", ["رقمي ٤٧١١"]]]);

    // The contract's own rule (0 to 10) answers an 11, naming the field.
    const mediaId = await h.addMedia(owner.organizationId, short);
    const refused = await jobs()
      .createJob({ mediaId, config: { model: "dtmf", maxAlternatives: 11 } })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(refused?.code).toBe(Code.InvalidArgument);
    expect(refused?.rawMessage).toMatch(/config\.max_alternatives/);
  });

  it("gives none to a job that did not ask, or whose model has no n-best", async () => {
    const plain = await jobOf({}, short);
    expect(asked.every((n) => n === 1)).toBe(true);
    expect(plain.segments.map((s) => [s.text, s.alternatives])).toEqual([["4711", []]]);
    expect(plain.rows.map((r) => r.alternatives)).toEqual([[]]);

    nBest = false;
    try {
      const keypad = await jobOf({ maxAlternatives: 3 }, short);
      expect(asked.every((n) => n === 3)).toBe(true);
      expect(keypad.segments.map((s) => [s.text, s.alternatives])).toEqual([["4711", []]]);
    } finally {
      nBest = true;
    }
  });

  it("does not search the runner-ups, keeps them through a change of speaker, and drops them at an edit of the text", async () => {
    const job = await jobOf({ maxAlternatives: 2 }, short);
    const segment = job.segments[0]!;
    expect(segment.alternatives).toEqual(["رقمي 4711"]);
    // Only the text is searched: a word that only a runner-up has finds nothing.
    expect((await transcripts().searchTranscripts({ query: "رقمي" })).results).toEqual([]);
    expect((await transcripts().searchTranscripts({ query: "4711" })).results.map((r) => r.transcriptId)).toContain(job.transcriptId);

    const renamed = await transcripts().updateSegment({ transcriptId: job.transcriptId, segmentId: segment.id, speakerLabel: "العميل" });
    expect(renamed.segment!.alternatives.map((a) => a.text)).toEqual(["رقمي 4711"]);
    const edited = await transcripts().updateSegment({ transcriptId: job.transcriptId, segmentId: segment.id, text: "4712" });
    expect(edited.segment!.alternatives).toEqual([]);
    const { segments } = await transcripts().getTranscript({ transcriptId: job.transcriptId });
    expect(segments.map((s) => [s.text, s.alternatives])).toEqual([["4712", []]]);
  });
});
