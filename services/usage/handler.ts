// UsageService over the wire. Usage is recorded per job, live session and Recognize call; Recognize calls
// also carry the API key they were made with, which is what `api_key_id` selects.
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  QuotaLimitSchema,
  QuotaMetric,
  UsageBucketSchema,
  UsageGranularity as GranularityMessage,
  UsageTotalsSchema,
  type UsageService,
  type UsageTotals as TotalsMessage,
} from "../../proto/gen/arabicstt/v1/usage_pb.js";
import { principalOf } from "../identity/model/context.js";
import type { QuotaMetricName, Usage, UsageGranularity, UsageTotals } from "./usage.js";

const granularities: Record<GranularityMessage, UsageGranularity> = {
  [GranularityMessage.UNSPECIFIED]: "day",
  [GranularityMessage.HOUR]: "hour",
  [GranularityMessage.DAY]: "day",
  [GranularityMessage.MONTH]: "month",
};

const metrics: Record<QuotaMetricName, QuotaMetric> = {
  audio_seconds: QuotaMetric.AUDIO_SECONDS,
  concurrent_streams: QuotaMetric.CONCURRENT_STREAMS,
  concurrent_jobs: QuotaMetric.CONCURRENT_JOBS,
  storage_bytes: QuotaMetric.STORAGE_BYTES,
  api_keys: QuotaMetric.API_KEYS,
  members: QuotaMetric.MEMBERS,
};

function toTotals(t: UsageTotals): TotalsMessage {
  return create(UsageTotalsSchema, {
    recognizeDuration: durationFromMs(t.recognizeSeconds * 1000),
    streamingDuration: durationFromMs(t.liveSeconds * 1000),
    batchDuration: durationFromMs(t.batchSeconds * 1000),
    billedDuration: durationFromMs((t.recognizeSeconds + t.liveSeconds + t.batchSeconds) * 1000),
    recognizeRequestCount: BigInt(t.recognizeCount),
    streamingSessionCount: BigInt(t.liveCount),
    jobCount: BigInt(t.batchCount),
    exportCount: BigInt(t.exportCount),
    peakStorageBytes: BigInt(t.peakStorageBytes),
  });
}

export function usageHandler(usage: Usage): Partial<ServiceImpl<typeof UsageService>> {
  return {
    async getUsage(req, ctx) {
      const report = await usage.report(principalOf(ctx.values).organizationId, {
        start: timestampDate(req.startTime!),
        end: timestampDate(req.endTime!),
        granularity: granularities[req.granularity] ?? "day",
        timeZone: req.timeZone,
        apiKeyId: req.apiKeyId || undefined,
      });
      return {
        buckets: report.buckets.map((b) => create(UsageBucketSchema, { startTime: timestampFromDate(b.start), endTime: timestampFromDate(b.end), usage: toTotals(b.usage) })),
        total: toTotals(report.total),
      };
    },
    async getQuota(_req, ctx) {
      const { quota, limits } = await usage.limits(principalOf(ctx.values).organizationId);
      return {
        plan: quota.plan,
        periodStart: timestampFromDate(quota.periodStart),
        periodEnd: timestampFromDate(quota.periodEnd),
        limits: limits.map((l) =>
          create(QuotaLimitSchema, {
            metric: metrics[l.metric],
            limit: l.limit === null ? undefined : BigInt(l.limit),
            used: BigInt(l.used),
            resetsAt: l.resetsAt ? timestampFromDate(l.resetsAt) : undefined,
          }),
        ),
      };
    },
  };
}
