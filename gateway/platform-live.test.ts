// Live recognition leaves a record (issue 5, items 5 and 6): a stream or a browser session that ends
// becomes a transcript with its words per channel and live usage, the month's quota is checked before
// a recognition opens, and browser sessions count against the same per-organisation stream limit as
// StreamingRecognize. The whole API process, as gateway/platform.test.ts runs it, with a tiny plan.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { AuthService } from "../proto/gen/arabicstt/v1/auth_pb.js";
import { SpeechService, StreamingRecognizeRequestSchema } from "../proto/gen/arabicstt/v1/speech_pb.js";
import { AudioEncoding } from "../proto/gen/arabicstt/v1/recognition_pb.js";
import { TranscriptService } from "../proto/gen/arabicstt/v1/transcript_pb.js";
import { QuotaMetric, UsageService } from "../proto/gen/arabicstt/v1/usage_pb.js";
import { loadConfig } from "../services/platform/config/config.js";
import { createLogger } from "../services/platform/logger.js";
import { createServerDatabaseUrl } from "../services/platform/database/testing.js";
import { dtmfSequence } from "../inference/client/testing/signals.js";
import { startPlatform, type Platform } from "./platform.js";
import { transports, withHeaders } from "./testing/clients.js";
import { freePort } from "../inference/testing/ports.js";
import { testEnvironment } from "../services/platform/config/test-environment.js";

const services = testEnvironment();

/** The plan's audio per month: the first stereo stream of a few seconds uses it all. */
const QUOTA_SECONDS = 2;
const MAX_STREAMS = 2;

/** Two channels of keypad tones, 16-bit little-endian and interleaved: "12" on the left, "34" on the right. */
function stereoDtmf(): Uint8Array {
  const left = dtmfSequence("12", { sampleRate: 16_000, leadMs: 200 }).audio;
  const right = dtmfSequence("34", { sampleRate: 16_000, leadMs: 600 }).audio;
  const frames = Math.max(left.length, right.length) + 16_000;
  const pcm = new Uint8Array(frames * 4);
  const view = new DataView(pcm.buffer);
  for (let i = 0; i < frames; i++) {
    view.setInt16(i * 4, Math.round((left[i] ?? 0) * 32767), true);
    view.setInt16(i * 4 + 2, Math.round((right[i] ?? 0) * 32767), true);
  }
  return pcm;
}

const stereoConfig = {
  config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, audioChannelCount: 2, separateRecognitionPerChannel: true, model: "dtmf" },
};

/** Polls until `check` passes: persistence runs after the stream's end, off the client's path. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, tries = 200): Promise<T> {
  let value = await read();
  for (let n = 0; n < tries && !check(value); n++) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}

describe(`live recognition persisted, on ${services.databaseUrl ? "PostgreSQL" : "PGlite"}${services.redisUrl ? " and Redis" : ""}`, () => {
  let platform: Platform;
  let dataDir: string;
  let dropDatabase: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "arabicstt-live-persist-"));
    const env: Record<string, string | undefined> = {
      HOST: "127.0.0.1",
      GRPC_PORT: "0",
      HTTP_PORT: String(await freePort()),
      DATA_DIR: dataDir,
      LOG_LEVEL: "silent",
      REDIS_URL: services.redisUrl,
      PLAN_AUDIO_SECONDS_PER_MONTH: `free:${QUOTA_SECONDS},*:${QUOTA_SECONDS}`,
      MAX_LIVE_STREAMS_PER_ORG: String(MAX_STREAMS),
    };
    if (services.databaseUrl) {
      const fresh = await createServerDatabaseUrl(services.databaseUrl);
      env.DATABASE_URL = fresh.url;
      dropDatabase = fresh.drop;
    }
    platform = await startPlatform(loadConfig(env), createLogger("silent"));
  });

  afterAll(async () => {
    await platform?.stop();
    await dropDatabase?.();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A new organisation's owner: clients of the services it uses, with its token. */
  async function newOrganisation() {
    const t = transports(platform.gateway.grpcPort, platform.gateway.httpPort);
    const registered = await createClient(AuthService, t.grpc).register({
      email: `persist-${randomBytes(4).toString("hex")}@example.com`,
      password: "كلمة سر طويلة 2026",
      displayName: "ليلى",
      organizationName: "مركز الاتصال",
    });
    const headers = { authorization: `Bearer ${registered.tokens!.accessToken}` };
    return {
      speech: createClient(SpeechService, withHeaders(t.grpc, headers)),
      browser: createClient(SpeechService, withHeaders(t.connectH1, headers)),
      transcripts: createClient(TranscriptService, withHeaders(t.connectH1, headers)),
      usage: createClient(UsageService, withHeaders(t.connectH1, headers)),
    };
  }

  type Org = Awaited<ReturnType<typeof newOrganisation>>;

  /** The organisation's one transcript once it is written: its segments' texts by channel tag. */
  async function transcriptByChannel(org: Org): Promise<Record<number, string>> {
    const listed = await eventually(
      () => org.transcripts.listTranscripts({}),
      (r) => r.transcripts.length > 0,
    );
    expect(listed.transcripts).toHaveLength(1);
    const { transcript, segments } = await org.transcripts.getTranscript({ transcriptId: listed.transcripts[0]!.transcriptId, includeWords: true });
    expect(transcript?.speakers.map((s) => s.speakerLabel).sort()).toEqual(["S1", "S2"]);
    expect(segments.every((s) => s.words.length > 0)).toBe(true);
    const byChannel: Record<number, string> = {};
    for (const s of segments) byChannel[s.channelTag] = (byChannel[s.channelTag] ?? "") + s.text;
    return byChannel;
  }

  /** Audio seconds used this month, once some are recorded. */
  async function audioSecondsUsed(org: Org): Promise<bigint> {
    const quota = await eventually(
      () => org.usage.getQuota({}),
      (q) => (q.limits.find((l) => l.metric === QuotaMetric.AUDIO_SECONDS)?.used ?? 0n) > 0n,
    );
    return quota.limits.find((l) => l.metric === QuotaMetric.AUDIO_SECONDS)!.used;
  }

  function refusal(err: unknown): ConnectError {
    return ConnectError.from(err);
  }

  it("writes a StreamingRecognize stream's finals as a transcript per channel and its seconds as live usage, then refuses the next stream once the quota is used", async () => {
    const org = await newOrganisation();
    const pcm = stereoDtmf();
    async function* requests() {
      yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "streamingConfig", value: stereoConfig } });
      for (let at = 0; at < pcm.length; at += 1280) {
        yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: pcm.subarray(at, at + 1280) } });
      }
    }
    for await (const response of org.speech.streamingRecognize(requests())) void response;

    expect(Object.values(await transcriptByChannel(org))).toEqual(["12", "34"]);
    // Stereo bills both channels: more than the stream's own length of about two seconds.
    const used = await audioSecondsUsed(org);
    expect(used).toBeGreaterThanOrEqual(4n);
    const usage = await org.usage.getUsage({ startTime: { seconds: BigInt(Math.floor(Date.now() / 1000) - 3600) }, endTime: { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600) } });
    expect(usage.total?.streamingSessionCount).toBe(1n);
    expect(usage.total?.streamingDuration?.seconds).toBe(used);

    async function* oneConfig() {
      yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "streamingConfig", value: stereoConfig } });
    }
    const refused = await (async () => {
      for await (const response of org.speech.streamingRecognize(oneConfig())) void response;
    })().catch(refusal);
    expect(refused?.code).toBe(Code.ResourceExhausted);
    expect(Number(refused?.metadata.get("retry-after"))).toBeGreaterThan(0);
    const browser = await org.browser.createLiveSession({ streamingConfig: stereoConfig }).catch(refusal);
    expect((browser as ConnectError).code).toBe(Code.ResourceExhausted);
  });

  it("writes a browser session's finals and usage once CloseLiveSession ends it, then refuses the next session once the quota is used", async () => {
    const org = await newOrganisation();
    const { session } = await org.browser.createLiveSession({ streamingConfig: stereoConfig });
    await org.browser.sendLiveAudio({ sessionId: session!.sessionId, sequenceNumber: 0n, audioContent: stereoDtmf() });
    await org.browser.closeLiveSession({ sessionId: session!.sessionId });

    expect(Object.values(await transcriptByChannel(org))).toEqual(["12", "34"]);
    expect(await audioSecondsUsed(org)).toBeGreaterThanOrEqual(4n);
    const refused = await org.browser.createLiveSession({ streamingConfig: stereoConfig }).catch(refusal);
    expect((refused as ConnectError).code).toBe(Code.ResourceExhausted);
  });

  it("counts browser sessions against the organisation's stream limit, shared with StreamingRecognize, and frees a slot when a session ends", async () => {
    const org = await newOrganisation();
    const open = [];
    for (let n = 0; n < MAX_STREAMS; n++) open.push((await org.browser.createLiveSession({ streamingConfig: stereoConfig })).session!);
    const over = await org.browser.createLiveSession({ streamingConfig: stereoConfig }).catch(refusal);
    expect((over as ConnectError).code).toBe(Code.ResourceExhausted);
    expect(Number((over as ConnectError).metadata.get("retry-after"))).toBeGreaterThan(0);
    // The same slots as StreamingRecognize's: with every slot held by browser sessions, a stream is refused too.
    async function* oneConfig() {
      yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "streamingConfig", value: stereoConfig } });
    }
    const stream = await (async () => {
      for await (const response of org.speech.streamingRecognize(oneConfig())) void response;
    })().catch(refusal);
    expect(stream?.code).toBe(Code.ResourceExhausted);

    // An empty session ends with no transcript and no seconds, so the quota still lets the next one in.
    await org.browser.closeLiveSession({ sessionId: open[0]!.sessionId });
    const next = await eventually(
      () => org.browser.createLiveSession({ streamingConfig: stereoConfig }).catch(refusal),
      (r) => !(r instanceof ConnectError),
    );
    expect(next).not.toBeInstanceOf(ConnectError);
    expect((await org.transcripts.listTranscripts({})).transcripts).toHaveLength(0);
  });
});
