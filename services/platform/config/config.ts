// The one typed configuration of a process, built at its composition root from the
// environment. Nothing else reads process.env.
import { isIP } from "node:net";
import { z } from "zod";
import { parseLimitSpec, type RateLimitConfig } from "../limits/rate-limits.js";
import { whisperOptions } from "../../../inference/local/config.js";
import type { WhisperModelOptions } from "../../../inference/local/models/whisper.js";

const port = (fallback: number) =>
  z.coerce
    .number({ error: "must be an integer between 0 and 65535" })
    .int("must be an integer between 0 and 65535")
    .min(0, "must be an integer between 0 and 65535")
    .max(65535, "must be an integer between 0 and 65535")
    .default(fallback);

const positiveInt = (fallback: number, max: number) =>
  z.coerce
    .number({ error: `must be an integer between 1 and ${max}` })
    .int(`must be an integer between 1 and ${max}`)
    .min(1, `must be an integer between 1 and ${max}`)
    .max(max, `must be an integer between 1 and ${max}`)
    .default(fallback);

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** A byte count, said back in the unit people think in when it is wrong. */
const byteCount = (fallback: number, min: number, max: number) => {
  const message = `must be an integer between ${min} and ${max} (bytes)`;
  return z.coerce.number({ error: message }).int(message).min(min, message).max(max, message).default(fallback);
};

const url = (protocols: string[]) =>
  z
    .string()
    .refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`);

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" ? undefined : v), schema.optional());

const limit = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const spec = parseLimitSpec(value);
      if (!spec) {
        ctx.addIssue({ code: "custom", message: "must be points/seconds, optionally followed by ,points/seconds for a burst pool (e.g. 20/1,200/60)" });
        return z.NEVER;
      }
      return spec;
    });

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

// Values never echoed back in an error message.
const secretVariables = new Set(["S3_SECRET_ACCESS_KEY", "BLOB_SIGNING_SECRET", "DATABASE_URL", "REDIS_URL", "JWT_SIGNING_KEYS", "SMTP_URL", "WEBHOOK_SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "AUDIOHOOK_CLIENT_SECRET"]);

/** `10.0.0.0/8,fd00::/8`: networks webhook targets may sit in although they are not public. */
const cidrList = z
  .string()
  .default("")
  .transform((value) => value.split(",").map((c) => c.trim()).filter(Boolean))
  .refine(
    (cidrs) =>
      cidrs.every((cidr) => {
        const [address, bits, extra] = cidr.split("/");
        const family = isIP(address ?? "");
        const max = family === 4 ? 32 : 128;
        return family !== 0 && extra === undefined && bits !== undefined && /^\d{1,3}$/.test(bits) && Number(bits) <= max;
      }),
    "must be a comma-separated list of CIDRs like 10.0.0.0/8,fd00::/8",
  );

/** `kid:secret,kid:secret`: the first key signs, every key verifies (rotation without logging anyone out). */
const jwtKeys = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((entry) => entry.trim())
      .filter(Boolean)
      .map((entry) => {
        const at = entry.indexOf(":");
        return { kid: entry.slice(0, at), secret: entry.slice(at + 1) };
      }),
  )
  .refine(
    (keys) => keys.length > 0 && keys.every((k) => /^[A-Za-z0-9._-]{1,64}$/.test(k.kid) && k.secret.length >= 32),
    "must be kid:secret[,kid:secret...] with ids of letters, digits, . _ - and secrets of at least 32 characters",
  );

/** `name:included_minutes:monthly_fee:overage_per_minute[,…]`, fees in the currency's minor unit (cents). */
const billingPlans = z
  .string()
  .default("free:600:0:0,starter:3000:2900:2,pro:30000:19900:1")
  .refine((value) => value.split(",").every((entry) => /^\s*[a-z0-9_-]{1,32}:\d{1,9}:\d{1,9}:\d{1,9}\s*$/.test(entry)), "must be name:included_minutes:monthly_fee:overage_per_minute[,…] with fees in minor units (cents), names of a-z 0-9 _ -")
  .transform((value) =>
    value.split(",").map((entry) => {
      const [name, included, fee, overage] = entry.trim().split(":") as [string, string, string, string];
      return { name, includedMinutes: Number(included), monthlyFeeMinor: Number(fee), overagePerMinuteMinor: Number(overage) };
    }),
  )
  .refine((plans) => new Set(plans.map((p) => p.name)).size === plans.length, "names a plan twice");

/** `plan:price_id[+price_id…][,…]`: the Stripe prices a plan's subscription holds. */
const stripePriceIds = z
  .string()
  .default("")
  .refine((value) => value.split(",").filter((e) => e.trim()).every((entry) => /^\s*[a-z0-9_-]{1,32}:[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*\s*$/.test(entry)), "must be plan:price_id[+price_id…][,plan:…]")
  .transform((value) =>
    Object.fromEntries(
      value
        .split(",")
        .filter((e) => e.trim())
        .map((entry) => {
          const [plan, prices] = entry.trim().split(":") as [string, string];
          return [plan, prices.split("+")];
        }),
    ) as Record<string, string[]>,
  );

const envSchema = z.object({
  HOST: z.string().min(1).default("0.0.0.0"),
  GRPC_PORT: port(50051),
  HTTP_PORT: port(8080),
  DATA_DIR: z.string().min(1).default("./data"),
  LOG_LEVEL: z
    .enum(logLevels, { error: `must be one of ${logLevels.join(", ")}` })
    .default("info"),
  DATABASE_URL: optional(url(["postgres:", "postgresql:"])),
  REDIS_URL: optional(url(["redis:", "rediss:"])),
  S3_ENDPOINT: optional(url(["http:", "https:"])),
  S3_PUBLIC_ENDPOINT: optional(url(["http:", "https:"])),
  S3_REGION: z.string().min(1).default("us-east-1"),
  S3_ACCESS_KEY_ID: optional(z.string().min(1)),
  S3_SECRET_ACCESS_KEY: optional(z.string().min(1)),
  S3_BUCKET_MEDIA: z.string().min(3).default("arabicstt-media"),
  S3_BUCKET_PROCESSED: z.string().min(3).default("arabicstt-processed"),
  S3_BUCKET_EXPORTS: z.string().min(3).default("arabicstt-exports"),
  TRITON_URL: optional(
    z.string().regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}(,[A-Za-z0-9.\-_[\]:]+:\d{1,5})*$/, "must be host:port[,host:port...]"),
  ),
  MODEL_REPOSITORY: z.string().min(1).default("inference/models"),
  MODEL_WEIGHTS_DIR: optional(z.string().min(1)),
  SIDECAR_PORT: port(0),
  INFERENCE_DEADLINE_MS: positiveInt(60_000, 3_600_000),
  PUBLIC_BASE_URL: optional(url(["http:", "https:"])),
  BLOB_SIGNING_SECRET: optional(z.string().min(32, "must be at least 32 characters")),
  CORS_ORIGINS: z
    .string()
    .default("")
    .transform((value) => value.split(",").map((o) => o.trim()).filter(Boolean))
    .refine((origins) => origins.every((o) => o === "*" || /^https?:\/\/[^/]+$/.test(o)), {
      message: "must be a comma-separated list of origins like https://app.example.com (no path), or *",
    }),
  MAX_MESSAGE_BYTES: positiveInt(16 * 1024 * 1024, 256 * 1024 * 1024),
  UNARY_DEADLINE_MS: positiveInt(30_000, 3_600_000),
  MAX_CLIENT_DEADLINE_MS: positiveInt(3_600_000, 86_400_000),
  SHUTDOWN_GRACE_MS: positiveInt(10_000, 600_000),
  GATEWAY_PROCESSES: positiveInt(1, 64),
  HTTP2_KEEPALIVE_MS: positiveInt(30_000, 3_600_000),
  HTTP2_KEEPALIVE_TIMEOUT_MS: positiveInt(10_000, 600_000),
  METRICS_PORT: port(9464),
  OTEL_EXPORTER_OTLP_ENDPOINT: optional(url(["http:", "https:"])),
  OTEL_SERVICE_NAME: optional(z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, "must be 1 to 128 letters, digits, . _ or -")),
  JWT_SIGNING_KEYS: optional(jwtKeys),
  JWT_ISSUER: z.string().min(1).default("arabicstt"),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt(900, 3600),
  REFRESH_TOKEN_TTL_DAYS: positiveInt(30, 365),
  PLATFORM_ADMIN_EMAILS: z
    .string()
    .default("")
    .transform((value) => value.split(",").map((e) => e.trim().toLowerCase()).filter(Boolean))
    .refine((emails) => emails.every((e) => /^[^\s@,]+@[^\s@,]+$/.test(e)), "must be a comma-separated list of e-mail addresses"),
  RATE_LIMIT_API_KEY: limit("50/1,1000/60"),
  RATE_LIMIT_USER: limit("20/1,400/60"),
  RATE_LIMIT_IP: limit("20/1,200/60"),
  RATE_LIMIT_LOGIN_IP: limit("100/900"),
  LOGIN_FREE_FAILURES: positiveInt(5, 1000),
  LOGIN_MAX_DELAY_SECONDS: positiveInt(900, 86_400),
  MAX_LIVE_STREAMS_PER_ORG: positiveInt(20, 100_000),
  LIVE_RESUME_GRACE_MS: positiveInt(60_000, 3_600_000),
  REPLICA_CACHE_TTL_MS: z.coerce
    .number({ error: "must be an integer between 0 and 60000" })
    .int("must be an integer between 0 and 60000")
    .min(0, "must be an integer between 0 and 60000")
    .max(60_000, "must be an integer between 0 and 60000")
    .default(5_000),
  PLAN_AUDIO_SECONDS_PER_MONTH: z
    .string()
    .default("free:36000,*:0")
    .refine((value) => value.split(",").every((entry) => /^\s*[A-Za-z0-9_*-]+:\d+\s*$/.test(entry)), "must be plan:seconds[,plan:seconds...], with * for other plans and 0 for unlimited")
    .transform((value) => Object.fromEntries(value.split(",").map((entry) => entry.trim().split(":") as [string, string]).map(([plan, seconds]) => [plan, Number(seconds)]))),
  SMTP_URL: optional(url(["smtp:", "smtps:"])),
  MAIL_FROM: z.string().min(3).default("Arabic STT <no-reply@localhost>"),
  APP_BASE_URL: optional(url(["http:", "https:"])),
  WEBHOOK_SECRET_KEY: optional(z.string().min(32, "must be at least 32 characters")),
  AUDIOSOCKET_PORT: optional(
    z.coerce
      .number({ error: "must be an integer between 0 and 65535" })
      .int("must be an integer between 0 and 65535")
      .min(0, "must be an integer between 0 and 65535")
      .max(65535, "must be an integer between 0 and 65535"),
  ),
  AUDIOSOCKET_HOST: z.string().min(1).default("127.0.0.1"),
  AUDIOSOCKET_API_KEY: optional(z.string().min(8, "must be an API key (astt_…)")),
  AUDIOHOOK_CLIENT_SECRET: optional(
    z
      .string()
      .regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be base64 (the client secret of the Genesys AudioHook integration)")
      .refine((value) => Buffer.from(value, "base64").length >= 32, "must decode to at least 32 bytes (openssl rand -base64 32)"),
  ),
  WEBHOOK_ALLOW_PRIVATE_TARGETS: z.enum(["true", "false"], { error: "must be true or false" }).default("false"),
  WEBHOOK_ALLOWED_CIDRS: cidrList,
  WEBHOOK_TIMEOUT_MS: positiveInt(15_000, 60_000),
  WEBHOOK_MAX_ATTEMPTS: positiveInt(10, 50),
  WEBHOOK_RETRY_BASE_MS: positiveInt(10_000, 3_600_000),
  WEBHOOK_CONCURRENCY: positiveInt(8, 256),
  JOB_CONCURRENCY: positiveInt(1, 64),
  JOB_QUEUE_NAME: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1 to 64 letters, digits, _ or -").default("arabicstt"),
  JOB_DEFAULT_MODEL: z.string().min(1).default("whisper"),
  JOB_MAX_ATTEMPTS: positiveInt(4, 100),
  JOB_STALE_SECONDS: positiveInt(30, 3600),
  JOB_RECONCILE_SECONDS: positiveInt(15, 3600),
  RNNOISE_MODEL: optional(z.string().regex(/^[A-Za-z0-9_./-]+$/, "must be a path of letters, digits and _ . / -")),
  // The contracts cap CreateUpload at 10 GiB and UploadMedia at 2 GiB; deployments may only lower them.
  MAX_UPLOAD_BYTES: byteCount(10 * GiB, 1, 10 * GiB),
  MAX_STREAM_UPLOAD_BYTES: byteCount(2 * GiB, 1, 2 * GiB),
  MAX_MEDIA_SECONDS: positiveInt(4 * 60 * 60, 7 * 24 * 60 * 60),
  // S3 allows single PUTs up to 5 GiB and parts from 5 MiB (but the last) to 5 GiB.
  MULTIPART_THRESHOLD_BYTES: byteCount(100 * MiB, 1, 5 * GiB),
  MULTIPART_PART_BYTES: byteCount(16 * MiB, 5 * MiB, 5 * GiB),
  SCRATCH_DIR: optional(z.string().min(1)),
  // GetExport's expires_at is computed from it (Exports.expiresAt), as the cleanup's deletions are.
  EXPORT_RETENTION_DAYS: positiveInt(7, 3650),
  SOFT_DELETE_RETENTION_DAYS: positiveInt(30, 3650),
  BILLING_PLANS: billingPlans,
  BILLING_DEFAULT_PLAN: z.string().regex(/^[a-z0-9_-]{1,32}$/, "must be a plan name of a-z 0-9 _ -").default("free"),
  BILLING_CURRENCY: z.string().regex(/^[a-z]{3}$/, "must be a three-letter ISO currency code in lower case, like usd").default("usd"),
  BILLING_GRACE_DAYS: positiveInt(7, 365),
  BILLING_INTERVAL_SECONDS: z.coerce
    .number({ error: "must be an integer between 0 and 86400" })
    .int("must be an integer between 0 and 86400")
    .min(0, "must be an integer between 0 and 86400")
    .max(86_400, "must be an integer between 0 and 86400")
    .default(300),
  STRIPE_SECRET_KEY: optional(z.string().regex(/^(sk|rk)_[A-Za-z0-9_]+$/, "must be a Stripe secret or restricted key (sk_… or rk_…)")),
  STRIPE_WEBHOOK_SECRET: optional(z.string().regex(/^whsec_[A-Za-z0-9+/=_]+$/, "must be a Stripe webhook signing secret (whsec_…)")),
  STRIPE_API_BASE_URL: optional(url(["http:", "https:"])),
  STRIPE_PRICE_IDS: stripePriceIds,
  STRIPE_METER_EVENT_NAME: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, "must be a Stripe meter's event name (letters, digits, _ . -)").default("audio_seconds"),
  CLEANUP_INTERVAL_SECONDS: z.coerce
    .number({ error: "must be an integer between 0 and 604800" })
    .int("must be an integer between 0 and 604800")
    .min(0, "must be an integer between 0 and 604800")
    .max(604_800, "must be an integer between 0 and 604800")
    .default(3600),
});

export type StorageConfig =
  | { kind: "fs"; dataDir: string; signingSecret?: string; publicBaseUrl: string }
  | {
      kind: "s3";
      endpoint: string;
      /** Endpoint clients outside the cluster reach; presigned URLs are made for it. Default: endpoint. */
      publicEndpoint?: string;
      region: string;
      accessKeyId: string;
      secretAccessKey: string;
      buckets: { media: string; processed: string; exports: string };
    };

/**
 * Where models run: Triton at `tritonUrls` when set; otherwise the local sidecar, started inside the
 * process on a loopback port, over the same repository and the same KServe v2 protocol.
 */
export interface InferenceConfig {
  tritonUrls: string[];
  /** The model repository both Triton and the sidecar read. */
  repositoryDir: string;
  /** Installed weights for the sidecar (whisper/ggml-*.bin, speaker_embedding/model.onnx). */
  weightsDir: string;
  /** The in-process sidecar's loopback port; 0 picks a free one. */
  sidecarPort: number;
  /** The in-process sidecar's whisper settings (WHISPER_*, parsed by inference/local/config.ts). */
  whisper: WhisperModelOptions;
  /** Deadline of one inference call, retries included. */
  deadlineMs: number;
}

export interface JwtKey {
  /** Key id, written to the token header so a verifier picks the right key. */
  kid: string;
  secret: string;
}

/**
 * Access and refresh tokens. Without JWT_SIGNING_KEYS one HS256 key is made once and kept under DATA_DIR
 * (see services/identity/auth/signing-keys.ts), so tokens survive restarts of an embedded installation.
 */
export interface AuthConfig {
  /** The first signs; all verify. Undefined: the generated key under DATA_DIR. */
  jwtKeys?: JwtKey[];
  issuer: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  /** Lower-cased addresses whose accounts are platform admins: made so at registration and at every start. */
  platformAdminEmails: string[];
}

/** Uploads (MediaService): how big and how long a file may be, and how it travels. */
export interface MediaConfig {
  /** Largest file CreateUpload accepts (presigned PUT or multipart). */
  maxUploadBytes: number;
  /** Largest file UploadMedia accepts through the API. */
  maxStreamUploadBytes: number;
  /** Longest audio a media item may hold; longer files are refused when probed. */
  maxMediaSeconds: number;
  /** Files above this size get a multipart upload instead of one presigned PUT. */
  multipartThresholdBytes: number;
  /** Size of each part of a multipart upload (the last one shorter). */
  multipartPartBytes: number;
  /** Where uploads are copied to be checked and probed, and jobs read media from; needs room for the largest. */
  scratchDir: string;
}

export interface Config {
  host: string;
  grpcPort: number;
  httpPort: number;
  dataDir: string;
  logLevel: (typeof logLevels)[number];
  database: { url?: string; dataDir: string };
  redis?: { url: string };
  storage: StorageConfig;
  inference: InferenceConfig;
  http: { corsOrigins: string[]; publicBaseUrl: string };
  limits: {
    maxMessageBytes: number;
    unaryDeadlineMs: number;
    maxClientDeadlineMs: number;
    /** HTTP/2 PING to every client connection this often; a connection that does not answer within the timeout is closed (its streams dropped, resumable). */
    keepaliveMs: number;
    keepaliveTimeoutMs: number;
  };
  shutdownGraceMs: number;
  /**
   * Gateway processes `npm start` runs on its listening ports (gateway/cluster.ts): one, or a supervising primary
   * and this many workers, which share sessions and everything else through PostgreSQL and Redis.
   */
  gatewayProcesses: number;
  /** The worker's probe and metrics listener (/healthz, /readyz, /metrics). */
  worker: { metricsPort: number };
  /** Batch jobs: runners per process, the model of configs that name none, retries and crash recovery. */
  jobs: JobsConfig;
  auth: AuthConfig;
  rateLimits: RateLimitConfig;
  /** Live streams (StreamingRecognize) one organisation may hold open at once. */
  maxLiveStreamsPerOrganization: number;
  /**
   * How long a replica acts on what it read of API keys, organisations (state, plan, settings) and the month's
   * used audio before reading them again; its own changes apply at once. 0: read on every call.
   */
  replicaCacheTtlMs: number;
  live: LiveConfig;
  /** Monthly audio quotas (services/usage); an organisation's settings.audioSecondsPerMonth overrides its plan's. */
  usage: { audioSecondsPerMonthByPlan: Record<string, number>; defaultAudioSecondsPerMonth: number };
  media: MediaConfig;
  mail: {
    /** Unset: messages are written to `outboxDir` instead of sent. */
    smtpUrl?: string;
    from: string;
    outboxDir: string;
    /** Where the links in emails point (the web app's verify, reset and invitation pages). */
    appBaseUrl: string;
  };
  webhooks: WebhookConfig;
  /** The scheduled lifecycle cleanup (services/lifecycle). */
  lifecycle: LifecycleConfig;
  billing: BillingConfig;
  /** Asterisk AudioSocket's TCP listener (gateway/http/audiosocket); unset: off. Every call on it is the key's organisation's. */
  audioSocket?: { host: string; port: number; apiKey: string };
  /** Genesys Cloud AudioHook on the HTTP listener (gateway/http/audiohook); unset: off. The client secret every connection is signed with, decoded. */
  audioHook?: { clientSecret: Uint8Array };
  tracing: TracingConfig;
}

/** OpenTelemetry traces (inference/telemetry/tracing.ts), started by each process's main. */
export interface TracingConfig {
  /** The OTLP collector's base URL (spans go to `<endpoint>/v1/traces`); unset: tracing is off. */
  endpoint?: string;
  /** `service.name` of the spans; unset: the process's own (`arabicstt-gateway`, `arabicstt-worker`). */
  serviceName?: string;
}

/** A plan: monthly fee, audio included each month, and the price of each further minute. */
export interface BillingPlan {
  name: string;
  includedMinutes: number;
  /** In the currency's minor unit (cents). */
  monthlyFeeMinor: number;
  overagePerMinuteMinor: number;
}

/** Billing (services/billing): in-house without `stripe`, through Stripe with it. */
export interface BillingConfig {
  plans: BillingPlan[];
  /** The plan of an organisation that has chosen none, and the one a cancelled subscription falls back to. */
  defaultPlan: string;
  currency: string;
  /** Days an organisation stays past due before it is suspended. */
  graceDays: number;
  /** Seconds between usage reports to Stripe and dunning sweeps; 0 turns the schedule off. */
  intervalSeconds: number;
  stripe?: StripeConfig;
}

export interface StripeConfig {
  secretKey: string;
  /** Unset: POST /webhooks/stripe is not served. */
  webhookSecret?: string;
  /** Where the Stripe API is; unset: Stripe's own (api.stripe.com). */
  api?: { protocol: "http" | "https"; host: string; port: number };
  /** The prices each plan's subscription holds; a plan without any has no subscription. */
  priceIds: Record<string, string[]>;
  /** The meter usage is reported to, in seconds of billed audio. */
  meterEventName: string;
}

export interface LifecycleConfig {
  /** Export files and rows are deleted this many days after completion. */
  exportRetentionDays: number;
  /** Soft-deleted transcripts and media are purged this many days after their deletion. */
  softDeleteRetentionDays: number;
  /** Seconds between cleanup runs; 0 turns the schedule off. */
  intervalSeconds: number;
}

/** Webhook delivery (services/webhooks). */
export interface WebhookConfig {
  /** Key that encrypts signing secrets at rest. Undefined: one generated once under DATA_DIR/secrets/. */
  secretKey?: string;
  /** Deliver to private, loopback, link-local and other non-public addresses too (tests, closed networks). */
  allowPrivateTargets: boolean;
  /** Non-public networks allowed all the same, as CIDRs. */
  allowedCidrs: string[];
  /** Time one attempt may take, connection to response headers. */
  timeoutMs: number;
  /** Attempts before a delivery is FAILED. */
  maxAttempts: number;
  /** Delay after the first failed attempt; each later one is four times longer (at most 6 hours), with jitter. */
  retryBaseMs: number;
  /** Attempts in flight at once, per process. */
  concurrency: number;
}

export interface JobsConfig {
  /** Names the BullMQ queue and the Redis channel of job events; processes sharing one name share the work. */
  queueName: string;
  /** Jobs one process runs at once. */
  concurrency: number;
  defaultModel: string;
  /** Runs of one job before a transient fault fails it. */
  maxAttempts: number;
  /** A running job whose runner has not been heard of for this long is taken over by another (also BullMQ's lock). */
  staleSeconds: number;
  /** How often the database is compared with the queue, to re-send what the queue lost. */
  reconcileSeconds: number;
  /** An RNNoise model file (arnndn) for DENOISE_MODE_NEURAL, in batch jobs and Recognize; unset refuses that mode. */
  rnnoiseModel?: string;
}

/** Live recognition (services/speech). */
export interface LiveConfig {
  /**
   * How long a StreamingRecognize session whose client went away (reset, silent, cancelled) waits
   * for the client to resume it, on any replica, before it is finalised and ended.
   */
  resumeGraceMs: number;
}

/** A configuration value is missing or wrong; `message` is one line naming the variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const e = parseEnvironment(env);
  const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://127.0.0.1:${e.HTTP_PORT}`).replace(/\/+$/, "");
  return {
    host: e.HOST,
    grpcPort: e.GRPC_PORT,
    httpPort: e.HTTP_PORT,
    dataDir: e.DATA_DIR,
    logLevel: e.LOG_LEVEL,
    database: { url: e.DATABASE_URL, dataDir: e.DATA_DIR },
    redis: e.REDIS_URL ? { url: e.REDIS_URL } : undefined,
    storage: storageConfig(e, publicBaseUrl),
    inference: inferenceConfig(e, env),
    http: { corsOrigins: e.CORS_ORIGINS, publicBaseUrl },
    limits: {
      maxMessageBytes: e.MAX_MESSAGE_BYTES,
      unaryDeadlineMs: e.UNARY_DEADLINE_MS,
      maxClientDeadlineMs: e.MAX_CLIENT_DEADLINE_MS,
      keepaliveMs: e.HTTP2_KEEPALIVE_MS,
      keepaliveTimeoutMs: e.HTTP2_KEEPALIVE_TIMEOUT_MS,
    },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    gatewayProcesses: e.GATEWAY_PROCESSES,
    worker: { metricsPort: e.METRICS_PORT },
    jobs: jobsConfig(e),
    auth: authConfig(e),
    maxLiveStreamsPerOrganization: e.MAX_LIVE_STREAMS_PER_ORG,
    replicaCacheTtlMs: e.REPLICA_CACHE_TTL_MS,
    live: { resumeGraceMs: e.LIVE_RESUME_GRACE_MS },
    usage: usageConfig(e),
    media: mediaConfig(e),
    mail: mailConfig(e, publicBaseUrl),
    webhooks: webhookConfig(e),
    lifecycle: lifecycleConfig(e),
    billing: billingConfig(e),
    audioSocket: audioSocketConfig(e),
    // Every AudioHook connection must be signed with the secret: without one the endpoint is not served.
    audioHook: e.AUDIOHOOK_CLIENT_SECRET ? { clientSecret: new Uint8Array(Buffer.from(e.AUDIOHOOK_CLIENT_SECRET, "base64")) } : undefined,
    rateLimits: rateLimitConfig(e),
    tracing: { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME },
  };
}

/** The environment's variables as parsed by envSchema. */
type Environment = z.infer<typeof envSchema>;

/** The variables checked one by one and together; the first problem is thrown as a ConfigError. */
function parseEnvironment(env: Record<string, string | undefined>): Environment {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    const got = env[variable];
    throw new ConfigError(
      `config error: ${variable} ${issue.message}${got === undefined || secretVariables.has(variable) ? "" : ` (got ${JSON.stringify(got)})`}`,
    );
  }
  const e = parsed.data;
  if (!e.BILLING_PLANS.some((plan) => plan.name === e.BILLING_DEFAULT_PLAN)) {
    throw new ConfigError(`config error: BILLING_DEFAULT_PLAN names no plan of BILLING_PLANS (got ${JSON.stringify(e.BILLING_DEFAULT_PLAN)})`);
  }
  const unknownPlan = Object.keys(e.STRIPE_PRICE_IDS).find((plan) => !e.BILLING_PLANS.some((p) => p.name === plan));
  if (unknownPlan) throw new ConfigError(`config error: STRIPE_PRICE_IDS names a plan BILLING_PLANS does not have (got ${JSON.stringify(unknownPlan)})`);
  if (e.S3_ENDPOINT && (!e.S3_ACCESS_KEY_ID || !e.S3_SECRET_ACCESS_KEY)) {
    const missing = e.S3_ACCESS_KEY_ID ? "S3_SECRET_ACCESS_KEY" : "S3_ACCESS_KEY_ID";
    throw new ConfigError(`config error: ${missing} is required when S3_ENDPOINT is set`);
  }
  checkGatewayProcesses(e);
  return e;
}

/**
 * Several gateway processes share nothing but their listening ports: sessions, rate limits and stream slots must
 * live in PostgreSQL and Redis (PGlite and the in-memory stores belong to one process), and each process runs a
 * sidecar of its own, on a port of its own.
 */
function checkGatewayProcesses(e: Environment): void {
  if (e.GATEWAY_PROCESSES === 1) return;
  const missing = [e.DATABASE_URL ? undefined : "DATABASE_URL", e.REDIS_URL ? undefined : "REDIS_URL"].filter(Boolean);
  if (missing.length > 0) {
    throw new ConfigError(`config error: GATEWAY_PROCESSES above 1 needs ${missing.join(" and ")} (processes share live sessions, limits and data only through PostgreSQL and Redis; got ${e.GATEWAY_PROCESSES})`);
  }
  if (!e.TRITON_URL && e.SIDECAR_PORT !== 0) {
    throw new ConfigError(`config error: SIDECAR_PORT must be 0 when GATEWAY_PROCESSES is above 1 (each process starts its own sidecar on a free port; got ${e.SIDECAR_PORT})`);
  }
}

/** A path under DATA_DIR, without a doubled slash. */
const underDataDir = (e: Environment, name: string) => `${e.DATA_DIR.replace(/\/+$/, "")}/${name}`;

function storageConfig(e: Environment, publicBaseUrl: string): StorageConfig {
  if (!e.S3_ENDPOINT) return { kind: "fs", dataDir: e.DATA_DIR, signingSecret: e.BLOB_SIGNING_SECRET, publicBaseUrl };
  return {
    kind: "s3",
    endpoint: e.S3_ENDPOINT,
    publicEndpoint: e.S3_PUBLIC_ENDPOINT,
    region: e.S3_REGION,
    // Both checked by parseEnvironment when S3_ENDPOINT is set.
    accessKeyId: e.S3_ACCESS_KEY_ID!,
    secretAccessKey: e.S3_SECRET_ACCESS_KEY!,
    buckets: { media: e.S3_BUCKET_MEDIA, processed: e.S3_BUCKET_PROCESSED, exports: e.S3_BUCKET_EXPORTS },
  };
}

function inferenceConfig(e: Environment, env: Record<string, string | undefined>): InferenceConfig {
  return {
    tritonUrls: e.TRITON_URL ? e.TRITON_URL.split(",") : [],
    repositoryDir: e.MODEL_REPOSITORY,
    weightsDir: e.MODEL_WEIGHTS_DIR ?? underDataDir(e, "models"),
    sidecarPort: e.SIDECAR_PORT,
    whisper: whisperOptions(env),
    deadlineMs: e.INFERENCE_DEADLINE_MS,
  };
}

function jobsConfig(e: Environment): JobsConfig {
  return {
    queueName: e.JOB_QUEUE_NAME,
    concurrency: e.JOB_CONCURRENCY,
    defaultModel: e.JOB_DEFAULT_MODEL,
    maxAttempts: e.JOB_MAX_ATTEMPTS,
    staleSeconds: e.JOB_STALE_SECONDS,
    reconcileSeconds: e.JOB_RECONCILE_SECONDS,
    rnnoiseModel: e.RNNOISE_MODEL,
  };
}

function authConfig(e: Environment): AuthConfig {
  return {
    jwtKeys: e.JWT_SIGNING_KEYS,
    issuer: e.JWT_ISSUER,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
    platformAdminEmails: e.PLATFORM_ADMIN_EMAILS,
  };
}

/** `*` in PLAN_AUDIO_SECONDS_PER_MONTH is the plans not listed. */
function usageConfig(e: Environment): Config["usage"] {
  return {
    audioSecondsPerMonthByPlan: Object.fromEntries(Object.entries(e.PLAN_AUDIO_SECONDS_PER_MONTH).filter(([plan]) => plan !== "*")),
    defaultAudioSecondsPerMonth: e.PLAN_AUDIO_SECONDS_PER_MONTH["*"] ?? 0,
  };
}

function mediaConfig(e: Environment): MediaConfig {
  return {
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    maxStreamUploadBytes: e.MAX_STREAM_UPLOAD_BYTES,
    maxMediaSeconds: e.MAX_MEDIA_SECONDS,
    multipartThresholdBytes: e.MULTIPART_THRESHOLD_BYTES,
    multipartPartBytes: e.MULTIPART_PART_BYTES,
    scratchDir: e.SCRATCH_DIR ?? underDataDir(e, "scratch"),
  };
}

function mailConfig(e: Environment, publicBaseUrl: string): Config["mail"] {
  return {
    smtpUrl: e.SMTP_URL,
    from: e.MAIL_FROM,
    outboxDir: underDataDir(e, "outbox"),
    appBaseUrl: (e.APP_BASE_URL ?? publicBaseUrl).replace(/\/+$/, ""),
  };
}

function audioSocketConfig(e: Environment): Config["audioSocket"] {
  if (e.AUDIOSOCKET_PORT === undefined) return undefined;
  // AudioSocket carries no credential: without a key the listener would serve anyone who reaches it.
  if (!e.AUDIOSOCKET_API_KEY) throw new ConfigError("config error: AUDIOSOCKET_API_KEY is required when AUDIOSOCKET_PORT is set");
  return { host: e.AUDIOSOCKET_HOST, port: e.AUDIOSOCKET_PORT, apiKey: e.AUDIOSOCKET_API_KEY };
}

function webhookConfig(e: Environment): WebhookConfig {
  return {
    secretKey: e.WEBHOOK_SECRET_KEY,
    allowPrivateTargets: e.WEBHOOK_ALLOW_PRIVATE_TARGETS === "true",
    allowedCidrs: e.WEBHOOK_ALLOWED_CIDRS,
    timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
    retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
    concurrency: e.WEBHOOK_CONCURRENCY,
  };
}

function lifecycleConfig(e: Environment): LifecycleConfig {
  return {
    exportRetentionDays: e.EXPORT_RETENTION_DAYS,
    softDeleteRetentionDays: e.SOFT_DELETE_RETENTION_DAYS,
    intervalSeconds: e.CLEANUP_INTERVAL_SECONDS,
  };
}

function billingConfig(e: Environment): BillingConfig {
  const api = e.STRIPE_API_BASE_URL ? new URL(e.STRIPE_API_BASE_URL) : undefined;
  const protocol = api?.protocol === "http:" ? "http" : "https";
  return {
    plans: e.BILLING_PLANS,
    defaultPlan: e.BILLING_DEFAULT_PLAN,
    currency: e.BILLING_CURRENCY,
    graceDays: e.BILLING_GRACE_DAYS,
    intervalSeconds: e.BILLING_INTERVAL_SECONDS,
    stripe: e.STRIPE_SECRET_KEY
      ? {
          secretKey: e.STRIPE_SECRET_KEY,
          webhookSecret: e.STRIPE_WEBHOOK_SECRET,
          api: api ? { protocol, host: api.hostname, port: Number(api.port || (protocol === "http" ? 80 : 443)) } : undefined,
          priceIds: e.STRIPE_PRICE_IDS,
          meterEventName: e.STRIPE_METER_EVENT_NAME,
        }
      : undefined,
  };
}

function rateLimitConfig(e: Environment): RateLimitConfig {
  return {
    apiKey: e.RATE_LIMIT_API_KEY,
    user: e.RATE_LIMIT_USER,
    ip: e.RATE_LIMIT_IP,
    loginPerIp: e.RATE_LIMIT_LOGIN_IP,
    loginBackoff: { freeFailures: e.LOGIN_FREE_FAILURES, maxDelaySeconds: e.LOGIN_MAX_DELAY_SECONDS },
  };
}

/** Names every variable loadConfig reads, for the README and `--help` style listings. */
export const configVariables = Object.keys(envSchema.shape);
