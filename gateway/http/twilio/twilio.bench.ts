// npm run bench:twilio [-- --calls 5,10,20] [--seconds 6]
//
// Concurrent Twilio calls on one gateway, beside the same calls over gRPC: for each count, that many calls
// (both tracks, different keys per party, the dtmf model) are paced in real time by the simulator
// (gateway/http/twilio/simulator.ts), started over one second as calls arrive; then the same count of
// StreamingRecognize streams over gRPC (the live issue's path: one stereo μ-law stream per call, 20 ms
// frames, the same audio and pacing, the same API key). Reported per step and path: whether every call
// ended normally with each party's keys on its own channel (Twilio: of its stored transcript; gRPC: of
// the stream's final results), the time from the end of the audio (`stop`, or the client's half-close) to
// the end (the server's close, or the stream's), and this process's CPU (the gateway and the load generator
// together; the inference sidecar is a child process of its own) per second of call audio, with the
// machine's load average after the step.
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { AudioEncoding } from "../../../proto/gen/arabicstt/v1/recognition_pb.js";
import type { Client } from "@connectrpc/connect";
import { SpeechService, StreamingRecognizeRequestSchema } from "../../../proto/gen/arabicstt/v1/speech_pb.js";
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

/** The two tracks as one interleaved stereo μ-law stream (channel 1 inbound, channel 2 outbound), as the Twilio adapter sends them. */
function interleaved(inbound: Uint8Array, outbound: Uint8Array): Uint8Array {
  const frames = Math.max(inbound.length, outbound.length);
  const out = new Uint8Array(frames * 2).fill(0xff);
  for (let i = 0; i < frames; i++) {
    out[i * 2] = inbound[i] ?? 0xff;
    out[i * 2 + 1] = outbound[i] ?? 0xff;
  }
  return out;
}

interface StreamResult {
  ok: boolean;
  keysOk: boolean;
  endToCloseMs: number;
  error?: string;
}

/** One call over gRPC StreamingRecognize: 20 ms stereo frames paced in real time, the finals gathered per channel. */
async function grpcCall(speech: Client<typeof SpeechService>, stereo: Uint8Array): Promise<StreamResult> {
  let endedAt = 0;
  async function* requests() {
    yield create(StreamingRecognizeRequestSchema, {
      streamingRequest: { case: "streamingConfig", value: { config: { encoding: AudioEncoding.MULAW, sampleRateHz: 8000, audioChannelCount: 2, separateRecognitionPerChannel: true, model: "dtmf" } } },
    });
    const startedAt = performance.now();
    for (let at = 0, n = 1; at < stereo.length; at += 320, n++) {
      yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: stereo.subarray(at, at + 320) } });
      const due = startedAt + n * 20 - performance.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
    }
    endedAt = performance.now();
  }
  const byChannel: Record<number, string> = {};
  try {
    for await (const response of speech.streamingRecognize(requests())) {
      for (const r of response.results) if (r.isFinal) byChannel[r.channelTag] = (byChannel[r.channelTag] ?? "") + (r.alternatives[0]?.transcript ?? "");
    }
  } catch (err) {
    return { ok: false, keysOk: false, endToCloseMs: 0, error: (err as Error).message };
  }
  return { ok: true, keysOk: byChannel[1] === INBOUND && byChannel[2] === OUTBOUND, endToCloseMs: performance.now() - endedAt };
}

const h = await startTestPlatform({ ...UNTHROTTLED, LOG_LEVEL: "silent" });
try {
  const owner = await registerOwner(h);
  const key = (await h.client(ApiKeyService, { credential: owner.accessToken }).createApiKey({ name: "bench", scopes: [ApiKeyScope.SPEECH] })).secret;
  const transcripts = h.client(TranscriptService, { credential: owner.accessToken });
  const url = `ws://127.0.0.1:${h.platform.gateway.httpPort}${TWILIO_MEDIA_STREAM_PATH}`;
  const inbound = padded(mulawKeys(INBOUND, 300));
  const outbound = padded(mulawKeys(OUTBOUND, 900));
  const speech = h.client(SpeechService, { credential: key });
  const stereo = interleaved(inbound, outbound);
  let seen = new Set<string>();
  console.log("path    calls  ended_ok  keys_ok  end_to_close_ms_p50  p95  cpu_ms_per_call_second  load1");
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
      ["twilio", calls, results.filter((r) => r.closeCode === 1000).length, keysOk, percentile(latencies, 50).toFixed(0), percentile(latencies, 95).toFixed(0), cpuMsPerCallSecond.toFixed(1), loadavg()[0]!.toFixed(1)].join("  "),
    );

    // The same calls over gRPC, after the Twilio step has drained.
    const grpcCpu = process.cpuUsage();
    const streams = await Promise.all(
      Array.from({ length: calls }, async (_, i) => {
        await new Promise((r) => setTimeout(r, (i * 1000) / calls));
        return grpcCall(speech, stereo);
      }),
    );
    const grpcUsed = process.cpuUsage(grpcCpu);
    const errors = [...new Set(streams.filter((r) => !r.ok).map((r) => r.error))];
    if (errors.length > 0) console.log(`  grpc errors: ${errors.join("; ")}`);
    const grpcLatencies = streams.filter((r) => r.ok).map((r) => r.endToCloseMs).sort((a, b) => a - b);
    console.log(
      [
        "grpc  ",
        calls,
        streams.filter((r) => r.ok).length,
        streams.filter((r) => r.keysOk).length,
        percentile(grpcLatencies, 50).toFixed(0),
        percentile(grpcLatencies, 95).toFixed(0),
        ((grpcUsed.user + grpcUsed.system) / 1000 / (calls * seconds)).toFixed(1),
        loadavg()[0]!.toFixed(1),
      ].join("  "),
    );
    // gRPC streams are stored too: their transcripts are not the next Twilio step's.
    for (let n = 0; n < 200; n++) {
      const listed = await transcripts.listTranscripts({ pageSize: 200 });
      const fresh = listed.transcripts.map((t) => t.transcriptId).filter((id) => !seen.has(id));
      if (fresh.length >= calls) {
        seen = new Set([...seen, ...fresh]);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
} finally {
  await h.stop();
}
