// What a batch job does with a file's channels and format, through the public API: a stereo call is
// uploaded (UploadMedia) as a telephone recorder writes it (8 kHz μ-law WAV) or re-encoded by ffmpeg as
// MP3, FLAC and Ogg/Opus, and a job is created with the encoding left to detection and no channel count
// (the containers carry both). With `separate_recognition_per_channel` each party's keys come back under
// their own channel_tag and the job is billed for two channels; without it the channels are mixed down to
// mono (recognition.proto), recognised once and billed once: seconds × 1, rounded up (usage.proto).
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AudioEncoding } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { JobService, JobState } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { MediaService, MediaState } from "../../proto/gen/arabicstt/v1/media_pb.js";
import { TranscriptService } from "../../proto/gen/arabicstt/v1/transcript_pb.js";
import { createAudioDir, sox, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { startJobsGateway, type JobsGateway } from "../../gateway/testing/jobs-gateway.js";
import { uploadByStream } from "../../gateway/testing/media.js";
import { ffmpeg } from "../audio/ffmpeg-testing.js";

const LEFT_KEYS = "1397";
const RIGHT_KEYS = "*0#58";

let h: JobsGateway;
let audio: AudioDir;
let owner: TestAccount;
const usage = new Map<string, number>();

beforeAll(async () => {
  h = await startJobsGateway({ hooks: { recordUsage: (_organizationId, _kind, seconds, jobId) => void usage.set(jobId, seconds) } });
  audio = await createAudioDir("jobs-channels-");
  // The caller dials first; the other party answers 1.5 s later, so the channels overlap in time.
  await soxDtmf(LEFT_KEYS, audio.path("left.wav"), { leadMs: 300 });
  await soxDtmf(RIGHT_KEYS, audio.path("right.wav"), { leadMs: 1500 });
  const call = audio.path("call.wav");
  await sox("-D", "-M", audio.path("left.wav"), audio.path("right.wav"), "-e", "u-law", "-b", "8", "-r", "8000", call);
  await ffmpeg("-i", call, "-c:a", "libmp3lame", "-b:a", "64k", audio.path("call.mp3"));
  await ffmpeg("-i", call, "-c:a", "flac", audio.path("call.flac"));
  await ffmpeg("-i", call, "-c:a", "libopus", "-b:a", "48k", audio.path("call.ogg"));
  owner = await registerOwner(h, "أرشيف المكالمات");
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await audio?.remove();
});

const client = <S extends Parameters<JobsGateway["client"]>[0]>(service: S) => h.client(service, { credential: owner.accessToken });

/** Uploads `file` through UploadMedia, content type left to detection; the ready item and its seconds of audio. */
async function upload(file: string) {
  const bytes = await readFile(audio.path(file));
  const media = await uploadByStream(client(MediaService), { filename: file }, bytes);
  expect(media.state).toBe(MediaState.READY);
  const { seconds, nanos } = media.audioProperties!.duration!;
  return { media, seconds: Number(seconds) + nanos / 1e9 };
}

/** Runs a job on `mediaId` to its end and returns the job, its transcript's segments (with words) and what usage recorded. */
async function transcribe(mediaId: string, config: { separateRecognitionPerChannel: boolean; encoding?: AudioEncoding }) {
  const { job: created } = await client(JobService).createJob({ mediaId, config: { model: "dtmf", languageCode: "ar", ...config } });
  const job = await vi.waitFor(
    async () => {
      const { job } = await client(JobService).getJob({ jobId: created!.jobId });
      if (job!.state !== JobState.SUCCEEDED) throw new Error(`job is ${JobState[job!.state]}: ${job!.error?.message ?? ""}`);
      return job!;
    },
    { timeout: 30_000, interval: 100 },
  );
  const transcript = await client(TranscriptService).getTranscript({ transcriptId: job.transcriptId, includeWords: true });
  return { job, transcript, billed: usage.get(job.jobId) };
}

/** The keys recognised on each channel_tag, in time order. */
function keysByChannel(segments: { channelTag: number; words: { word: string }[] }[]): Record<number, string> {
  const keys: Record<number, string> = {};
  for (const segment of segments) keys[segment.channelTag] = (keys[segment.channelTag] ?? "") + segment.words.map((w) => w.word).join("");
  return keys;
}

describe("separate_recognition_per_channel", () => {
  it("recognises each party under its own channel_tag (both present) and bills both channels", async () => {
    const { media, seconds } = await upload("call.wav");
    const { job, transcript, billed } = await transcribe(media.mediaId, { separateRecognitionPerChannel: true });
    expect(keysByChannel(transcript.segments)).toEqual({ 1: LEFT_KEYS, 2: RIGHT_KEYS });
    expect(transcript.transcript!.channels.map((c) => c.channelTag)).toEqual([1, 2]);
    expect(transcript.transcript!.speakers.map((s) => [s.speakerLabel, s.channelTag])).toEqual([
      ["S1", 1],
      ["S2", 2],
    ]);
    expect(Number(job.billedDuration!.seconds)).toBe(Math.ceil(seconds * 2));
    expect(billed).toBe(Math.ceil(seconds * 2));
  });
});

describe("without separate_recognition_per_channel", () => {
  it("mixes the channels down to mono: every key once, on channel_tag 1, billed once", async () => {
    const { media, seconds } = await upload("call.wav");
    const { job, transcript, billed } = await transcribe(media.mediaId, { separateRecognitionPerChannel: false });
    // The parties take turns (the caller's keys end before the other party's begin), so the mix holds
    // both parties' keys, in the order they were dialled, from one recognition.
    expect(keysByChannel(transcript.segments)).toEqual({ 1: LEFT_KEYS + RIGHT_KEYS });
    expect(transcript.transcript!.channels.map((c) => c.channelTag)).toEqual([1]);
    // Seconds × 1 channel recognised, rounded up (2.5 s: 3), not × 2 (5).
    expect(Number(job.billedDuration!.seconds)).toBe(Math.ceil(seconds));
    expect(billed).toBe(Math.ceil(seconds));
    expect(Math.ceil(seconds)).toBeLessThan(Math.ceil(seconds * 2));
  });
});

describe("formats detected from the file", () => {
  it.each([
    ["call.mp3", "mp3", "UNSPECIFIED"],
    ["call.mp3", "mp3", "AUTO"],
    ["call.flac", "flac", "UNSPECIFIED"],
    ["call.ogg", "opus", "AUTO"],
  ] as const)("reads %s (%s, encoding %s) with its channel count from the header, each channel on its own", async (file, codec, encoding) => {
    const { media } = await upload(file);
    expect(media.audioProperties).toMatchObject({ codec, channelCount: 2 });
    // No audio_channel_count: the container's header says 2, and each channel comes back under its tag.
    const { transcript } = await transcribe(media.mediaId, { separateRecognitionPerChannel: true, encoding: AudioEncoding[encoding] });
    expect(keysByChannel(transcript.segments)).toEqual({ 1: LEFT_KEYS, 2: RIGHT_KEYS });
  });
});
