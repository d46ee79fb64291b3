// The job runner: takes one job id from the queue and carries the job through the batch pipeline of
// DESIGN.md decision 7. Every step is safe to repeat:
//   claim      the database decides who runs a job (queued, or running with a dead heartbeat): one runner;
//   media      read from the blob store to a temporary file, deleted afterwards;
//   pipeline   runAudioPipeline (decode, denoise, loudness, segmentation, ASR, diarization), abortable;
//   text       Arabic display normalisation; WER/CER when the job has a reference transcript;
//   save       Transcripts.create writes transcript, segments (with words) and speakers in ONE transaction
//              that also marks the job succeeded, guarded by the claim (status running, this attempt) and by
//              the unique job id of transcripts: a re-run after a crash writes everything once or not at all;
//   hooks      usage and the finish notification, after the commit.
// A cancelled job is noticed at once (notification) or at the next heartbeat (database), and the pipeline's
// AbortSignal kills ffmpeg and stops ASR. Transient faults (inference or storage unavailable) put the job back
// in the queue with backoff; anything else fails the job with its reason.
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline as pipeStreams } from "node:stream/promises";
import type { Logger } from "pino";
import type { InferenceClient } from "../../inference/client/index.js";
import { characterErrorRate, normalizeArabic, wordErrorRate } from "../arabic-text/index.js";
import { runAudioPipeline, UnusableMediaError, type AudioPipelineResult, type PipelineSegment, type PipelineStage } from "./pipeline/index.js";
import type { Database } from "../platform/database/database.js";
import { UnavailableError } from "../platform/errors/errors.js";
import { Media } from "../media/media.entity.js";
import { BlobNotFoundError, BlobStoreUnavailableError, type BlobStore } from "../platform/blobs/index.js";
import type { CommitWith, NewTranscript, Transcripts } from "../transcripts/transcripts.js";
import { billableSeconds } from "../usage/billable.js";
import type { JobEvents } from "./events.js";
import { Job } from "./job.entity.js";
import { transcriptFromPipeline, type JobAccuracy } from "./pipeline-transcript.js";
import { formatText, formatWords, type TextChainOptions } from "../arabic-text/chain.js";
import { queueKey, type JobQueue } from "./queue.js";
import { settingsOf, textOptionsOf } from "./settings.js";
import { heard } from "../platform/failures.js";
import { denoiseOptionsOf } from "../audio/filters.js";
import { contextFromCarrier, currentTraceCarrier, failSpan, inSpan, SpanKind, tracerOf, type Span, type TraceCarrier } from "../../inference/telemetry/spans.js";

const tracer = tracerOf("arabicstt.jobs");

/** Where a running job is, as JobService reports it (JobStage without the prefix, lower case). */
export type JobStageName = "decoding" | "denoising" | "normalizing" | "detecting_speech" | "transcribing" | "diarizing" | "post_processing" | "scoring" | "saving";

const stageOf: Record<PipelineStage, JobStageName> = {
  probe: "decoding",
  decode: "decoding",
  segment: "detecting_speech",
  recognize: "transcribing",
  diarize: "diarizing",
};

export interface JobRunnerOptions {
  database: Database;
  /** Where a succeeded job's transcript is written, once per job. */
  transcripts: Pick<Transcripts, "create">;
  blobs: BlobStore;
  inference: InferenceClient;
  events: JobEvents;
  /** Where transient failures are put back, with backoff. */
  queue: JobQueue;
  logger: Logger;
  defaultModel: string;
  rnnoiseModel?: string;
  /** A runner proves it is alive (and learns of cancellation) this often. Default 1 s. */
  heartbeatMs?: number;
  /** A running job whose heartbeat is older than this may be claimed by another runner. Default 30 s. */
  staleAfterMs?: number;
  /** Runs of one job before a transient fault fails it. Default 4. */
  maxAttempts?: number;
  /** Backoff before run `attempt + 1` after a transient fault. Default 2 s doubling, at most 60 s. */
  backoffMs?: (attempt: number) => number;
  /** ASR requests in flight per job. Default 4. */
  asrConcurrency?: number;
  /** Where runs keep the media file while they work, one folder per run named after the process. Default <tmp>/arabicstt-jobs. */
  tempRoot?: string;
  /** Called once a job reached SUCCEEDED or FAILED (webhooks). Errors are logged, never rethrown. */
  onJobFinished?: (job: Job) => Promise<void> | void;
  /** Called once per succeeded job with the billed seconds (usage). Errors are logged, never rethrown. */
  recordUsage?: (organizationId: string, kind: "batch", seconds: number, jobId: string) => Promise<void> | void;
}

/** A failure the user can act on, with a stable code. */
class JobFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export class JobRunner {
  private readonly heartbeatMs: number;
  private readonly staleAfterMs: number;
  private readonly maxAttempts: number;
  private readonly running = new Map<string, AbortController>();
  private readonly tempRoot: string;

  constructor(private readonly options: JobRunnerOptions) {
    this.tempRoot = options.tempRoot ?? path.join(tmpdir(), "arabicstt-jobs");
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.staleAfterMs = options.staleAfterMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 4;
  }

  /** Jobs this runner is working on now. */
  get active(): number {
    return this.running.size;
  }

  /** Stops every job of this runner; each goes back to the queue for another runner (shutdown). */
  abortAll(): void {
    for (const controller of this.running.values()) controller.abort(new ShutdownSignal());
  }

  /**
   * Deletes the folders of runs whose process is gone (a SIGKILLed worker cannot clean up after itself), so
   * a crash leaves no orphaned media copies behind once a worker starts again on the machine.
   */
  async sweepTempDirs(): Promise<number> {
    await mkdir(this.tempRoot, { recursive: true });
    let removed = 0;
    for (const name of await readdir(this.tempRoot)) {
      const pid = Number(name.split("-")[0]);
      if (!Number.isInteger(pid) || pid === process.pid || processAlive(pid)) continue;
      await rm(path.join(this.tempRoot, name), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  /**
   * Runs one job if it is still there to run; resolves when it is finished with it, never rejects. The run is
   * one span continuing `trace` (the CreateJob call's), its steps and the pipeline's stages spans below it.
   */
  run(jobId: string, trace?: TraceCarrier): Promise<void> {
    return inSpan(tracer, "job run", { kind: SpanKind.CONSUMER, parent: contextFromCarrier(trace), attributes: { "arabicstt.job_id": jobId } }, (span) => this.runInSpan(jobId, span));
  }

  private async runInSpan(jobId: string, span: Span): Promise<void> {
    const claimed = await this.claim(jobId).catch((err: unknown) => {
      this.options.logger.error({ err, job_id: jobId }, "claiming a job failed");
      return undefined;
    });
    span.setAttribute("arabicstt.job.claimed", claimed !== undefined);
    if (!claimed) return;
    const { attempt } = claimed;
    span.setAttribute("arabicstt.job.attempt", attempt);
    const log = this.options.logger.child({ job_id: jobId, attempt });
    const controller = new AbortController();
    this.running.set(jobId, controller);
    const unsubscribe = this.options.events.subscribe(jobId, (event) => {
      if (event.kind === "cancelled") controller.abort(new CancelledSignal());
    });
    const heartbeat = setInterval(() => {
      this.beat(jobId, attempt).then(
        (alive) => alive || controller.abort(new CancelledSignal()),
        (err: unknown) => log.warn({ err }, "heartbeat failed"),
      );
    }, this.heartbeatMs);
    try {
      log.info("job started");
      const job = await this.options.database.fork().findOneOrFail(Job, { id: jobId });
      await this.process(job, attempt, controller.signal);
      log.info("job succeeded");
    } catch (err) {
      // A cancelled job, or one handed back at shutdown, stopped on purpose: not a failure of the run.
      if (controller.signal.aborted) span.addEvent("run stopped", { reason: String(controller.signal.reason) });
      else failSpan(span, err);
      await this.handleFailure(jobId, attempt, err, controller.signal, log);
    } finally {
      clearInterval(heartbeat);
      unsubscribe();
      this.running.delete(jobId);
    }
  }

  /** Takes the job for this runner: queued, or running with a heartbeat too old to be alive. */
  private async claim(jobId: string): Promise<{ attempt: number } | undefined> {
    const rows = await this.options.database
      .fork()
      .getConnection()
      .execute<Array<{ attempts: number }>>(
        `update jobs set status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now()), stage = 'decoding',
           stage_progress = 0, progress_percent = 0, error_code = null, error_reason = null, error_retryable = false, not_before = null, updated_at = now()
         where id = ? and (status = 'queued' or (status = 'running' and updated_at < now() - make_interval(secs => ?)))
         returning attempts`,
        [jobId, this.staleAfterMs / 1000],
      );
    if (rows.length === 0) return undefined;
    await this.options.events.publish({ jobId, kind: "changed" });
    return { attempt: rows[0]!.attempts };
  }

  /** True while the job is still this run's. */
  private async beat(jobId: string, attempt: number): Promise<boolean> {
    const changed = await this.options.database.fork().nativeUpdate(Job, { id: jobId, status: "running", attempts: attempt }, { updatedAt: new Date() });
    return changed > 0;
  }

  /** Records where the run is: its stage, how far that stage is (0 to 1) and the whole job's percent. */
  private async progress(jobId: string, attempt: number, stage: JobStageName, percent: number, stageProgress = 0): Promise<void> {
    const changed = await this.options.database.fork().nativeUpdate(
      Job,
      { id: jobId, status: "running", attempts: attempt },
      { stage, stageProgress: Math.min(1, Math.max(0, stageProgress)), progressPercent: Math.min(99, Math.max(0, Math.floor(percent))), updatedAt: new Date() },
    );
    if (changed > 0) await this.options.events.publish({ jobId, kind: "changed" });
  }

  private async process(job: Job, attempt: number, signal: AbortSignal): Promise<void> {
    const em = this.options.database.fork();
    const media = await em.findOne(Media, { id: job.media.id }, { filters: { notDeleted: false } });
    if (!media || media.deletedAt || media.status === "deleted") throw new JobFailure("MEDIA_DELETED", "the media was deleted before the job ran", false);

    await mkdir(this.tempRoot, { recursive: true });
    const dir = await mkdtemp(path.join(this.tempRoot, `${process.pid}-`));
    try {
      const file = path.join(dir, "media");
      await inSpan(tracer, "download media", {}, () => this.download(media, file, signal));
      const result = await this.recognise(job, attempt, file, signal);
      await inSpan(tracer, "post-process and save", {}, () => this.finish(job, attempt, result, signal));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async download(media: Media, file: string, signal: AbortSignal): Promise<void> {
    let object;
    try {
      object = await this.options.blobs.get("media", media.storageKey);
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw new JobFailure("MEDIA_MISSING", "the media's file is not in storage", false);
      throw err;
    }
    await pipeStreams(object.stream, createWriteStream(file), { signal });
  }

  /** The audio pipeline over the job's file, its progress written to the job up to 90 %. */
  private async recognise(job: Job, attempt: number, file: string, signal: AbortSignal): Promise<AudioPipelineResult> {
    const settings = settingsOf(job.config);
    let lastStage: JobStageName | undefined;
    let lastPercent = -1;
    let lastStageProgress = 0;
    let writing = Promise.resolve();
    const result = await runAudioPipeline(file, {
      client: this.options.inference,
      model: settings.model || this.options.defaultModel,
      language: settings.languageCode,
      phraseHints: settings.phraseHints,
      // max_alternatives: each segment keeps the model's runner-ups for it (pipeline/runner-ups.ts).
      maxAlternatives: settings.maxAlternatives,
      // endpointing_config: where segments may be cut (settings.ts#segmentationOf).
      segmentation: settings.segmentation,
      // Off (the contract's default): the channels are mixed down, recognised and billed as one.
      separateChannels: settings.separateRecognitionPerChannel,
      // encoding: read headerless media as the hint says (a file with a header is read by its header).
      raw: settings.raw,
      // The same rule as Recognize: services/audio/filters.ts.
      denoise: denoiseOptionsOf(settings.denoise, this.options.rnnoiseModel),
      concurrency: this.options.asrConcurrency,
      diarization: settings.diarization,
      signal,
      onProgress: ({ stage, stageFraction, fraction }) => {
        // Progress up to 90 %: post-processing, scoring and saving are the rest.
        const name = stageOf[stage];
        const percent = Math.floor(fraction * 90);
        // Probing opens the decoding stage; the stage's own progress is the decode's.
        const stageProgress = stage === "probe" ? 0 : Math.round(stageFraction * 1000) / 1000;
        // A write per stage change, per 2 % of the job, per 5 % of the stage, and at a stage's end: a few
        // hundred writes for the longest job, and a watcher sees every stage move.
        const moved = percent >= lastPercent + 2 || stageProgress >= lastStageProgress + 0.05 || (stageProgress === 1 && lastStageProgress < 1);
        if (name === lastStage && !moved) return;
        lastStage = name;
        lastPercent = percent;
        lastStageProgress = stageProgress;
        writing = writing
          .then(() => this.progress(job.id, attempt, name, percent, stageProgress))
          .catch((err: unknown) => this.options.logger.warn({ err, job_id: job.id, attempt, stage: name }, "a job's progress could not be recorded"));
      },
    });
    await writing;
    signal.throwIfAborted();
    return result;
  }

  /** Display text, scores, the transcript and the job's success, then usage and the finish notification. */
  private async finish(job: Job, attempt: number, recognised: AudioPipelineResult, signal: AbortSignal): Promise<void> {
    await this.progress(job.id, attempt, "post_processing", 92);
    const result = forDisplay(recognised);
    let accuracy: JobAccuracy | undefined;
    if (job.referenceText) {
      await this.progress(job.id, attempt, "scoring", 95);
      accuracy = score(job.referenceText, result.segments.map((s) => s.text).filter(Boolean).join(" "));
    }
    signal.throwIfAborted();
    await this.progress(job.id, attempt, "saving", 98);
    const billedSeconds = billableSeconds(result.probe.durationSeconds, result.channels.length);
    const settings = settingsOf(job.config);
    // Numbers, numeral style, diacritics, redaction and profanity, as the job's config asks: applied before
    // anything is stored, so the transcript, its words, search and exports never hold what was redacted.
    // Fail-closed: a chain that throws fails the job rather than storing the text in the clear.
    const formatted = throughTextChain(result, textOptionsOf(job.config));
    const transcript = transcriptFromPipeline(formatted, { jobId: job.id, model: settings.model || this.options.defaultModel, language: settings.languageCode, accuracy, wordFields: { timeOffsets: settings.wordTimeOffsets, confidence: settings.wordConfidence, speakerLabels: settings.speakerLabels } });
    const saved = await this.save(job, attempt, transcript, { accuracy, audioDurationMs: Math.round(result.probe.durationSeconds * 1000), billedSeconds });
    if (!saved) return;
    await this.options.events.publish({ jobId: job.id, kind: "changed" });
    const finished = await this.options.database.fork().findOneOrFail(Job, { id: job.id });
    await this.hook("recordUsage", () => this.options.recordUsage?.(finished.organization.id, "batch", billedSeconds, job.id));
    await this.hook("onJobFinished", () => this.options.onJobFinished?.(finished));
  }

  /**
   * Writes the transcript and marks the job succeeded in one transaction. False when the job is no longer
   * this run's (cancelled meanwhile, or taken over), in which case nothing is written.
   */
  private async save(
    job: Job,
    attempt: number,
    transcript: NewTranscript,
    outcome: { accuracy: JobAccuracy | undefined; audioDurationMs: number; billedSeconds: number },
  ): Promise<boolean> {
    const markSucceeded: CommitWith = async (em) => {
      const owned = await em.nativeUpdate(
        Job,
        { id: job.id, status: "running", attempts: attempt },
        {
          status: "succeeded",
          stage: null,
          stageProgress: 0,
          progressPercent: 100,
          finishedAt: new Date(),
          wer: outcome.accuracy?.wer ?? null,
          cer: outcome.accuracy?.cer ?? null,
          audioDurationMs: outcome.audioDurationMs,
          billedSeconds: outcome.billedSeconds,
        },
      );
      if (owned === 0) throw new NotThisRun();
    };
    try {
      await this.options.transcripts.create(job.organization.id, transcript, { commitWith: markSucceeded });
      return true;
    } catch (err) {
      if (err instanceof NotThisRun) return false;
      throw err;
    }
  }

  private async handleFailure(jobId: string, attempt: number, err: unknown, signal: AbortSignal, log: Logger): Promise<void> {
    const reason: unknown = signal.aborted ? signal.reason : undefined;
    if (reason instanceof CancelledSignal) {
      log.info("job cancelled; its run stopped");
      return;
    }
    const em = this.options.database.fork();
    if (reason instanceof ShutdownSignal) {
      // Back to the queue for another runner, at once; the reconciler re-sends it.
      const returned = await em
        .nativeUpdate(Job, { id: jobId, status: "running", attempts: attempt }, { status: "queued", stage: null, stageProgress: 0, progressPercent: 0 })
        .catch((updateErr: unknown) => {
          // Left RUNNING: once its heartbeat is stale the reconciler hands it to another runner.
          heard(log, "job_runner.requeue_at_shutdown", updateErr, { job_id: jobId, attempt }, "could not return a job to the queue at shutdown; it is taken over once stale");
          return -1;
        });
      if (returned > 0) log.info("job returned to the queue at shutdown");
      return;
    }
    const failure = classify(err);
    if (failure.retryable && attempt < this.maxAttempts) {
      const delayMs = (this.options.backoffMs ?? defaultBackoff)(attempt);
      const changed = await em
        .nativeUpdate(
          Job,
          { id: jobId, status: "running", attempts: attempt },
          { status: "queued", stage: null, stageProgress: 0, progressPercent: 0, errorCode: failure.code, errorReason: failure.message, errorRetryable: true, notBefore: new Date(Date.now() + delayMs) },
        )
        .catch((updateErr: unknown) => {
          heard(log, "job_runner.requeue", updateErr, { job_id: jobId, attempt, code: failure.code }, "could not queue a job again after a transient fault; it is taken over once stale");
          return 0;
        });
      if (changed > 0) {
        log.warn({ err, delay_ms: delayMs }, "job hit a transient fault; queued again");
        const job = await em.findOneOrFail(Job, { id: jobId });
        // The retry continues this run's trace.
        await this.options.queue.enqueue(jobId, { priority: job.priority, key: queueKey(jobId, job.attempts), delayMs, trace: currentTraceCarrier() });
        await this.options.events.publish({ jobId, kind: "changed" });
      }
      return;
    }
    if (failure.code === "INTERNAL") log.error({ err }, "job failed");
    else log.warn({ code: failure.code, reason: failure.message }, "job failed");
    const changed = await em
      .nativeUpdate(
        Job,
        { id: jobId, status: "running", attempts: attempt },
        { status: "failed", stage: null, stageProgress: 0, finishedAt: new Date(), errorCode: failure.code, errorReason: failure.message, errorRetryable: failure.retryable, notBefore: null },
      )
      .catch((updateErr: unknown) => {
        heard(log, "job_runner.fail", updateErr, { job_id: jobId, attempt, code: failure.code }, "could not record a job's failure; it is taken over once stale and run again");
        return 0;
      });
    if (changed === 0) return;
    await this.options.events.publish({ jobId, kind: "changed" });
    const job = await this.options.database.fork().findOneOrFail(Job, { id: jobId });
    await this.hook("onJobFinished", () => this.options.onJobFinished?.(job));
  }

  private async hook(name: string, call: () => Promise<void> | void | undefined): Promise<void> {
    try {
      await call();
    } catch (err) {
      this.options.logger.error({ err, hook: name }, "a job hook failed");
    }
  }
}

/** The job was no longer this run's when it came to save: the write is rolled back. */
class NotThisRun extends Error {
  constructor() {
    super("the job is no longer this run's");
  }
}

class CancelledSignal extends Error {
  constructor() {
    super("job cancelled");
  }
}

class ShutdownSignal extends Error {
  constructor() {
    super("worker shutting down");
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but another user's.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Each segment's words through the Arabic text chain, their times and confidences kept, and its runner-ups
 * (max_alternatives) through the same chain as whole texts, each on its own (they have no word times), as
 * live finals do. A runner-up that now reads as the text or as an earlier one says nothing more and is dropped.
 */
function throughTextChain(result: AudioPipelineResult, options: TextChainOptions): AudioPipelineResult {
  const segments = result.segments.map((s) => {
    const formatted = s.words.length === 0 ? { ...s, text: formatText(s.text, options).text } : formattedWords(s, options);
    if (!s.alternatives) return formatted;
    const alternatives: string[] = [];
    for (const runnerUp of s.alternatives) {
      const text = formatText(runnerUp, options).text;
      if (text && text !== formatted.text && !alternatives.includes(text)) alternatives.push(text);
    }
    const { alternatives: _, ...rest } = formatted;
    return alternatives.length > 0 ? { ...rest, alternatives } : rest;
  });
  return { ...result, segments };
}

function formattedWords(s: PipelineSegment, options: TextChainOptions): PipelineSegment {
  // A model that writes its words with spaces (whisper) gets " " between them; one that does not (dtmf: "123#") none.
  const separator = /\s/.test(s.text.trim()) || s.words.length <= 1 ? " " : "";
  const out = formatWords(s.words.map((w) => ({ ...w, separator })), options);
  return { ...s, text: out.text, words: out.words.map(({ separator: _, ...w }) => w) };
}

/** The result with its text (runner-ups included) in Arabic display normalisation, as transcripts keep it. */
function forDisplay(result: AudioPipelineResult): AudioPipelineResult {
  const segments = result.segments.map((s) => ({
    ...s,
    text: normalizeArabic(s.text, "display"),
    words: s.words.map((w) => ({ ...w, word: normalizeArabic(w.word, "display") })),
    ...(s.alternatives ? { alternatives: s.alternatives.map((a) => normalizeArabic(a, "display")) } : {}),
  }));
  return { ...result, segments };
}

/** WER and CER of the recognised text against the job's reference transcript. */
function score(referenceText: string, text: string): JobAccuracy {
  const words = wordErrorRate(referenceText, text);
  const chars = characterErrorRate(referenceText, text);
  return {
    wer: words.errorRate,
    cer: chars.errorRate,
    details: { referenceWordCount: words.referenceLength, substitutions: words.substitutions, deletions: words.deletions, insertions: words.insertions },
  };
}

const defaultBackoff = (attempt: number) => Math.min(60_000, 2000 * 2 ** (attempt - 1));

/** What the user is told: a stable code, a safe message, and whether the same work may succeed later. */
function classify(err: unknown): JobFailure {
  if (err instanceof JobFailure) return err;
  if (err instanceof UnusableMediaError) return new JobFailure("UNSUPPORTED_AUDIO", `the media cannot be transcribed: ${err.message.replace(/^media: /, "")}`, false);
  if (err instanceof UnavailableError) return new JobFailure("INFERENCE_UNAVAILABLE", "the speech recogniser was unavailable", true);
  if (err instanceof BlobStoreUnavailableError) return new JobFailure("STORAGE_UNAVAILABLE", "media storage was unavailable", true);
  return new JobFailure("INTERNAL", "an internal error stopped the job", false);
}
