// Batch jobs end to end through the real gateway: a generated stereo call (each party dials different keys
// on its own channel, 8 kHz μ-law, as call recorders write it) is stored as a ready media file, a job is
// created over gRPC, the runner takes it from the queue (BullMQ with REDIS_URL, in-process otherwise) through
// the real pipeline and the dtmf model on a sidecar over gRPC, and the transcript holds each key with its time
// and its channel's speaker. Then cancel, retry, idempotency, bad input and tenant isolation.
import { readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { AudioEncoding, DenoiseMode } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { TranscriptService } from "../../proto/gen/arabicstt/v1/transcript_pb.js";
import { MediaService, MediaState } from "../../proto/gen/arabicstt/v1/media_pb.js";
import { JobPriority, JobService, JobStage, JobState, type WatchJobResponse } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { createAudioDir, sox, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { InferenceUnavailableError } from "../../inference/client/index.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { startJobsGateway, type JobsGateway } from "../../gateway/testing/jobs-gateway.js";
import { Segment } from "../transcripts/segment.entity.js";
import { Speaker } from "../transcripts/speaker.entity.js";
import { Transcript } from "../transcripts/transcript.entity.js";
import { ResourceExhaustedError } from "../platform/errors/errors.js";
import { BlobStoreUnavailableError } from "../platform/blobs/index.js";
import { Job } from "./job.entity.js";

const LEFT_KEYS = "1397";
const RIGHT_KEYS = "*0#58";
/** Tone times are generated to the sample; the detector's hop is 10 ms. */
const TIME_TOLERANCE_MS = 40;

let h: JobsGateway;
let audio: AudioDir;
let owner: TestAccount;
let stranger: TestAccount;
let call: string;
let leftTimes: { key: string; start: number; end: number }[];
let rightTimes: { key: string; start: number; end: number }[];
const finished: Job[] = [];
const usage: Array<{ organizationId: string; kind: string; seconds: number; jobId: string }> = [];
/** Organisations whose quota the admitJob hook reports as spent. */
const overQuota = new Set<string>();

const config = { model: "dtmf", languageCode: "ar", separateRecognitionPerChannel: true };

beforeAll(async () => {
  h = await startJobsGateway({
    hooks: {
      onJobFinished: (job) => void finished.push(job),
      recordUsage: (organizationId, kind, seconds, jobId) => void usage.push({ organizationId, kind, seconds, jobId }),
      admitJob: (organizationId) => {
        if (overQuota.has(organizationId)) throw new ResourceExhaustedError("the organisation's batch audio quota for today is spent", 3600);
      },
    },
  });
  audio = await createAudioDir("jobs-e2e-");
  leftTimes = await soxDtmf(LEFT_KEYS, audio.path("left.wav"), { leadMs: 300 });
  rightTimes = await soxDtmf(RIGHT_KEYS, audio.path("right.wav"), { leadMs: 1500 });
  call = audio.path("call.wav");
  await sox("-D", "-M", audio.path("left.wav"), audio.path("right.wav"), "-e", "u-law", "-b", "8", "-r", "8000", call);
  await writeFile(audio.path("corrupt.wav"), Buffer.concat([Buffer.from("RIFF\x24\x00\x00\x00WAVEfmt "), Buffer.alloc(4000, 0x5a)]));
  owner = await registerOwner(h, "مركز اتصال الرياض");
  stranger = await registerOwner(h, "منظمة أخرى");
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await audio?.remove();
});

const jobsOf = (account: TestAccount, protocol: "grpc" | "connect" = "grpc") => h.client(JobService, { credential: account.accessToken, protocol });

async function codeOf(call: Promise<unknown>): Promise<{ code: Code | "ok"; message: string }> {
  return call.then(
    () => ({ code: "ok" as const, message: "" }),
    (err: unknown) => ({ code: ConnectError.from(err).code, message: ConnectError.from(err).rawMessage }),
  );
}

/** Every progress message of a job until its stream ends. */
async function watchToEnd(account: TestAccount, jobId: string): Promise<WatchJobResponse[]> {
  const seen: WatchJobResponse[] = [];
  for await (const message of jobsOf(account).watchJob({ jobId })) seen.push(message);
  return seen;
}

async function waitForState(jobId: string, state: JobState, account = owner) {
  return vi.waitFor(
    async () => {
      const { job } = await jobsOf(account).getJob({ jobId });
      if (job!.state !== state) throw new Error(`job is ${JobState[job!.state]}, waiting for ${JobState[state]}`);
      return job!;
    },
    { timeout: 30_000, interval: 100 },
  );
}

describe("a job end to end with the dtmf model", () => {
  it("transcribes a stereo μ-law call: each party's keys, times and channel speaker, written once", async () => {
    const mediaId = await h.addMedia(owner.organizationId, call, { channels: 2, sampleRateHz: 8000 });
    const created = await jobsOf(owner).createJob({ mediaId, config, priority: JobPriority.HIGH, labels: { campaign: "رمضان" }, referenceTranscript: `${LEFT_KEYS} ${RIGHT_KEYS}` });
    expect(created.created).toBe(true);
    expect(created.job!.state).toBe(JobState.QUEUED);
    const jobId = created.job!.jobId;

    const progress = await watchToEnd(owner, jobId);
    const last = progress.at(-1)!;
    expect(last.state).toBe(JobState.SUCCEEDED);
    expect(last.progressPercent).toBe(100);
    expect(last.transcriptId).not.toBe("");
    // Progress only moves forward, through the pipeline's stages.
    const percents = progress.map((p) => p.progressPercent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(progress.some((p) => p.state === JobState.RUNNING && p.stage !== JobStage.UNSPECIFIED)).toBe(true);

    // One writer for live and batch: the job's transcript is titled after its media and names its model.
    const { transcript: written } = await h.client(TranscriptService, { credential: owner.accessToken }).getTranscript({ transcriptId: last.transcriptId });
    expect(written).toMatchObject({ title: "call.wav", model: "dtmf", languageCode: "ar", mediaId });
    expect(written!.channels.map((c) => c.channelTag)).toEqual([1, 2]);
    expect(written!.speakers.map((s) => [s.speakerLabel, s.channelTag])).toEqual([
      ["S1", 1],
      ["S2", 2],
    ]);

    const { job } = await jobsOf(owner).getJob({ jobId });
    expect(job!.transcriptId).toBe(last.transcriptId);
    expect(job!.attemptCount).toBe(1);
    expect(job!.labels).toEqual({ campaign: "رمضان" });
    expect(job!.config?.model).toBe("dtmf");
    expect(job!.billedDuration?.seconds).toBeGreaterThan(0n);
    expect(job!.hasReferenceTranscript).toBe(true);

    const em = h.testDb.db.fork();
    const transcripts = await em.find(Transcript, { job: jobId });
    expect(transcripts).toHaveLength(1);
    const transcript = transcripts[0]!;
    const segments = await em.find(Segment, { transcript }, { orderBy: { index: "asc" } });
    const speakers = await em.find(Speaker, { transcript }, { orderBy: { label: "asc" } });
    expect(speakers.map((s) => [s.label, s.channel])).toEqual([
      ["S1", 0],
      ["S2", 1],
    ]);
    for (const [channel, expected, speaker] of [
      [0, leftTimes, "S1"],
      [1, rightTimes, "S2"],
    ] as const) {
      const words = segments.filter((s) => s.channel === channel).flatMap((s) => s.words.map((w) => ({ ...w, segmentSpeaker: s.speakerLabel })));
      expect(words.map((w) => w.word).join("")).toBe(expected.map((t) => t.key).join(""));
      words.forEach((w, i) => {
        expect(Math.abs(w.startMs - expected[i]!.start * 1000)).toBeLessThan(TIME_TOLERANCE_MS);
        expect(Math.abs(w.endMs - expected[i]!.end * 1000)).toBeLessThan(TIME_TOLERANCE_MS);
        expect(w.segmentSpeaker).toBe(speaker);
      });
    }
    // Scored against the reference: every key recognised, so no word errors.
    expect(job!.accuracy?.wordErrorRate).toBe(0);
    expect(transcript.wer).toBe(0);

    // The hooks the lead wires to usage and webhooks ran once for this job.
    expect(usage.filter((u) => u.jobId === jobId)).toEqual([{ organizationId: owner.organizationId, kind: "batch", seconds: Number(job!.billedDuration!.seconds), jobId }]);
    expect(finished.filter((j) => j.id === jobId).map((j) => j.status)).toEqual(["succeeded"]);
  });

  it("takes an encoding hint that the media's codec bears out (MULAW on a μ-law WAV) and refuses one it contradicts", async () => {
    // The codec and container as the upload's probe stores them for this file.
    const mediaId = await h.addMedia(owner.organizationId, call, { channels: 2, sampleRateHz: 8000, codec: "pcm_mulaw", container: "wav" });
    for (const encoding of [AudioEncoding.LINEAR16, AudioEncoding.ALAW, AudioEncoding.FLAC, AudioEncoding.OGG_OPUS]) {
      const refused = await codeOf(jobsOf(owner).createJob({ mediaId, config: { ...config, encoding, sampleRateHz: 8000 } }));
      expect(refused).toEqual({ code: Code.InvalidArgument, message: `config.encoding: is ${AudioEncoding[encoding]} but the media is pcm_mulaw in wav; leave it unset or AUDIO_ENCODING_AUTO to read it from the file` });
    }
    const { job } = await jobsOf(owner).createJob({ mediaId, config: { ...config, encoding: AudioEncoding.MULAW, sampleRateHz: 8000 } });
    const done = await waitForState(job!.jobId, JobState.SUCCEEDED);
    expect(done.config?.encoding).toBe(AudioEncoding.MULAW);
    const segments = await h.testDb.db.fork().find(Segment, { transcript: { job: job!.jobId } }, { orderBy: { index: "asc" } });
    for (const [channel, keys] of [
      [0, LEFT_KEYS],
      [1, RIGHT_KEYS],
    ] as const) {
      expect(segments.filter((s) => s.channel === channel).flatMap((s) => s.words.map((w) => w.word)).join("")).toBe(keys);
    }
  });
});

describe("idempotent create", () => {
  it("returns the same job for the same key and request, and refuses the key for a different request", async () => {
    const mediaId = await h.addMedia(owner.organizationId, call);
    const request = { mediaId, config, idempotencyKey: "batch-2026-11-25:call-17" };
    const first = await jobsOf(owner).createJob(request);
    const again = await jobsOf(owner, "connect").createJob(request);
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.job!.jobId).toBe(first.job!.jobId);
    const { jobs } = await jobsOf(owner).listJobs({ mediaId });
    expect(jobs.map((j) => j.jobId)).toEqual([first.job!.jobId]);

    const different = await codeOf(jobsOf(owner).createJob({ ...request, priority: JobPriority.LOW }));
    expect(different.code).toBe(Code.AlreadyExists);
    expect(different.message).toMatch(/idempotency_key "batch-2026-11-25:call-17" was already used/);
    await waitForState(first.job!.jobId, JobState.SUCCEEDED);
  });

  it("lets a key go after 24 hours: the same key then makes a new job", async () => {
    const mediaId = await h.addMedia(owner.organizationId, call);
    const request = { mediaId, config, idempotencyKey: "nightly-batch-0001" };
    const first = await jobsOf(owner).createJob(request);
    await h.testDb.db.fork().nativeUpdate(Job, { id: first.job!.jobId }, { createdAt: new Date(Date.now() - 25 * 60 * 60 * 1000) });
    const later = await jobsOf(owner).createJob({ ...request, priority: JobPriority.LOW });
    expect(later.created).toBe(true);
    expect(later.job!.jobId).not.toBe(first.job!.jobId);
    expect((await jobsOf(owner).getJob({ jobId: first.job!.jobId })).job!.idempotencyKey).toBe("");
    await waitForState(first.job!.jobId, JobState.SUCCEEDED);
    await waitForState(later.job!.jobId, JobState.SUCCEEDED);
  });
});

describe("cancel and retry", () => {
  it("stops a running job promptly (its recognition call is aborted), leaves no transcript, and retry runs it again", async () => {
    const mediaId = await h.addMedia(owner.organizationId, call);
    let aborted = false;
    let entered!: () => void;
    const inRecognition = new Promise<void>((resolve) => (entered = resolve));
    h.transcribeHook = (signal) =>
      new Promise<void>((_resolve, reject) => {
        entered();
        signal?.addEventListener("abort", () => {
          aborted = true;
          reject(signal.reason as Error);
        });
      });
    try {
      const { job } = await jobsOf(owner).createJob({ mediaId, config });
      const jobId = job!.jobId;
      await inRecognition;
      const running = await jobsOf(owner).getJob({ jobId });
      expect(running.job!.state).toBe(JobState.RUNNING);
      await vi.waitFor(async () => expect((await jobsOf(owner).getJob({ jobId })).job!.stage).toBe(JobStage.TRANSCRIBING));

      const cancelled = await jobsOf(owner).cancelJob({ jobId });
      expect(cancelled.job!.state).toBe(JobState.CANCELLED);
      await vi.waitFor(() => expect(aborted && h.jobs.runner!.active === 0).toBe(true), { timeout: 10_000 });
      expect((await jobsOf(owner).getJob({ jobId })).job!.state).toBe(JobState.CANCELLED);
      expect(await h.testDb.db.fork().count(Transcript, { job: jobId })).toBe(0);
      // Cancelling again, or retrying a job that is not finished, is refused.
      expect((await codeOf(jobsOf(owner).cancelJob({ jobId }))).code).toBe(Code.FailedPrecondition);

      h.transcribeHook = undefined;
      const retried = await jobsOf(owner).retryJob({ jobId });
      expect(retried.job!.state).toBe(JobState.QUEUED);
      expect((await codeOf(jobsOf(owner).retryJob({ jobId }))).code).toBe(Code.FailedPrecondition);
      const done = await waitForState(jobId, JobState.SUCCEEDED);
      expect(done.attemptCount).toBe(2);
      expect(await h.testDb.db.fork().count(Transcript, { job: jobId })).toBe(1);
    } finally {
      h.transcribeHook = undefined;
    }
  });

  it("moves through its stages, each with its own progress: TRANSCRIBING counts the chunks recognised", async () => {
    const mediaId = await h.addMedia(owner.organizationId, call, { channels: 2, sampleRateHz: 8000 });
    // Every recognition call waits until the test lets it go, so the job stands still at each point looked at.
    const waiting: Array<() => void> = [];
    h.transcribeHook = () => new Promise<void>((resolve) => waiting.push(resolve));
    try {
      const { job } = await jobsOf(owner).createJob({ mediaId, config });
      const jobId = job!.jobId;
      const seen: WatchJobResponse[] = [];
      const watching = (async () => {
        for await (const message of jobsOf(owner, "connect").watchJob({ jobId })) seen.push(message);
      })();
      const sawInWatch = (test: (m: WatchJobResponse) => boolean) => vi.waitFor(() => expect(seen.some(test)).toBe(true), { timeout: 30_000, interval: 50 });

      // Decoded and segmented: transcribing, none of it done yet; one call per speech chunk (one or more a channel).
      await sawInWatch((m) => m.stage === JobStage.TRANSCRIBING);
      await vi.waitFor(() => expect(waiting.length).toBeGreaterThanOrEqual(2), { timeout: 30_000, interval: 50 });
      const chunks = waiting.length;
      const started = (await jobsOf(owner).getJob({ jobId })).job!;
      expect([started.stage, started.stageProgress]).toEqual([JobStage.TRANSCRIBING, 0]);

      // One chunk recognised: the stage's progress says so, in GetJob and in WatchJob, and the job's percent moved on.
      waiting.shift()!();
      const partly = await vi.waitFor(
        async () => {
          const current = (await jobsOf(owner).getJob({ jobId })).job!;
          expect(current.stageProgress).toBeGreaterThan(0);
          return current;
        },
        { timeout: 30_000, interval: 50 },
      );
      expect(partly.stage).toBe(JobStage.TRANSCRIBING);
      expect(partly.stageProgress).toBeCloseTo(1 / chunks, 3);
      expect(partly.progressPercent).toBeGreaterThan(started.progressPercent);
      await sawInWatch((m) => m.stage === JobStage.TRANSCRIBING && m.stageProgress > 0);

      h.transcribeHook = undefined;
      for (const release of waiting.splice(0)) release();
      await watching;
      const running = seen.filter((m) => m.state === JobState.RUNNING);
      const stages = [...new Set(running.map((m) => m.stage))];
      // Forward only, in pipeline order (JobStage's values are that order); fast stages may pass between two reads.
      expect(stages).toEqual([...stages].sort((a, b) => a - b));
      expect(stages).toContain(JobStage.TRANSCRIBING);
      for (const m of running) expect(m.stageProgress >= 0 && m.stageProgress <= 1).toBe(true);
      expect(seen.at(-1)).toMatchObject({ state: JobState.SUCCEEDED, stage: JobStage.UNSPECIFIED, stageProgress: 0, progressPercent: 100 });
    } finally {
      h.transcribeHook = undefined;
      for (const release of waiting.splice(0)) release();
    }
  });

  it("cancels a queued job before any runner takes it", async () => {
    const mediaId = await h.addMedia(owner.organizationId, call);
    // Hold the runner (concurrency 1) on another job, so the second stays queued.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inRecognition = new Promise<void>((resolve) => (entered = resolve));
    h.transcribeHook = async () => {
      entered();
      await held;
    };
    try {
      const blocker = await jobsOf(owner).createJob({ mediaId, config });
      await inRecognition;
      const { job } = await jobsOf(owner).createJob({ mediaId, config });
      const cancelled = await jobsOf(owner).cancelJob({ jobId: job!.jobId });
      expect(cancelled.job!.state).toBe(JobState.CANCELLED);
      expect(cancelled.job!.attemptCount).toBe(0);
      h.transcribeHook = undefined;
      release();
      await waitForState(blocker.job!.jobId, JobState.SUCCEEDED);
      expect((await jobsOf(owner).getJob({ jobId: job!.jobId })).job!.attemptCount).toBe(0);
    } finally {
      h.transcribeHook = undefined;
      release();
    }
  });

  it("retries a transient inference failure with backoff, keeping the reason while queued, then succeeds", async () => {
    const mediaId = await h.addMedia(owner.organizationId, call);
    let failures = 0;
    h.transcribeHook = async () => {
      if (failures++ === 0) throw new InferenceUnavailableError("sidecar restarting", { address: "127.0.0.1" });
    };
    try {
      const { job } = await jobsOf(owner).createJob({ mediaId, config });
      const done = await waitForState(job!.jobId, JobState.SUCCEEDED);
      expect(done.attemptCount).toBe(2);
      expect(done.error).toBeUndefined();
    } finally {
      h.transcribeHook = undefined;
    }
  });
});

describe("transient storage faults", () => {
  it("retries a job whose media read failed with storage unavailable, and fails it with the reason once attempts run out", async () => {
    const mediaId = await h.addMedia(owner.organizationId, call);
    let reads = 0;
    h.blobGetHook = async () => {
      if (reads++ === 0) throw new BlobStoreUnavailableError("S3 endpoint refused the connection");
    };
    try {
      const { job } = await jobsOf(owner).createJob({ mediaId, config });
      const done = await waitForState(job!.jobId, JobState.SUCCEEDED);
      expect(done.attemptCount).toBe(2);

      // Down for good: JOB_MAX_ATTEMPTS (3 here) runs, then FAILED, keeping the reason.
      h.blobGetHook = async () => {
        throw new BlobStoreUnavailableError("S3 endpoint refused the connection");
      };
      const doomed = await jobsOf(owner).createJob({ mediaId, config });
      const failed = await waitForState(doomed.job!.jobId, JobState.FAILED);
      expect(failed.attemptCount).toBe(3);
      expect(failed.error).toMatchObject({ code: "STORAGE_UNAVAILABLE", message: "media storage was unavailable", retryable: true });
    } finally {
      h.blobGetHook = undefined;
    }
  });
});

describe("headerless media and the encoding hint", () => {
  it("transcribes raw μ-law uploaded as audio/basic when the job names MULAW and its rate; refuses the job without them", async () => {
    const raw = audio.path("left.ul");
    await sox("-D", audio.path("left.wav"), "-t", "ul", "-r", "8000", "-c", "1", raw);
    const bytes = await readFile(raw);
    const client = h.client(MediaService, { credential: owner.accessToken });
    const uploaded = await client.uploadMedia(
      (async function* () {
        yield { payload: { case: "metadata" as const, value: { filename: "left.ul", contentType: "audio/basic", sizeBytes: BigInt(bytes.length) } } };
        yield { payload: { case: "chunk" as const, value: bytes } };
      })(),
    );
    const mediaId = uploaded.media!.mediaId;
    const ready = await vi.waitFor(
      async () => {
        const { media } = await client.getMedia({ mediaId });
        if (media!.state !== MediaState.READY) throw new Error(`media is ${MediaState[media!.state]}`);
        return media!;
      },
      { timeout: 30_000, interval: 100 },
    );
    // The bytes have no header: the upload's content type said what they are.
    expect(ready.audioProperties).toMatchObject({ container: "mulaw", codec: "pcm_mulaw", sampleRateHz: 8000, channelCount: 1 });

    const mono = { model: "dtmf", languageCode: "ar" };
    const unhinted = await codeOf(jobsOf(owner).createJob({ mediaId, config: mono }));
    expect(unhinted).toEqual({
      code: Code.InvalidArgument,
      message: "config.encoding: the media is headerless pcm_mulaw audio, which has no header to read the format from; set it to AUDIO_ENCODING_MULAW with sample_rate_hz",
    });
    const noRate = await codeOf(jobsOf(owner).createJob({ mediaId, config: { ...mono, encoding: AudioEncoding.MULAW } }));
    expect(noRate.code).toBe(Code.InvalidArgument);
    expect(noRate.message).toMatch(/sample_rate_hz/);
    const alaw = await codeOf(jobsOf(owner).createJob({ mediaId, config: { ...mono, encoding: AudioEncoding.ALAW, sampleRateHz: 8000 } }));
    expect(alaw).toEqual({ code: Code.InvalidArgument, message: "config.encoding: is ALAW but the media is pcm_mulaw in mulaw; leave it unset or AUDIO_ENCODING_AUTO to read it from the file" });

    const { job } = await jobsOf(owner).createJob({ mediaId, config: { ...mono, encoding: AudioEncoding.MULAW, sampleRateHz: 8000 } });
    await waitForState(job!.jobId, JobState.SUCCEEDED);
    const segments = await h.testDb.db.fork().find(Segment, { transcript: { job: job!.jobId } }, { orderBy: { index: "asc" } });
    expect(segments.flatMap((s) => s.words.map((w) => w.word)).join("")).toBe(LEFT_KEYS);
  });
});

describe("bad input", () => {
  it("answers unknown media with NOT_FOUND and media that is not ready with INVALID_ARGUMENT naming media_id", async () => {
    const unknown = await codeOf(jobsOf(owner).createJob({ mediaId: crypto.randomUUID(), config }));
    expect(unknown.code).toBe(Code.NotFound);
    const pending = await h.addMedia(owner.organizationId, call, { status: "pending" });
    const notReady = await codeOf(jobsOf(owner).createJob({ mediaId: pending, config }));
    expect(notReady).toEqual({ code: Code.InvalidArgument, message: expect.stringMatching(/^media_id: .* is pending, not ready/) });
  });

  it.each([
    ["config.model", { ...config, model: "no_such_model" }, {}],
    ["config.denoise", { ...config, denoise: DenoiseMode.NEURAL }, {}],
    ["config.sample_rate_hz", { ...config, encoding: AudioEncoding.AUTO, sampleRateHz: 16000 }, { sampleRateHz: 8000 }],
    ["config.audio_channel_count", { ...config, audioChannelCount: 1 }, { channels: 2 }],
    ["config.encoding", { ...config, encoding: AudioEncoding.FLAC }, { codec: "pcm_mulaw", container: "wav" }],
  ])("refuses an unsupported config, naming %s", async (field, badConfig, mediaFields) => {
    const mediaId = await h.addMedia(owner.organizationId, call, mediaFields);
    const result = await codeOf(jobsOf(owner).createJob({ mediaId, config: badConfig }));
    expect(result.code).toBe(Code.InvalidArgument);
    expect(result.message.startsWith(`${field}: `)).toBe(true);
  });

  it("fails a job on corrupt media with the reason, and the next job succeeds", async () => {
    const corrupt = await h.addMedia(owner.organizationId, audio.path("corrupt.wav"));
    const { job } = await jobsOf(owner).createJob({ mediaId: corrupt, config });
    const progress = await watchToEnd(owner, job!.jobId);
    const last = progress.at(-1)!;
    expect(last.state).toBe(JobState.FAILED);
    expect(last.error?.code).toBe("UNSUPPORTED_AUDIO");
    expect(last.error?.retryable).toBe(false);
    expect(last.error?.message).toMatch(/^the media cannot be transcribed: /);
    // ffprobe's and ffmpeg's words reach the user without the server's file names.
    expect(last.error?.message).not.toMatch(/\/(tmp|work|home|var)\/|arabicstt-jobs|node_modules/);
    const failed = await jobsOf(owner).getJob({ jobId: job!.jobId });
    expect(failed.job!.error?.message).toBe(last.error?.message);
    expect(finished.filter((j) => j.id === job!.jobId).map((j) => j.status)).toEqual(["failed"]);

    const good = await jobsOf(owner).createJob({ mediaId: await h.addMedia(owner.organizationId, call), config });
    await waitForState(good.job!.jobId, JobState.SUCCEEDED);
  });
});

describe("the admitJob hook (quotas)", () => {
  it("refuses a new job with RESOURCE_EXHAUSTED when it throws, and stores nothing", async () => {
    const account = await registerOwner(h, "منظمة بلا رصيد");
    const mediaId = await h.addMedia(account.organizationId, call);
    overQuota.add(account.organizationId);
    const refused = await codeOf(jobsOf(account).createJob({ mediaId, config }));
    expect(refused.code).toBe(Code.ResourceExhausted);
    expect((await jobsOf(account).listJobs({})).jobs).toEqual([]);
  });
});

describe("tenant isolation", () => {
  it("answers NOT_FOUND to another organisation for every id-taking Job RPC, over gRPC and Connect, and changes nothing", async () => {
    const mediaId = await h.addMedia(owner.organizationId, call);
    const { job } = await jobsOf(owner).createJob({ mediaId, config });
    const jobId = job!.jobId;
    await waitForState(jobId, JobState.SUCCEEDED);
    for (const protocol of ["grpc", "connect"] as const) {
      const as = jobsOf(stranger, protocol);
      const outcomes = {
        "CreateJob.media_id": (await codeOf(as.createJob({ mediaId, config }))).code,
        "GetJob.job_id": (await codeOf(as.getJob({ jobId }))).code,
        "CancelJob.job_id": (await codeOf(as.cancelJob({ jobId }))).code,
        "RetryJob.job_id": (await codeOf(as.retryJob({ jobId }))).code,
        "WatchJob.job_id": (await codeOf(watchToEnd(stranger, jobId))).code,
      };
      expect(outcomes).toEqual(Object.fromEntries(Object.keys(outcomes).map((k) => [k, Code.NotFound])));
      expect((await as.listJobs({})).jobs).toEqual([]);
    }
    const after = await jobsOf(owner).getJob({ jobId });
    expect(after.job!.state).toBe(JobState.SUCCEEDED);
    expect(after.job!.attemptCount).toBe(1);
  });
});
