// What other capabilities may ask of jobs without importing them: how many of an organisation's jobs
// still need a media item. Media's deletion and retention wait for these (MediaLibraryOptions.activeJobs).
import type { Database } from "../platform/database/database.js";
import { TenantScope } from "../platform/database/tenant-scope.js";
import { Job } from "./job.entity.js";

/** Counts the organisation's queued or running jobs over one media item. */
export function activeJobsOfMedia(database: Database): (organizationId: string, mediaId: string) => Promise<number> {
  return (organizationId, mediaId) =>
    new TenantScope(database.fork(), organizationId).count(Job, { media: mediaId, status: { $in: ["queued", "running"] } });
}
