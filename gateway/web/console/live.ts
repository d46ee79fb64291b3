// The console's live screen: the microphone or an audio file as the source, a model and a language, an
// input level meter; partials in grey that turn into finals, DTMF keys and speech events as they come.
// A browser cannot hold a bidirectional stream over HTTP/1.1, so it uses the live-session trio the /live
// page uses: CreateLiveSession, numbered SendLiveAudio chunks (resent until acknowledged; a duplicate
// means the first try got through) and WatchLiveSession (resumed from the next result index after a
// drop). The session id is kept in sessionStorage: after a reload the screen watches the session again
// from its first result, so what was said is shown again, and Start goes on sending into it.
import { AudioEncoding } from "../../../proto/gen/arabicstt/v1/recognition_pb.js";
import { LiveAudioStatus, LiveSessionState, SpeechEventType, type WatchLiveSessionResponse } from "../../../proto/gen/arabicstt/v1/speech_pb.js";
import { api, describeError, refresh } from "./api.js";
import { attempt, field, h, main } from "./dom.js";
import { t } from "./i18n.js";

/** The models' rate: the browser resamples to it, so the server need not. */
const RATE = 16_000;
/** 100 ms a chunk. */
const CHUNK_SAMPLES = RATE / 10;
const SESSION_KEY = "arabicstt-live-session";
/** How long one chunk's call may take before it is sent again (a chunk's call normally takes milliseconds). */
const SEND_TIMEOUT_MS = 5_000;

/** The session being shown: its output survives leaving the screen and coming back. */
interface Live {
  sessionId: string;
  output: HTMLElement;
  finals: HTMLElement;
  partial: HTMLElement;
  events: HTMLElement;
  status: HTMLElement;
  /** Set once the session is closed (or forgotten): the watch and the sender stop. */
  ended: boolean;
  /** The capture running now, if any. */
  capture?: Capture;
  /** The sequence number of the next chunk. */
  sequence: bigint;
}

interface Capture {
  stop(): Promise<void>;
}

let live: Live | undefined;

export function renderLive(): void {
  const models = h("datalist", { id: "live-models" });
  const meter = h("meter", { id: "level", min: 0, max: 1, value: 0, "aria-label": t("live.level") }) as HTMLMeterElement;
  const fileInput = h("input", { id: "live-file", name: "file", type: "file", accept: "audio/*,video/*", disabled: true }) as HTMLInputElement;
  const form = h(
    "form",
    {
      id: "live-form",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void attempt(() => start(form as HTMLFormElement, meter));
      },
    },
    h("h2", {}, t("live")),
    h(
      "fieldset",
      { onchange: () => (fileInput.disabled = (form.querySelector("input[name=source]:checked") as HTMLInputElement).value !== "file") },
      h("legend", {}, t("live.source")),
      h("label", { class: "check" }, h("input", { type: "radio", name: "source", value: "microphone", id: "source-microphone", checked: true }), t("live.microphone")),
      h("label", { class: "check" }, h("input", { type: "radio", name: "source", value: "file", id: "source-file" }), t("live.file")),
      fileInput,
    ),
    field(t("model"), h("input", { name: "model", id: "live-model", list: "live-models", placeholder: t("defaultModel"), dir: "ltr", maxlength: 100 })),
    models,
    field(t("language"), h("select", { name: "language", id: "live-language" }, h("option", { value: "ar" }, "العربية (ar)"), h("option", { value: "en" }, "English (en)"))),
    h(
      "div",
      {},
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "dtmf", id: "live-dtmf", checked: true }), t("live.dtmf")),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "vad", id: "live-vad", checked: true }), t("live.vad")),
    ),
    h("label", {}, h("span", {}, t("live.level")), meter),
    h(
      "p",
      {},
      h("button", { type: "submit", id: "live-start" }, t("start")),
      " ",
      h("button", { type: "button", id: "live-stop", onclick: () => void attempt(() => stop()) }, t("stop")),
      " ",
      h("button", { type: "button", id: "live-new", onclick: () => void attempt(() => newSession()) }, t("live.new")),
    ),
  );
  // The session kept from before a reload is watched again from its first result.
  const stored = sessionStorage.getItem(SESSION_KEY);
  if (!live && stored) live = show(stored);
  main.replaceChildren(h("section", {}, form), h("section", { id: "live-output-section" }, live?.output ?? ""));
  void attempt(async () => {
    const { models: available } = await api.speech.listModels({});
    for (const m of available) models.append(h("option", { value: m.name }, m.displayName ? `${m.displayName} (${m.name})` : m.name));
  });
}

/** The output area of a session, and its watch from the first result. */
function show(sessionId: string): Live {
  const finals = h("div", { id: "live-finals" });
  const partial = h("p", { id: "live-partial", class: "partial", dir: "auto", "aria-live": "off" });
  const events = h("ul", { id: "live-events", "aria-label": t("live.events") });
  const status = h("p", { id: "live-status", role: "status" });
  const output = h("div", { id: "live-output", dir: "rtl", lang: "ar", "data-session-id": sessionId }, status, finals, partial, h("h3", {}, t("live.events")), events);
  const session: Live = { sessionId, output, finals, partial, events, status, ended: false, sequence: -1n };
  void watch(session);
  return session;
}

async function start(form: HTMLFormElement, meter: HTMLMeterElement): Promise<void> {
  if (live?.capture) return;
  const source = (form.querySelector("input[name=source]:checked") as HTMLInputElement).value;
  const file = (form.querySelector("#live-file") as HTMLInputElement).files?.[0];
  if (source === "file" && !file) throw new Error(t("live.chooseFile"));
  if (!live || live.ended) {
    const { session } = await api.speech.createLiveSession({
      streamingConfig: {
        config: {
          encoding: AudioEncoding.LINEAR16,
          sampleRateHz: RATE,
          model: (form.querySelector("#live-model") as HTMLInputElement).value,
          languageCode: (form.querySelector("#live-language") as HTMLSelectElement).value,
        },
        interimResults: true,
        dtmfEvents: (form.querySelector("#live-dtmf") as HTMLInputElement).checked,
        voiceActivityEvents: (form.querySelector("#live-vad") as HTMLInputElement).checked,
      },
    });
    sessionStorage.setItem(SESSION_KEY, session!.sessionId);
    live = show(session!.sessionId);
    live.sequence = 0n;
    document.getElementById("live-output-section")?.replaceChildren(live.output);
  }
  const session = live;
  if (session.sequence < 0n) {
    // A session kept from before a reload: an empty chunk numbered 0 is a duplicate (or a keepalive)
    // whose answer names the number the session expects next.
    const res = await api.speech.sendLiveAudio({ sessionId: session.sessionId, sequenceNumber: 0n });
    session.sequence = res.nextSequenceNumber;
  }
  session.capture = await capture(session, source === "file" ? file : undefined, meter);
  session.status.textContent = t("live.listening");
}

/** Captures the source at 16 kHz and sends it in order, one 100 ms chunk a call. */
async function capture(session: Live, file: File | undefined, meter: HTMLMeterElement): Promise<Capture> {
  const context = new AudioContext({ sampleRate: RATE });
  let sending = Promise.resolve();
  const queue = (samples: Float32Array) => {
    // The meter shows the level in dBFS, -60 to 0, as 0 to 1.
    let sum = 0;
    for (const x of samples) sum += x * x;
    const db = 10 * Math.log10(sum / samples.length + 1e-12);
    meter.value = Math.max(0, Math.min(1, (db + 60) / 60));
    const chunk = pcm16(samples);
    const n = session.sequence++;
    sending = sending.then(() => send(session, n, chunk));
  };
  if (file) return captureFile(context, await file.arrayBuffer(), queue, meter, () => sending);
  const media = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  const input = context.createMediaStreamSource(media);
  const processor = context.createScriptProcessor(4096, 1, 1);
  let pending = new Float32Array(0);
  processor.onaudioprocess = (event) => {
    const samples = event.inputBuffer.getChannelData(0);
    const joined = new Float32Array(pending.length + samples.length);
    joined.set(pending);
    joined.set(samples, pending.length);
    let at = 0;
    for (; at + CHUNK_SAMPLES <= joined.length; at += CHUNK_SAMPLES) queue(joined.slice(at, at + CHUNK_SAMPLES));
    pending = joined.slice(at);
  };
  input.connect(processor);
  processor.connect(context.destination);
  return {
    async stop() {
      processor.onaudioprocess = null;
      input.disconnect();
      processor.disconnect();
      for (const track of media.getTracks()) track.stop();
      // What was captured short of a whole chunk is said too.
      if (pending.length > 0) queue(pending);
      await context.close();
      meter.value = 0;
      await sending;
    },
  };
}

/**
 * A file as the source: its decoded samples themselves are sent, at the pace of speech (a chunk every
 * 100 ms, as a microphone would give them), while it plays. They are not captured back from the
 * playback: a capture node hands over audio in blocks, and the blocks still inside it when the
 * playback ends (up to a third of a second) were lost, and with them a key pressed at the very end.
 * The file's end stops the capture and closes the session.
 */
async function captureFile(
  context: AudioContext,
  bytes: ArrayBuffer,
  queue: (samples: Float32Array) => void,
  meter: HTMLMeterElement,
  sent: () => Promise<void>,
): Promise<Capture> {
  // Decoded at the context's rate (16 kHz), mixed down to the first channel.
  const buffer = await context.decodeAudioData(bytes);
  const samples = buffer.getChannelData(0);
  const player = context.createBufferSource();
  player.buffer = buffer;
  player.connect(context.destination);
  player.start();
  const started = performance.now();
  let at = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    // Every chunk due by now; the last one as long as what is left.
    const due = Math.min(samples.length, Math.ceil(((performance.now() - started) / 1000) * RATE / CHUNK_SAMPLES) * CHUNK_SAMPLES);
    for (; at < due; at += CHUNK_SAMPLES) queue(samples.slice(at, Math.min(at + CHUNK_SAMPLES, samples.length)));
    if (at < samples.length) timer = setTimeout(tick, 100);
    else void attempt(() => stop());
  };
  tick();
  return {
    async stop() {
      clearTimeout(timer);
      try {
        player.stop();
      } catch {
        // Already ended.
      }
      await context.close();
      meter.value = 0;
      await sent();
    },
  };
}

/**
 * Sends one chunk until the session has it: a failed call is retried (the network dropped, the server
 * restarted), a duplicate counts as done, and the session ending stops it.
 */
async function send(session: Live, sequenceNumber: bigint, audioContent: Uint8Array): Promise<void> {
  for (let attempt = 0; !session.ended; attempt++) {
    try {
      // A connection that went silent (no reset, no answer) is given up on and the chunk sent again.
      const res = await api.speech.sendLiveAudio({ sessionId: session.sessionId, sequenceNumber, audioContent }, { timeoutMs: SEND_TIMEOUT_MS });
      if (res.status !== LiveAudioStatus.OUT_OF_ORDER) {
        if (attempt > 0) session.status.textContent = t("live.listening");
        return;
      }
    } catch (err) {
      const { key } = describeError(err);
      if (key === "error.not_found" || key === "error.failed_precondition" || key === "error.invalid_argument") {
        session.status.textContent = t(key);
        return;
      }
    }
    session.status.textContent = t("live.reconnecting");
    await new Promise((r) => setTimeout(r, Math.min(3_000, 200 * 2 ** attempt)));
  }
}

/** Shows the session's results; after a dropped connection, resumes from the next result index. */
async function watch(session: Live): Promise<void> {
  let next = 0n;
  for (let attempt = 0; !session.ended; attempt++) {
    try {
      for await (const response of api.speech.watchLiveSession({ sessionId: session.sessionId, fromResultIndex: next })) {
        attempt = 0;
        if (response.results.length > 0 || response.speechEvent) next = response.resultIndex + 1n;
        else next = response.resultIndex;
        showResponse(session, response);
        if (response.state === LiveSessionState.CLOSED) {
          end(session);
          return;
        }
      }
    } catch (err) {
      const { key } = describeError(err);
      if (key === "error.not_found") {
        // The session is gone (closed long ago, or its grace period ran out).
        session.status.textContent = t("live.gone");
        end(session);
        return;
      }
      if (key === "error.unauthenticated") await refresh();
    }
    if (session.ended) return;
    session.status.textContent = t("live.reconnecting");
    await new Promise((r) => setTimeout(r, Math.min(3_000, 300 * 2 ** attempt)));
  }
}

function showResponse(session: Live, response: WatchLiveSessionResponse): void {
  for (const result of response.results) {
    const text = result.alternatives[0]?.transcript ?? "";
    if (result.isFinal) {
      if (text) session.finals.append(h("p", { class: "final", dir: "auto", "data-channel": result.channelTag }, text));
      session.partial.textContent = "";
    } else {
      session.partial.textContent = text;
    }
  }
  const event = response.speechEvent;
  if (event && event.type !== SpeechEventType.UNSPECIFIED) {
    const at = Number(event.offset?.seconds ?? 0n) + (event.offset?.nanos ?? 0) / 1e9;
    const dtmf = event.type === SpeechEventType.DTMF;
    session.events.append(
      h(
        "li",
        { class: dtmf ? "event dtmf" : "event", "data-type": SpeechEventType[event.type] },
        `${at.toFixed(2)} s · `,
        dtmf ? h("strong", { class: "digit", dir: "ltr" }, event.dtmfDigit) : t(`event.${event.type}`),
      ),
    );
  }
}

function end(session: Live): void {
  session.ended = true;
  session.partial.textContent = "";
  if (session.status.textContent !== t("live.gone")) session.status.textContent = t("live.closed");
  if (sessionStorage.getItem(SESSION_KEY) === session.sessionId) sessionStorage.removeItem(SESSION_KEY);
}

/**
 * Stops the capture and closes the session, which finalises the last utterance with all its audio. No
 * FINALIZE goes first: a FINALIZE cuts where the audio stands, and a key still sounding at the cut is held
 * back for the next utterance, so a recording ending right on its last tone had that key come as a final
 * of its own, after the rest.
 */
async function stop(): Promise<void> {
  const session = live;
  if (!session || session.ended) return;
  const capture = session.capture;
  session.capture = undefined;
  await capture?.stop();
  await api.speech.closeLiveSession({ sessionId: session.sessionId });
}

/** Ends the session shown (closing it) so that Start makes a new one. */
async function newSession(): Promise<void> {
  await stop();
  if (live) end(live);
  live = undefined;
  sessionStorage.removeItem(SESSION_KEY);
  document.getElementById("live-output-section")?.replaceChildren();
}

function pcm16(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  samples.forEach((x, i) => view.setInt16(i * 2, Math.max(-1, Math.min(1, x)) * 32767, true));
  return out;
}
