// enable_automatic_punctuation over the public API, on Recognize, StreamingRecognize and batch jobs: true
// keeps the model's punctuation written the Arabic way (، ؛ ؟), false (the default) removes it, word by word,
// word times kept. The rules themselves are in services/arabic-text/chain.test.ts.
//
// The one stub: no model the sidecar can run here writes punctuation (the `dtmf` model's keys have none, and
// the test Whisper's weights are random), so the sidecar's own `dtmf` model is wrapped to read its keys out
// the way a speech model writes a number: "4, 7, 1, 1?" (Latin marks, as Whisper often writes them in Arabic
// text). Everything after the model is the production path.
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { withWrappedInfer } from "../../inference/local/testing/wrapped-models.js";
import { createAudioDir, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { startJobsGateway, type JobsGateway } from "../../gateway/testing/jobs-gateway.js";
import { AudioEncoding } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { SpeechService, StreamingRecognizeRequestSchema } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { JobService, JobState } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { TranscriptService } from "../../proto/gen/arabicstt/v1/transcript_pb.js";

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

interface SegmentJson {
  text: string;
  words: Array<{ word: string }>;
}

/** The sidecar's models, the dtmf one writing each segment's keys as words with Latin commas and a question mark. */
function punctuatingKeypad() {
  return withWrappedInfer("dtmf", (infer) => async (inputs, parameters, signal) => {
    const outputs = await infer(inputs, parameters, signal);
    const segmentsOut = outputs.find((t) => t.name === "SEGMENTS")!;
    const rows = (segmentsOut.data as Uint8Array[]).map((row) => {
      const result = JSON.parse(utf8.decode(row)) as { segments: SegmentJson[] };
      for (const segment of result.segments) {
        segment.words.forEach((w, i) => (w.word += i === segment.words.length - 1 ? "?" : ","));
        segment.text = segment.words.map((w) => w.word).join(" ");
      }
      return result;
    });
    return outputs.map((t) => {
      if (t.name === "SEGMENTS") return { ...t, data: rows.map((r) => encoder.encode(JSON.stringify(r))) };
      if (t.name === "TRANSCRIPT") return { ...t, data: rows.map((r) => encoder.encode(r.segments.map((s) => s.text).join(" "))) };
      // The n-best starts with the transcript, which the client checks: the rewritten one.
      if (t.name === "ALTERNATIVES") return { ...t, data: rows.map((r) => encoder.encode(JSON.stringify([r.segments.map((s) => s.text).join(" ")]))) };
      return t;
    });
  });
}

/** 16 kHz LINEAR16 of `keys` (100 ms tones, 100 ms gaps) after 300 ms, then a second of silence. */
function keypad(keys: string): Buffer {
  const { audio } = dtmfSequence(keys, { sampleRate: 16_000, leadMs: 300, toneMs: 100, gapMs: 100 });
  const pcm = Buffer.alloc((audio.length + 16_000) * 2);
  audio.forEach((x, i) => pcm.writeInt16LE(Math.round(x * 32767), 2 * i));
  return pcm;
}

const LATIN_MARKS = /[,;?]/u;
const ANY_MARK = /[.,;:!?\u060C\u061B\u061F]/u;
const pcm = { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "dtmf" };

let h: JobsGateway;
let audio: AudioDir;
let owner: TestAccount;

beforeAll(async () => {
  h = await startJobsGateway({ models: punctuatingKeypad() });
  audio = await createAudioDir("punctuation-");
  await soxDtmf("4711", audio.path("keys.wav"), { leadMs: 300 });
  owner = await registerOwner(h);
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await audio?.remove();
});

describe("enable_automatic_punctuation", () => {
  it("on Recognize: true writes the model's marks the Arabic way, false removes them, words keep their times", async () => {
    const speech = h.client(SpeechService, { credential: owner.accessToken });
    const recognize = (enableAutomaticPunctuation: boolean) =>
      speech.recognize({ config: { ...pcm, enableAutomaticPunctuation, enableWordTimeOffsets: true }, audioSource: { case: "content", value: keypad("4711") } });
    const kept = (await recognize(true)).results[0]!.alternatives[0]!;
    expect(kept.transcript).toBe("4، 7، 1، 1؟");
    const removed = (await recognize(false)).results[0]!.alternatives[0]!;
    expect(removed.transcript).toBe("4 7 1 1");
    expect(removed.words.map((w) => w.word)).toEqual(["4", "7", "1", "1"]);
    // The same words at the same times either way.
    const times = (words: typeof kept.words) => words.map((w) => [w.startOffset?.nanos, w.endOffset?.nanos]);
    expect(times(removed.words)).toEqual(times(kept.words));
  });

  it("on StreamingRecognize: every partial and final follows the switch", async () => {
    const speech = h.client(SpeechService, { credential: owner.accessToken });
    const stream = async (enableAutomaticPunctuation: boolean) => {
      const audioBytes = keypad("4711");
      async function* requests() {
        yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "streamingConfig", value: { config: { ...pcm, enableAutomaticPunctuation }, interimResults: true } } });
        for (let at = 0; at < audioBytes.length; at += 640) yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: audioBytes.subarray(at, at + 640) } });
      }
      const all: Array<{ text: string; final: boolean }> = [];
      for await (const r of speech.streamingRecognize(requests())) for (const x of r.results) all.push({ text: x.alternatives[0]!.transcript, final: x.isFinal });
      return all;
    };
    const kept = await stream(true);
    const keptFinals = kept.filter((r) => r.final).map((r) => r.text);
    expect(keptFinals.join(" ").replace(/[^0-9]/gu, "")).toBe("4711");
    // Which word ends a decode (and gets the model's "?") depends on how the audio was cut; the marks are Arabic whatever it was.
    expect(keptFinals.join(" ")).toMatch(/[\u060C\u061F]/u);
    for (const r of kept) expect(r.text).not.toMatch(LATIN_MARKS);
    const removed = await stream(false);
    expect(removed.filter((r) => r.final).map((r) => r.text)).toEqual(["4 7 1 1"]);
    for (const r of removed) expect(r.text).not.toMatch(ANY_MARK);
  });

  it("on a batch job: the stored transcript, its segments and their words", async () => {
    const jobs = h.client(JobService, { credential: owner.accessToken });
    const transcriptOf = async (enableAutomaticPunctuation: boolean) => {
      const mediaId = await h.addMedia(owner.organizationId, audio.path("keys.wav"));
      const { job } = await jobs.createJob({ mediaId, config: { model: "dtmf", enableAutomaticPunctuation } });
      let last = { state: job!.state, transcriptId: "" };
      for await (const progress of jobs.watchJob({ jobId: job!.jobId })) last = { state: progress.state, transcriptId: progress.transcriptId || last.transcriptId };
      expect(last.state).toBe(JobState.SUCCEEDED);
      const transcripts = h.client(TranscriptService, { credential: owner.accessToken });
      const { segments } = await transcripts.getTranscript({ transcriptId: last.transcriptId, includeWords: true });
      return segments.map((s) => ({ text: s.text, words: s.words.map((w) => w.word) }));
    };
    expect(await transcriptOf(true)).toEqual([{ text: "4، 7، 1، 1؟", words: ["4،", "7،", "1،", "1؟"] }]);
    expect(await transcriptOf(false)).toEqual([{ text: "4 7 1 1", words: ["4", "7", "1", "1"] }]);
  });
});
