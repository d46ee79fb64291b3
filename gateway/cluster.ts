// Several gateway processes on one box (GATEWAY_PROCESSES > 1), with Node's `cluster`: a primary forks the
// workers, which each run the whole gateway on the shared listening ports (the primary accepts and deals
// connections to them in turn). The primary serves nothing: it restarts a worker that dies, passes
// SIGTERM/SIGINT on so each worker drains as a lone gateway does, and answers the workers' requests for the
// whole box's metrics. Everything the workers share (sessions, limits, data) lives in PostgreSQL and Redis,
// as between replicas; the config refuses the setting without them.
//
// Each worker runs the background work a gateway replica runs, and all of it already tolerates replicas:
// migrations take a PostgreSQL advisory lock (services/platform/database), the lifecycle cleanup skips a run
// another holds (pg_try_advisory_xact_lock), webhook delivery claims rows FOR UPDATE SKIP LOCKED, the media
// sweeper's changes are compare-and-set, privacy sweeps lease their rows, the billing run claims usage records
// by a unique key, secrets under DATA_DIR are created link-or-read, and with Redis the gateway runs no jobs.
import cluster, { type Worker } from "node:cluster";
import { createServer } from "node:net";
import { AggregatorRegistry, type Registry } from "prom-client";
import type { Logger } from "../services/platform/logger.js";
import type { MetricsExposition } from "../services/platform/probes.js";

/** A restart waits this long, doubled for each worker in a row that died within STABLE_AFTER_MS of its fork. */
const RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;
const STABLE_AFTER_MS = 10_000;
/** How long the primary waits for one worker's metrics before a scrape leaves that worker out. */
const METRICS_ANSWER_MS = 3_000;

/** The listening ports, as the first worker reports them (every worker has the same). */
export interface GatewayPorts {
  grpcPort: number;
  httpPort: number;
}

// The IPC messages between the primary and its workers; `type` keeps them apart from Node's own.
type WorkerMessage =
  | { type: "arabicstt:started"; ports: GatewayPorts }
  | { type: "arabicstt:cluster-metrics"; id: number }
  | { type: "arabicstt:own-metrics"; id: number; metrics: object[] };
type PrimaryMessage =
  | { type: "arabicstt:cluster-metrics"; id: number; text?: string; error?: string }
  | { type: "arabicstt:own-metrics"; id: number };

function isMessage<T extends { type: string }>(message: unknown): message is T {
  return typeof message === "object" && message !== null && typeof (message as { type?: unknown }).type === "string" && (message as { type: string }).type.startsWith("arabicstt:");
}

/** Whether this process is a worker forked by a gateway primary. */
export function isGatewayWorker(): boolean {
  return cluster.isWorker;
}

export interface GatewayPrimary {
  /** Every worker listens; rejects when one exits before all did (the gateway could not start). */
  started: Promise<GatewayPorts>;
  /** Passes `signal` on to every worker and settles once all have exited: 0 when every one drained and exited 0. */
  stop(signal: NodeJS.Signals): Promise<number>;
  /** Kills every worker at once (a second signal). */
  kill(): void;
}

/**
 * Forks `processes` workers of the current entry (same script, arguments and environment) and keeps that many
 * running until `stop`. A worker reports itself started with `announceStarted`.
 */
export function superviseGatewayProcesses(options: { processes: number; logger: Logger }): GatewayPrimary {
  const { logger } = options;
  const workers = new Map<number, { worker: Worker; forkedAt: number; started: boolean }>();
  const restarts = new Set<NodeJS.Timeout>();
  const pendingMetrics = new Map<number, (metrics: object[]) => void>();
  let nextMetricsId = 0;
  let failingStreak = 0;
  let everyoneStarted = false;
  let stopping: { signal: NodeJS.Signals; clean: boolean; done: (code: number) => void } | undefined;
  let stopped: Promise<number> | undefined;

  let resolveStarted!: (ports: GatewayPorts) => void;
  let rejectStarted!: (err: Error) => void;
  const started = new Promise<GatewayPorts>((resolve, reject) => {
    resolveStarted = resolve;
    rejectStarted = reject;
  });

  /** The sum over the started workers, by prom-client's aggregators; one that does not answer in time is left out. */
  const clusterMetrics = async (): Promise<string> => {
    const answers = await Promise.all(
      [...workers.values()]
        .filter((w) => w.started && w.worker.isConnected())
        .map(
          ({ worker }) =>
            new Promise<object[] | undefined>((resolve) => {
              const id = nextMetricsId++;
              const timer = setTimeout(() => {
                pendingMetrics.delete(id);
                logger.warn({ pid: worker.process.pid }, "a gateway process did not send its metrics in time: left out of this scrape");
                resolve(undefined);
              }, METRICS_ANSWER_MS);
              pendingMetrics.set(id, (metrics) => {
                clearTimeout(timer);
                pendingMetrics.delete(id);
                resolve(metrics);
              });
              send(worker, { type: "arabicstt:own-metrics", id });
            }),
        ),
    );
    return AggregatorRegistry.aggregate(answers.filter((a) => a !== undefined)).metrics();
  };

  cluster.on("message", (worker, message: unknown) => {
    if (!isMessage<WorkerMessage>(message)) return;
    const entry = workers.get(worker.id);
    if (message.type === "arabicstt:started" && entry) {
      entry.started = true;
      if (!everyoneStarted && [...workers.values()].every((w) => w.started)) {
        everyoneStarted = true;
        logger.info({ processes: options.processes, grpc_port: message.ports.grpcPort, http_port: message.ports.httpPort }, "gateway processes started");
        resolveStarted(message.ports);
      }
    } else if (message.type === "arabicstt:own-metrics") {
      pendingMetrics.get(message.id)?.(message.metrics);
    } else if (message.type === "arabicstt:cluster-metrics") {
      clusterMetrics().then(
        (text) => send(worker, { type: "arabicstt:cluster-metrics", id: message.id, text }),
        (err: unknown) => send(worker, { type: "arabicstt:cluster-metrics", id: message.id, error: err instanceof Error ? err.message : String(err) }),
      );
    }
  });

  const fork = () => {
    const worker = cluster.fork();
    const entry = { worker, forkedAt: Date.now(), started: false };
    workers.set(worker.id, entry);
    worker.on("exit", (code, signal) => {
      workers.delete(worker.id);
      const pid = worker.process.pid;
      if (stopping) {
        // A worker the stop reached before it could listen ends by the signal itself: nothing was left undone.
        const clean = code === 0 || (!entry.started && signal === stopping.signal);
        if (!clean) logger.error({ pid, code, signal }, "a gateway process did not drain cleanly");
        stopping.clean &&= clean;
        if (workers.size === 0) stopping.done(stopping.clean ? 0 : 1);
        return;
      }
      if (!everyoneStarted) {
        // As a lone gateway that cannot start exits 1 (its own stderr says why), so does the whole box.
        logger.fatal({ pid, code, signal }, "a gateway process exited before every process was listening");
        rejectStarted(new Error(`gateway process ${pid} exited during start (code ${code}, signal ${signal})`));
        return;
      }
      failingStreak = Date.now() - entry.forkedAt < STABLE_AFTER_MS ? failingStreak + 1 : 1;
      const delayMs = Math.min(RESTART_DELAY_MS * 2 ** (failingStreak - 1), MAX_RESTART_DELAY_MS);
      logger.error({ pid, code, signal, restart_in_ms: delayMs }, "a gateway process died: restarting it");
      const timer = setTimeout(() => {
        restarts.delete(timer);
        const next = fork();
        logger.info({ pid: next.process.pid, replaces: pid }, "gateway process restarted");
      }, delayMs);
      restarts.add(timer);
    });
    return worker;
  };

  for (let i = 0; i < options.processes; i++) fork();

  const stop = (signal: NodeJS.Signals) =>
    (stopped ??= new Promise<number>((resolve) => {
      for (const timer of restarts) clearTimeout(timer);
      restarts.clear();
      stopping = { signal, clean: true, done: resolve };
      if (workers.size === 0) return resolve(0);
      for (const { worker } of workers.values()) worker.process.kill(signal);
    }));

  return {
    started,
    stop,
    kill: () => {
      for (const { worker } of workers.values()) worker.process.kill("SIGKILL");
    },
  };
}

function send(worker: Worker, message: PrimaryMessage): void {
  // swallowed: a worker that died meanwhile is told nothing; its exit is handled on its own.
  if (worker.isConnected()) worker.send(message, (err: Error | null) => void err);
}

/** A worker tells its primary that it listens. */
export function announceStarted(ports: GatewayPorts): void {
  process.send?.({ type: "arabicstt:started", ports } satisfies WorkerMessage);
}

/**
 * A worker's /metrics: the whole box's, from the primary, which gathers every worker's registry; and this worker's
 * answer to the primary when it gathers.
 */
export function clusterMetricsExposition(registry: Registry): MetricsExposition {
  const pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();
  let nextId = 0;
  process.on("message", (message: unknown) => {
    if (!isMessage<PrimaryMessage>(message)) return;
    if (message.type === "arabicstt:own-metrics") {
      void registry.getMetricsAsJSON().then((metrics) => process.send?.({ type: "arabicstt:own-metrics", id: message.id, metrics } satisfies WorkerMessage));
    } else if (message.type === "arabicstt:cluster-metrics") {
      const request = pending.get(message.id);
      pending.delete(message.id);
      if (message.text !== undefined) request?.resolve(message.text);
      else request?.reject(new Error(message.error ?? "no metrics"));
    }
  });
  return {
    contentType: registry.contentType,
    metrics: () =>
      new Promise<string>((resolve, reject) => {
        const id = nextId++;
        // Past every worker's own deadline at the primary: only a primary that is gone leaves it unanswered.
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error("the gateway primary did not answer for the metrics"));
        }, 2 * METRICS_ANSWER_MS);
        pending.set(id, {
          resolve: (text) => (clearTimeout(timer), resolve(text)),
          reject: (err) => (clearTimeout(timer), reject(err)),
        });
        process.send?.({ type: "arabicstt:cluster-metrics", id } satisfies WorkerMessage);
      }),
  };
}

/**
 * A free loopback port for this worker's own sidecar. Its listen goes through the primary like every listen of a
 * worker; on a port of its own nobody else's connections are dealt to it (with the default port 0 the workers'
 * sidecars would share one port, and a worker's inference would run in whichever process got the connection).
 */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  // exclusive: picked by this process itself, not through the primary.
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen({ host: "127.0.0.1", port: 0, exclusive: true }, resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
