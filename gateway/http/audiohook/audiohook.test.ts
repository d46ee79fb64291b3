// Genesys Cloud AudioHook (issue 19, item 3), driven by a simulator written from the protocol's definition
// (simulator.ts): a signed stereo session where the customer (external channel) presses 12 and the agent
// (internal) 34 becomes a live session that can be watched while the call runs, whose stored transcript and
// `live_session.closed` webhook event hold the right keys per channel; a connection probe is answered without
// making a call; a request whose signature is missing, wrong or replayed is refused with `disconnect`
// (unauthorized); a call over the organisation's live-stream limit, and a message that breaks the protocol,
// end only that session with `disconnect` (error); a gateway that drains tells its sessions `disconnect`
// (completed) and stores their calls.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService, ApiKeyScope } from "../../../proto/gen/arabicstt/v1/api_key_pb.js";
import { SpeechService } from "../../../proto/gen/arabicstt/v1/speech_pb.js";
import { TranscriptService } from "../../../proto/gen/arabicstt/v1/transcript_pb.js";
import { WebhookEventType, WebhookService } from "../../../proto/gen/arabicstt/v1/webhook_pb.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../testing/platform.js";
import { registerOwner, type TestAccount } from "../../testing/accounts.js";
import { mulawKeys } from "../twilio/simulator.js";
import { AUDIOHOOK_PATH, NULL_UUID } from "./audiohook.js";
import { audioHookHeaders, simulateAudioHookCall, type AudioHookCallOptions } from "./simulator.js";

const clientSecret = randomBytes(32);
// One call at a time per organisation, so the limit's test needs no more than two.
const env = { ...UNTHROTTLED, MAX_LIVE_STREAMS_PER_ORG: "1", LOG_LEVEL: "info", WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", AUDIOHOOK_CLIENT_SECRET: clientSecret.toString("base64") };
const genesysOrganizationId = randomUUID();
let h: TestPlatform;
let owner: TestAccount;
let key: string;
let url: string;

beforeAll(async () => {
  h = await startTestPlatform(env);
  owner = await registerOwner(h);
  key = (await h.client(ApiKeyService, { credential: owner.accessToken }).createApiKey({ name: "genesys", scopes: [ApiKeyScope.SPEECH] })).secret;
  // Nothing listens there: the delivery is recorded with its payload, which is what is checked.
  await h.client(WebhookService, { credential: owner.accessToken }).createWebhook({ url: "https://127.0.0.1:9/hook", eventTypes: [WebhookEventType.LIVE_SESSION_CLOSED] });
  url = `ws://127.0.0.1:${h.platform.gateway.httpPort}${AUDIOHOOK_PATH}`;
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

const call = (options: Partial<AudioHookCallOptions>) =>
  simulateAudioHookCall({ url, apiKey: key, clientSecret, organizationId: genesysOrganizationId, external: new Uint8Array(1600).fill(0xff), internal: new Uint8Array(1600).fill(0xff), ...options });

async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, tries = 200): Promise<T> {
  let value = await read();
  for (let n = 0; n < tries && !check(value); n++) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}

/** `audio` followed by silence up to `length` bytes: a call that goes on after its keys. */
function padded(audio: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(Math.max(length, audio.length)).fill(0xff);
  out.set(audio);
  return out;
}

const types = (received: Array<{ type: string }>) => received.map((m) => m.type);
const metricsText = async () => (await fetch(`http://127.0.0.1:${h.platform.gateway.httpPort}/metrics`)).text();

describe("Genesys AudioHook", () => {
  it("recognises both channels of a signed session, watchable live: stored transcript and webhook event per channel", async () => {
    const sessionId = randomUUID();
    const conversationId = randomUUID();
    const running = call({
      sessionId,
      conversationId,
      external: mulawKeys("12", 200),
      internal: mulawKeys("34", 600),
      customConfig: { model: "dtmf" },
      language: "ar-EG",
      pause: { atMs: 1000, forMs: 300 },
      paced: true,
    });
    // The call is a live session of the platform, watched here while Genesys streams it.
    const opened = await eventually(
      async () => h.logs.find((l) => l.msg === "AudioHook session opened" && l.audiohook_session_id === sessionId),
      (l) => l !== undefined,
    );
    const watched: Record<number, string> = {};
    for await (const response of h.client(SpeechService, { credential: owner.accessToken }).watchLiveSession({ sessionId: String(opened!.session_id) })) {
      for (const r of response.results) if (r.isFinal) watched[r.channelTag] = (watched[r.channelTag] ?? "") + r.alternatives[0]!.transcript;
    }
    const ended = await running;
    expect(ended.closeCode).toBe(1000);
    expect(types(ended.received)).toEqual(["opened", "pong", "updated", "closed"]);
    expect(ended.received[0]!.parameters).toEqual({ media: [{ type: "audio", format: "PCMU", channels: ["external", "internal"], rate: 8000 }], startPaused: false });
    // Each server message answers with its own seq, one up, and the last client seq it had seen.
    expect(ended.received.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(ended.received.every((m) => m.id === sessionId && m.version === "2")).toBe(true);
    expect(watched).toEqual({ 1: "12", 2: "34" });

    const transcripts = h.client(TranscriptService, { credential: owner.accessToken });
    const listed = await eventually(() => transcripts.listTranscripts({}), (r) => r.transcripts.length > 0);
    expect(listed.transcripts).toHaveLength(1);
    const { segments } = await transcripts.getTranscript({ transcriptId: listed.transcripts[0]!.transcriptId });
    const byChannel: Record<number, string> = {};
    for (const s of segments) byChannel[s.channelTag] = (byChannel[s.channelTag] ?? "") + s.text;
    expect(byChannel).toEqual({ 1: "12", 2: "34" });

    const webhooks = h.client(WebhookService, { credential: owner.accessToken });
    const deliveries = await eventually(() => webhooks.listDeliveries({}), (r) => r.deliveries.some((d) => d.payload.includes(sessionId)));
    const event = JSON.parse(deliveries.deliveries.find((d) => d.payload.includes(sessionId))!.payload) as { type: string; data: Record<string, unknown> };
    expect(event.type).toBe("live_session.closed");
    expect(event.data).toMatchObject({
      source: "genesys",
      state: "LIVE_SESSION_STATE_CLOSED",
      audiohook: { sessionId, conversationId, organizationId: genesysOrganizationId, channels: ["external", "internal"], language: "ar-SA", languageUpdates: ["ar-EG"], pauses: 1, discardedSeconds: 0.3, closeReason: "end" },
    });
    const results = event.data.results as Array<{ channelTag: number; channel: string; transcript: string }>;
    expect(results.map((r) => [r.channelTag, r.channel, r.transcript]).sort()).toEqual([
      [1, "external", "12"],
      [2, "internal", "34"],
    ]);
    expect(JSON.stringify(event)).not.toContain(key);
    const metrics = await metricsText();
    expect(metrics).toMatch(/arabicstt_audiohook_frames_total [1-9]/);
    expect(metrics).toMatch(/arabicstt_audiohook_audio_bytes_total [1-9]/);
  }, 60_000);

  it("answers a connection probe (the null conversation id) without making a call", async () => {
    const before = (await h.client(TranscriptService, { credential: owner.accessToken }).listTranscripts({})).transcripts.length;
    const probe = await call({ conversationId: NULL_UUID });
    expect(types(probe.received)).toEqual(["opened", "pong", "closed"]);
    const metrics = await eventually(metricsText, (text) => text.includes('arabicstt_audiohook_calls_total{outcome="probe"} 1'));
    expect(metrics).toContain('arabicstt_audiohook_calls_total{outcome="probe"} 1');
    expect((await h.client(TranscriptService, { credential: owner.accessToken }).listTranscripts({})).transcripts).toHaveLength(before);
  }, 30_000);

  it("refuses an unsigned, a wrongly signed, a tampered and a replayed request, and an unknown key, with disconnect (unauthorized)", async () => {
    const unauthorized = (c: { received: Array<{ type: string; parameters: Record<string, unknown> }> }) => c.received[0]?.type === "disconnect" && c.received[0].parameters.reason === "unauthorized";
    const unsigned = await call({ clientSecret: null });
    expect(unauthorized(unsigned)).toBe(true);
    // The client answers the disconnect with a close transaction, which the server completes.
    expect(types(unsigned.received)).toEqual(["disconnect", "closed"]);
    expect(unauthorized(await call({ clientSecret: randomBytes(32) }))).toBe(true);
    expect(unauthorized(await call({ tamper: (headers) => ({ ...headers, "Audiohook-Organization-Id": randomUUID() }) }))).toBe(true);
    // A key the platform does not know, correctly signed: the signature passes, the open does not.
    expect(unauthorized(await call({ apiKey: "astt_not_ours_000000000000000000000000000000" }))).toBe(true);
    expect(unauthorized(await call({ apiKey: "astt_not_ours_000000000000000000000000000000", conversationId: NULL_UUID }))).toBe(true);
    const sessionId = randomUUID();
    const headers = audioHookHeaders(new URL(url), { organizationId: genesysOrganizationId, sessionId, correlationId: randomUUID(), apiKey: key }, clientSecret);
    const first = await call({ sessionId, conversationId: NULL_UUID, tamper: () => headers });
    expect(types(first.received)).toEqual(["opened", "pong", "closed"]);
    expect(unauthorized(await call({ sessionId, conversationId: NULL_UUID, tamper: () => headers }))).toBe(true);
    const metrics = await eventually(metricsText, (text) => /arabicstt_audiohook_calls_total\{outcome="unauthorized"\} 6/.test(text));
    expect(metrics).toMatch(/arabicstt_audiohook_errors_total\{reason="unauthorized"\} 6/);
  }, 30_000);

  it("holds an organisation's concurrent calls to its live-stream limit: the call over it gets disconnect (error), the next after it is served", async () => {
    const sessionId = randomUUID();
    const holding = call({ sessionId, external: mulawKeys("5", 200), internal: mulawKeys("6", 200), customConfig: { model: "dtmf" }, paced: true });
    await eventually(
      async () => h.logs.find((l) => l.msg === "AudioHook session opened" && l.audiohook_session_id === sessionId),
      (l) => l !== undefined,
    );
    const over = await call({ customConfig: { model: "dtmf" } });
    expect(over.received.map((m) => [m.type, m.parameters.reason])).toEqual([
      ["disconnect", "error"],
      ["closed", undefined],
    ]);
    expect(over.received[0]!.parameters.info).toMatch(/already has 1 live streams open, its limit/);
    expect(types((await holding).received)).toEqual(["opened", "pong", "closed"]);
    // The slot is free once the first call's session is closed.
    const next = await eventually(
      () => call({ customConfig: { model: "dtmf" } }),
      (c) => c.received[0]?.type === "opened",
      20,
    );
    expect(types(next.received)).toEqual(["opened", "pong", "closed"]);
    const metrics = await metricsText();
    expect(metrics).toMatch(/arabicstt_audiohook_errors_total\{reason="refused"\} 1/);
  }, 60_000);

  it("ends a session that breaks the protocol with disconnect (error), only that session; the next is served", async () => {
    const sessionId = randomUUID();
    const broken = [
      "{not json",
      JSON.stringify({ version: "2", id: sessionId, type: "ping", seq: 5, serverseq: 1, position: "PT0S", parameters: {} }),
      JSON.stringify({ version: "2", id: sessionId, type: "dance", seq: 2, serverseq: 1, position: "PT0S", parameters: {} }),
      Uint8Array.of(0xff, 0xff, 0xff),
    ];
    for (const message of broken) {
      const ended = await call({ sessionId, conversationId: NULL_UUID, inject: [message] });
      expect(ended.received.map((m) => [m.type, m.parameters.reason])).toEqual([
        ["opened", undefined],
        ["disconnect", "error"],
        ["closed", undefined],
      ]);
    }
    const next = await call({ conversationId: NULL_UUID });
    expect(types(next.received)).toEqual(["opened", "pong", "closed"]);
    const metrics = await eventually(metricsText, (text) => /arabicstt_audiohook_errors_total\{reason="malformed"\} 4/.test(text));
    expect(metrics).toMatch(/arabicstt_audiohook_errors_total\{reason="malformed"\} 4/);
    // The four broken sessions, and the call over the limit in the test before.
    expect(metrics).toMatch(/arabicstt_audiohook_calls_total\{outcome="error"\} 5/);
    expect(metrics).toContain("arabicstt_audiohook_calls_active 0");
    expect((await fetch(`http://127.0.0.1:${h.platform.gateway.httpPort}/healthz`)).status).toBe(200);
  }, 30_000);

  it("when a gateway drains, tells its sessions with disconnect (completed) and stores their calls", async () => {
    // A second replica on the same database: it is stopped here, and what it stored is read through the first.
    const replica = await startTestPlatform(env, {}, { testDb: h.testDb });
    const sessionId = randomUUID();
    const running = simulateAudioHookCall({
      url: `ws://127.0.0.1:${replica.platform.gateway.httpPort}${AUDIOHOOK_PATH}`,
      apiKey: key,
      clientSecret,
      organizationId: genesysOrganizationId,
      sessionId,
      external: padded(mulawKeys("7", 100), 8000 * 30),
      internal: new Uint8Array(8000 * 30).fill(0xff),
      customConfig: { model: "dtmf" },
      paced: true,
    });
    await eventually(
      async () => replica.logs.find((l) => l.msg === "AudioHook session opened" && l.audiohook_session_id === sessionId),
      (l) => l !== undefined,
    );
    await new Promise((r) => setTimeout(r, 1500));
    await replica.stop();
    const ended = await running;
    expect(ended.received.map((m) => [m.type, m.parameters.reason])).toEqual([
      ["opened", undefined],
      ["pong", undefined],
      ["disconnect", "completed"],
    ]);
    const webhooks = h.client(WebhookService, { credential: owner.accessToken });
    const deliveries = await eventually(() => webhooks.listDeliveries({}), (r) => r.deliveries.some((d) => d.payload.includes(sessionId)));
    const event = JSON.parse(deliveries.deliveries.find((d) => d.payload.includes(sessionId))!.payload) as { data: Record<string, unknown> };
    expect(event.data).toMatchObject({ source: "genesys", state: "LIVE_SESSION_STATE_CLOSED", audiohook: { sessionId, closeReason: "" } });
    expect((event.data.results as Array<{ channel: string; transcript: string }>).map((r) => [r.channel, r.transcript])).toEqual([["external", "7"]]);
  }, 90_000);
});
