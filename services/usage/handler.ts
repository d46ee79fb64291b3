// UsageService over the wire. Usage is recorded per job and per live session, not per credential or per
// Recognize call yet, so the Recognize counters and peak storage of UsageTotals stay 0 and `api_key_id`
// is refused.
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
import { UnimplementedError } from "../platform/errors/errors.js";
import type { Usage, UsageGranularity, UsageTotals } from "./usage.js";

const granularities: Record<GranularityMessage, UsageGranularity> = {
  [GranularityMessage.UNSPECIFIED]: "day",
  [GranularityMessage.HOUR]: "hour",
  [GranularityMessage.DAY]: "day",
  [GranularityMessage.MONTH]: "month",
};

function toTotals(t: UsageTotals): TotalsMessage {
  return create(UsageTotalsSchema, {
    recognizeDuration: durationFromMs(0),
    streamingDuration: durationFromMs(t.liveSeconds * 1000),
    batchDuration: durationFromMs(t.batchSeconds * 1000),
    billedDuration: durationFromMs((t.liveSeconds + t.batchSeconds) * 1000),
    streamingSessionCount: BigInt(t.liveCount),
    jobCount: BigInt(t.batchCount),
    exportCount: BigInt(t.exportCount),
  });
}

export function usageHandler(usage: Usage): Partial<ServiceImpl<typeof UsageService>> {
  return {
    async getUsage(req, ctx) {
      if (req.apiKeyId) throw new UnimplementedError("usage is not yet recorded per API key; leave api_key_id empty");
      const report = await usage.report(principalOf(ctx.values).organizationId, {
        start: timestampDate(req.startTime!),
        end: timestampDate(req.endTime!),
        granularity: granularities[req.granularity] ?? "day",
        timeZone: req.timeZone,
      });
      return {
        buckets: report.buckets.map((b) => create(UsageBucketSchema, { startTime: timestampFromDate(b.start), endTime: timestampFromDate(b.end), usage: toTotals(b.usage) })),
        total: toTotals(report.total),
      };
    },
    async getQuota(_req, ctx) {
      const quota = await usage.quota(principalOf(ctx.values).organizationId);
      return {
        plan: quota.plan,
        periodStart: timestampFromDate(quota.periodStart),
        periodEnd: timestampFromDate(quota.periodEnd),
        limits: [
          create(QuotaLimitSchema, {
            metric: QuotaMetric.AUDIO_SECONDS,
            limit: quota.audioSecondsLimit === null ? undefined : BigInt(quota.audioSecondsLimit),
            used: BigInt(Math.ceil(quota.audioSecondsUsed)),
            resetsAt: timestampFromDate(quota.periodEnd),
          }),
        ],
      };
    },
  };
}
