// The platform's state at one moment, for its operators (AdminService.GetSystemStats): counts from the
// database, open live streams from the stream slots (Redis: every replica's), workers from the queue, and
// the models' readiness from the inference servers. Nothing here is per organisation; only platform admins
// reach it (the RPC policy table).
import type { Database } from "../platform/database/database.js";
import type { ModelCatalog, CatalogModel, ModelReadiness } from "../models/catalog.js";
import type { RepositoryModel } from "../../inference/client/index.js";

const DAY_MS = 86_400_000;

export interface SystemStats {
  generatedAt: Date;
  organizationCount: number;
  userCount: number;
  activeStreamCount: number;
  queuedJobCount: number;
  runningJobCount: number;
  workerCount: number;
  jobsSucceededLastDay: number;
  jobsFailedLastDay: number;
  jobsCancelledLastDay: number;
  audioBilledSecondsLastDay: number;
  /** The recognisers, as ListModels describes them. */
  models: CatalogModel[];
  /** Every model in the repository, recogniser or not. */
  inferenceModels: Array<{ name: string; state: ModelReadiness; reason: string }>;
}

/** Where the figures that are not in the database come from. */
export interface SystemStatsSources {
  database: Database;
  models: Pick<ModelCatalog, "list">;
  repositoryIndex(options?: { signal?: AbortSignal }): Promise<RepositoryModel[]>;
  /** Live streams open now, platform-wide. */
  openStreams(): Promise<number>;
  /** Processes taking jobs now. */
  workers(): Promise<number>;
}

const readiness: Record<string, ModelReadiness> = { READY: "ready", LOADING: "loading" };

export class SystemStatsReader {
  constructor(private readonly sources: SystemStatsSources) {}

  async snapshot(options: { signal?: AbortSignal } = {}): Promise<SystemStats> {
    const now = new Date();
    const since = new Date(now.getTime() - DAY_MS);
    const connection = this.sources.database.fork().getConnection();
    const count = async (sql: string, params: unknown[] = []) => Number((await connection.execute<Array<{ n: string | number }>>(sql, params))[0]?.n ?? 0);
    const [organizationCount, userCount, byStatus, finished, billed, activeStreamCount, workerCount, index, models] = await Promise.all([
      count(`select count(*) as n from organizations`),
      count(`select count(*) as n from users`),
      connection.execute<Array<{ status: string; n: string | number }>>(`select status, count(*) as n from jobs where status in ('queued', 'running') group by status`),
      connection.execute<Array<{ status: string; n: string | number }>>(
        `select status, count(*) as n from jobs where status in ('succeeded', 'failed', 'cancelled') and finished_at >= ? group by status`,
        [since],
      ),
      connection.execute<Array<{ seconds: string | number | null }>>(`select coalesce(sum(seconds), 0) as seconds from usage_records where recorded_at >= ?`, [since]),
      this.sources.openStreams(),
      this.sources.workers(),
      // An inference server that does not answer leaves the lists empty rather than failing the whole snapshot.
      this.sources.repositoryIndex(options).catch(() => [] as RepositoryModel[]),
      this.sources.models.list(options).catch(() => [] as CatalogModel[]),
    ]);
    const current = Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)]));
    const lastDay = Object.fromEntries(finished.map((r) => [r.status, Number(r.n)]));
    return {
      generatedAt: now,
      organizationCount,
      userCount,
      activeStreamCount,
      queuedJobCount: current.queued ?? 0,
      runningJobCount: current.running ?? 0,
      workerCount,
      jobsSucceededLastDay: lastDay.succeeded ?? 0,
      jobsFailedLastDay: lastDay.failed ?? 0,
      jobsCancelledLastDay: lastDay.cancelled ?? 0,
      audioBilledSecondsLastDay: Number(billed[0]?.seconds ?? 0),
      models,
      inferenceModels: index
        .map((m) => ({ name: m.name, state: readiness[m.state] ?? "unavailable", reason: readiness[m.state] === "ready" ? "" : m.reason }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    };
  }
}
