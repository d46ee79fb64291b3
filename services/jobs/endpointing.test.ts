// endpointing_config on batch jobs, over the public API: the pipeline's segmentation follows it, so the
// stored transcript's segments are cut where the job asked. The `dtmf` model's segments are its keys, exactly,
// and it keeps keys less than 2 s apart in one segment (its segment_gap_ms), so any cut shorter than that is
// the endpointing's. utterance_end_silence stays refused (batch transcripts have no speech events).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { createAudioDir, sox, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { startJobsGateway, type JobsGateway } from "../../gateway/testing/jobs-gateway.js";
import { JobService, JobState } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { TranscriptService } from "../../proto/gen/arabicstt/v1/transcript_pb.js";
import { create } from "@bufbuild/protobuf";
import { EndpointingConfigSchema } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { speechRegions } from "./pipeline/segment.js";
import { segmentationOf } from "./settings.js";

let h: JobsGateway;
let audio: AudioDir;
let owner: TestAccount;

beforeAll(async () => {
  h = await startJobsGateway();
  audio = await createAudioDir("endpointing-");
  // "12", a pause of a second, "34".
  await soxDtmf("12", audio.path("a.wav"), { leadMs: 300 });
  await soxDtmf("34", audio.path("b.wav"), { leadMs: 1000 });
  await sox("-D", audio.path("a.wav"), audio.path("b.wav"), audio.path("pause.wav"));
  // Eight keys without a pause: 1.6 s of keying.
  await soxDtmf("12345678", audio.path("run.wav"), { leadMs: 300 });
  owner = await registerOwner(h);
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await audio?.remove();
});

const jobs = () => h.client(JobService, { credential: owner.accessToken });
const seconds = (d: { seconds: bigint; nanos: number } | undefined) => (d ? Number(d.seconds) + d.nanos / 1e9 : NaN);

async function segmentsOf(file: string, endpointingConfig?: object) {
  const mediaId = await h.addMedia(owner.organizationId, file);
  const { job } = await jobs().createJob({ mediaId, config: { model: "dtmf", ...(endpointingConfig ? { endpointingConfig } : {}) } });
  let last = { state: job!.state, transcriptId: "" };
  for await (const progress of jobs().watchJob({ jobId: job!.jobId })) last = { state: progress.state, transcriptId: progress.transcriptId || last.transcriptId };
  expect(last.state).toBe(JobState.SUCCEEDED);
  const { segments } = await h.client(TranscriptService, { credential: owner.accessToken }).getTranscript({ transcriptId: last.transcriptId });
  return segments.map((s) => ({ text: s.text, length: seconds(s.endOffset) - seconds(s.startOffset) }));
}

describe("endpointing_config on a batch job", () => {
  it("cuts a segment at every pause of silence_duration or longer, and only there", async () => {
    expect((await segmentsOf(audio.path("pause.wav"))).map((s) => s.text)).toEqual(["1234"]);
    expect((await segmentsOf(audio.path("pause.wav"), { silenceDuration: { seconds: 0n, nanos: 500_000_000 } })).map((s) => s.text)).toEqual(["12", "34"]);
    expect((await segmentsOf(audio.path("pause.wav"), { silenceDuration: { seconds: 2n, nanos: 0 } })).map((s) => s.text)).toEqual(["1234"]);
  });

  it("makes no segment longer than max_utterance_duration", async () => {
    expect((await segmentsOf(audio.path("run.wav"))).map((s) => s.text)).toEqual(["12345678"]);
    const cut = await segmentsOf(audio.path("run.wav"), { maxUtteranceDuration: { seconds: 1n, nanos: 0 } });
    expect(cut.length).toBeGreaterThan(1);
    expect(cut.map((s) => s.text).join("")).toBe("12345678");
    for (const s of cut) expect(s.length).toBeLessThanOrEqual(1);
  });

  it("refuses utterance_end_silence, naming it: batch transcripts carry no speech events", async () => {
    const mediaId = await h.addMedia(owner.organizationId, audio.path("pause.wav"));
    const err = await jobs()
      .createJob({ mediaId, config: { model: "dtmf", endpointingConfig: { utteranceEndSilence: { seconds: 2n, nanos: 0 } } } })
      .then(() => undefined, (e: unknown) => ConnectError.from(e));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/^config\.endpointing_config\.utterance_end_silence: /);
  });

  it("gives speech_threshold to the voice activity detector as its start threshold", () => {
    const segmentation = segmentationOf(create(EndpointingConfigSchema, { speechThreshold: 0.8 }));
    expect(segmentation).toEqual({ threshold: 0.8 });
    // Frames at 0.7 are speech at the default threshold (0.5), and not at 0.8.
    const frames = { frameSeconds: 0.032, probabilities: new Float32Array(40).fill(0.7) };
    expect(speechRegions(frames, {}).length).toBe(1);
    expect(speechRegions(frames, segmentation)).toEqual([]);
  });
});
