import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";
import { loadSidecarConfig } from "../../../inference/local/config.js";

describe("configuration from the environment", () => {
  it("runs on embedded defaults with no settings at all", () => {
    const config = loadConfig({});
    expect(config.grpcPort).toBe(50051);
    expect(config.httpPort).toBe(8080);
    expect(config.database.url).toBeUndefined();
    expect(config.storage).toMatchObject({ kind: "fs", dataDir: "./data", publicBaseUrl: "http://127.0.0.1:8080" });
    expect(config.redis).toBeUndefined();
    expect(config.inference).toEqual({
      tritonUrls: [],
      repositoryDir: "inference/models",
      weightsDir: "./data/models",
      sidecarPort: 0,
      deadlineMs: 60_000,
      whisper: {},
    });
  });

  it("bills in-house unless STRIPE_SECRET_KEY is set, and points Stripe's client where STRIPE_API_BASE_URL says", () => {
    const inHouse = loadConfig({}).billing;
    expect(inHouse.stripe).toBeUndefined();
    expect(inHouse.plans.map((p) => p.name)).toEqual(["free", "starter", "pro"]);
    const stripe = loadConfig({
      STRIPE_SECRET_KEY: "sk_test_abc",
      STRIPE_WEBHOOK_SECRET: "whsec_abc",
      STRIPE_API_BASE_URL: "http://127.0.0.1:12111",
      STRIPE_PRICE_IDS: "starter:price_a+price_m,pro:price_b+price_m",
    }).billing.stripe;
    expect(stripe).toEqual({
      secretKey: "sk_test_abc",
      webhookSecret: "whsec_abc",
      api: { protocol: "http", host: "127.0.0.1", port: 12111 },
      priceIds: { starter: ["price_a", "price_m"], pro: ["price_b", "price_m"] },
      meterEventName: "audio_seconds",
    });
  });

  it("refuses a plan table, default plan or price list that does not add up, without echoing Stripe's secrets", () => {
    expect(() => loadConfig({ BILLING_PLANS: "free:10:0" })).toThrow(/BILLING_PLANS must be name:included_minutes/);
    expect(() => loadConfig({ BILLING_PLANS: "basic:10:0:0" })).toThrow(/BILLING_DEFAULT_PLAN names no plan/);
    expect(() => loadConfig({ STRIPE_PRICE_IDS: "gold:price_x" })).toThrow(/STRIPE_PRICE_IDS names a plan/);
    expect(() => loadConfig({ STRIPE_SECRET_KEY: "pk_live_oops" })).toThrow(ConfigError);
    expect(() => loadConfig({ STRIPE_SECRET_KEY: "pk_live_oops" })).not.toThrow(/pk_live_oops/);
  });

  it("limits uploads as the contracts do unless told to limit them more", () => {
    expect(loadConfig({}).media).toEqual({
      maxUploadBytes: 10 * 1024 ** 3,
      maxStreamUploadBytes: 2 * 1024 ** 3,
      maxMediaSeconds: 4 * 3600,
      multipartThresholdBytes: 100 * 1024 ** 2,
      multipartPartBytes: 16 * 1024 ** 2,
      scratchDir: "./data/scratch",
    });
    const lowered = loadConfig({ MAX_UPLOAD_BYTES: "1048576", MAX_MEDIA_SECONDS: "600", SCRATCH_DIR: "/var/tmp/stt" }).media;
    expect(lowered).toMatchObject({ maxUploadBytes: 1_048_576, maxMediaSeconds: 600, scratchDir: "/var/tmp/stt" });
  });

  it("switches each adapter to its production part when its variable is set", () => {
    const config = loadConfig({
      DATABASE_URL: "postgres://u:p@db:5432/stt",
      REDIS_URL: "redis://cache:6379",
      S3_ENDPOINT: "http://minio:9000",
      S3_ACCESS_KEY_ID: "key",
      S3_SECRET_ACCESS_KEY: "secret",
      TRITON_URL: "triton-0:8001,triton-1:8001",
      CORS_ORIGINS: "https://app.example.com, http://localhost:5173",
    });
    expect(config.database.url).toBe("postgres://u:p@db:5432/stt");
    expect(config.redis).toEqual({ url: "redis://cache:6379" });
    expect(config.storage).toMatchObject({ kind: "s3", endpoint: "http://minio:9000", buckets: { media: "arabicstt-media" } });
    expect(config.inference.tritonUrls).toEqual(["triton-0:8001", "triton-1:8001"]);
    expect(config.http.corsOrigins).toEqual(["https://app.example.com", "http://localhost:5173"]);
  });

  it.each([
    [{ GRPC_PORT: "abc" }, 'config error: GRPC_PORT must be an integer between 0 and 65535 (got "abc")'],
    [{ HTTP_PORT: "65536" }, 'config error: HTTP_PORT must be an integer between 0 and 65535 (got "65536")'],
    [{ DATABASE_URL: "mysql://db/x" }, "config error: DATABASE_URL must be a URL starting with postgres:// or postgresql://"],
    [{ LOG_LEVEL: "loud" }, 'config error: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
    [{ S3_ENDPOINT: "http://s3:9000" }, "config error: S3_ACCESS_KEY_ID is required when S3_ENDPOINT is set"],
    [{ TRITON_URL: "triton" }, 'config error: TRITON_URL must be host:port[,host:port...] (got "triton")'],
    [{ CORS_ORIGINS: "https://a.com/path" }, "config error: CORS_ORIGINS must be a comma-separated list of origins"],
    [{ SIDECAR_PORT: "-1" }, 'config error: SIDECAR_PORT must be an integer between 0 and 65535 (got "-1")'],
    [{ INFERENCE_DEADLINE_MS: "soon" }, 'config error: INFERENCE_DEADLINE_MS must be an integer between 1 and 3600000 (got "soon")'],
    [{ MAX_MESSAGE_BYTES: "0" }, 'config error: MAX_MESSAGE_BYTES must be an integer between 1 and 268435456 (got "0")'],
    [{ MAX_UPLOAD_BYTES: "20000000000" }, 'config error: MAX_UPLOAD_BYTES must be an integer between 1 and 10737418240 (bytes) (got "20000000000")'],
    [{ MULTIPART_PART_BYTES: "1048576" }, 'config error: MULTIPART_PART_BYTES must be an integer between 5242880 and 5368709120 (bytes) (got "1048576")'],
    [{ MAX_MEDIA_SECONDS: "0" }, 'config error: MAX_MEDIA_SECONDS must be an integer between 1 and 604800 (got "0")'],
  ])("rejects %j with one line naming the variable", (env, expected) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).not.toContain("\n");
    expect(message.startsWith(expected)).toBe(true);
  });

  it("never echoes a secret back in an error", () => {
    expect(() => loadConfig({ BLOB_SIGNING_SECRET: "short-secret-value" })).toThrow(
      /^config error: BLOB_SIGNING_SECRET must be at least 32 characters$/,
    );
  });

  it("reads webhook delivery settings: private targets refused unless allowed", () => {
    expect(loadConfig({}).webhooks).toEqual({
      secretKey: undefined,
      allowPrivateTargets: false,
      allowedCidrs: [],
      timeoutMs: 15_000,
      maxAttempts: 10,
      retryBaseMs: 10_000,
      concurrency: 8,
    });
    const set = loadConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_ALLOWED_CIDRS: "10.20.0.0/16, fd12::/16", WEBHOOK_MAX_ATTEMPTS: "3" }).webhooks;
    expect(set).toMatchObject({ allowPrivateTargets: true, allowedCidrs: ["10.20.0.0/16", "fd12::/16"], maxAttempts: 3 });
    expect(() => loadConfig({ WEBHOOK_ALLOWED_CIDRS: "10.0.0.0" })).toThrow(/^config error: WEBHOOK_ALLOWED_CIDRS must be a comma-separated list of CIDRs/);
    expect(() => loadConfig({ WEBHOOK_ALLOWED_CIDRS: "10.0.0.0/33" })).toThrow(/WEBHOOK_ALLOWED_CIDRS/);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: "yes" })).toThrow(/^config error: WEBHOOK_ALLOW_PRIVATE_TARGETS must be true or false/);
    expect(() => loadConfig({ WEBHOOK_SECRET_KEY: "too-short-key" })).toThrow(/^config error: WEBHOOK_SECRET_KEY must be at least 32 characters$/);
  });

  it("turns the AudioSocket listener on only with a port, and only with a key", () => {
    expect(loadConfig({}).audioSocket).toBeUndefined();
    expect(loadConfig({ AUDIOSOCKET_PORT: "9092", AUDIOSOCKET_API_KEY: "astt_example_key" }).audioSocket).toEqual({ host: "127.0.0.1", port: 9092, apiKey: "astt_example_key" });
    expect(() => loadConfig({ AUDIOSOCKET_PORT: "9092" })).toThrow(/^config error: AUDIOSOCKET_API_KEY is required when AUDIOSOCKET_PORT is set$/);
    expect(() => loadConfig({ AUDIOSOCKET_PORT: "70000", AUDIOSOCKET_API_KEY: "astt_example_key" })).toThrow(/^config error: AUDIOSOCKET_PORT must be an integer between 0 and 65535/);
  });

  it("runs one gateway process unless GATEWAY_PROCESSES says more, and more only on PostgreSQL and Redis with a sidecar port each", () => {
    const shared = { DATABASE_URL: "postgres://db:5432/stt", REDIS_URL: "redis://redis:6379" };
    expect(loadConfig({}).gatewayProcesses).toBe(1);
    expect(loadConfig({ ...shared, GATEWAY_PROCESSES: "2" }).gatewayProcesses).toBe(2);
    expect(() => loadConfig({ GATEWAY_PROCESSES: "0" })).toThrow(/^config error: GATEWAY_PROCESSES must be an integer between 1 and 64 \(got "0"\)$/);
    expect(() => loadConfig({ GATEWAY_PROCESSES: "2" })).toThrow(/^config error: GATEWAY_PROCESSES above 1 needs DATABASE_URL and REDIS_URL /);
    expect(() => loadConfig({ GATEWAY_PROCESSES: "2", DATABASE_URL: shared.DATABASE_URL })).toThrow(/^config error: GATEWAY_PROCESSES above 1 needs REDIS_URL /);
    expect(() => loadConfig({ ...shared, GATEWAY_PROCESSES: "2", SIDECAR_PORT: "50100" })).toThrow(/^config error: SIDECAR_PORT must be 0 when GATEWAY_PROCESSES is above 1 /);
    expect(loadConfig({ ...shared, GATEWAY_PROCESSES: "2", SIDECAR_PORT: "50100", TRITON_URL: "triton:8001" }).gatewayProcesses).toBe(2);
  });

  it("turns Genesys AudioHook on only with a client secret of at least 32 bytes, and never echoes it", () => {
    expect(loadConfig({}).audioHook).toBeUndefined();
    const secret = Buffer.alloc(32, 7).toString("base64");
    expect(loadConfig({ AUDIOHOOK_CLIENT_SECRET: secret }).audioHook).toEqual({ clientSecret: new Uint8Array(Buffer.alloc(32, 7)) });
    expect(() => loadConfig({ AUDIOHOOK_CLIENT_SECRET: Buffer.alloc(16).toString("base64") })).toThrow(/^config error: AUDIOHOOK_CLIENT_SECRET must decode to at least 32 bytes \(openssl rand -base64 32\)$/);
    expect(() => loadConfig({ AUDIOHOOK_CLIENT_SECRET: "not base64!" })).toThrow(/^config error: AUDIOHOOK_CLIENT_SECRET must be base64/);
  });

  it("traces only with a collector endpoint, which must be an http(s) URL; the sidecar reads the same variables", () => {
    expect(loadConfig({}).tracing).toEqual({ endpoint: undefined, serviceName: undefined });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector:4318", OTEL_SERVICE_NAME: "stt-gateway-eu" }).tracing).toEqual({
      endpoint: "http://otel-collector:4318",
      serviceName: "stt-gateway-eu",
    });
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "otel-collector:4317" })).toThrow(/^config error: OTEL_EXPORTER_OTLP_ENDPOINT must be a URL starting with http:\/\/ or https:\/\//);
    expect(() => loadConfig({ OTEL_SERVICE_NAME: "has spaces" })).toThrow(/^config error: OTEL_SERVICE_NAME must be 1 to 128 letters/);
    expect(loadSidecarConfig({}).tracing).toEqual({ endpoint: undefined, serviceName: "arabicstt-sidecar" });
    expect(loadSidecarConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example.com" }).tracing.endpoint).toBe("https://collector.example.com");
    expect(() => loadSidecarConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "grpc://collector:4317" })).toThrow(/^config error: OTEL_EXPORTER_OTLP_ENDPOINT must be a URL/);
  });
});
