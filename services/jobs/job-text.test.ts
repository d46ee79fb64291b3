// Batch transcripts through the Arabic text chain, over the public API: a job's config asks for
// redaction or a numeral style, and the stored transcript (its text, its segments and their words,
// what GetTranscript and search return) holds what the chain made of the recognised keys, never the
// redacted digits. The `dtmf` model gives exact digit strings, so what the chain did shows exactly.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { NumeralStyle, RedactionType } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { TranscriptService } from "../../proto/gen/arabicstt/v1/transcript_pb.js";
import { JobService, JobState } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { createAudioDir, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { startJobsGateway, type JobsGateway } from "../../gateway/testing/jobs-gateway.js";
import { Segment } from "../transcripts/segment.entity.js";
import { Transcript } from "../transcripts/transcript.entity.js";

let h: JobsGateway;
let audio: AudioDir;
let owner: TestAccount;
let phone: string;
let short: string;

beforeAll(async () => {
  h = await startJobsGateway();
  audio = await createAudioDir("jobs-text-");
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

async function transcriptOf(config: object, file: string) {
  const mediaId = await h.addMedia(owner.organizationId, file);
  const { job } = await jobs().createJob({ mediaId, config: { model: "dtmf", ...config } });
  let last = job!;
  for await (const progress of jobs().watchJob({ jobId: job!.jobId })) if (progress.transcriptId) last = { ...last, transcriptId: progress.transcriptId, state: progress.state };
  expect(last.state).toBe(JobState.SUCCEEDED);
  const { transcript } = await h.client(TranscriptService, { credential: owner.accessToken }).getTranscript({ transcriptId: last.transcriptId });
  const em = h.testDb.db.fork();
  const row = await em.findOneOrFail(Transcript, { id: last.transcriptId });
  const segments = await em.find(Segment, { transcript: row }, { orderBy: { index: "asc" } });
  return { transcript: transcript!, row, segments };
}

describe("a job's transcript through the Arabic text chain", () => {
  it("stores a redacted phone number nowhere: not in the text, the segments or their words", async () => {
    const { transcript, row, segments } = await transcriptOf({ redactionConfig: { types: [RedactionType.PHONE_NUMBER] } }, phone);
    expect(transcript.preview).toBe("[REDACTED]");
    expect(row.text).toBe("[REDACTED]");
    expect(row.text).not.toMatch(/\d{3}/);
    for (const s of segments) {
      expect(s.text).not.toMatch(/\d{3}/);
      expect((s.words ?? []).map((w: { word: string }) => w.word).join(" ")).not.toMatch(/\d{3}/);
    }
  });

  it("writes digits as numeral_style asks, and leaves them as they are without options", async () => {
    expect((await transcriptOf({ arabicTextConfig: { numeralStyle: NumeralStyle.ARABIC_INDIC } }, short)).row.text).toBe("٤٧١١");
    expect((await transcriptOf({}, short)).row.text).toBe("4711");
  });

  it("refuses bad text options at CreateJob, naming the field", async () => {
    const mediaId = await h.addMedia(owner.organizationId, short);
    const refused = await jobs()
      .createJob({ mediaId, config: { model: "dtmf", redactionConfig: { types: [RedactionType.PHONE_NUMBER], minDigitCount: 99 } } })
      .catch((e: unknown) => ConnectError.from(e));
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.InvalidArgument);
    expect((refused as ConnectError).rawMessage).toMatch(/config\.redaction_config\.min_digit_count/);
  });
});
