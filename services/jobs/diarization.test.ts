// Diarization of a mono batch job over the public API: diarization_config on one channel labels every word
// with a speaker, within the counts asked. No speaker-embedding weights can be had here, so the job runs the
// weights-free spectral path, and the `dtmf` model gives exact words: two "voices" are two keys dialled in
// turns, whose tones differ in spectrum as two voices do (how well real voices are told apart is measured by
// `npm run bench:diarization` and by diarize.test.ts on two synthetic voices).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAudioDir, sox, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { startJobsGateway, type JobsGateway } from "../../gateway/testing/jobs-gateway.js";
import { JobService, JobState } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { TranscriptService } from "../../proto/gen/arabicstt/v1/transcript_pb.js";
import { Transcript } from "../transcripts/transcript.entity.js";

let h: JobsGateway;
let audio: AudioDir;
let owner: TestAccount;
let call: string;

beforeAll(async () => {
  h = await startJobsGateway();
  audio = await createAudioDir("jobs-diarization-");
  // Turns of "1"s and "9"s, 0.6 s apart, in one channel.
  const turns = ["1111", "9999", "1111", "9999"];
  for (const [i, keys] of turns.entries()) await soxDtmf(keys, audio.path(`t${i}.wav`), { rate: 16_000, toneMs: 150, gapMs: 100, leadMs: 600 });
  call = audio.path("call.wav");
  await sox(...turns.map((_, i) => audio.path(`t${i}.wav`)), call, "pad", "0", "0.6");
  owner = await registerOwner(h);
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await audio?.remove();
});

async function transcriptOf(config: object) {
  const jobs = h.client(JobService, { credential: owner.accessToken });
  const mediaId = await h.addMedia(owner.organizationId, call);
  const { job } = await jobs.createJob({ mediaId, config: { model: "dtmf", ...config } });
  let last = { state: job!.state, transcriptId: "" };
  for await (const progress of jobs.watchJob({ jobId: job!.jobId })) last = { state: progress.state, transcriptId: progress.transcriptId || last.transcriptId };
  expect(last.state).toBe(JobState.SUCCEEDED);
  const { transcript, segments } = await h.client(TranscriptService, { credential: owner.accessToken }).getTranscript({ transcriptId: last.transcriptId, includeWords: true });
  const row = await h.testDb.db.fork().findOneOrFail(Transcript, { id: last.transcriptId });
  return { transcript: transcript!, segments, metadata: row.metadata as { diarization: { method: string; reason: string } } };
}

describe("diarization of a mono job", () => {
  it("labels every word with its speaker, within the counts asked, splitting segments where the speaker changes", async () => {
    const { transcript, segments: all, metadata } = await transcriptOf({ diarizationConfig: { enableSpeakerDiarization: true, minSpeakerCount: 2, maxSpeakerCount: 2 } });
    expect(metadata.diarization.method).toBe("spectral");
    expect(transcript.speakers.map((s) => s.speakerLabel)).toEqual(["S1", "S2"]);
    const segments = all.filter((s) => s.text !== "");
    // Each segment is one speaker's: all its keys are one key, and the key decides the speaker.
    const speakerOfKey = new Map<string, string>();
    for (const s of segments) {
      const keys = new Set(s.text);
      expect(keys.size, `segment "${s.text}"`).toBe(1);
      const key = [...keys][0]!;
      expect(speakerOfKey.get(key) ?? s.speakerLabel).toBe(s.speakerLabel);
      expect(s.words.length).toBeGreaterThan(0);
      for (const w of s.words) expect(w.speakerLabel).toBe(s.speakerLabel);
      speakerOfKey.set(key, s.speakerLabel);
    }
    expect(new Set(speakerOfKey.values()).size).toBe(2);
    expect(segments.map((s) => s.text).join("")).toBe("1111999911119999");
  });

  it("leaves a job that does not ask for diarization with one speaker, and says why", async () => {
    const { segments, metadata } = await transcriptOf({});
    expect(metadata.diarization.method).toBe("none");
    expect(new Set(segments.map((s) => s.speakerLabel))).toEqual(new Set(["S1"]));
  });
});
