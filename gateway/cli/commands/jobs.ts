// `arabicstt jobs list|watch`: the organisation's batch jobs (JobService.ListJobs) and one job followed to
// its end (WatchJob).
import { create, toJson } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { JobSchema, JobService, JobState, ListJobsResponseSchema, WatchJobResponseSchema, type Job } from "../../../proto/gen/arabicstt/v1/job_pb.js";
import { stringOption, type Command } from "../command.js";
import { UsageError } from "../errors.js";
import { note, printTable } from "../io.js";
import { followJob, requireSucceeded, stageName, stateName } from "../job-progress.js";

const STATES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
/** The most jobs `jobs list` prints (ListJobs pages hold at most 200). */
const MAX_LIMIT = 1000;

export const jobs: Command = {
  name: "jobs",
  summary: "list batch jobs, or follow one to its end",
  usage: "arabicstt jobs list [--state STATE] [--limit N] | arabicstt jobs watch JOB_ID",
  help: `  jobs list     the newest jobs first: id, state, progress, when, media
  jobs watch    follows a job with a progress bar until it succeeds (exit 0), fails or is cancelled (exit 1)

Options:
  --state STATE          list: only jobs in this state (${STATES.join(", ")})
  --limit N              list: at most N jobs (default 20, up to ${MAX_LIMIT})`,
  options: {
    state: { type: "string" },
    limit: { type: "string" },
  },
  async run(ctx, values, positionals) {
    const client = ctx.connection.client(JobService);
    const [action, ...rest] = positionals;
    if (action === "list") {
      if (rest.length > 0) throw new UsageError(`jobs list takes no arguments (got ${rest.join(" ")})`, "jobs");
      const stateText = stringOption(values, "state");
      if (stateText !== undefined && !(STATES as readonly string[]).includes(stateText)) throw new UsageError(`--state is one of ${STATES.join(", ")}`, "jobs");
      const limitText = stringOption(values, "limit") ?? "20";
      const limit = Number(limitText);
      if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_LIMIT) throw new UsageError(`--limit takes a whole number from 1 to ${MAX_LIMIT}`, "jobs");
      const state = stateText ? JobState[stateText.toUpperCase() as keyof typeof JobState] : JobState.UNSPECIFIED;
      const found: Job[] = [];
      let pageToken = "";
      do {
        const res = await client.listJobs({ pageSize: Math.min(200, limit - found.length), pageToken, state });
        found.push(...res.jobs);
        pageToken = res.nextPageToken;
      } while (pageToken && found.length < limit);
      if (ctx.json) {
        ctx.io.stdout.write(`${JSON.stringify(toJson(ListJobsResponseSchema, create(ListJobsResponseSchema, { jobs: found, nextPageToken: pageToken })))}\n`);
        return;
      }
      printTable(
        ctx.io,
        ["JOB", "STATE", "PROGRESS", "CREATED", "MEDIA", "TRANSCRIPT"],
        found.map((job) => [
          job.jobId,
          stateName(job.state),
          `${job.progressPercent}%${stageName(job.stage) ? ` ${stageName(job.stage)}` : ""}`,
          job.createdAt ? timestampDate(job.createdAt).toISOString() : "-",
          job.mediaId,
          job.transcriptId || "-",
        ]),
      );
      return;
    }
    if (action === "watch") {
      const [jobId] = rest;
      if (!jobId || rest.length > 1) throw new UsageError("jobs watch takes one job id", "jobs");
      const job = await followJob(ctx.io, client, jobId, ctx.signal, (update) => {
        if (ctx.json) ctx.io.stdout.write(`${JSON.stringify(toJson(WatchJobResponseSchema, update))}\n`);
      });
      if (ctx.json) ctx.io.stdout.write(`${JSON.stringify(toJson(JobSchema, job))}\n`);
      else note(ctx.io, `job ${job.jobId} ${stateName(job.state)}${job.transcriptId ? `: transcript ${job.transcriptId}` : ""}`);
      requireSucceeded(job);
      return;
    }
    throw new UsageError(action ? `unknown jobs action ${JSON.stringify(action)}` : "jobs needs an action: list or watch", "jobs");
  },
};
