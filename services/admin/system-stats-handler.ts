// AdminService.GetSystemStats over the wire. Only platform admins reach it (the policy table).
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AdminService } from "../../proto/gen/arabicstt/v1/admin_pb.js";
import { modelMessage, modelStateOf } from "../models/proto.js";
import type { SystemStatsReader } from "./system-stats.js";

/** Seconds as a protobuf Duration, to the millisecond (usage is kept to three decimals). */
function durationOf(seconds: number) {
  const whole = Math.floor(seconds);
  return { seconds: BigInt(whole), nanos: Math.round((seconds - whole) * 1000) * 1_000_000 };
}

export function systemStatsHandler(stats: SystemStatsReader): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async getSystemStats(_req, ctx) {
      const s = await stats.snapshot({ signal: ctx.signal });
      return {
        generatedAt: timestampFromDate(s.generatedAt),
        organizationCount: BigInt(s.organizationCount),
        userCount: BigInt(s.userCount),
        activeStreamCount: s.activeStreamCount,
        queuedJobCount: s.queuedJobCount,
        runningJobCount: s.runningJobCount,
        workerCount: s.workerCount,
        jobsSucceededLastDay: BigInt(s.jobsSucceededLastDay),
        jobsFailedLastDay: BigInt(s.jobsFailedLastDay),
        jobsCancelledLastDay: BigInt(s.jobsCancelledLastDay),
        audioBilledLastDay: durationOf(s.audioBilledSecondsLastDay),
        models: s.models.map(modelMessage),
        inferenceModels: s.inferenceModels.map((m) => ({ name: m.name, state: modelStateOf(m.state), reason: m.reason })),
      };
    },
  };
}
