// npx tsx gateway/http/twilio/twilio.bench.ts [--calls 5,10,20] [--seconds 6]
//
// Concurrent Twilio calls on one gateway: for each count, that many calls (both tracks, different keys per
// party, the dtmf model) are paced in real time by the simulator (gateway/http/twilio/simulator.ts), started
// over one second as calls arrive. Reported per step: whether every call ended normally (1000) with each
// party's keys on its own channel of its stored transcript, the time from `stop` to the server's close
// (the session closed, stored and announced to webhooks), and this process's CPU (the gateway and the load
// generator together; the inference sidecar is a child process of its own) per second of call audio.
import { parseArgs } from "node:util";
import { ApiKeyService, ApiKeyScope } from "../../../proto/gen/arabicstt/v1/api_key_pb.js";
import { TranscriptService } from "../../../proto/gen/arabicstt/v1/transcript_pb.js";
import { startTestPlatform, UNTHROTTLED } from "../../testing/platform.js";
import { registerOwner } from "../../testing/accounts.js";
import { TWILIO_MEDIA_STREAM_PATH } from "./media-streams.js";
import { mulawKeys, simulateCall, twilioCall } from "./simulator.js";

const { values } = parseArgs({ options: { calls: { type: "string", default: "5,10,20" }, seconds: { type: "string", default: "6" } } });
const steps = values.calls.split(",").map(Number);
const seconds = Number(values.seconds);

const INBOUND = "1590";
const OUTBOUND = "3724";

function padded(audio: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.max(audio.length, seconds * 8000)).fill(0xff);
  out.set(audio);
  return out;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const h = await startTestPlatform({ ...UNTHROTTLED, LOG_LEVEL: "silent" });
try {
  const owner = await registerOwner(h);
  const key = (await h.client(ApiKeyService, { credential: owner.accessToken }).createApiKey({ name: "bench", scopes: [ApiKeyScope.SPEECH] })).secret;
  const transcripts = h.client(TranscriptService, { credential: owner.accessToken });
  const url = `ws://127.0.0.1:${h.platform.gateway.httpPort}${TWILIO_MEDIA_STREAM_PATH}`;
  const inbound = padded(mulawKeys(INBOUND, 300));
  const outbound = padded(mulawKeys(OUTBOUND, 900));
  let seen = new Set<string>();
  console.log("calls  ended_ok  keys_ok  stop_to_close_ms_p50  p95  cpu_ms_per_call_second");
  for (const calls of steps) {
    const cpu = process.cpuUsage();
    const results = await Promise.all(
      Array.from({ length: calls }, async (_, i) => {
        await new Promise((r) => setTimeout(r, (i * 1000) / calls));
        const callSid = `CA${String(i).padStart(32, "0")}`;
        return simulateCall(url, twilioCall({ callSid, parameters: { api_key: key, model: "dtmf" }, inbound, outbound }), { paced: true });
      }),
    );
    const used = process.cpuUsage(cpu);
    // The stored transcripts of this step's calls (persistence runs after each close).
    let fresh: string[] = [];
    for (let n = 0; n < 200; n++) {
      const listed = await transcripts.listTranscripts({ pageSize: 200 });
      fresh = listed.transcripts.map((t) => t.transcriptId).filter((id) => !seen.has(id));
      if (fresh.length >= calls) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    let keysOk = 0;
    for (const transcriptId of fresh) {
      const { segments } = await transcripts.getTranscript({ transcriptId, pageSize: 200 });
      const byChannel: Record<number, string> = {};
      for (const s of segments) byChannel[s.channelTag] = (byChannel[s.channelTag] ?? "") + s.text;
      if (byChannel[1] === INBOUND && byChannel[2] === OUTBOUND) keysOk++;
    }
    seen = new Set([...seen, ...fresh]);
    const latencies = results.map((r) => r.stopToCloseMs).sort((a, b) => a - b);
    const cpuMsPerCallSecond = (used.user + used.system) / 1000 / (calls * seconds);
    const refusals = [...new Set(results.filter((r) => r.closeCode !== 1000).map((r) => `${r.closeCode} ${r.closeReason}`))];
    if (refusals.length > 0) console.log(`  other endings: ${refusals.join("; ")}`);
    console.log(
      [calls, results.filter((r) => r.closeCode === 1000).length, keysOk, percentile(latencies, 50).toFixed(0), percentile(latencies, 95).toFixed(0), cpuMsPerCallSecond.toFixed(1)].join("  "),
    );
  }
} finally {
  await h.stop();
}
