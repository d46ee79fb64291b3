// The live page's browser code: captures the microphone at the models' rate (16 kHz, so the server
// need not resample), sends it in 100 ms LINEAR16 chunks with SendLiveAudio (numbered, resent until
// acknowledged), and shows what WatchLiveSession returns: finals appended, the current partial after
// them, right to left. Model and language are the server's defaults unless `?model=` names one.
// Bundled for the browser by live-page.ts; it talks to the gateway that served it, through
// @connectrpc/connect-web over HTTP/1.1, with the caller's credential on every call.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AudioEncoding } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { LiveSessionState, SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { MODEL_SAMPLE_RATE } from "../../services/audio/rates.js";

// The caller's API key (speech scope) or access token: from the page's fragment (`/live#key=astt_…`,
// never sent to the server in the URL), else asked for once per tab and kept in sessionStorage.
const credential = (() => {
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get("key");
  const key = fromFragment ?? sessionStorage.getItem("arabicstt-key") ?? prompt("API key with the speech scope (astt_…)") ?? "";
  if (key) sessionStorage.setItem("arabicstt-key", key);
  return key;
})();
const client = createClient(
  SpeechService,
  createConnectTransport({
    baseUrl: location.origin,
    interceptors: [
      (next) => (req) => {
        if (credential) req.header.set("authorization", `Bearer ${credential}`);
        return next(req);
      },
    ],
  }),
);
const $ = (id: string) => document.getElementById(id)!;
const model = new URLSearchParams(location.search).get("model") ?? "";
/** 100 ms. */
const CHUNK_SAMPLES = MODEL_SAMPLE_RATE / 10;

let stop: (() => Promise<void>) | undefined;

$("start").addEventListener("click", () => void start());
$("stop").addEventListener("click", () => void stop?.());

function status(text: string): void {
  $("status").textContent = text;
}

async function start(): Promise<void> {
  ($("start") as HTMLButtonElement).disabled = true;
  $("finals").textContent = "";
  $("partial").textContent = "";
  const media = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false } });
  const { session } = await client.createLiveSession({
    streamingConfig: { config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: MODEL_SAMPLE_RATE, model }, interimResults: true },
  });
  const sessionId = session!.sessionId;
  status("يستمع…");
  void watch(sessionId);

  // The browser resamples the microphone to the context's rate.
  const context = new AudioContext({ sampleRate: MODEL_SAMPLE_RATE });
  const source = context.createMediaStreamSource(media);
  const processor = context.createScriptProcessor(4096, 1, 1);
  let pending: number[] = [];
  let sequence = 0;
  let sending = Promise.resolve();
  processor.onaudioprocess = (event) => {
    const input = event.inputBuffer.getChannelData(0);
    for (const x of input) pending.push(x);
    while (pending.length >= CHUNK_SAMPLES) {
      const chunk = pcm16(pending.slice(0, CHUNK_SAMPLES));
      pending = pending.slice(CHUNK_SAMPLES);
      const n = BigInt(sequence++);
      sending = sending.then(() => send(sessionId, n, chunk));
    }
  };
  source.connect(processor);
  processor.connect(context.destination);
  ($("stop") as HTMLButtonElement).disabled = false;

  stop = async () => {
    ($("stop") as HTMLButtonElement).disabled = true;
    processor.disconnect();
    source.disconnect();
    for (const track of media.getTracks()) track.stop();
    await context.close();
    await sending;
    await client.closeLiveSession({ sessionId });
    ($("start") as HTMLButtonElement).disabled = false;
  };
}

/** Sends one chunk; a failed call is retried, and a duplicate counts as done (the first try got through). */
async function send(sessionId: string, sequenceNumber: bigint, audioContent: Uint8Array): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await client.sendLiveAudio({ sessionId, sequenceNumber, audioContent });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
  status("انقطع الاتصال");
}

/** Reads results; after a dropped connection, resumes from the next index. */
async function watch(sessionId: string): Promise<void> {
  let next = 0n;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      for await (const response of client.watchLiveSession({ sessionId, fromResultIndex: next })) {
        next = response.resultIndex + (response.results.length > 0 || response.speechEvent ? 1n : 0n);
        for (const result of response.results) {
          const text = result.alternatives[0]?.transcript ?? "";
          if (result.isFinal) {
            const line = document.createElement("p");
            line.className = "final";
            line.textContent = text;
            $("finals").append(line);
            $("partial").textContent = "";
          } else {
            $("partial").textContent = text;
          }
        }
        if (response.state === LiveSessionState.CLOSED) {
          status("انتهت الجلسة");
          return;
        }
      }
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function pcm16(samples: number[]): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  samples.forEach((x, i) => view.setInt16(i * 2, Math.max(-1, Math.min(1, x)) * 32767, true));
  return out;
}
