// Batch transcription jobs (the domain of JobService): creating one (idempotently), reading, listing,
// cancelling, retrying and watching. The database is the truth about every job; the queue only carries
// job ids to runners (queue.ts), and the reconciler (reconciler.ts) puts back what a queue lost.
import { createHash } from "node:crypto";
import { UniqueConstraintViolationException } from "@mikro-orm/core";
import type { Database } from "../platform/database/database.js";
import { decodeOffset, encodeOffset, pageSize, type Page } from "../platform/database/paging.js";
import { TenantScope } from "../platform/database/tenant-scope.js";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from "../platform/errors/errors.js";
import { Media } from "../media/media.entity.js";
import { RAW_FORMATS } from "../audio/probe.js";
import { Transcript } from "../transcripts/transcript.entity.js";
import { accuracyCountsOf, type AccuracyCounts } from "../transcripts/accuracy.js";
import type { JobEvents } from "./events.js";
import { Job, type JobStatus } from "./job.entity.js";
import { queueKey, type JobQueue } from "./queue.js";
import { settingsOf, textOptionsOf } from "./settings.js";
import type { ModelCatalog as RecognitionModels } from "../models/catalog.js";
import { newWebhookSecret } from "../webhooks/signature.js";
import { currentTraceCarrier } from "../../inference/telemetry/spans.js";
import { recognitionDefaultsOf, resolveRecognition, type ResolvedRecognition } from "../identity/orgs/recognition-defaults.js";

export const TERMINAL_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "cancelled"];
/** How long an idempotency key holds: a later CreateJob with it makes a new job. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface CreateJobInput {
  mediaId: string;
  /** The recognition config as the client sent it (proto JSON). */
  config: Record<string, unknown>;
  idempotencyKey?: string;
  webhookUrl?: string;
  /** Higher runs first: 1 low, 2 normal, 3 high. */
  priority: number;
  referenceText?: string;
  labels: Record<string, string>;
}

/** A job and the id of its transcript (set once it succeeded). */
export interface JobView {
  job: Job;
  transcriptId: string | null;
  /** Error counts behind the job's WER, from its transcript, when it was scored. */
  accuracyCounts?: AccuracyCounts;
}

export type { AccuracyCounts };

export interface ListJobsInput {
  pageSize: number;
  pageToken: string;
  status?: JobStatus;
  mediaId?: string;
  createdAfter?: Date;
  createdBefore?: Date;
}

/**
 * Whether a config's model is a ready recogniser of its language (services/models answers it, as it does for
 * live recognition), and, when it is not, what state the servers report it in.
 */
export type ModelCatalog = Pick<RecognitionModels, "recognizer" | "list">;

export interface JobsOptions {
  database: Database;
  queue: JobQueue;
  events: JobEvents;
  models: ModelCatalog;
  /** Model of a config that names none, when its organisation sets no default_model either. */
  defaultModel: string;
  /** An RNNoise model file; DENOISE_MODE_NEURAL is refused without one. */
  rnnoiseModel?: string;
  /** How often WatchJob re-reads the job when no notification arrives. Default 1 s. */
  watchPollMs?: number;
  /**
   * Asked before a new job is stored, with the media it would transcribe; throws to refuse it (quotas: a
   * ResourceExhaustedError becomes RESOURCE_EXHAUSTED). Not asked when an idempotency key returns an earlier job.
   */
  admitJob?: (organizationId: string, media: Media) => Promise<void> | void;
}

export class Jobs {
  constructor(private readonly options: JobsOptions) {}

  private tenant(organizationId: string): TenantScope {
    return new TenantScope(this.options.database.fork(), organizationId);
  }

  /** `apiKeyId`: the API key the call was made with (the job's usage is that key's); null for a user's token. */
  async create(organizationId: string, input: CreateJobInput, apiKeyId: string | null = null): Promise<{ view: JobView; created: boolean; webhookSecret?: string }> {
    const requestHash = hashRequest(input);
    if (input.idempotencyKey) {
      const existing = await this.byIdempotencyKey(organizationId, input.idempotencyKey, requestHash);
      if (existing) return { view: existing, created: false };
    }
    const tenant = this.tenant(organizationId);
    const media = await tenant.findOne(Media, { id: input.mediaId });
    // Unknown and another organisation's media answer alike, as every id-taking RPC does.
    if (!media) throw new NotFoundError("media", input.mediaId);
    if (media.status !== "ready") {
      throw new InvalidArgumentError("media_id", `media ${input.mediaId} is ${media.status}, not ready: finish its upload (CompleteUpload) first`);
    }
    const request = settingsOf(input.config);
    // Unset is "" in proto JSON or absent; settingsOf fills the default language, so read the raw field.
    const requestedLanguage = typeof input.config.languageCode === "string" ? input.config.languageCode : "";
    const recognition = resolveRecognition(
      { model: request.model, languageCode: requestedLanguage },
      await recognitionDefaultsOf(tenant.em, organizationId),
      this.options.defaultModel,
    );
    // The job keeps the model and language it runs with, so a later change of a default does not change it.
    const config = { ...input.config, model: recognition.model, languageCode: recognition.languageCode };
    await this.checkConfig(config, media, recognition);
    await this.options.admitJob?.(organizationId, media);

    const webhookSecret = input.webhookUrl ? newWebhookSecret() : undefined;
    const job = tenant.create(Job, {
      media: media.id,
      config,
      idempotencyKey: input.idempotencyKey || null,
      apiKeyId,
      priority: input.priority,
      webhookUrl: input.webhookUrl || null,
      webhookSecret: webhookSecret ?? null,
      referenceText: input.referenceText || null,
      labels: input.labels,
      requestHash,
      audioDurationMs: media.durationMs,
    });
    try {
      await tenant.flush();
    } catch (err) {
      // Two calls with one key raced: the other one made the job.
      if (err instanceof UniqueConstraintViolationException && input.idempotencyKey) {
        const existing = await this.byIdempotencyKey(organizationId, input.idempotencyKey, requestHash);
        if (existing) return { view: existing, created: false };
      }
      throw err;
    }
    await this.enqueue(job);
    return { view: { job, transcriptId: null }, created: true, webhookSecret };
  }

  private async byIdempotencyKey(organizationId: string, key: string, requestHash: string): Promise<JobView | undefined> {
    const tenant = this.tenant(organizationId);
    const job = await tenant.findOne(Job, { idempotencyKey: key });
    if (!job) return undefined;
    if (Date.now() - job.createdAt.getTime() > IDEMPOTENCY_WINDOW_MS) {
      // The key has expired: the old job lets go of it (its idempotency_key reads empty from now on).
      await tenant.em.nativeUpdate(Job, { id: job.id, organization: tenant.organizationId }, { idempotencyKey: null });
      return undefined;
    }
    if (job.requestHash !== requestHash) {
      throw new AlreadyExistsError(
        `idempotency_key "${key}" was already used for job ${job.id} with a different request; use a new key for a different job`,
      );
    }
    return this.view(tenant, job);
  }

  /** Refuses what the pipeline cannot honour, naming the field, before anything is queued. */
  private async checkConfig(config: Record<string, unknown>, media: Media, recognition: ResolvedRecognition): Promise<void> {
    const settings = settingsOf(config);
    // The text options are checked now, not when the transcript is written at the end.
    textOptionsOf(config);
    await this.checkModel(recognition);
    if (settings.denoise === "neural" && !this.options.rnnoiseModel) {
      throw new InvalidArgumentError("config.denoise", "DENOISE_MODE_NEURAL needs an RNNoise model, and none is configured; use DENOISE_MODE_SPECTRAL");
    }
    if (settings.sampleRateHz && media.sampleRateHz && settings.sampleRateHz !== media.sampleRateHz) {
      throw new InvalidArgumentError("config.sample_rate_hz", `is ${settings.sampleRateHz} but the media is ${media.sampleRateHz} Hz; leave it 0 to read it from the file`);
    }
    if (settings.audioChannelCount && media.channels && settings.audioChannelCount !== media.channels) {
      throw new InvalidArgumentError("config.audio_channel_count", `is ${settings.audioChannelCount} but the media has ${media.channels}; leave it 0 to read it from the file`);
    }
    checkEncoding(config.encoding, media);
    // Headerless media is decoded with the config's channel count (0 meaning one), so it must be the media's.
    if (media.container && RAW_FORMATS.includes(media.container) && media.channels && (settings.audioChannelCount || 1) !== media.channels) {
      throw new InvalidArgumentError("config.audio_channel_count", `the headerless media has ${media.channels} channels; set audio_channel_count to ${media.channels}`);
    }
  }

  /**
   * The model is a ready recogniser of the language. A model the client named that does not exist stays
   * INVALID_ARGUMENT; a default (the organisation's or the server's) that this server lacks is
   * FAILED_PRECONDITION, since the request is valid and the fix is an operator's or an admin's; a model
   * still loading is UNAVAILABLE. The servers' own reason for a model's state is logged by the sidecar and
   * never repeated here: it names files on the server.
   */
  private async checkModel(recognition: ResolvedRecognition): Promise<void> {
    const { model, modelSource } = recognition;
    try {
      await this.options.models.recognizer(
        { model, languageCode: recognition.languageCode },
        { fields: { model: "config.model", languageCode: "config.language_code" } },
      );
    } catch (err) {
      const aboutModel = (err instanceof InvalidArgumentError && err.field === "config.model") || err instanceof UnavailableError;
      if (!aboutModel) throw err;
      const listed = (await this.options.models.list()).find((m) => m.name === model);
      if (listed?.state === "loading") throw new UnavailableError(`config.model: model ${JSON.stringify(model)} is loading; try again in a minute`);
      if (modelSource === "request" && err instanceof InvalidArgumentError) throw err;
      throw new FailedPreconditionError(modelMissing(model, modelSource, listed !== undefined));
    }
  }

  async get(organizationId: string, jobId: string): Promise<JobView> {
    const tenant = this.tenant(organizationId);
    return this.view(tenant, await this.find(tenant, jobId));
  }

  async list(organizationId: string, input: ListJobsInput): Promise<Page<JobView>> {
    const tenant = this.tenant(organizationId);
    const limit = pageSize(input.pageSize);
    const offset = decodeOffset(input.pageToken);
    const createdAt = { ...(input.createdAfter ? { $gte: input.createdAfter } : {}), ...(input.createdBefore ? { $lt: input.createdBefore } : {}) };
    const where = {
      ...(input.status ? { status: input.status } : {}),
      ...(input.mediaId ? { media: input.mediaId } : {}),
      ...(Object.keys(createdAt).length > 0 ? { createdAt } : {}),
    };
    const rows = await tenant.find(Job, where, { orderBy: { createdAt: "desc", id: "desc" }, limit: limit + 1, offset });
    const page = rows.slice(0, limit);
    const transcripts = await this.transcripts(tenant, page.map((j) => j.id));
    return {
      items: page.map((job) => viewOf(job, transcripts.get(job.id))),
      nextPageToken: rows.length > limit ? encodeOffset(offset + limit) : "",
    };
  }

  /** Stops a queued or running job. A runner working on it aborts at once (notification) or at its next heartbeat. */
  async cancel(organizationId: string, jobId: string): Promise<JobView> {
    const tenant = this.tenant(organizationId);
    const job = await this.find(tenant, jobId);
    const changed = await tenant.em.nativeUpdate(
      Job,
      { id: job.id, organization: organizationId, status: { $in: ["queued", "running"] } },
      { status: "cancelled", stage: null, stageProgress: 0, finishedAt: new Date(), notBefore: null },
    );
    if (changed === 0) {
      await tenant.em.refresh(job);
      throw new FailedPreconditionError(`job ${jobId} is ${job.status}; only queued or running jobs can be cancelled`);
    }
    await this.options.events.publish({ jobId: job.id, kind: "cancelled" });
    await this.options.events.publish({ jobId: job.id, kind: "changed" });
    return this.get(organizationId, jobId);
  }

  /** Queues a failed or cancelled job again, with its error cleared. */
  async retry(organizationId: string, jobId: string): Promise<JobView> {
    const tenant = this.tenant(organizationId);
    const job = await this.find(tenant, jobId);
    const changed = await tenant.em.nativeUpdate(
      Job,
      { id: job.id, organization: organizationId, status: { $in: ["failed", "cancelled"] } },
      { status: "queued", stage: null, stageProgress: 0, progressPercent: 0, finishedAt: null, errorCode: null, errorReason: null, errorRetryable: false, notBefore: null },
    );
    if (changed === 0) {
      await tenant.em.refresh(job);
      throw new FailedPreconditionError(`job ${jobId} is ${job.status}; only failed or cancelled jobs can be retried`);
    }
    await tenant.em.refresh(job);
    await this.enqueue(job);
    await this.options.events.publish({ jobId: job.id, kind: "changed" });
    return this.view(tenant, job);
  }

  /**
   * The job now, then again at every change, until it is finished. Notifications wake the loop; a poll of
   * the database every `watchPollMs` covers changes made where no notification reaches (and lost ones).
   */
  async *watch(organizationId: string, jobId: string, signal: AbortSignal): AsyncGenerator<JobView> {
    const tenant = this.tenant(organizationId);
    await this.find(tenant, jobId);
    const pollMs = this.options.watchPollMs ?? 1000;
    let wake: (() => void) | undefined;
    let woken = false;
    const unsubscribe = this.options.events.subscribe(jobId, () => {
      woken = true;
      wake?.();
    });
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      let last = "";
      while (!signal.aborted) {
        woken = false;
        const view = await this.get(organizationId, jobId);
        const { job } = view;
        const fingerprint = `${job.status}|${job.stage}|${job.stageProgress}|${job.progressPercent}|${view.transcriptId}|${job.errorCode}`;
        if (fingerprint !== last) {
          last = fingerprint;
          yield view;
        }
        if (TERMINAL_STATUSES.includes(job.status)) return;
        if (woken) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      unsubscribe();
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Queues the job with the trace of the call that queued it (CreateJob's, RetryJob's), for the worker to continue. */
  private async enqueue(job: Job): Promise<void> {
    await this.options.queue.enqueue(job.id, { priority: job.priority, key: queueKey(job.id, job.attempts), trace: currentTraceCarrier() });
  }

  private async find(tenant: TenantScope, jobId: string): Promise<Job> {
    const job = await tenant.findOne(Job, { id: jobId });
    if (!job) throw new NotFoundError("job", jobId);
    return job;
  }

  private async view(tenant: TenantScope, job: Job): Promise<JobView> {
    return viewOf(job, (await this.transcripts(tenant, [job.id])).get(job.id));
  }

  private async transcripts(tenant: TenantScope, jobIds: string[]): Promise<Map<string, Transcript>> {
    if (jobIds.length === 0) return new Map();
    // A transcript the user deleted still says the job succeeded; its id is not shown.
    const rows = await tenant.find(Transcript, { job: { $in: jobIds } });
    return new Map(rows.map((t) => [t.job!.id, t]));
  }
}

/** Why a model that is not ready cannot run, and who can change that. */
function modelMissing(model: string, source: ResolvedRecognition["modelSource"], known: boolean): string {
  const name = JSON.stringify(model);
  const install = `an operator installs it (README, "Inference": its weights for the sidecar, or the model in Triton's repository)`;
  const state = known ? "is not available on this server" : "is not installed on this server";
  switch (source) {
    case "server":
      return `config.model: the server's default model ${name} ${state}; ${install} or sets JOB_DEFAULT_MODEL to an installed model. Meanwhile name a ready model from ListModels in config.model`;
    case "organization":
      return `config.model: the organisation's default model ${name} ${state}; an admin sets another with UpdateOrganization (default_model), or ${install}. Meanwhile name a ready model from ListModels in config.model`;
    case "request":
      return `config.model: model ${name} ${state}; ${install}, or name a ready model from ListModels`;
  }
}

function viewOf(job: Job, transcript: Transcript | undefined): JobView {
  const counts = transcript ? accuracyCountsOf(transcript.metadata) : undefined;
  return { job, transcriptId: transcript?.id ?? null, ...(counts ? { accuracyCounts: counts } : {}) };
}

/** The request as a fingerprint: what a repeated CreateJob with the same key must repeat. */
function hashRequest(input: CreateJobInput): string {
  const canonical = JSON.stringify(sortKeys({ ...input, idempotencyKey: undefined }));
  return createHash("sha256").update(canonical).digest("hex");
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined && v !== "")
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}

/**
 * What ffprobe calls each encoding's codec (and, where the encoding names one, its container). A READY media
 * item was probed at upload, so every job's media has a header that says what it is: the hint is checked
 * against that, like sample_rate_hz and audio_channel_count. A mismatch is INVALID_ARGUMENT at CreateJob,
 * not a failed job: it is known before anything is queued, and the fix (drop the hint or pick the right
 * media) is the caller's. Headerless media (uploaded as audio/basic, audio/PCMU or audio/PCMA; its container is
 * then ffmpeg's raw demuxer) needs the hint, with sample_rate_hz: the pipeline decodes the bytes as it says.
 */
const codecOfEncoding: Readonly<Record<string, { codecs: readonly string[]; container?: string }>> = {
  // A WAV (or other container) of 16-bit PCM; big-endian is not LINEAR16.
  AUDIO_ENCODING_LINEAR16: { codecs: ["pcm_s16le"] },
  AUDIO_ENCODING_MULAW: { codecs: ["pcm_mulaw"] },
  AUDIO_ENCODING_ALAW: { codecs: ["pcm_alaw"] },
  AUDIO_ENCODING_FLAC: { codecs: ["flac"] },
  AUDIO_ENCODING_OGG_OPUS: { codecs: ["opus"], container: "ogg" },
};

const encodingName = (name: string) => name.replace(/^AUDIO_ENCODING_/, "");

/** Refuses an encoding hint that the media's probed codec (and container) contradicts; unset and AUTO read the file. */
export function checkEncoding(encoding: unknown, media: Pick<Media, "codec" | "container">): void {
  const headerless = media.container !== null && RAW_FORMATS.includes(media.container);
  if (typeof encoding !== "string" || encoding === "AUDIO_ENCODING_UNSPECIFIED" || encoding === "AUDIO_ENCODING_AUTO") {
    // Bytes with no header cannot be read as AUTO asks; the job says so now rather than failing in the pipeline.
    if (headerless) {
      const named = Object.entries(codecOfEncoding).find(([, e]) => e.codecs.includes(media.codec ?? ""))?.[0] ?? "AUDIO_ENCODING_LINEAR16, AUDIO_ENCODING_MULAW or AUDIO_ENCODING_ALAW";
      throw new InvalidArgumentError("config.encoding", `the media is headerless ${media.codec ?? "PCM"} audio, which has no header to read the format from; set it to ${named} with sample_rate_hz`);
    }
    return;
  }
  const expected = codecOfEncoding[encoding];
  if (!expected) throw new InvalidArgumentError("config.encoding", `${JSON.stringify(encoding)} is not an encoding batch jobs know; leave it unset or AUDIO_ENCODING_AUTO`);
  // Media probed before the codec was stored has none to compare with; the pipeline reads the file as it is.
  if (!media.codec) return;
  const containerOk = !expected.container || (media.container ?? "").split(",").includes(expected.container);
  if (!expected.codecs.includes(media.codec) || !containerOk) {
    const what = media.container ? `${media.codec} in ${media.container}` : media.codec;
    throw new InvalidArgumentError("config.encoding", `is ${encodingName(encoding)} but the media is ${what}; leave it unset or AUDIO_ENCODING_AUTO to read it from the file`);
  }
}
