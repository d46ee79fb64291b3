// JobService over the wire: proto in, domain calls, proto out. The recognition config is kept as proto JSON,
// so GetJob returns it exactly as given.
import { create, fromJson, toJson, type JsonObject } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { ProcessingErrorSchema } from "../../proto/gen/arabicstt/v1/common_pb.js";
import {
  JobPriority,
  JobSchema,
  JobStage,
  JobState,
  WatchJobResponseSchema,
  type Job as JobMessage,
  type JobService,
  type WatchJobResponse,
} from "../../proto/gen/arabicstt/v1/job_pb.js";
import { RecognitionConfigSchema } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { principalOf } from "../identity/model/context.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import type { JobStatus } from "./job.entity.js";
import type { Jobs, JobView } from "./jobs.js";
import type { JobStageName } from "./runner.js";
import { accuracyMetricsOf } from "../transcripts/accuracy.js";

const stateOf: Record<JobStatus, JobState> = {
  queued: JobState.QUEUED,
  running: JobState.RUNNING,
  succeeded: JobState.SUCCEEDED,
  failed: JobState.FAILED,
  cancelled: JobState.CANCELLED,
};

const stageOf: Record<JobStageName, JobStage> = {
  decoding: JobStage.DECODING,
  denoising: JobStage.DENOISING,
  normalizing: JobStage.NORMALIZING,
  detecting_speech: JobStage.DETECTING_SPEECH,
  transcribing: JobStage.TRANSCRIBING,
  diarizing: JobStage.DIARIZING,
  post_processing: JobStage.POST_PROCESSING,
  scoring: JobStage.SCORING,
  saving: JobStage.SAVING,
};

const statusOf = new Map<JobState, JobStatus>(Object.entries(stateOf).map(([status, state]) => [state, status as JobStatus]));

/** Stored priority: higher runs first, as the proto enum's numbers are ordered. */
function priorityOf(priority: JobPriority): number {
  return priority === JobPriority.UNSPECIFIED ? JobPriority.NORMAL : priority;
}

function stage(view: JobView): JobStage {
  return view.job.status === "running" && view.job.stage ? (stageOf[view.job.stage as JobStageName] ?? JobStage.UNSPECIFIED) : JobStage.UNSPECIFIED;
}

function error(view: JobView) {
  const { job } = view;
  if (job.status !== "failed" || !job.errorCode) return undefined;
  return create(ProcessingErrorSchema, {
    code: job.errorCode,
    message: job.errorReason ?? "",
    occurredAt: timestampFromDate(job.finishedAt ?? job.updatedAt),
    retryable: job.errorRetryable,
  });
}

/** job.proto: 0 unless RUNNING. */
function stageProgress(view: JobView): number {
  return view.job.status === "running" ? view.job.stageProgress : 0;
}

export function toJob(view: JobView): JobMessage {
  const { job } = view;
  return create(JobSchema, {
    jobId: job.id,
    mediaId: job.media.id,
    state: stateOf[job.status as JobStatus],
    stage: stage(view),
    stageProgress: stageProgress(view),
    progressPercent: job.progressPercent,
    config: fromJson(RecognitionConfigSchema, job.config as JsonObject, { ignoreUnknownFields: true }),
    priority: (job.priority as JobPriority) || JobPriority.NORMAL,
    idempotencyKey: job.idempotencyKey ?? "",
    webhookUrl: job.webhookUrl ?? "",
    hasReferenceTranscript: job.referenceText !== null,
    transcriptId: view.transcriptId ?? "",
    accuracy: job.status === "succeeded" && job.wer !== null ? accuracyMetricsOf({ wer: job.wer, cer: job.cer }, view.accuracyCounts) : undefined,
    error: error(view),
    attemptCount: job.attempts,
    audioDuration: job.audioDurationMs !== null ? durationFromMs(job.audioDurationMs) : undefined,
    billedDuration: job.status === "succeeded" && job.billedSeconds !== null ? durationFromMs(job.billedSeconds * 1000) : undefined,
    labels: job.labels,
    createdAt: timestampFromDate(job.createdAt),
    startedAt: job.startedAt ? timestampFromDate(job.startedAt) : undefined,
    finishedAt: job.finishedAt ? timestampFromDate(job.finishedAt) : undefined,
    updatedAt: timestampFromDate(job.updatedAt),
  });
}

function toProgress(view: JobView): WatchJobResponse {
  return create(WatchJobResponseSchema, {
    jobId: view.job.id,
    state: stateOf[view.job.status as JobStatus],
    stage: stage(view),
    stageProgress: stageProgress(view),
    progressPercent: view.job.progressPercent,
    transcriptId: view.transcriptId ?? "",
    error: error(view),
    updatedAt: timestampFromDate(view.job.updatedAt),
  });
}

export function jobHandler(jobs: Jobs): Partial<ServiceImpl<typeof JobService>> {
  return {
    async createJob(req, ctx) {
      if (!req.config) throw new InvalidArgumentError("config", "is required");
      const principal = principalOf(ctx.values);
      const { view, created, webhookSecret } = await jobs.create(principal.organizationId, {
        mediaId: req.mediaId,
        config: toJson(RecognitionConfigSchema, req.config) as Record<string, unknown>,
        idempotencyKey: req.idempotencyKey || undefined,
        webhookUrl: req.webhookUrl || undefined,
        priority: priorityOf(req.priority),
        referenceText: req.referenceTranscript || undefined,
        labels: { ...req.labels },
      }, principal.kind === "api_key" ? principal.apiKeyId : null);
      return { job: toJob(view), created, webhookSecret: webhookSecret ?? "" };
    },
    async getJob(req, ctx) {
      return { job: toJob(await jobs.get(principalOf(ctx.values).organizationId, req.jobId)) };
    },
    async listJobs(req, ctx) {
      const page = await jobs.list(principalOf(ctx.values).organizationId, {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        status: statusOf.get(req.state),
        mediaId: req.mediaId || undefined,
        createdAfter: req.createdAfter ? timestampDate(req.createdAfter) : undefined,
        createdBefore: req.createdBefore ? timestampDate(req.createdBefore) : undefined,
      });
      return { jobs: page.items.map(toJob), nextPageToken: page.nextPageToken };
    },
    async cancelJob(req, ctx) {
      return { job: toJob(await jobs.cancel(principalOf(ctx.values).organizationId, req.jobId)) };
    },
    async retryJob(req, ctx) {
      return { job: toJob(await jobs.retry(principalOf(ctx.values).organizationId, req.jobId)) };
    },
    async *watchJob(req, ctx) {
      for await (const view of jobs.watch(principalOf(ctx.values).organizationId, req.jobId, ctx.signal)) yield toProgress(view);
    },
  };
}
