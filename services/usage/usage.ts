// Usage: billable audio seconds per organisation, recorded once per job or live session, summed per
// hour, day or month for GetUsage, and held against the plan's monthly quota for GetQuota and for the
// checks at CreateJob and stream start.
import type { Database } from "../platform/database/database.js";
import { InvalidArgumentError, NotFoundError, ResourceExhaustedError } from "../platform/errors/errors.js";
import { Organization } from "../identity/model/organization.entity.js";
import { wholeBilledSeconds } from "./billable.js";
import type { UsageKind } from "./usage-record.entity.js";

export type UsageGranularity = "hour" | "day" | "month";

export interface UsageTotals {
  liveSeconds: number;
  batchSeconds: number;
  /** Live streams and sessions recorded. */
  liveCount: number;
  /** Jobs recorded. */
  batchCount: number;
  /** Exports that succeeded. */
  exportCount: number;
}

export interface UsageBucket {
  start: Date;
  end: Date;
  usage: UsageTotals;
}

export interface UsageReport {
  buckets: UsageBucket[];
  total: UsageTotals;
}

export interface Quota {
  plan: string;
  periodStart: Date;
  periodEnd: Date;
  /** Null: unlimited. */
  audioSecondsLimit: number | null;
  audioSecondsUsed: number;
}

export interface UsageConfig {
  /**
   * Audio seconds per calendar month (UTC) by plan name; a plan not listed gets `defaultAudioSecondsPerMonth`.
   * An organisation's `settings.audioSecondsPerMonth` overrides both. 0 means unlimited.
   */
  audioSecondsPerMonthByPlan: Record<string, number>;
  defaultAudioSecondsPerMonth: number;
}

/** Longest period GetUsage sums per granularity, as usage.proto states. */
const MAX_PERIOD_DAYS: Record<UsageGranularity, number> = { hour: 31, day: 366, month: 3660 };
const DAY_MS = 86_400_000;

const emptyTotals = (): UsageTotals => ({ liveSeconds: 0, batchSeconds: 0, liveCount: 0, batchCount: 0, exportCount: 0 });

export class Usage {
  constructor(
    private readonly database: Database,
    private readonly config: UsageConfig,
  ) {}

  /**
   * Records the audio of one job (`kind` "batch", `sourceId` the job id) or one live session (`kind`
   * "live", the session id): `seconds` as billableSeconds counts them, rounded up here all the same.
   * Idempotent per source: the unique key on the job or session turns a repeat into a no-op, so a step run
   * again after a crash never charges twice. Returns whether this call recorded it.
   */
  async record(organizationId: string, kind: UsageKind, seconds: number, sourceId: string, at: Date = new Date()): Promise<boolean> {
    if (!(seconds >= 0) || !Number.isFinite(seconds)) throw new InvalidArgumentError("seconds", "must be a finite number of 0 or more");
    const column = kind === "batch" ? "job_id" : "live_session_id";
    const table = kind === "batch" ? "jobs" : "live_sessions";
    // The source must be the organisation's own: the insert selects it from its table under the tenant.
    const inserted = await this.database.fork().getConnection().execute<Array<{ id: string }>>(
      `insert into usage_records (organization_id, kind, seconds, ${column}, recorded_at)
       select ?, ?, ?, src.id, ? from ${table} src where src.id = ? and src.organization_id = ?
       on conflict do nothing
       returning id`,
      [organizationId, kind, wholeBilledSeconds(seconds), at, sourceId, organizationId],
    );
    if (inserted.length > 0) return true;
    const exists = await this.database.fork().getConnection().execute<Array<{ n: string }>>(
      `select count(*) as n from ${table} where id = ? and organization_id = ?`,
      [sourceId, organizationId],
    );
    if (Number(exists[0]?.n ?? 0) === 0) throw new NotFoundError(kind === "batch" ? "job" : "live session", sourceId);
    return false;
  }

  /** Usage in [start, end), one bucket per step aligned to `timeZone`, empty buckets included. */
  async report(organizationId: string, input: { start: Date; end: Date; granularity: UsageGranularity; timeZone: string }): Promise<UsageReport> {
    const { start, end, granularity } = input;
    const timeZone = input.timeZone || "UTC";
    if (!isTimeZone(timeZone)) throw new InvalidArgumentError("time_zone", "is not an IANA time zone such as Asia/Riyadh");
    if (!(end.getTime() > start.getTime())) throw new InvalidArgumentError("end_time", "must be after start_time");
    if (end.getTime() - start.getTime() > MAX_PERIOD_DAYS[granularity] * DAY_MS) {
      throw new InvalidArgumentError("end_time", `a ${granularity} granularity covers at most ${MAX_PERIOD_DAYS[granularity]} days`);
    }
    // Buckets are made on local wall-clock time (timestamp without time zone) and converted back, so a day
    // in Asia/Riyadh or one across a daylight-saving change has its real bounds.
    const rows = await this.database.fork().getConnection().execute<
      Array<{ bucket_start: Date; bucket_end: Date; live_seconds: string | null; batch_seconds: string | null; live_count: string; batch_count: string; export_count: string }>
    >(
      `with p as (select ?::text as unit, ?::timestamptz as t0, ?::timestamptz as t1, ?::text as tz, ?::uuid as org),
       buckets as (
         select local as local_start, local + ('1 ' || p.unit)::interval as local_end
           from p, generate_series(date_trunc(p.unit, p.t0 at time zone p.tz), p.t1 at time zone p.tz, ('1 ' || p.unit)::interval) local
          where local < p.t1 at time zone p.tz
       ),
       spans as (
         select b.local_start, greatest(b.local_start at time zone p.tz, p.t0) as s, least(b.local_end at time zone p.tz, p.t1) as e
           from buckets b, p
       ),
       used as (
         select sp.local_start,
                sum(u.seconds) filter (where u.kind = 'live') as live_seconds,
                sum(u.seconds) filter (where u.kind = 'batch') as batch_seconds,
                count(u.id) filter (where u.kind = 'live') as live_count,
                count(u.id) filter (where u.kind = 'batch') as batch_count
           from spans sp
           left join usage_records u on u.organization_id = (select org from p) and u.recorded_at >= sp.s and u.recorded_at < sp.e
          group by sp.local_start
       ),
       exported as (
         select sp.local_start, count(x.id) as export_count
           from spans sp
           left join exports x on x.organization_id = (select org from p) and x.status = 'ready' and x.completed_at >= sp.s and x.completed_at < sp.e
          group by sp.local_start
       )
       select sp.s as bucket_start, sp.e as bucket_end, used.live_seconds, used.batch_seconds, used.live_count, used.batch_count, exported.export_count
         from spans sp join used using (local_start) join exported using (local_start)
        order by sp.local_start`,
      [granularity, start, end, timeZone, organizationId],
    );
    const buckets = rows.map((r) => ({
      start: new Date(r.bucket_start),
      end: new Date(r.bucket_end),
      usage: {
        liveSeconds: Number(r.live_seconds ?? 0),
        batchSeconds: Number(r.batch_seconds ?? 0),
        liveCount: Number(r.live_count),
        batchCount: Number(r.batch_count),
        exportCount: Number(r.export_count),
      },
    }));
    const total = buckets.reduce((sum, b) => {
      sum.liveSeconds += b.usage.liveSeconds;
      sum.batchSeconds += b.usage.batchSeconds;
      sum.liveCount += b.usage.liveCount;
      sum.batchCount += b.usage.batchCount;
      sum.exportCount += b.usage.exportCount;
      return sum;
    }, emptyTotals());
    return { buckets, total };
  }

  /** The plan's monthly audio quota (UTC calendar months) and what is used of it. */
  async quota(organizationId: string, now: Date = new Date()): Promise<Quota> {
    const organization = await this.database.fork().findOne(Organization, { id: organizationId });
    if (!organization) throw new NotFoundError("organization", organizationId);
    const periodStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const periodEnd = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    const [row] = await this.database.fork().getConnection().execute<Array<{ used: string | null }>>(
      `select sum(seconds) as used from usage_records where organization_id = ? and recorded_at >= ? and recorded_at < ?`,
      [organizationId, periodStart, periodEnd],
    );
    const override = (organization.settings as { audioSecondsPerMonth?: unknown }).audioSecondsPerMonth;
    const limit =
      typeof override === "number" && override >= 0
        ? override
        : (this.config.audioSecondsPerMonthByPlan[organization.plan] ?? this.config.defaultAudioSecondsPerMonth);
    return {
      plan: organization.plan,
      periodStart,
      periodEnd,
      audioSecondsLimit: limit > 0 ? limit : null,
      audioSecondsUsed: Number(row?.used ?? 0),
    };
  }

  /**
   * Throws RESOURCE_EXHAUSTED, with the seconds until the quota resets, when the organisation has used its
   * audio for the month. Called before work starts (CreateJob, stream start); the work that is let in may
   * take the total past the limit by its own length, as with any prepaid meter that is read afterwards.
   */
  async assertWithinQuota(organizationId: string, now: Date = new Date()): Promise<void> {
    const quota = await this.quota(organizationId, now);
    if (quota.audioSecondsLimit !== null && quota.audioSecondsUsed >= quota.audioSecondsLimit) {
      const retryAfterSeconds = Math.ceil((quota.periodEnd.getTime() - now.getTime()) / 1000);
      throw new ResourceExhaustedError(
        `the ${quota.plan} plan's ${quota.audioSecondsLimit} seconds of audio this month are used (${quota.audioSecondsUsed}); the quota resets at ${quota.periodEnd.toISOString()}`,
        retryAfterSeconds,
      );
    }
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
