// Where batch jobs meet the other capabilities: a finished job is published to the organisation's
// webhooks, its audio is recorded as usage, and a new job is admitted only within the quota. Used by
// every composition root that runs or creates jobs (the gateway and the worker).
import { createHash } from "node:crypto";
import type { JobsCapabilityOptions } from "./capability.js";
import type { Job } from "./job.entity.js";
import type { Usage } from "../usage/usage.js";
import type { Webhooks } from "../webhooks/webhooks.js";

export function jobEvents(deps: { webhooks: Webhooks; usage: Usage }): NonNullable<JobsCapabilityOptions["hooks"]> {
  return {
    admitJob: (organizationId) => deps.usage.assertWithinQuota(organizationId),
    recordUsage: async (organizationId, kind, seconds, jobId) => {
      await deps.usage.record(organizationId, kind, seconds, jobId);
    },
    onJobFinished: async (job: Job) => {
      const type = job.status === "succeeded" ? "job.succeeded" : job.status === "failed" ? "job.failed" : undefined;
      if (!type) return;
      // The job's own webhook_url gets the event too, signed with the secret CreateJob handed out.
      let callbackError: unknown;
      if (job.webhookUrl) {
        await deps.webhooks
          .registerJobCallback({ organizationId: job.organization.id, jobId: job.id, url: job.webhookUrl, secret: job.webhookSecret ?? undefined })
          .catch((err: unknown) => (callbackError = err));
      }
      await deps.webhooks.publish({
        organizationId: job.organization.id,
        type,
        jobId: job.id,
        // The same job ending the same way on a re-run step is the same event: receivers see it once.
        eventId: stableUuid(`${job.id}:${job.status}:${job.attempts ?? 0}`),
        data: {
          job_id: job.id,
          media_id: job.media.id,
          status: job.status.toUpperCase(),
          ...(type === "job.failed" ? { error: { code: job.errorCode ?? null, message: job.errorReason ?? null } } : {}),
        },
      });
      // A refused callback target must not keep the organisation's webhooks from the event; it is
      // reported (the runner logs hook failures) once they have it.
      if (callbackError) throw callbackError;
    },
  };
}

/** A name-based UUID (the layout of RFC 4122 version 5: SHA-1 of the name, version and variant bits set). */
function stableUuid(name: string): string {
  const hash = createHash("sha1").update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
