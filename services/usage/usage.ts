// Usage: billable audio seconds per organisation, recorded once per job, live session or Recognize call,
// summed per hour, day or month for GetUsage (with the most media stored at once), and held against the
// plan's monthly quota for GetQuota and for the checks at CreateJob, Recognize and stream start.
import type { Database } from "../platform/database/database.js";
import { InvalidArgumentError, NotFoundError, ResourceExhaustedError } from "../platform/errors/errors.js";
import { Organization } from "../identity/model/organization.entity.js";
import { wholeBilledSeconds } from "./billable.js";
import type { UsageKind } from "./usage-record.entity.js";
import type { StreamSlots } from "../platform/limits/stream-slots.js";
import { TtlCache } from "../identity/cache/ttl-cache.js";
import type { OrganizationSnapshots } from "../identity/orgs/organization-snapshots.js";

export type UsageGranularity = "hour" | "day" | "month";

export interface UsageTotals {
  recognizeSeconds: number;
  liveSeconds: number;
  batchSeconds: number;
  /** Recognize calls that succeeded. */
  recognizeCount: number;
  /** Live streams and sessions recorded. */
  liveCount: number;
  /** Jobs recorded. */
  batchCount: number;
  /** Exports that succeeded. */
  exportCount: number;
  /** The most bytes of media the organisation held at any moment of the span. */
  peakStorageBytes: number;
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

/** GetQuota's metrics (usage.proto QuotaMetric), each in its own unit. */
export type QuotaMetricName = "audio_seconds" | "concurrent_streams" | "concurrent_jobs" | "storage_bytes" | "api_keys" | "members";

/** One limit and its use; `limit` null: none on this server; `resetsAt` null: a limit on things that exist at once. */
export interface QuotaUse {
  metric: QuotaMetricName;
  limit: number | null;
  used: number;
  resetsAt: Date | null;
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

/** Organisations whose month's use one replica remembers at once; past it the oldest is summed again. */
const MAX_CACHED_ORGANIZATIONS = 10_000;

export interface UsageOptions {
  /** The live-stream slots (their limit and who holds them), for GetQuota; CONCURRENT_STREAMS is left out without them. */
  streams?: Pick<StreamSlots, "held" | "limit">;
  /** The organisations' plan and settings as the quota check reads them (shared, for REPLICA_CACHE_TTL_MS); read each time without it. */
  organizations?: Pick<OrganizationSnapshots, "get">;
  /**
   * How long the quota check trusts a month's sum of used seconds (REPLICA_CACHE_TTL_MS), adding what this replica
   * records meanwhile; what other replicas and the worker record counts within this time. 0: summed on every check.
   */
  usedCacheTtlMs?: number;
  now?: () => number;
}

/** A month's used seconds as last summed, and what this replica recorded since. */
interface UsedThisMonth {
  periodStart: number;
  summed: Promise<number>;
  added: number;
}

const emptyTotals = (): UsageTotals => ({ recognizeSeconds: 0, liveSeconds: 0, batchSeconds: 0, recognizeCount: 0, liveCount: 0, batchCount: 0, exportCount: 0, peakStorageBytes: 0 });

export class Usage {
  private readonly streams: Pick<StreamSlots, "held" | "limit"> | undefined;
  private readonly used: TtlCache<string, UsedThisMonth>;

  constructor(
    private readonly database: Database,
    private readonly config: UsageConfig,
    private readonly options: UsageOptions = {},
  ) {
    this.streams = options.streams;
    this.used = new TtlCache({ ttlMs: options.usedCacheTtlMs ?? 0, maxEntries: MAX_CACHED_ORGANIZATIONS, now: options.now });
  }

  /**
   * Records the audio of one job (`kind` "batch", `sourceId` the job id) or one live session (`kind`
   * "live", the session id): `seconds` as billableSeconds counts them, rounded up here all the same.
   * The record carries the API key the job or session was created with (its `api_key_id`), so GetUsage by key
   * counts it. Idempotent per source: the unique key on the job or session turns a repeat into a no-op, so a step run
   * again after a crash never charges twice. Returns whether this call recorded it.
   */
  async record(organizationId: string, kind: UsageKind, seconds: number, sourceId: string, at: Date = new Date()): Promise<boolean> {
    if (!(seconds >= 0) || !Number.isFinite(seconds)) throw new InvalidArgumentError("seconds", "must be a finite number of 0 or more");
    const column = kind === "batch" ? "job_id" : "live_session_id";
    const table = kind === "batch" ? "jobs" : "live_sessions";
    // The source must be the organisation's own: the insert selects it from its table under the tenant.
    const inserted = await this.database.fork().getConnection().execute<Array<{ id: string }>>(
      `insert into usage_records (organization_id, kind, seconds, ${column}, api_key_id, recorded_at)
       select ?, ?, ?, src.id, src.api_key_id, ? from ${table} src where src.id = ? and src.organization_id = ?
       on conflict do nothing
       returning id`,
      [organizationId, kind, wholeBilledSeconds(seconds), at, sourceId, organizationId],
    );
    if (inserted.length > 0) {
      this.counted(organizationId, wholeBilledSeconds(seconds), at);
      return true;
    }
    const exists = await this.database.fork().getConnection().execute<Array<{ n: string }>>(
      `select count(*) as n from ${table} where id = ? and organization_id = ?`,
      [sourceId, organizationId],
    );
    if (Number(exists[0]?.n ?? 0) === 0) throw new NotFoundError(kind === "batch" ? "job" : "live session", sourceId);
    return false;
  }

  /**
   * Records one Recognize call that succeeded: its billed seconds (billableSeconds), and the API key it was
   * made with (null for a user's token). Called once per call, after the response is made.
   */
  async recordRecognize(organizationId: string, seconds: number, apiKeyId: string | null, at: Date = new Date()): Promise<void> {
    if (!(seconds >= 0) || !Number.isFinite(seconds)) throw new InvalidArgumentError("seconds", "must be a finite number of 0 or more");
    await this.database.fork().getConnection().execute(
      `insert into usage_records (organization_id, kind, seconds, api_key_id, recorded_at) values (?, 'recognize', ?, ?, ?)`,
      [organizationId, wholeBilledSeconds(seconds), apiKeyId, at],
    );
    this.counted(organizationId, wholeBilledSeconds(seconds), at);
  }

  /**
   * Usage in [start, end), one bucket per step aligned to `timeZone`, empty buckets included. With `apiKeyId`,
   * only the audio recorded with that key (Recognize calls, and jobs and live sessions created with it); exports and storage belong to no key, and are 0.
   */
  async report(organizationId: string, input: { start: Date; end: Date; granularity: UsageGranularity; timeZone: string; apiKeyId?: string }): Promise<UsageReport> {
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
      Array<{
        bucket_start: Date;
        bucket_end: Date;
        recognize_seconds: string | null;
        live_seconds: string | null;
        batch_seconds: string | null;
        recognize_count: string;
        live_count: string;
        batch_count: string;
        export_count: string;
        peak_storage: string | null;
      }>
    >(
      `with p as (select ?::text as unit, ?::timestamptz as t0, ?::timestamptz as t1, ?::text as tz, ?::uuid as org, ?::uuid as key),
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
                sum(u.seconds) filter (where u.kind = 'recognize') as recognize_seconds,
                sum(u.seconds) filter (where u.kind = 'live') as live_seconds,
                sum(u.seconds) filter (where u.kind = 'batch') as batch_seconds,
                count(u.id) filter (where u.kind = 'recognize') as recognize_count,
                count(u.id) filter (where u.kind = 'live') as live_count,
                count(u.id) filter (where u.kind = 'batch') as batch_count
           from spans sp
           left join usage_records u on u.organization_id = (select org from p) and u.recorded_at >= sp.s and u.recorded_at < sp.e
                and ((select key from p) is null or u.api_key_id = (select key from p))
          group by sp.local_start
       ),
       exported as (
         select sp.local_start, count(x.id) as export_count
           from spans sp
           left join exports x on x.organization_id = (select org from p) and x.status = 'ready' and x.completed_at >= sp.s and x.completed_at < sp.e
                and (select key from p) is null
          group by sp.local_start
       ),
       -- Media bytes held over time: each verified item adds its size when it became ready and takes it away
       -- when deleted. The level at a moment is the running sum of the changes up to it.
       changes as (
         select m.uploaded_at as t, m.size_bytes as delta from media m, p
          where m.organization_id = p.org and m.uploaded_at is not null and m.size_bytes is not null and p.key is null
         union all
         select m.deleted_at, -m.size_bytes from media m, p
          where m.organization_id = p.org and m.uploaded_at is not null and m.size_bytes is not null and m.deleted_at is not null and p.key is null
       ),
       levels as (select t, sum(delta) over (order by t rows between unbounded preceding and current row) as level from changes),
       stored as (
         select sp.local_start,
                greatest(
                  coalesce((select l.level from levels l where l.t < sp.s order by l.t desc limit 1), 0),
                  coalesce((select max(l.level) from levels l where l.t >= sp.s and l.t < sp.e), 0)
                ) as peak_storage
           from spans sp
       )
       select sp.s as bucket_start, sp.e as bucket_end, used.recognize_seconds, used.live_seconds, used.batch_seconds,
              used.recognize_count, used.live_count, used.batch_count, exported.export_count, stored.peak_storage
         from spans sp join used using (local_start) join exported using (local_start) join stored using (local_start)
        order by sp.local_start`,
      [granularity, start, end, timeZone, organizationId, input.apiKeyId || null],
    );
    const buckets = rows.map((r) => ({
      start: new Date(r.bucket_start),
      end: new Date(r.bucket_end),
      usage: {
        recognizeSeconds: Number(r.recognize_seconds ?? 0),
        liveSeconds: Number(r.live_seconds ?? 0),
        batchSeconds: Number(r.batch_seconds ?? 0),
        recognizeCount: Number(r.recognize_count),
        liveCount: Number(r.live_count),
        batchCount: Number(r.batch_count),
        exportCount: Number(r.export_count),
        peakStorageBytes: Number(r.peak_storage ?? 0),
      },
    }));
    const total = buckets.reduce((sum, b) => {
      sum.recognizeSeconds += b.usage.recognizeSeconds;
      sum.liveSeconds += b.usage.liveSeconds;
      sum.batchSeconds += b.usage.batchSeconds;
      sum.recognizeCount += b.usage.recognizeCount;
      sum.liveCount += b.usage.liveCount;
      sum.batchCount += b.usage.batchCount;
      sum.exportCount += b.usage.exportCount;
      // The peak of the whole period is the highest of its buckets' peaks, not their sum.
      sum.peakStorageBytes = Math.max(sum.peakStorageBytes, b.usage.peakStorageBytes);
      return sum;
    }, emptyTotals());
    return { buckets, total };
  }

  /** The plan's monthly audio quota (UTC calendar months) and what is used of it, read now (GetQuota). */
  async quota(organizationId: string, now: Date = new Date()): Promise<Quota> {
    const organization = await this.database.fork().findOne(Organization, { id: organizationId });
    if (!organization) throw new NotFoundError("organization", organizationId);
    const { periodStart, periodEnd } = monthOf(now);
    return this.quotaOf(organization, periodStart, periodEnd, await this.sumUsed(organizationId, periodStart, periodEnd));
  }

  private quotaOf(organization: Pick<Organization, "plan" | "settings">, periodStart: Date, periodEnd: Date, used: number): Quota {
    const override = (organization.settings as { audioSecondsPerMonth?: unknown }).audioSecondsPerMonth;
    const limit =
      typeof override === "number" && override >= 0
        ? override
        : (this.config.audioSecondsPerMonthByPlan[organization.plan] ?? this.config.defaultAudioSecondsPerMonth);
    return { plan: organization.plan, periodStart, periodEnd, audioSecondsLimit: limit > 0 ? limit : null, audioSecondsUsed: used };
  }

  private async sumUsed(organizationId: string, periodStart: Date, periodEnd: Date): Promise<number> {
    const [row] = await this.database.fork().getConnection().execute<Array<{ used: string | null }>>(
      `select sum(seconds) as used from usage_records where organization_id = ? and recorded_at >= ? and recorded_at < ?`,
      [organizationId, periodStart, periodEnd],
    );
    return Number(row?.used ?? 0);
  }

  /**
   * The quota as the checks at work's start read it: the organisation from the shared snapshots, and the month's
   * sum as last read (at most the TTL ago) plus what this replica recorded since. The month is always `now`'s:
   * a sum of another month is never used.
   */
  private async quotaForCheck(organizationId: string, now: Date): Promise<Quota> {
    const organization = this.options.organizations
      ? await this.options.organizations.get(organizationId)
      : await this.database.fork().findOne(Organization, { id: organizationId }, { fields: ["plan", "settings"] });
    if (!organization) throw new NotFoundError("organization", organizationId);
    const { periodStart, periodEnd } = monthOf(now);
    let entry = this.used.get(organizationId);
    if (!entry || entry.periodStart !== periodStart.getTime()) {
      // Checks that miss together share one sum. A record made while it runs may be counted twice (in the sum
      // and in `added`) until the entry lapses: an error on the side of refusing early, by one item's seconds.
      const fresh: UsedThisMonth = { periodStart: periodStart.getTime(), summed: this.sumUsed(organizationId, periodStart, periodEnd), added: 0 };
      this.used.set(organizationId, fresh);
      fresh.summed.catch(() => {
        if (this.used.get(organizationId) === fresh) this.used.delete(organizationId);
      });
      entry = fresh;
    }
    const summed = await entry.summed;
    return this.quotaOf(organization, periodStart, periodEnd, summed + entry.added);
  }

  /** What this replica just recorded, added to the month's remembered sum (when `at` falls in it). */
  private counted(organizationId: string, seconds: number, at: Date): void {
    const entry = this.used.get(organizationId);
    if (entry && entry.periodStart === monthOf(at).periodStart.getTime()) entry.added += seconds;
  }

  /**
   * Every limit GetQuota reports, with its use now (or so far this period for audio): audio seconds (the plan's
   * monthly quota), live streams open at once (MAX_LIVE_STREAMS_PER_ORG), and, with no limit on this server,
   * jobs running, media bytes stored, active API keys and members with pending invitations.
   */
  async limits(organizationId: string, now: Date = new Date()): Promise<{ quota: Quota; limits: QuotaUse[] }> {
    const quota = await this.quota(organizationId, now);
    const [row] = await this.database.fork().getConnection().execute<Array<{ jobs: string; stored: string | null; keys: string; members: string; invited: string }>>(
      `select (select count(*) from jobs where organization_id = ? and status = 'running') as jobs,
              (select sum(size_bytes) from media where organization_id = ? and status = 'ready') as stored,
              (select count(*) from api_keys where organization_id = ? and revoked_at is null and (expires_at is null or expires_at > ?)) as keys,
              (select count(*) from memberships where organization_id = ?) as members,
              (select count(*) from invitations where organization_id = ? and accepted_at is null and expires_at > ?) as invited`,
      [organizationId, organizationId, organizationId, now, organizationId, organizationId, now],
    );
    const limits: QuotaUse[] = [
      { metric: "audio_seconds", limit: quota.audioSecondsLimit, used: Math.ceil(quota.audioSecondsUsed), resetsAt: quota.periodEnd },
    ];
    if (this.streams) limits.push({ metric: "concurrent_streams", limit: this.streams.limit, used: await this.streams.held(organizationId), resetsAt: null });
    limits.push(
      { metric: "concurrent_jobs", limit: null, used: Number(row?.jobs ?? 0), resetsAt: null },
      { metric: "storage_bytes", limit: null, used: Number(row?.stored ?? 0), resetsAt: null },
      { metric: "api_keys", limit: null, used: Number(row?.keys ?? 0), resetsAt: null },
      { metric: "members", limit: null, used: Number(row?.members ?? 0) + Number(row?.invited ?? 0), resetsAt: null },
    );
    return { quota, limits };
  }

  /**
   * Throws RESOURCE_EXHAUSTED, with the seconds until the quota resets, when the organisation has used its
   * audio for the month. Called before work starts (CreateJob, Recognize, stream start); the work that is let in may
   * take the total past the limit by its own length, as with any prepaid meter that is read afterwards. What this
   * replica records counts at once; what other replicas and the worker record, within REPLICA_CACHE_TTL_MS.
   */
  async assertWithinQuota(organizationId: string, now: Date = new Date()): Promise<void> {
    const quota = await this.quotaForCheck(organizationId, now);
    if (quota.audioSecondsLimit !== null && quota.audioSecondsUsed >= quota.audioSecondsLimit) {
      const retryAfterSeconds = Math.ceil((quota.periodEnd.getTime() - now.getTime()) / 1000);
      throw new ResourceExhaustedError(
        `the ${quota.plan} plan's ${quota.audioSecondsLimit} seconds of audio this month are used (${quota.audioSecondsUsed}); the quota resets at ${quota.periodEnd.toISOString()}`,
        retryAfterSeconds,
      );
    }
  }
}

/** The UTC calendar month `now` falls in: [periodStart, periodEnd). */
function monthOf(now: Date): { periodStart: Date; periodEnd: Date } {
  return {
    periodStart: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
    periodEnd: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)),
  };
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
