// Asterisk AudioSocket (issue 19, item 4), driven by a simulator written from the protocol's definition: a call
// (one party, as one AudioSocket connection carries) pressing 159 becomes a live session whose stored
// transcript and `live_session.closed` webhook event hold the keys, with the DTMF frames Asterisk reported;
// a malformed frame ends only that call, with an error frame, and the next call is served. The listener is
// the platform's own, turned on by AUDIOSOCKET_PORT with the key of AUDIOSOCKET_API_KEY: that key is made on a
// first start of the platform, and a second start on the same database takes it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService, ApiKeyScope } from "../../../proto/gen/arabicstt/v1/api_key_pb.js";
import { AuthService } from "../../../proto/gen/arabicstt/v1/auth_pb.js";
import { OrganizationService } from "../../../proto/gen/arabicstt/v1/organization_pb.js";
import { TranscriptService } from "../../../proto/gen/arabicstt/v1/transcript_pb.js";
import { WebhookEventType, WebhookService } from "../../../proto/gen/arabicstt/v1/webhook_pb.js";
import { createTestDatabase } from "../../../services/app/testing.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../testing/platform.js";
import { registerOwner, TEST_PASSWORD } from "../../testing/accounts.js";
import { AudioSocketErrorCode } from "./audiosocket.js";
import { encodeFrame, FrameKind, uuidBytes } from "./frames.js";
import { audioSocketCall, simulateAudioSocketCall, slinKeys } from "./simulator.js";

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

const env = { ...UNTHROTTLED, LOG_LEVEL: "silent", WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_SECRET_KEY: "audiosocket-test-webhook-secret-key-0123456789" };
let testDb: TestDatabase;
let h: TestPlatform;
let accessToken: string;
let key: string;
let keyId: string;
let port: number;

beforeAll(async () => {
  testDb = await createTestDatabase();
  const first = await startTestPlatform(env, {}, { testDb });
  try {
    const owner = await registerOwner(first);
    // AudioSocket names no model: the organisation's default is the one its calls use.
    await first.client(OrganizationService, { credential: owner.accessToken }).updateOrganization({ defaultModel: "dtmf" });
    const created = await first.client(ApiKeyService, { credential: owner.accessToken }).createApiKey({ name: "asterisk", scopes: [ApiKeyScope.SPEECH] });
    key = created.secret;
    keyId = created.apiKey!.apiKeyId;
    h = await startTestPlatform({ ...env, AUDIOSOCKET_PORT: "0", AUDIOSOCKET_API_KEY: key }, {}, { testDb });
    accessToken = (await h.client(AuthService).login({ email: owner.email, password: TEST_PASSWORD })).tokens!.accessToken;
  } finally {
    await first.stop();
  }
  // Nothing listens there: the delivery is recorded with its payload, which is what is checked.
  await h.client(WebhookService, { credential: accessToken }).createWebhook({ url: "https://127.0.0.1:9/hook", eventTypes: [WebhookEventType.LIVE_SESSION_CLOSED] });
  port = h.platform.audioSocket!.port();
}, 180_000);

afterAll(async () => {
  await h?.stop();
  await testDb?.cleanup();
});

async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, tries = 200): Promise<T> {
  let value = await read();
  for (let n = 0; n < tries && !check(value); n++) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}

describe("Asterisk AudioSocket", () => {
  it("recognises a call's keys: stored transcript and webhook event, with the DTMF Asterisk reported", async () => {
    const uuid = "40325ec2-5efd-4bd3-805f-53576e581d13";
    const call = await simulateAudioSocketCall(port, audioSocketCall({ uuid, audio: slinKeys("159", 200), dtmf: "159" }));
    expect(call.received).toEqual([]);

    const transcripts = h.client(TranscriptService, { credential: accessToken });
    const listed = await eventually(() => transcripts.listTranscripts({}), (r) => r.transcripts.length > 0);
    expect(listed.transcripts).toHaveLength(1);
    const { segments } = await transcripts.getTranscript({ transcriptId: listed.transcripts[0]!.transcriptId });
    expect(segments.map((s) => s.text).join("")).toBe("159");

    const webhooks = h.client(WebhookService, { credential: accessToken });
    const deliveries = await eventually(() => webhooks.listDeliveries({}), (r) => r.deliveries.length > 0);
    const event = JSON.parse(deliveries.deliveries.find((d) => d.payload.includes(uuid))!.payload) as { type: string; data: Record<string, unknown> };
    expect(event.type).toBe("live_session.closed");
    expect(event.data).toMatchObject({ source: "asterisk", state: "LIVE_SESSION_STATE_CLOSED", audiosocket: { uuid, sampleRateHz: 8000, dtmf: "159", endReason: "hangup" } });
    const results = event.data.results as Array<{ channelTag: number; transcript: string }>;
    expect(results.map((r) => r.transcript).join("")).toBe("159");
    expect(JSON.stringify(event)).not.toContain(key);
  }, 60_000);

  it("ends a call with a malformed frame with an error frame, only that call; the next call is served", async () => {
    const uuidFrame = encodeFrame(FrameKind.Uuid, uuidBytes("5a1e0000-0000-4000-8000-000000000001"));
    const malformed = { kind: FrameKind.Error, payload: Buffer.of(AudioSocketErrorCode.Malformed) };
    const unknownKind = await simulateAudioSocketCall(port, [uuidFrame, encodeFrame(0x42, Buffer.from("?"))]);
    expect(unknownKind.received).toEqual([malformed]);
    const audioFirst = await simulateAudioSocketCall(port, [encodeFrame(FrameKind.Audio, Buffer.alloc(320))]);
    expect(audioFirst.received).toEqual([malformed]);
    const oddAudio = await simulateAudioSocketCall(port, [uuidFrame, encodeFrame(FrameKind.Audio, Buffer.alloc(321))]);
    expect(oddAudio.received).toEqual([malformed]);
    const rateChange = await simulateAudioSocketCall(port, [uuidFrame, encodeFrame(FrameKind.Audio, Buffer.alloc(320)), encodeFrame(0x12, Buffer.alloc(640))]);
    expect(rateChange.received).toEqual([malformed]);

    // The next call is served: 16 kHz audio (kind 0x12, Asterisk 20+'s channel driver), its keys found.
    const healthy = await simulateAudioSocketCall(port, audioSocketCall({ uuid: "5a1e0000-0000-4000-8000-000000000002", audio: slinKeys("7", 200, 16_000), sampleRate: 16_000 }));
    expect(healthy.received).toEqual([]);
    const webhooks = h.client(WebhookService, { credential: accessToken });
    const deliveries = await eventually(() => webhooks.listDeliveries({}), (r) => r.deliveries.some((d) => d.payload.includes("5a1e0000-0000-4000-8000-000000000002")));
    const event = JSON.parse(deliveries.deliveries.find((d) => d.payload.includes("5a1e0000-0000-4000-8000-000000000002"))!.payload) as { data: Record<string, unknown> };
    expect(event.data).toMatchObject({ audiosocket: { sampleRateHz: 16_000 } });
    expect((event.data.results as Array<{ transcript: string }>).map((r) => r.transcript).join("")).toBe("7");
    const metrics = await eventually(
      async () => (await fetch(`http://127.0.0.1:${h.platform.gateway.httpPort}/metrics`)).text(),
      (text) => text.includes('arabicstt_audiosocket_calls_total{reason="hangup"} 2'),
    );
    expect(metrics).toContain('arabicstt_audiosocket_calls_total{reason="malformed"} 4');
    expect(metrics).toContain('arabicstt_audiosocket_calls_total{reason="hangup"} 2');
    expect(metrics).toContain("arabicstt_audiosocket_calls_active 0");
    expect(metrics).toContain('arabicstt_audiosocket_errors_total{reason="malformed"} 4');
    expect(metrics).toMatch(/arabicstt_audiosocket_frames_total [1-9]\d+/);
    expect(metrics).toMatch(/arabicstt_audiosocket_audio_bytes_total [1-9]\d+/);
  }, 60_000);

  it("refuses the calls once the configured key is revoked, with error frame 0x11", async () => {
    await h.client(ApiKeyService, { credential: accessToken }).revokeApiKey({ apiKeyId: keyId });
    const call = () => simulateAudioSocketCall(port, audioSocketCall({ uuid: "5a1e0000-0000-4000-8000-000000000003", audio: Buffer.alloc(3200), hangup: false }));
    const refused = await eventually(call, (c) => c.received.length > 0, 20);
    expect(refused.received).toEqual([{ kind: FrameKind.Error, payload: Buffer.of(AudioSocketErrorCode.Refused) }]);
    const metrics = await (await fetch(`http://127.0.0.1:${h.platform.gateway.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/arabicstt_audiosocket_calls_total\{reason="refused"\} [1-9]/);
  }, 60_000);
});
