// The work queue between CreateJob and the runners. It carries job ids only: the database holds each job's
// state, and a runner claims a job there before working on it, so a message delivered twice, late, or for a
// cancelled job does no harm, and a message lost with a crashed Redis or process is re-sent by the
// reconciler. BullMQ on Redis in production; an in-process queue in the embedded mode.
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { Gauge, type Registry } from "prom-client";
import type { TraceCarrier } from "../../inference/telemetry/spans.js";

export interface EnqueueOptions {
  /** Higher runs first (the job's priority). */
  priority: number;
  /** Not before this many milliseconds from now (retry backoff). */
  delayMs?: number;
  /**
   * Deduplication key: a message whose key is already waiting or running is dropped. The runner's
   * attempt count is part of it, so a retry is never mistaken for the message of the previous run.
   */
  key: string;
  /**
   * The trace the job continues (W3C `traceparent`, `tracestate`): the CreateJob call's, carried in the
   * message so the worker's spans join it. Left out when tracing is off, and by the reconciler, whose re-sent
   * jobs start a trace of their own.
   */
  trace?: TraceCarrier;
}

export type JobHandler = (jobId: string, trace?: TraceCarrier) => Promise<void>;

export interface JobQueue {
  enqueue(jobId: string, options: EnqueueOptions): Promise<void>;
  /** Starts handing job ids to `handler`, `concurrency` at a time. Once per queue. */
  consume(handler: JobHandler, concurrency: number): void;
  /** Stops taking new messages and waits for the handlers running now. */
  close(): Promise<void>;
  /** Processes consuming this queue now (every worker's, on BullMQ): the operators' worker count. */
  workerCount(): Promise<number>;
  /** Messages by state, for `arabicstt_jobs_queue_depth` (the worker autoscaler's signal). */
  depth(): Promise<QueueDepth>;
}

/** Messages waiting to run (prioritised ones included), running now, and delayed (retry backoff). */
export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
}

interface Pending {
  jobId: string;
  key: string;
  trace?: TraceCarrier;
  priority: number;
  seq: number;
}

/** In-process queue of the embedded mode: priority first, then first in, first out. */
export class MemoryJobQueue implements JobQueue {
  private readonly pending: Pending[] = [];
  private readonly keys = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private handler?: JobHandler;
  private concurrency = 1;
  private seq = 0;
  private closed = false;

  async enqueue(jobId: string, options: EnqueueOptions): Promise<void> {
    if (this.closed || this.keys.has(options.key)) return;
    this.keys.add(options.key);
    const add = () => {
      this.pending.push({ jobId, key: options.key, priority: options.priority, trace: options.trace, seq: this.seq++ });
      this.pending.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
      this.pump();
    };
    if (options.delayMs && options.delayMs > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        add();
      }, options.delayMs);
      this.timers.add(timer);
    } else {
      add();
    }
  }

  consume(handler: JobHandler, concurrency: number): void {
    if (this.handler) throw new Error("the queue already has a consumer");
    this.handler = handler;
    this.concurrency = Math.max(1, concurrency);
    this.pump();
  }

  /** Messages waiting, for tests and metrics. */
  get size(): number {
    return this.pending.length;
  }

  private pump(): void {
    const handler = this.handler;
    if (!handler || this.closed) return;
    while (this.running.size < this.concurrency && this.pending.length > 0) {
      const next = this.pending.shift()!;
      const run: Promise<void> = handler(next.jobId, next.trace)
        // swallowed: the handler records its own failure in the job's row; the queue only frees the slot.
        .catch(() => undefined)
        .finally(() => {
          this.keys.delete(next.key);
          this.running.delete(run);
          this.pump();
        });
      this.running.add(run);
    }
  }

  async workerCount(): Promise<number> {
    return this.handler && !this.closed ? 1 : 0;
  }

  async depth(): Promise<QueueDepth> {
    return { waiting: this.pending.length, active: this.running.size, delayed: this.timers.size };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.running]);
  }
}

export interface BullJobQueueOptions {
  redisUrl: string;
  /** Queue name; tests give each suite its own. */
  name?: string;
  /** Redis key prefix of BullMQ. */
  prefix?: string;
  /** How long a worker's lock on a message lasts without renewal; a SIGKILLed worker's messages return after it. */
  lockDurationMs?: number;
}

/** BullMQ on Redis: any number of worker processes consume one queue. */
export class BullJobQueue implements JobQueue {
  private readonly connection: Redis;
  private readonly queue: Queue;
  private worker?: Worker;
  private workerConnection?: Redis;

  constructor(private readonly options: BullJobQueueOptions) {
    // BullMQ's blocking commands need unlimited retries per request.
    this.connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    this.connection.on("error", () => undefined);
    this.queue = new Queue(this.name, { connection: this.connection, prefix: options.prefix });
    this.queue.on("error", () => undefined);
  }

  private get name(): string {
    return this.options.name ?? "transcription-jobs";
  }

  async enqueue(jobId: string, options: EnqueueOptions): Promise<void> {
    await this.queue.add(
      "transcribe",
      { jobId, ...(options.trace ? { trace: options.trace } : {}) },
      {
        jobId: options.key,
        // BullMQ: 1 is the highest priority. Ours: higher runs first, from 0 to 3.
        priority: Math.max(1, 10 - options.priority),
        delay: options.delayMs && options.delayMs > 0 ? options.delayMs : undefined,
        removeOnComplete: true,
        removeOnFail: true,
        // The runner decides about retries from the database; a message that throws is not redelivered.
        attempts: 1,
      },
    );
  }

  consume(handler: JobHandler, concurrency: number): void {
    if (this.worker) throw new Error("the queue already has a consumer");
    this.workerConnection = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null });
    this.workerConnection.on("error", () => undefined);
    this.worker = new Worker(this.name, async (message) => {
      const data = message.data as { jobId: string; trace?: TraceCarrier };
      return handler(data.jobId, data.trace);
    }, {
      connection: this.workerConnection,
      prefix: this.options.prefix,
      concurrency: Math.max(1, concurrency),
      lockDuration: this.options.lockDurationMs ?? 30_000,
      stalledInterval: this.options.lockDurationMs ?? 30_000,
      // A message that stalls (its worker died) goes back to the queue again and again; the database's claim
      // decides whether there is still work to do.
      maxStalledCount: 1000,
    });
    this.worker.on("error", () => undefined);
  }

  async workerCount(): Promise<number> {
    return this.queue.getWorkersCount();
  }

  /** Messages waiting or delayed, for tests and metrics. */
  async size(): Promise<number> {
    return this.queue.count();
  }

  async depth(): Promise<QueueDepth> {
    // Every message carries a priority, so BullMQ keeps waiting ones in "prioritized" rather than "wait".
    const counts = await this.queue.getJobCounts("waiting", "prioritized", "active", "delayed");
    return { waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0), active: counts.active ?? 0, delayed: counts.delayed ?? 0 };
  }

  /** The queue's name in Redis (the `queue` label of the depth gauge). */
  get queueName(): string {
    return this.name;
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    this.workerConnection?.disconnect();
    this.connection.disconnect();
  }
}

export const QUEUE_DEPTH_METRIC = "arabicstt_jobs_queue_depth";

/**
 * Puts `arabicstt_jobs_queue_depth{queue, state}` on a process's /metrics (the worker's, and the gateway's in
 * the embedded mode): read from the queue at each scrape, so every worker reports the same shared BullMQ
 * counts and the autoscaler takes their max (deploy/k8s/base/worker.yaml). Once per registry.
 */
export function exposeQueueDepth(registry: Registry, queue: JobQueue): void {
  if (registry.getSingleMetric(QUEUE_DEPTH_METRIC)) return;
  const queueName = queue instanceof BullJobQueue ? queue.queueName : "memory";
  new Gauge({
    name: QUEUE_DEPTH_METRIC,
    help: "Batch job messages in the queue by state (waiting, active, delayed).",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      let depth: QueueDepth;
      try {
        depth = await queue.depth();
      } catch {
        // swallowed: Redis is unreachable; the gauge reports no series rather than stale counts, and readiness reports Redis.
        this.reset();
        return;
      }
      for (const state of ["waiting", "active", "delayed"] as const) this.set({ queue: queueName, state }, depth[state]);
    },
  });
}

/** Job ids are UUIDs; BullMQ refuses ":" in custom ids, so the key joins with "-". */
export function queueKey(jobId: string, attempts: number): string {
  return `${jobId}-a${attempts}`;
}
