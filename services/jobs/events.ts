// Job change notifications: "job X changed" (progress, state) and "job X was cancelled". They only wake
// watchers and runners early; the database stays the truth, and both re-read it (and poll it) anyway, so a
// lost notification costs latency, never correctness. In-process in the embedded mode; Redis pub/sub when
// the gateway and the workers are separate processes.
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { heard } from "../platform/failures.js";

export type JobEventKind = "changed" | "cancelled";

export interface JobEvent {
  jobId: string;
  kind: JobEventKind;
}

export interface JobEvents {
  publish(event: JobEvent): Promise<void>;
  /** Calls `listener` for every event of `jobId` until the returned function is called. */
  subscribe(jobId: string, listener: (event: JobEvent) => void): () => void;
  close(): Promise<void>;
}

export class MemoryJobEvents implements JobEvents {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish(event: JobEvent): Promise<void> {
    this.emitter.emit(event.jobId, event);
  }

  subscribe(jobId: string, listener: (event: JobEvent) => void): () => void {
    this.emitter.on(jobId, listener);
    return () => void this.emitter.off(jobId, listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/** One channel for every job; each process filters by job id in memory (one subscriber connection per process). */
export class RedisJobEvents implements JobEvents {
  private readonly local = new MemoryJobEvents();
  private readonly subscriber: Redis;
  private readonly channel: string;
  private ready: Promise<unknown>;

  private readonly logger?: Logger;

  constructor(
    private readonly redis: Redis,
    options: { prefix?: string; logger?: Logger } = {},
  ) {
    this.logger = options.logger;
    this.channel = `${options.prefix ?? "arabicstt"}:job-events`;
    this.subscriber = redis.duplicate();
    this.subscriber.on("error", () => undefined);
    this.subscriber.on("message", (_channel: string, message: string) => {
      const event = parseEvent(message);
      if (event) void this.local.publish(event);
    });
    // A failed subscribe leaves this replica on its local events; watchers still get the job's state by polling.
    this.ready = this.subscriber
      .subscribe(this.channel)
      .catch((err: unknown) => heard(this.logger, "job_events.subscribe", err, { channel: this.channel }, "could not subscribe to other replicas' job events; watchers here poll"));
  }

  async publish(event: JobEvent): Promise<void> {
    // The job's row is the truth; a lost cross-replica notification delays a watcher until it polls.
    await this.redis
      .publish(this.channel, JSON.stringify(event))
      .catch((err: unknown) => heard(this.logger, "job_events.publish", err, { job_id: event.jobId, kind: event.kind }, "could not tell other replicas about a job event; their watchers poll"));
  }

  subscribe(jobId: string, listener: (event: JobEvent) => void): () => void {
    return this.local.subscribe(jobId, listener);
  }

  /** Resolves once the subscription is live (tests; production never needs to wait). */
  whenReady(): Promise<unknown> {
    return this.ready;
  }

  async close(): Promise<void> {
    await this.local.close();
    this.subscriber.disconnect();
  }
}

function parseEvent(message: string): JobEvent | undefined {
  try {
    const value = JSON.parse(message) as Partial<JobEvent>;
    if (typeof value.jobId === "string" && (value.kind === "changed" || value.kind === "cancelled")) return { jobId: value.jobId, kind: value.kind };
  } catch {
    // Not ours: ignored.
  }
  return undefined;
}
