// Lossless resume of StreamingRecognize, as a call-centre client meets it: a plain @grpc/grpc-js
// client streams stereo 8 kHz μ-law keypad calls (one party per channel, 20 ms frames) to the
// whole platform started through the gateway's root, with the `dtmf` model, so every final is
// exact. The client keeps its audio, and after each drop reopens the stream with the session id,
// the index after the last response it processed, and its audio from the byte the first response
// names. Every final must arrive exactly once, and nothing said after a drop may be lost:
// - a cancelled call, resumed on the same replica;
// - two real network drops in a row through a TCP proxy (a reset, then a connection that goes
//   silent, found by the client's HTTP/2 keepalive), each resumed;
// - with Redis (CI's second pass), a resume on a second replica sharing PostgreSQL and Redis: it
//   takes the session over at the commit point, and what the first replica already sent is not
//   sent again; and a drain (SIGTERM's path): the pending utterance's final is sent, the stream
//   ends UNAVAILABLE, and the session goes on on the other replica; and a replica process killed
//   with SIGKILL mid-call, whose session the in-process replica takes over; and one whose client
//   never comes back: once the grace period is over, the live replica stores the session from what
//   the store kept, once.
import * as grpc from "@grpc/grpc-js";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcJsClient, loadGrpcJsPackage } from "../../gateway/testing/clients.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../gateway/testing/platform.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { createTestDatabase, type TestDatabase } from "../app/testing.js";
import { testEnvironment } from "../platform/config/test-environment.js";
import { LiveSession } from "./live-session.entity.js";
import { Transcript } from "../transcripts/transcript.entity.js";
import { startChaosProxy } from "../../gateway/testing/chaos-proxy.js";
import { startReplicaProcess, type ReplicaProcess } from "../../gateway/testing/replica-process.js";
import { configMessage, Connection, FRAME_BYTES, finalsByChannel, nextIndexOf, resumeMessage, stereoCall } from "../../gateway/testing/keypad-calls.js";

const { redisUrl, databaseUrl } = testEnvironment();

describe(`StreamingRecognize resumes without loss (${redisUrl ? "Redis: any replica" : "embedded: one replica"})`, () => {
  const signingKeys = `resume:${randomBytes(32).toString("hex")}`;
  let testDb: TestDatabase;
  let account: TestAccount;
  const platforms: TestPlatform[] = [];
  const pkg = loadGrpcJsPackage();

  async function replica(options: { resumeGraceMs?: number } = {}): Promise<{ platform: TestPlatform; client: grpc.Client }> {
    const platform = await startTestPlatform({ JOB_DEFAULT_MODEL: "dtmf", JWT_SIGNING_KEYS: signingKeys, ...UNTHROTTLED }, { speech: options }, { testDb });
    platforms.push(platform);
    account ??= await registerOwner(platform);
    return { platform, client: grpcJsClient(pkg, "arabicstt.v1.SpeechService", `127.0.0.1:${platform.platform.gateway.grpcPort}`) };
  }

  beforeAll(async () => {
    testDb = await createTestDatabase();
  });

  const processes: ReplicaProcess[] = [];
  afterAll(async () => {
    for (const r of processes.splice(0)) r.kill("SIGKILL");
    for (const p of platforms.splice(0)) await p.stop();
    await testDb?.cleanup();
  });

  it("a cancelled call resumes on the same replica: audio sent after the cancel is recognised, every final once", async () => {
    const { client } = await replica();
    // Channel 1 dials 1234 then 5678; channel 2 dials 90 between them.
    const call = stereoCall(7, [
      [
        [0.3, "1234"],
        [3.6, "5678"],
      ],
      [[2.2, "90"]],
    ]);
    const first = new Connection(client, account.accessToken, configMessage);
    const sessionId = (await first.until((r) => r.metadata !== null)).metadata!.session_id;
    // The first half of the call, up to the middle of "5678", then the client cancels.
    await first.send(call.subarray(0, FRAME_BYTES * Math.round(4.0 * 50)));
    await first.until((r) => r.results.some((x) => x.is_final && x.channel_tag === 2));
    first.cancel();
    expect((await first.ended)?.code).toBe(grpc.status.CANCELLED);

    const second = new Connection(client, account.accessToken, resumeMessage(sessionId, nextIndexOf(first)));
    const head = await second.until((r) => r.metadata !== null);
    expect(head.metadata!.session_id).toBe(sessionId);
    const from = Number(head.metadata!.audio_bytes_received);
    expect(from).toBeGreaterThan(0);
    await second.send(call.subarray(from));
    second.end();
    expect(await second.ended).toBeUndefined();
    expect(finalsByChannel([first, second])).toEqual({ 1: ["1234", "5678"], 2: ["90"] });
    expect(second.responses.at(-1)!.metadata!.audio_bytes_received).toBe(String(call.length));
  });

  it.skipIf(!redisUrl)("a resume on another replica takes the session over: what the first replica sent is not sent again, and nothing is lost", async () => {
    const a = await replica();
    const b = await replica();
    // Channel 2 is mid-call (its digits run on) when channel 1's first final comes out: the
    // commit point cannot pass channel 1's final, so the second replica hears it again.
    const call = stereoCall(9, [
      [
        [0.2, "12"],
        [6.0, "78"],
      ],
      [[0.9, "3456789"]],
    ]);
    const first = new Connection(a.client, account.accessToken, configMessage);
    const sessionId = (await first.until((r) => r.metadata !== null)).metadata!.session_id;
    const sending = first.send(call.subarray(0, FRAME_BYTES * Math.round(2.2 * 50)));
    await first.until((r) => r.results.some((x) => x.is_final && x.channel_tag === 1));
    await sending;
    first.cancel();
    await first.ended;

    const second = new Connection(b.client, account.accessToken, resumeMessage(sessionId, nextIndexOf(first)));
    const head = await second.until((r) => r.metadata !== null);
    const from = Number(head.metadata!.audio_bytes_received);
    // Taken over at the commit point: before where the first replica had got to.
    expect(from % 2).toBe(0);
    expect(from).toBeLessThan(FRAME_BYTES * Math.round(2.2 * 50));
    await second.send(call.subarray(from));
    second.end();
    expect(await second.ended).toBeUndefined();
    expect(finalsByChannel([first, second])).toEqual({ 1: ["12", "78"], 2: ["3456789"] });

    // Stored once, by the replica that ended it, with every final once.
    const em = testDb.db.fork();
    for (let i = 0; i < 50 && !(await em.findOne(LiveSession, { id: sessionId })); i++) await new Promise((r) => setTimeout(r, 100));
    const row = await em.findOne(LiveSession, { id: sessionId });
    expect(row).not.toBeNull();
  });

  it.skipIf(!redisUrl)("a draining replica sends the pending utterance's final, ends the stream UNAVAILABLE, and the session goes on elsewhere", async () => {
    const a = await replica();
    const b = await replica();
    const call = stereoCall(6, [[[0.3, "123456"]], [[3.5, "99"]]]);
    const first = new Connection(a.client, account.accessToken, configMessage);
    const sessionId = (await first.until((r) => r.metadata !== null)).metadata!.session_id;
    // Stop in the middle of channel 1's digits: the drain's FINALIZE cuts them into a final now.
    await first.send(call.subarray(0, FRAME_BYTES * Math.round(1.0 * 50)));
    const stopping = a.platform.stop();
    const error = await first.ended;
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(decodeURIComponent(error!.details)).toMatch(new RegExp(`resume live session ${sessionId} on another server`));
    await stopping;
    const beforeDrain = finalsByChannel([first])[1]!.join("");
    expect(beforeDrain.length).toBeGreaterThan(0);

    const second = new Connection(b.client, account.accessToken, resumeMessage(sessionId, nextIndexOf(first)));
    const from = Number((await second.until((r) => r.metadata !== null)).metadata!.audio_bytes_received);
    await second.send(call.subarray(from));
    second.end();
    expect(await second.ended).toBeUndefined();
    const finals = finalsByChannel([first, second]);
    expect(finals[1]!.join("")).toBe("123456");
    expect(finals[2]).toEqual(["99"]);
  });
  it("survives two network drops in a row through a proxy (a reset, then a connection gone silent), every final once", async () => {
    const { platform } = await replica();
    const proxy = await startChaosProxy({ target: { host: "127.0.0.1", port: platform.platform.gateway.grpcPort } });
    // The client finds a silent connection with HTTP/2 keepalive, as SDKs for live audio are configured.
    const client = grpcJsClient(pkg, "arabicstt.v1.SpeechService", `127.0.0.1:${proxy.port}`, {}, {
      "grpc.keepalive_time_ms": 500,
      "grpc.keepalive_timeout_ms": 500,
      "grpc.keepalive_permit_without_calls": 1,
    });
    try {
      const call = stereoCall(9, [
        [
          [0.3, "12"],
          [3.3, "34"],
          [6.3, "56"],
        ],
        [[1.8, "7"]],
      ]);
      const connections: Connection[] = [];
      const first = new Connection(client, account.accessToken, configMessage);
      connections.push(first);
      const sessionId = (await first.until((r) => r.metadata !== null)).metadata!.session_id;
      await first.send(call.subarray(0, FRAME_BYTES * 150));
      await first.until((r) => r.results.some((x) => x.is_final && x.channel_tag === 1));
      proxy.reset();
      expect((await first.ended)?.code).toBe(grpc.status.UNAVAILABLE);

      // Second connection: resumed, then the network goes silent in the middle of "34".
      const second = new Connection(client, account.accessToken, resumeMessage(sessionId, nextIndexOf(first)));
      connections.push(second);
      let from = Number((await second.until((r) => r.metadata !== null)).metadata!.audio_bytes_received);
      await second.send(call.subarray(from, FRAME_BYTES * 175));
      proxy.freeze();
      await second.send(call.subarray(FRAME_BYTES * 175, FRAME_BYTES * 200));
      expect((await second.ended)?.code).toBe(grpc.status.UNAVAILABLE);
      proxy.thaw();

      // Third connection: resumed from what the server says it received; the rest of the call.
      const third = new Connection(client, account.accessToken, resumeMessage(sessionId, nextIndexOf(second) || nextIndexOf(first)));
      connections.push(third);
      from = Number((await third.until((r) => r.metadata !== null)).metadata!.audio_bytes_received);
      expect(from).toBeLessThanOrEqual(FRAME_BYTES * 200);
      await third.send(call.subarray(from));
      third.end();
      expect(await third.ended).toBeUndefined();
      expect(finalsByChannel(connections)).toEqual({ 1: ["12", "34", "56"], 2: ["7"] });
      // Every byte of the call reached the recognition: none sent on the last connection went unheard.
      expect(third.responses.at(-1)!.metadata!.audio_bytes_received).toBe(String(call.length));
    } finally {
      client.close();
      await proxy.close();
    }
  });

  // A second process needs a database it can share: a real PostgreSQL (and Redis for the session).
  it.skipIf(!redisUrl || !databaseUrl)("a replica killed with SIGKILL mid-call: the session resumes on the other replica, every final once", async () => {
    const b = await replica();
    const a = await startReplicaProcess({ DATABASE_URL: testDb.url!, REDIS_URL: redisUrl!, JWT_SIGNING_KEYS: signingKeys, JOB_DEFAULT_MODEL: "dtmf", ...UNTHROTTLED });
    processes.push(a);
    const onA = grpcJsClient(pkg, "arabicstt.v1.SpeechService", `127.0.0.1:${a.grpcPort}`);
    try {
      const call = stereoCall(8, [
        [
          [0.3, "12"],
          [4.5, "90"],
        ],
        [[2.0, "345"]],
      ]);
      const first = new Connection(onA, account.accessToken, configMessage);
      const sessionId = (await first.until((r) => r.metadata !== null)).metadata!.session_id;
      await first.send(call.subarray(0, FRAME_BYTES * 140));
      await first.until((r) => r.results.some((x) => x.is_final && x.channel_tag === 1));
      a.kill("SIGKILL");
      expect((await a.exited).signal).toBe("SIGKILL");
      expect((await first.ended)?.code).toBe(grpc.status.UNAVAILABLE);

      const second = new Connection(b.client, account.accessToken, resumeMessage(sessionId, nextIndexOf(first)));
      const from = Number((await second.until((r) => r.metadata !== null)).metadata!.audio_bytes_received);
      await second.send(call.subarray(from));
      second.end();
      expect(await second.ended).toBeUndefined();
      expect(finalsByChannel([first, second])).toEqual({ 1: ["12", "90"], 2: ["345"] });
    } finally {
      onA.close();
    }
  });
  it.skipIf(!redisUrl || !databaseUrl)("a session whose replica died and whose client never came back is stored by a live replica after the grace period", async () => {
    const graceMs = 1500;
    await replica({ resumeGraceMs: graceMs });
    const a = await startReplicaProcess({ DATABASE_URL: testDb.url!, REDIS_URL: redisUrl!, JWT_SIGNING_KEYS: signingKeys, JOB_DEFAULT_MODEL: "dtmf", LIVE_RESUME_GRACE_MS: String(graceMs), ...UNTHROTTLED });
    processes.push(a);
    const onA = grpcJsClient(pkg, "arabicstt.v1.SpeechService", `127.0.0.1:${a.grpcPort}`);
    try {
      const call = stereoCall(5, [[[0.3, "2468"]], [[1.5, "13"]]]);
      const first = new Connection(onA, account.accessToken, configMessage);
      const sessionId = (await first.until((r) => r.metadata !== null)).metadata!.session_id;
      await first.send(call);
      await first.until((r) => r.results.some((x) => x.is_final && x.channel_tag === 2));
      a.kill("SIGKILL");
      await a.exited;

      // Claimed once the grace period is over and the dead replica's heartbeat (15 s) has lapsed.
      const em = testDb.db.fork();
      let transcript: Transcript | null = null;
      for (let i = 0; i < 400 && !transcript; i++) {
        await new Promise((r) => setTimeout(r, 100));
        transcript = await em.fork().findOne(Transcript, { liveSession: sessionId });
      }
      expect(transcript, "the orphaned session's transcript").not.toBeNull();
      expect(transcript!.text.replace(/\s+/g, " ")).toMatch(/2468.*13|13.*2468/);
      expect((await em.fork().findOne(LiveSession, { id: sessionId }))?.status).toBe("failed");
    } finally {
      onA.close();
    }
  }, 120_000);
  it.skipIf(Boolean(redisUrl))("embedded (no other replica to resume on): a stopping platform closes each live stream with the finals of what it heard", async () => {
    const { platform, client } = await replica();
    const call = stereoCall(3, [[[0.3, "5555"]], [[0.5, "66"]]]);
    const first = new Connection(client, account.accessToken, configMessage);
    await first.until((r) => r.metadata !== null);
    await first.send(call.subarray(0, FRAME_BYTES * 60));
    await platform.stop();
    expect(await first.ended).toBeUndefined();
    const finals = finalsByChannel([first]);
    expect(finals[1]!.join("")).toBe("5555");
    expect(finals[2]!.join("")).toBe("66");
    expect(first.responses.at(-1)!.metadata!.audio_bytes_received).toBe(String(FRAME_BYTES * 60));
  });
});
