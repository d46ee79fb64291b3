// Transcribes a file as a batch job: UploadMedia (a client stream: metadata, then 256 KiB chunks), CreateJob,
// WatchJob until the job ends, then GetTranscript page by page.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Client } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import { MediaService, MediaState, type Media } from "../../../proto/gen/arabicstt/v1/media_pb.js";
import { JobService, JobStage, JobState } from "../../../proto/gen/arabicstt/v1/job_pb.js";
import { TranscriptService } from "../../../proto/gen/arabicstt/v1/transcript_pb.js";

const CHUNK_BYTES = 256 * 1024;

export async function transcribeFile(client: <S extends DescService>(service: S) => Client<S>, file: string, model: string, print: (line: string) => void): Promise<void> {
  const media = client(MediaService);
  const bytes = await readFile(file);

  async function* upload() {
    // Declaring the size and SHA-256 lets the server check the upload end to end.
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    yield { payload: { case: "metadata" as const, value: { filename: path.basename(file), sizeBytes: BigInt(bytes.length), sha256 } } };
    for (let at = 0; at < bytes.length; at += CHUNK_BYTES) yield { payload: { case: "chunk" as const, value: bytes.subarray(at, at + CHUNK_BYTES) } };
  }
  let item: Media | undefined = (await media.uploadMedia(upload())).media;
  // A large file may still be probed when the upload answers: wait (at most a minute) until it is ready.
  for (let tries = 0; item?.state === MediaState.PROCESSING && tries < 120; tries++) {
    await sleep(500);
    item = (await media.getMedia({ mediaId: item.mediaId })).media;
  }
  if (item?.state !== MediaState.READY) throw new Error(`media ${item?.mediaId} is ${MediaState[item?.state ?? 0]}: ${item?.error?.message ?? ""}`);
  print(`media: ${item.mediaId} (${item.audioProperties?.codec}, ${item.audioProperties?.channelCount} channel(s))`);

  const jobs = client(JobService);
  const { job } = await jobs.createJob({ mediaId: item.mediaId, config: { languageCode: "ar", model } });
  print(`job: ${job!.jobId}`);
  let transcriptId = "";
  // The stream ends once the job has ended.
  for await (const progress of jobs.watchJob({ jobId: job!.jobId })) {
    print(`job: ${JobState[progress.state]} ${JobStage[progress.stage]} ${progress.progressPercent}%`);
    if (progress.state === JobState.FAILED || progress.state === JobState.CANCELLED) {
      throw new Error(`job ${JobState[progress.state]}: ${progress.error?.message ?? ""}`);
    }
    if (progress.state === JobState.SUCCEEDED) transcriptId = progress.transcriptId;
  }
  if (!transcriptId) throw new Error("the job's stream ended before it succeeded");

  const transcripts = client(TranscriptService);
  const texts: string[] = [];
  let pageToken = "";
  do {
    const page = await transcripts.getTranscript({ transcriptId, pageToken });
    for (const segment of page.segments) {
      print(`[${seconds(segment.startOffset)}–${seconds(segment.endOffset)}] ${segment.speakerLabel || `channel ${segment.channelTag}`}: ${segment.text}`);
      texts.push(segment.text);
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  print(`transcript: ${texts.join(" ")}`);
}

function seconds(d: { seconds: bigint; nanos: number } | undefined): string {
  return d ? (Number(d.seconds) + d.nanos / 1e9).toFixed(2) : "?";
}
