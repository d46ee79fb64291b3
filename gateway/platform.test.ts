// The whole API process in one: real adapters (PGlite or PostgreSQL, filesystem or S3,
// Redis when REDIS_URL is set) behind the gateway, as `npm start` composes them.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { AuthService } from "../proto/gen/arabicstt/v1/auth_pb.js";
import { loadConfig } from "../services/platform/config/config.js";
import { createLogger } from "../services/platform/logger.js";
import { createServerDatabaseUrl } from "../services/platform/database/testing.js";
import { startPlatform, type Platform } from "./platform.js";
import { transports, withHeaders } from "./testing/clients.js";
import { MediaService, MediaState } from "../proto/gen/arabicstt/v1/media_pb.js";
import { makeMediaFiles, uploadByPut } from "./testing/media.js";
import { freePort } from "../inference/testing/ports.js";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "../proto/gen/grpc/health/v1/health_pb.js";
import { create } from "@bufbuild/protobuf";
import { SpeechService, StreamingRecognizeRequestSchema } from "../proto/gen/arabicstt/v1/speech_pb.js";
import { AudioEncoding } from "../proto/gen/arabicstt/v1/recognition_pb.js";
import { dtmfSequence } from "../inference/client/testing/signals.js";
import { testEnvironment } from "../services/platform/config/test-environment.js";

const services = testEnvironment();

const realServices = {
  database: Boolean(services.databaseUrl),
  redis: Boolean(services.redisUrl),
  s3: Boolean(services.s3),
};

describe(`the platform on ${realServices.database ? "PostgreSQL" : "PGlite"}, ${realServices.s3 ? "S3" : "filesystem blobs"}${realServices.redis ? ", Redis" : ""}`, () => {
  let platform: Platform;
  let dataDir: string;
  let dropDatabase: (() => Promise<void>) | undefined;
  let base: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "arabicstt-platform-"));
    const env: Record<string, string | undefined> = {
      HOST: "127.0.0.1",
      GRPC_PORT: "0",
      HTTP_PORT: String(await freePort()),
      DATA_DIR: dataDir,
      LOG_LEVEL: "silent",
      REDIS_URL: services.redisUrl,
    };
    if (services.databaseUrl) {
      const fresh = await createServerDatabaseUrl(services.databaseUrl);
      env.DATABASE_URL = fresh.url;
      dropDatabase = fresh.drop;
    }
    if (services.s3) {
      const prefix = `arabicstt-platform-${randomBytes(4).toString("hex")}`;
      Object.assign(env, {
        S3_ENDPOINT: services.s3.endpoint,
        S3_REGION: services.s3.region,
        S3_ACCESS_KEY_ID: services.s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: services.s3.secretAccessKey,
        S3_BUCKET_MEDIA: `${prefix}-media`,
        S3_BUCKET_PROCESSED: `${prefix}-processed`,
        S3_BUCKET_EXPORTS: `${prefix}-exports`,
      });
    }
    const config = loadConfig(env);
    platform = await startPlatform(config, createLogger("silent"));
    base = `http://127.0.0.1:${platform.gateway.httpPort}`;
  });

  afterAll(async () => {
    await platform?.stop();
    await dropDatabase?.();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("is ready once every dependency answers, and says which ones it checked", async () => {
    const res = await fetch(`${base}/readyz`);
    const body = (await res.json()) as { checks: Record<string, { ok: boolean }> };
    expect(res.status).toBe(200);
    const expected = ["database", "inference", "storage", ...(realServices.redis ? ["redis"] : [])].sort();
    expect(Object.keys(body.checks).sort()).toEqual(expected);
    expect(Object.values(body.checks).every((c) => c.ok)).toBe(true);
    const health = createClient(Health, transports(platform.gateway.grpcPort, platform.gateway.httpPort).grpc);
    expect((await health.check({})).status).toBe(Serving.SERVING);
  });

  it("applied the migrations to the database it opened", async () => {
    const tables = await platform.database
      .fork()
      .getConnection()
      .execute<Array<{ table_name: string }>>("select table_name from information_schema.tables where table_schema = 'public'");
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(["organizations", "jobs", "segments", "audit_events"]));
  });

  it("hands out signed upload and download URLs that work, and refuses tampered ones", async () => {
    const key = `orgs/test/media/${randomBytes(6).toString("hex")}.wav`;
    const audio = randomBytes(48_000);
    const putUrl = await platform.blobs.presignPut("media", key, { expiresInSeconds: 300, contentType: "audio/wav" });
    if (!realServices.s3) expect(putUrl.startsWith(base)).toBe(true);
    const put = await fetch(putUrl, { method: "PUT", body: audio, headers: { "content-type": "audio/wav" } });
    expect(put.status).toBe(200);

    const getUrl = await platform.blobs.presignGet("media", key, { expiresInSeconds: 300 });
    const got = await fetch(getUrl);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(audio)).toBe(true);

    const tampered = new URL(getUrl);
    const sigParam = [...tampered.searchParams.keys()].find((k) => /sig/i.test(k))!;
    const sig = tampered.searchParams.get(sigParam)!;
    tampered.searchParams.set(sigParam, (sig[0] === "a" ? "b" : "a") + sig.slice(1));
    expect((await fetch(tampered)).status).toBe(403);
  });

  it("runs models on the sidecar it started, and counts the calls on /metrics", async () => {
    // Two keypad tones, 697+1209 Hz ("1") then 941+1336 Hz ("0"), 100 ms each with 100 ms between.
    const rate = 16_000;
    const audio = new Float32Array(rate * 0.5);
    const tone = (from: number, low: number, high: number) => {
      for (let i = 0; i < rate * 0.1; i++) {
        const t = i / rate;
        audio[from + i] = 0.25 * (Math.sin(2 * Math.PI * low * t) + Math.sin(2 * Math.PI * high * t));
      }
    };
    tone(rate * 0.1, 697, 1209);
    tone(rate * 0.3, 941, 1336);
    const result = await platform.inference.transcribe("dtmf", audio);
    expect(result.text).toBe("10");
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/arabicstt_inference_duration_seconds_count\{[^}]*model="dtmf"[^}]*\} 1/);
  });

  it("puts accounts and the auth interceptor in front of the API, with a signing key kept under DATA_DIR", async () => {
    const t = transports(platform.gateway.grpcPort, platform.gateway.httpPort);
    const auth = createClient(AuthService, t.grpc);
    const registered = await auth.register({
      email: `platform-${randomBytes(4).toString("hex")}@example.com`,
      password: "كلمة سر طويلة 2026",
      displayName: "منى",
      organizationName: "منصة",
    });
    const me = await auth.getCurrentUser({}, { headers: { authorization: `Bearer ${registered.tokens!.accessToken}` } });
    expect(me.user?.userId).toBe(registered.user?.userId);
    const anonymous = await createClient(AuthService, t.connectH1).getCurrentUser({}).catch((e: unknown) => ConnectError.from(e));
    expect((anonymous as ConnectError).code).toBe(Code.Unauthenticated);
    const key = await readFile(path.join(dataDir, "secrets", "jwt-signing.key"), "utf8");
    const kid = key.slice(0, key.indexOf(":"));
    expect(JSON.parse(Buffer.from(registered.tokens!.accessToken.split(".")[0]!, "base64url").toString()).kid).toBe(kid);
  });

  /** A new organisation's owner, registered through the real AuthService: its bearer header. */
  async function ownerHeaders(): Promise<Record<string, string>> {
    const auth = createClient(AuthService, transports(platform.gateway.grpcPort, platform.gateway.httpPort).grpc);
    const registered = await auth.register({
      email: `live-${randomBytes(4).toString("hex")}@example.com`,
      password: "كلمة سر طويلة 2026",
      displayName: "سارة",
      organizationName: "مركز الاتصال",
    });
    return { authorization: `Bearer ${registered.tokens!.accessToken}` };
  }

  it("serves StreamingRecognize with the engine on the sidecar it started", async () => {
    const { audio } = dtmfSequence("42#", { sampleRate: 16_000, leadMs: 200 });
    const pcm = new Uint8Array(audio.length * 2);
    const view = new DataView(pcm.buffer);
    audio.forEach((x, i) => view.setInt16(i * 2, Math.round(x * 32767), true));
    async function* requests() {
      yield create(StreamingRecognizeRequestSchema, {
        streamingRequest: { case: "streamingConfig", value: { config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf" } } },
      });
      for (let at = 0; at < pcm.length; at += 640) {
        yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: pcm.subarray(at, at + 640) } });
      }
    }
    const speech = createClient(SpeechService, withHeaders(transports(platform.gateway.grpcPort, platform.gateway.httpPort).grpc, await ownerHeaders()));
    const finals: string[] = [];
    for await (const r of speech.streamingRecognize(requests())) {
      for (const result of r.results) if (result.isFinal) finals.push(result.alternatives[0]!.transcript);
    }
    expect(finals).toEqual(["42#"]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/arabicstt_live_final_latency_seconds_count 1\b/);
    expect(metrics).toMatch(/arabicstt_live_decode_seconds_count\{kind="final"\} 1\b/);
  });

  it("serves the live page and its bundled script on the HTTP listener", async () => {
    const page = await fetch(`${base}/live`);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(await page.text()).toContain('src="/live/app.js"');
    const script = await fetch(`${base}/live/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/text\/javascript/);
    // The browser code, bundled with its Connect-Web client (DOM names survive minification).
    const text = await script.text();
    expect(text.length).toBeGreaterThan(50_000);
    expect(text.includes("getUserMedia")).toBe(true);
  });

  it(`serves live sessions over ${realServices.redis ? "Redis streams" : "the in-process bus"}`, async () => {
    const speech = createClient(SpeechService, withHeaders(transports(platform.gateway.grpcPort, platform.gateway.httpPort).connectH1, await ownerHeaders()));
    const { session } = await speech.createLiveSession({
      streamingConfig: { config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf" } },
    });
    const { audio } = dtmfSequence("7*", { sampleRate: 16_000, leadMs: 200 });
    const pcm = new Uint8Array(audio.length * 2);
    const view = new DataView(pcm.buffer);
    audio.forEach((x, i) => view.setInt16(i * 2, Math.round(x * 32767), true));
    await speech.sendLiveAudio({ sessionId: session!.sessionId, sequenceNumber: 0n, audioContent: pcm });
    await speech.closeLiveSession({ sessionId: session!.sessionId });
    const finals: string[] = [];
    for await (const r of speech.watchLiveSession({ sessionId: session!.sessionId })) {
      for (const result of r.results) if (result.isFinal) finals.push(result.alternatives[0]!.transcript);
    }
    expect(finals).toEqual(["7*"]);
  });

  it("serves MediaService: a presigned upload through its own HTTP listener, checked, probed and downloadable", async () => {
    const t = transports(platform.gateway.grpcPort, platform.gateway.httpPort);
    const registered = await createClient(AuthService, t.grpc).register({
      email: `media-${randomBytes(4).toString("hex")}@example.com`,
      password: "كلمة سر طويلة 2026",
      displayName: "ليلى",
      organizationName: "منصة الوسائط",
    });
    const media = createClient(MediaService, withHeaders(t.connectH1, { authorization: `Bearer ${registered.tokens!.accessToken}` }));
    const files = await makeMediaFiles();
    try {
      const done = await uploadByPut(media, "اختبار.wav", files.wav, "audio/wav");
      expect(done).toMatchObject({ state: MediaState.READY, sizeBytes: BigInt(files.wav.length), audioProperties: { codec: "pcm_s16le" } });
      const { url } = await media.getMediaDownloadUrl({ mediaId: done.mediaId });
      if (!realServices.s3) expect(url.startsWith(base)).toBe(true);
      expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(files.wav)).toBe(true);
      const opened = await platform.media.library.openForProcessing(registered.organization!.organizationId, done.mediaId);
      expect(opened.path.startsWith(path.join(dataDir, "scratch"))).toBe(true);
      await opened.release();
    } finally {
      await files.remove();
    }
  });

  it("reports a dependency lost after start on /readyz, naming it", async () => {
    await platform.database.orm.close(true);
    // Readiness reports are reused for a second so a fleet of probes costs one round of pings.
    await new Promise((r) => setTimeout(r, 1100));
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.checks.database?.ok).toBe(false);
    expect(body.checks.storage?.ok).toBe(true);
  });
});
