// Twilio Media Streams (issue 19, item 2), driven by a simulator written from Twilio's message reference
// (https://www.twilio.com/docs/voice/media-streams/websocket-messages): a stereo call with different keys per
// party (the caller presses 12, the agent 34) becomes a live session whose stored transcript and
// `live_session.closed` webhook event hold the right keys per channel; a malformed message or a <Stream>
// without a key ends only that call, with a WebSocket close code.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService, ApiKeyScope } from "../../../proto/gen/arabicstt/v1/api_key_pb.js";
import { TranscriptService } from "../../../proto/gen/arabicstt/v1/transcript_pb.js";
import { WebhookEventType, WebhookService } from "../../../proto/gen/arabicstt/v1/webhook_pb.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../testing/platform.js";
import { registerOwner, type TestAccount } from "../../testing/accounts.js";
import { TWILIO_MEDIA_STREAM_PATH } from "./media-streams.js";
import { mulawKeys, simulateCall, twilioCall, type TwilioMessage } from "./simulator.js";

let h: TestPlatform;
let owner: TestAccount;
let key: string;
let url: string;

beforeAll(async () => {
  h = await startTestPlatform({ ...UNTHROTTLED, LOG_LEVEL: "silent", WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" });
  owner = await registerOwner(h);
  key = (await h.client(ApiKeyService, { credential: owner.accessToken }).createApiKey({ name: "twilio", scopes: [ApiKeyScope.SPEECH] })).secret;
  // Nothing listens there: the delivery is recorded with its payload, which is what is checked.
  await h.client(WebhookService, { credential: owner.accessToken }).createWebhook({ url: "https://127.0.0.1:9/hook", eventTypes: [WebhookEventType.LIVE_SESSION_CLOSED] });
  url = `ws://127.0.0.1:${h.platform.gateway.httpPort}${TWILIO_MEDIA_STREAM_PATH}`;
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

/** Sends a call's messages all at once and waits for the server to close the socket. */
const simulate = (messages: Array<string | TwilioMessage>) => simulateCall(url, messages);

async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, tries = 200): Promise<T> {
  let value = await read();
  for (let n = 0; n < tries && !check(value); n++) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}

describe("Twilio Media Streams", () => {
  it("recognises both tracks of a call as two channels: stored transcript and webhook event per channel", async () => {
    const callSid = "CA11111111111111111111111111111111";
    const ended = await simulate(
      twilioCall({ callSid, parameters: { api_key: key, model: "dtmf", agent: "ريم" }, inbound: mulawKeys("12", 200), outbound: mulawKeys("34", 600) }),
    );
    expect(ended.closeCode).toBe(1000);

    const transcripts = h.client(TranscriptService, { credential: owner.accessToken });
    const listed = await eventually(() => transcripts.listTranscripts({}), (r) => r.transcripts.length > 0);
    expect(listed.transcripts).toHaveLength(1);
    const { segments } = await transcripts.getTranscript({ transcriptId: listed.transcripts[0]!.transcriptId });
    const byChannel: Record<number, string> = {};
    for (const s of segments) byChannel[s.channelTag] = (byChannel[s.channelTag] ?? "") + s.text;
    expect(byChannel).toEqual({ 1: "12", 2: "34" });

    const webhooks = h.client(WebhookService, { credential: owner.accessToken });
    const deliveries = await eventually(() => webhooks.listDeliveries({}), (r) => r.deliveries.length > 0);
    const event = JSON.parse(deliveries.deliveries[0]!.payload) as { type: string; data: Record<string, unknown> };
    expect(event.type).toBe("live_session.closed");
    expect(event.data).toMatchObject({
      source: "twilio",
      state: "LIVE_SESSION_STATE_CLOSED",
      twilio: { callSid, streamSid: `MZ${callSid.slice(2)}`, tracks: ["inbound", "outbound"], customParameters: { model: "dtmf", agent: "ريم" } },
    });
    const results = event.data.results as Array<{ channelTag: number; track: string; transcript: string }>;
    expect(results.map((r) => [r.channelTag, r.track, r.transcript]).sort()).toEqual([
      [1, "inbound", "12"],
      [2, "outbound", "34"],
    ]);
    expect(JSON.stringify(event)).not.toContain(key);
  }, 60_000);

  it("ends a call whose message is not JSON with 1007, and one without a key with 1008; the next call is served", async () => {
    const start = twilioCall({ callSid: "CA22222222222222222222222222222222", parameters: { api_key: key, model: "dtmf" }, inbound: new Uint8Array(0), outbound: new Uint8Array(0) }).slice(0, 2);
    const garbled = await simulate([...start, "{not json"]);
    expect(garbled.closeCode).toBe(1007);
    const keyless = twilioCall({ callSid: "CA33333333333333333333333333333333", parameters: { model: "dtmf" }, inbound: new Uint8Array(0), outbound: new Uint8Array(0) });
    const refused = await simulate(keyless.slice(0, 2));
    expect(refused.closeCode).toBe(1008);
    expect(refused.closeReason).toMatch(/api_key/);
    const stranger = await simulate(twilioCall({ callSid: "CA44444444444444444444444444444444", parameters: { api_key: "astt_not_ours_000000000000000000000000000000", model: "dtmf" }, inbound: new Uint8Array(160), outbound: new Uint8Array(160) }));
    expect(stranger.closeCode).toBe(1008);
    expect((await fetch(`http://127.0.0.1:${h.platform.gateway.httpPort}/healthz`)).status).toBe(200);
    const metrics = await eventually(
      async () => (await fetch(`http://127.0.0.1:${h.platform.gateway.httpPort}/metrics`)).text(),
      (text) => text.includes('arabicstt_twilio_calls_total{close_code="1007"} 1'),
    );
    expect(metrics).toContain('arabicstt_twilio_calls_total{close_code="1007"} 1');
    expect(metrics).toContain('arabicstt_twilio_calls_total{close_code="1000"} 1');
    expect(metrics).toContain("arabicstt_twilio_calls_active 0");
    expect(metrics).toContain('arabicstt_twilio_errors_total{reason="malformed"} 1');
    expect(metrics).toContain('arabicstt_twilio_errors_total{reason="refused"} 2');
    // The first test's call: both tracks' media messages and their μ-law bytes.
    expect(metrics).toMatch(/arabicstt_twilio_frames_total [1-9]\d+/);
    expect(metrics).toMatch(/arabicstt_twilio_audio_bytes_total [1-9]\d+/);
  }, 60_000);
});
