// The batch switches of a job's RecognitionConfig over the public API, with the real sidecar's `dtmf` model
// (exact words, each with its time and confidence): enable_word_time_offsets and enable_word_confidence say
// what the transcript's words carry (left out when not asked, as Google's API does), and
// diarization_config.enable_speaker_diarization false leaves the transcript without speakers. Subtitles
// keep the segments' times whatever the word switches say.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAudioDir, sox, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { startJobsGateway, type JobsGateway } from "../../gateway/testing/jobs-gateway.js";
import { JobService, JobState } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { TranscriptService } from "../../proto/gen/arabicstt/v1/transcript_pb.js";
import { ExportFormat, ExportService, ExportState } from "../../proto/gen/arabicstt/v1/export_pb.js";
import { Transcript } from "../transcripts/transcript.entity.js";

let h: JobsGateway;
let audio: AudioDir;
let owner: TestAccount;
let call: string;

beforeAll(async () => {
  h = await startJobsGateway();
  audio = await createAudioDir("jobs-word-options-");
  // Two turns of keys in one channel, so a job asked to diarize has speakers to find.
  const turns = ["1111", "9999"];
  for (const [i, keys] of turns.entries()) await soxDtmf(keys, audio.path(`t${i}.wav`), { rate: 16_000, toneMs: 150, gapMs: 100, leadMs: 600 });
  call = audio.path("call.wav");
  await sox(...turns.map((_, i) => audio.path(`t${i}.wav`)), call, "pad", "0", "0.6");
  owner = await registerOwner(h);
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await audio?.remove();
});

/** Runs a job with `config` on the call and returns its transcript as GetTranscript gives it (words asked for). */
async function jobTranscript(config: object) {
  const jobs = h.client(JobService, { credential: owner.accessToken });
  const mediaId = await h.addMedia(owner.organizationId, call);
  const { job } = await jobs.createJob({ mediaId, config: { model: "dtmf", ...config } });
  let last = { state: job!.state, transcriptId: "" };
  for await (const progress of jobs.watchJob({ jobId: job!.jobId })) last = { state: progress.state, transcriptId: progress.transcriptId || last.transcriptId };
  expect(last.state).toBe(JobState.SUCCEEDED);
  const { transcript, segments } = await h.client(TranscriptService, { credential: owner.accessToken }).getTranscript({ transcriptId: last.transcriptId, includeWords: true });
  const spoken = segments.filter((s) => s.text !== "");
  expect(spoken.map((s) => s.text).join("")).toBe("11119999");
  return { transcriptId: last.transcriptId, transcript: transcript!, segments: spoken, words: spoken.flatMap((s) => s.words) };
}

describe("the word switches of a batch job", () => {
  it("leaves word times and confidence out unless asked, and gives each when asked, the segments keeping their times", async () => {
    const plain = await jobTranscript({});
    // The platform's default speaker labels stand, so the words are listed, with nothing else.
    expect(plain.words.map((w) => w.word).join("")).toBe("11119999");
    for (const w of plain.words) expect({ start: w.startOffset, end: w.endOffset, confidence: w.confidence }).toEqual({ start: undefined, end: undefined, confidence: 0 });
    for (const s of plain.segments) expect(Number(s.endOffset!.seconds) * 1e9 + s.endOffset!.nanos).toBeGreaterThan(0);

    const timed = await jobTranscript({ enableWordTimeOffsets: true });
    for (const w of timed.words) {
      expect(w.startOffset, `word ${w.word}`).toBeDefined();
      expect(Number(w.endOffset!.seconds) * 1e9 + w.endOffset!.nanos).toBeGreaterThan(Number(w.startOffset!.seconds) * 1e9 + w.startOffset!.nanos);
      expect(w.confidence).toBe(0);
    }

    const scored = await jobTranscript({ enableWordConfidence: true });
    for (const w of scored.words) {
      expect(w.startOffset, `word ${w.word}`).toBeUndefined();
      expect(w.confidence).toBeGreaterThan(0);
    }
  });

  it("keeps the subtitles' cue times for a job that asked for no word times", async () => {
    const { transcriptId, segments } = await jobTranscript({});
    const { export: created } = await h.client(ExportService, { credential: owner.accessToken }).createExport({ transcriptId, format: ExportFormat.SRT });
    expect(created!.state).toBe(ExportState.SUCCEEDED);
    const srt = await (await fetch(created!.downloadUrl)).text();
    const cues = [...srt.matchAll(/(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)/g)];
    expect(cues.length).toBe(segments.length);
    const ms = (m: RegExpMatchArray, at: number) => ((Number(m[at]) * 60 + Number(m[at + 1])) * 60 + Number(m[at + 2])) * 1000 + Number(m[at + 3]);
    cues.forEach((cue, i) => {
      const segment = segments[i]!;
      expect(ms(cue, 1)).toBe(Number(segment.startOffset!.seconds) * 1000 + Math.floor(segment.startOffset!.nanos / 1e6));
      expect(ms(cue, 5)).toBeGreaterThan(ms(cue, 1));
    });
  });
});

describe("enable_speaker_diarization on a batch job", () => {
  it("false: the transcript lists no speakers and its segments and words carry none, even with counts given", async () => {
    const off = await jobTranscript({ enableWordTimeOffsets: true, diarizationConfig: { enableSpeakerDiarization: false, minSpeakerCount: 2, maxSpeakerCount: 2 } });
    expect(off.transcript.speakers).toEqual([]);
    for (const s of off.segments) expect(s.speakerLabel).toBe("");
    expect(off.words.length).toBe(8);
    for (const w of off.words) expect(w.speakerLabel).toBe("");
    const row = await h.testDb.db.fork().findOneOrFail(Transcript, { id: off.transcriptId });
    expect((row.metadata as { diarization: { method: string } }).diarization.method).toBe("none");

    // With no word option and no speakers asked, the words are not listed at all, as Google's API does.
    const nothing = await jobTranscript({ diarizationConfig: { enableSpeakerDiarization: false } });
    expect(nothing.transcript.speakers).toEqual([]);
    expect(nothing.words).toEqual([]);
  });

  it("true: the same call gets the speakers asked for", async () => {
    const on = await jobTranscript({ diarizationConfig: { enableSpeakerDiarization: true, minSpeakerCount: 2, maxSpeakerCount: 2 } });
    expect(on.transcript.speakers.map((s) => s.speakerLabel)).toEqual(["S1", "S2"]);
    for (const s of on.segments) expect(s.speakerLabel).not.toBe("");
    for (const w of on.words) expect(w.speakerLabel).not.toBe("");
  });
});
