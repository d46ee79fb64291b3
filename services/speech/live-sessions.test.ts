// The live-session trio end to end, as browsers use it (Connect over HTTP/1.1): two replicas of the
// platform, each started through the gateway's root, share one bus (in-process, or Redis streams when
// REDIS_URL is set) and one database.
// The session is created on replica A, its audio sent to either replica, watched on B, the
// watcher dropped mid-session and resumed on A from the next index: no result lost or repeated.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { InProcessBus, type LiveSessionBus } from "./bus.js";
import { RedisBus } from "./redis-bus.js";
import { AudioEncoding, StreamingRecognitionConfigSchema } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { LiveAudioStatus, LiveSessionState, SpeechService, type WatchLiveSessionResponse } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { testEnvironment } from "../platform/config/test-environment.js";
import { randomBytes } from "node:crypto";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../gateway/testing/platform.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { createTestDatabase, type TestDatabase } from "../app/testing.js";
import { LiveSession } from "./live-session.entity.js";

const { redisUrl } = testEnvironment();

/** 16 kHz LINEAR16 of keypad groups separated by `pauseMs` of silence (each group one utterance). */
function keypadPcm(groups: string[], pauseMs = 1200): Uint8Array {
  const parts = groups.map((g) => dtmfSequence(g, { sampleRate: 16_000, leadMs: pauseMs }).audio);
  const total = parts.reduce((n, p) => n + p.length, 0) + 16 * pauseMs;
  const pcm = new Uint8Array(total * 2);
  const view = new DataView(pcm.buffer);
  let at = 0;
  for (const p of parts) for (const x of p) view.setInt16(2 * at++, Math.round(x * 32767), true);
  return pcm;
}

describe(`live sessions over two platform replicas and ${redisUrl ? "Redis streams" : "the in-process bus"}`, () => {
  // Replicas share the database and the token signing key, as a deployment's do; each has its own sidecar.
  const signingKeys = `live:${randomBytes(32).toString("hex")}`;
  let testDb: TestDatabase;
  let accounts: { owner: TestAccount; other: TestAccount } | undefined;
  const redisConnections: Redis[] = [];
  const replicas: Array<{ platform: TestPlatform; client: Client<typeof SpeechService>; otherOrg: Client<typeof SpeechService> }> = [];

  /** One more replica of the platform, started through the gateway's root, on `bus`. */
  async function replica(bus: LiveSessionBus, options: { idleTimeoutMs?: number; disconnectedAfterMs?: number } = {}) {
    const platform = await startTestPlatform(
      { JOB_DEFAULT_MODEL: "whisper", JWT_SIGNING_KEYS: signingKeys, ...UNTHROTTLED },
      { speech: { engine: { stepMs: 200 }, bus, sessions: { sweepMs: 50, ...options } } },
      { testDb },
    );
    accounts ??= { owner: await registerOwner(platform), other: await registerOwner(platform, "منظمة أخرى") };
    // Browsers' way in: Connect over HTTP/1.1; the other organisation comes over gRPC.
    const client = platform.client(SpeechService, { credential: accounts.owner.accessToken, protocol: "connect" });
    const otherOrg = platform.client(SpeechService, { credential: accounts.other.accessToken });
    const r = { platform, client, otherOrg };
    replicas.push(r);
    return r;
  }

  function newBus(): LiveSessionBus {
    if (!redisUrl) return shared;
    const redis = new Redis(redisUrl);
    redisConnections.push(redis);
    return new RedisBus(redis, { blockMs: 200 });
  }
  const shared = new InProcessBus();

  beforeAll(async () => {
    testDb = await createTestDatabase();
  }, 60_000);

  afterAll(async () => {
    for (const r of replicas) await r.platform.stop();
    for (const redis of redisConnections) redis.disconnect();
    await testDb?.cleanup();
  });

  const streamingConfig = {
    config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf", enableWordTimeOffsets: true },
    interimResults: true,
    voiceActivityEvents: true,
  };

  it("resumes a dropped watcher on another replica with no result lost or repeated", async () => {
    const a = await replica(newBus());
    const b = await replica(newBus());
    const { session } = await a.client.createLiveSession({ streamingConfig });
    expect(session!.state).toBe(LiveSessionState.ACTIVE);
    expect(session!.nextSequenceNumber).toBe(0n);
    const id = session!.sessionId;

    const groups = ["12", "345", "6789", "0#"];
    const pcm = keypadPcm(groups);
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < pcm.length; at += 3200) chunks.push(pcm.subarray(at, at + 3200)); // 100 ms each

    // The first watcher, on B, reads until it has seen the first final, then drops.
    const seen: WatchLiveSessionResponse[] = [];
    const dropped = new AbortController();
    const firstWatch = (async () => {
      try {
        for await (const r of b.client.watchLiveSession({ sessionId: id }, { signal: dropped.signal })) {
          seen.push(r);
          if (r.results.some((x) => x.isFinal)) dropped.abort();
        }
      } catch (err) {
        if (!(err instanceof ConnectError && err.code === Code.Canceled)) throw err;
      }
    })();

    // Audio goes to either replica; a resent chunk is a duplicate, a skipped one a gap.
    for (const [n, chunk] of chunks.entries()) {
      const target = n % 2 === 0 ? a : b;
      const sent = await target.client.sendLiveAudio({ sessionId: id, sequenceNumber: BigInt(n), audioContent: chunk });
      expect(sent.status).toBe(LiveAudioStatus.ACCEPTED);
      expect(sent.nextSequenceNumber).toBe(BigInt(n + 1));
      if (n === 3) {
        const again = await b.client.sendLiveAudio({ sessionId: id, sequenceNumber: 3n, audioContent: chunk });
        expect(again.status).toBe(LiveAudioStatus.DUPLICATE);
        const ahead = await a.client.sendLiveAudio({ sessionId: id, sequenceNumber: 9n, audioContent: chunk });
        expect(ahead.status).toBe(LiveAudioStatus.OUT_OF_ORDER);
        expect(ahead.nextSequenceNumber).toBe(4n);
      }
      // Let the first watcher drop part-way through the session.
      if (n === Math.floor(chunks.length / 2)) await firstWatch;
    }
    await firstWatch;
    // It saw the first utterance's final and nothing after it.
    expect(seen.flatMap((r) => r.results.filter((x) => x.isFinal))).toHaveLength(1);

    // The client resumes one past the last response it processed, on the other replica.
    const resumeFrom = Number(seen.at(-1)!.resultIndex) + 1;
    const resumed: WatchLiveSessionResponse[] = [];
    const secondWatch = (async () => {
      for await (const r of a.client.watchLiveSession({ sessionId: id, fromResultIndex: BigInt(resumeFrom) })) resumed.push(r);
    })();
    const closed = await b.client.closeLiveSession({ sessionId: id });
    expect(closed.session!.state).toBe(LiveSessionState.CLOSED);
    expect(closed.session!.audioBytesReceived).toBe(BigInt(pcm.length));
    expect(closed.session!.nextSequenceNumber).toBe(BigInt(chunks.length));
    await secondWatch;

    // Every response exactly once, in order, then the closing one.
    const all = [...seen, ...resumed.slice(0, -1)];
    expect(all.map((r) => Number(r.resultIndex))).toEqual(all.map((_, i) => i));
    const last = resumed.at(-1)!;
    expect(last.state).toBe(LiveSessionState.CLOSED);
    expect(last.results).toEqual([]);
    expect(Number(last.resultIndex)).toBe(all.length);
    expect(last.metadata!.sessionId).toBe(id);
    const finals = all.flatMap((r) => r.results.filter((x) => x.isFinal).map((x) => x.alternatives[0]!.transcript));
    expect(finals).toEqual(groups);
    expect(Number(closed.session!.nextResultIndex)).toBe(all.length);

    // A closed session takes no more audio, and is still readable.
    const late = await a.client.sendLiveAudio({ sessionId: id, sequenceNumber: BigInt(chunks.length), audioContent: chunks[0]! }).catch((e: unknown) => e);
    expect((late as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((late as ConnectError).rawMessage).toMatch(/closed/);
    const replay: WatchLiveSessionResponse[] = [];
    for await (const r of b.client.watchLiveSession({ sessionId: id, fromResultIndex: BigInt(all.length - 1) })) replay.push(r);
    expect(replay.map((r) => Number(r.resultIndex))).toEqual([all.length - 1, all.length]);
    expect((await a.client.closeLiveSession({ sessionId: id })).session!.state).toBe(LiveSessionState.CLOSED);
  });

  it("answers unknown sessions, bad indexes and resume configs with the right codes", async () => {
    const a = replicas[0] ?? (await replica(newBus()));
    const unknown = "7b0e8c52-5a51-4a47-9d7e-3f1f5b0f4e21";
    const code = async (p: Promise<unknown>) => ((await p.then(() => undefined, (e: unknown) => e)) as ConnectError | undefined)?.code;
    expect(await code(a.client.sendLiveAudio({ sessionId: unknown, sequenceNumber: 0n }))).toBe(Code.NotFound);
    expect(await code(a.client.closeLiveSession({ sessionId: unknown }))).toBe(Code.NotFound);
    expect(await code((async () => { for await (const _ of a.client.watchLiveSession({ sessionId: unknown })) void _; })())).toBe(Code.NotFound);
    expect(await code(a.client.createLiveSession({ streamingConfig: { ...streamingConfig, resume: { sessionId: unknown } } }))).toBe(Code.InvalidArgument);
    expect(await code(a.client.createLiveSession({ streamingConfig: { config: { ...streamingConfig.config, model: "nope" } } }))).toBe(Code.InvalidArgument);
    const { session } = await a.client.createLiveSession({ streamingConfig });
    expect(await code((async () => { for await (const _ of a.client.watchLiveSession({ sessionId: session!.sessionId, fromResultIndex: 5n })) void _; })())).toBe(Code.InvalidArgument);
    // The config comes back as it was given.
    expect(session!.streamingConfig).toEqual(create(StreamingRecognitionConfigSchema, streamingConfig));
    await a.client.closeLiveSession({ sessionId: session!.sessionId });
  });

  it("keeps a session to its organisation: another one gets NOT_FOUND and changes nothing", async () => {
    const a = replicas[0] ?? (await replica(newBus()));
    const code = async (p: Promise<unknown>) => ((await p.then(() => undefined, (e: unknown) => e)) as ConnectError | undefined)?.code;
    const { session } = await a.client.createLiveSession({ streamingConfig });
    const sessionId = session!.sessionId;
    expect(await code(a.otherOrg.sendLiveAudio({ sessionId, sequenceNumber: 0n, audioContent: new Uint8Array(640) }))).toBe(Code.NotFound);
    expect(await code((async () => { for await (const _ of a.otherOrg.watchLiveSession({ sessionId })) void _; })())).toBe(Code.NotFound);
    expect(await code(a.otherOrg.closeLiveSession({ sessionId }))).toBe(Code.NotFound);
    // The owner's session took no audio from the stranger and is still open.
    const sent = await a.client.sendLiveAudio({ sessionId, sequenceNumber: 0n, audioContent: new Uint8Array(640) });
    expect(sent.nextSequenceNumber).toBe(1n);
    expect((await a.client.closeLiveSession({ sessionId })).session?.sessionId).toBe(sessionId);
  });

  it("ends a session whose audio is bad, and tells its watchers why", async () => {
    const a = replicas[0] ?? (await replica(newBus()));
    const { session } = await a.client.createLiveSession({ streamingConfig });
    const id = session!.sessionId;
    // A chunk may end inside a 16-bit sample (the next one continues it); the session's audio may not.
    expect((await a.client.sendLiveAudio({ sessionId: id, sequenceNumber: 0n, audioContent: new Uint8Array(3201) })).status).toBe(LiveAudioStatus.ACCEPTED);
    await a.client.closeLiveSession({ sessionId: id });
    const failure = await (async () => {
      for await (const _ of a.client.watchLiveSession({ sessionId: id })) void _;
    })().catch((e: unknown) => e);
    expect((failure as ConnectError).code).toBe(Code.InvalidArgument);
    expect((failure as ConnectError).rawMessage).toMatch(/audio_content: odd number of bytes for 16-bit audio: the stream ended inside a sample/);
    const closed = await a.client.sendLiveAudio({ sessionId: id, sequenceNumber: 1n, audioContent: new Uint8Array(2) }).catch((e: unknown) => e);
    expect((closed as ConnectError).code).toBe(Code.FailedPrecondition);
  });

  it("refuses audio with RESOURCE_EXHAUSTED and a retry-after while the session's backlog is full", async () => {
    // A bus whose backlog is always full: nothing reaches the engine, nothing is queued.
    class FullBus extends InProcessBus {
      override async send(id: string, sequence: number, audio: Uint8Array, finalize: boolean, now: number) {
        return super.send(id, sequence, audio, finalize, now, 0);
      }
    }
    const full = await replica(new FullBus());
    const { session } = await full.client.createLiveSession({ streamingConfig });
    let retryAfter: string | null = null;
    const refused = await full.client
      .sendLiveAudio({ sessionId: session!.sessionId, sequenceNumber: 0n, audioContent: new Uint8Array(3200) }, { onTrailer: (t) => (retryAfter = t.get("retry-after")) })
      .catch((e: unknown) => e);
    expect((refused as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((refused as ConnectError).rawMessage).toMatch(/is behind: chunk 0 was not taken; send it again/);
    expect(retryAfter ?? (refused as ConnectError).metadata.get("retry-after")).toBe("1");
    expect((await full.client.closeLiveSession({ sessionId: session!.sessionId })).session!.nextSequenceNumber).toBe(0n);
  });

  it("reads DISCONNECTED once its client has sent nothing for a while, watched or not, and ACTIVE again when audio comes", async () => {
    const quiet = await replica(newBus(), { disconnectedAfterMs: 1000 });
    const { session } = await quiet.client.createLiveSession({ streamingConfig });
    const id = session!.sessionId;
    const pcm = keypadPcm(["12"]);
    let sequence = 0;
    for (let at = 0; at < pcm.length; at += 3200) {
      const sent = await quiet.client.sendLiveAudio({ sessionId: id, sequenceNumber: BigInt(sequence++), audioContent: pcm.subarray(at, at + 3200) });
      expect(sent.state).toBe(LiveSessionState.ACTIVE);
    }
    /** The state a watcher joining now is told, on the first response it replays. */
    const watchedState = async () => {
      for await (const r of quiet.client.watchLiveSession({ sessionId: id })) return r.state;
      throw new Error("the watch ended without a response");
    };
    // The client stops sending; watchers keep coming (they keep the session from expiring, not from being disconnected).
    let state = await watchedState();
    for (let tries = 0; tries < 200 && state !== LiveSessionState.DISCONNECTED; tries++) {
      await new Promise((r) => setTimeout(r, 50));
      state = await watchedState();
    }
    expect(state).toBe(LiveSessionState.DISCONNECTED);
    // The client returns: a keepalive makes the session active again, and it never closed meanwhile.
    const back = await quiet.client.sendLiveAudio({ sessionId: id, sequenceNumber: BigInt(sequence) });
    expect([back.status, back.state]).toEqual([LiveAudioStatus.ACCEPTED, LiveSessionState.ACTIVE]);
    const closed = await quiet.client.closeLiveSession({ sessionId: id });
    expect(closed.session!.state).toBe(LiveSessionState.CLOSED);
    expect(closed.session!.nextSequenceNumber).toBe(BigInt(sequence + 1));
  });

  it("closes a session left without audio, keepalive or watcher for its idle timeout", async () => {
    const idle = await replica(newBus(), { idleTimeoutMs: 300 });
    const { session } = await idle.client.createLiveSession({ streamingConfig });
    // An empty chunk is a keepalive that takes its sequence number.
    expect((await idle.client.sendLiveAudio({ sessionId: session!.sessionId, sequenceNumber: 0n })).status).toBe(LiveAudioStatus.ACCEPTED);
    await new Promise((r) => setTimeout(r, 700));
    const states: LiveSessionState[] = [];
    for await (const r of idle.client.watchLiveSession({ sessionId: session!.sessionId })) states.push(r.state);
    expect(states.at(-1)).toBe(LiveSessionState.CLOSED);
    // It is persisted as expired, not as closed by its client.
    const persisted = async () => (await testDb.db.fork().findOne(LiveSession, { id: session!.sessionId }))?.status;
    for (let n = 0; n < 100 && !(await persisted()); n++) await new Promise((r) => setTimeout(r, 20));
    expect(await persisted()).toBe("expired");
  });
});
