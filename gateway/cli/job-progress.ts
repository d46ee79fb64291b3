// Following a job to its end with WatchJob: a progress bar on stderr (on a terminal), a line per state
// change elsewhere, and the finished job. Shared by `transcribe` and `jobs watch`.
import type { Client } from "@connectrpc/connect";
import { JobService, JobStage, JobState, type Job, type WatchJobResponse } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { CliFailure } from "./errors.js";
import { note, progressBar, StatusLine, type Io } from "./io.js";

/** Times WatchJob is reopened when it ends before the job does (a gateway restart, a dropped connection). */
const MAX_WATCHES = 10;

export function isFinished(state: JobState): boolean {
  return state === JobState.SUCCEEDED || state === JobState.FAILED || state === JobState.CANCELLED;
}

export function stateName(state: JobState): string {
  return (JobState[state] ?? "UNSPECIFIED").toLowerCase();
}

export function stageName(stage: JobStage): string {
  return stage === JobStage.UNSPECIFIED ? "" : (JobStage[stage] ?? "").toLowerCase().replace(/_/g, " ");
}

/**
 * Watches the job until it succeeds, fails or is cancelled, and returns it. `onUpdate` sees every update
 * (`--json` prints them).
 */
export async function followJob(io: Io, jobs: Client<typeof JobService>, jobId: string, signal: AbortSignal, onUpdate?: (update: WatchJobResponse) => void): Promise<Job> {
  const status = new StatusLine(io.stderr);
  let lastState: JobState | undefined;
  try {
    for (let watch = 0; watch < MAX_WATCHES; watch++) {
      for await (const update of jobs.watchJob({ jobId }, { signal })) {
        onUpdate?.(update);
        const stage = stageName(update.stage);
        status.show(progressBar(update.progressPercent / 100, `job ${stateName(update.state)}${stage ? `: ${stage}` : ""}`));
        if (!status.live && update.state !== lastState) note(io, `job ${jobId} ${stateName(update.state)}`);
        lastState = update.state;
        if (isFinished(update.state)) break;
      }
      const { job } = await jobs.getJob({ jobId }, { signal });
      if (job && isFinished(job.state)) return job;
    }
    throw new CliFailure(`job ${jobId} did not finish after ${MAX_WATCHES} watches; follow it with: arabicstt jobs watch ${jobId}`, "unavailable");
  } finally {
    status.clear();
  }
}

/** Throws the job's error when it did not succeed. */
export function requireSucceeded(job: Job): void {
  if (job.state === JobState.SUCCEEDED) return;
  const why = job.error ? `${job.error.code}: ${job.error.message}` : stateName(job.state);
  throw new CliFailure(`job ${job.jobId} ${stateName(job.state)}: ${why}`, job.state === JobState.CANCELLED ? "cancelled" : "job_failed");
}
