import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

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
    });
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
});
