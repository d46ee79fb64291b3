// A file to a Transcription through the platform's own RPCs: Recognize for what it takes (at most
// RECOGNIZE_MAX_SECONDS of audio in at most 10 MiB), and a batch job for anything longer (UploadMedia,
// CreateJob, WatchJob until it ends, GetTranscript), so a client of this API never needs to know the
// difference. Both are billed and limited exactly as the same calls from any other client.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Duration } from "@bufbuild/protobuf/wkt";
import type { RecognizeResponse } from "../../../proto/gen/arabicstt/v1/speech_pb.js";
import type { RecognitionConfig } from "../../../proto/gen/arabicstt/v1/recognition_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { RecognitionConfigSchema, WordInfo } from "../../../proto/gen/arabicstt/v1/recognition_pb.js";
import { JobState } from "../../../proto/gen/arabicstt/v1/job_pb.js";
import { MediaState } from "../../../proto/gen/arabicstt/v1/media_pb.js";
import { RECOGNIZE_MAX_SECONDS } from "../../../services/speech/recognize.js";
import type { PlatformClients } from "../platform-client.js";
import type { TranscribedSegment, TranscribedWord, Transcription } from "./formats.js";
import { OpenAiRequestError } from "./errors.js";

/** Recognize's `content` limit (speech.proto). */
export const RECOGNIZE_MAX_BYTES = 10 * 1024 * 1024;
/** UploadMedia's largest chunk (media.proto). */
const UPLOAD_CHUNK_BYTES = 1024 * 1024;
/** GetTranscript's largest page (transcript.proto). */
const TRANSCRIPT_PAGE_SIZE = 200;

export interface TranscribeRequest {
  file: { name: string; bytes: Buffer; contentType: string };
  model: string;
  language: string;
}

export interface TranscribeOptions {
  /** The caller's credential, address and request id, as the platform's RPCs read them. */
  headers: Record<string, string>;
  /** Fires when the client goes away. */
  signal: AbortSignal;
  /** How long a batch job may take before the request gives up (the job goes on; its transcript stays). */
  maxJobWaitMs: number;
  /** How often a media item still being checked is looked at again. */
  pollMs?: number;
}

export async function transcribe(clients: PlatformClients, request: TranscribeRequest, options: TranscribeOptions): Promise<Transcription> {
  const config: MessageInitShape<typeof RecognitionConfigSchema> = { model: request.model, languageCode: request.language };
  if (request.file.bytes.length <= RECOGNIZE_MAX_BYTES) {
    try {
      const response = await clients.speech.recognize(
        { config: { ...config, enableWordTimeOffsets: true, enableWordConfidence: true }, audioSource: { case: "content", value: request.file.bytes } },
        { headers: options.headers, signal: options.signal },
      );
      return fromRecognize(response);
    } catch (err) {
      if (!isTooLongForRecognize(err)) throw err;
    }
  }
  return transcribeAsJob(clients, request, config, options);
}

/** Recognize refuses more than RECOGNIZE_MAX_SECONDS before recognising anything (services/speech/live-recognition.ts writeAll). */
function isTooLongForRecognize(err: unknown): boolean {
  return err instanceof ConnectError && err.code === Code.InvalidArgument && err.rawMessage.includes(`Recognize takes at most ${RECOGNIZE_MAX_SECONDS} s`);
}

function seconds(d: Duration | undefined): number {
  return d ? Number(d.seconds) + d.nanos / 1e9 : 0;
}

function wordsOf(words: WordInfo[]): TranscribedWord[] {
  return words.map((w) => ({ word: w.word, start: seconds(w.startOffset), end: seconds(w.endOffset) }));
}

function fromRecognize(response: RecognizeResponse): Transcription {
  const segments: TranscribedSegment[] = response.results.map((r) => {
    const best = r.alternatives[0];
    return { start: seconds(r.resultStartOffset), end: seconds(r.resultEndOffset), text: best?.transcript ?? "", confidence: best?.confidence ?? 0, words: wordsOf(best?.words ?? []) };
  });
  return {
    language: response.results[0]?.languageCode ?? "",
    duration: seconds(response.metadata?.audioDuration),
    billedSeconds: seconds(response.metadata?.billedDuration),
    segments,
  };
}

async function transcribeAsJob(
  clients: PlatformClients,
  request: TranscribeRequest,
  config: MessageInitShape<typeof RecognitionConfigSchema>,
  options: TranscribeOptions,
): Promise<Transcription> {
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.maxJobWaitMs)]);
  const call = { headers: options.headers, signal };
  try {
    const bytes = request.file.bytes;
    async function* upload() {
      yield { payload: { case: "metadata" as const, value: { filename: request.file.name, contentType: request.file.contentType, sizeBytes: BigInt(bytes.length) } } };
      for (let at = 0; at < bytes.length; at += UPLOAD_CHUNK_BYTES) {
        yield { payload: { case: "chunk" as const, value: bytes.subarray(at, at + UPLOAD_CHUNK_BYTES) } };
      }
    }
    let media = (await clients.media.uploadMedia(upload(), call)).media;
    while (media?.state === MediaState.PROCESSING) {
      await sleep(options.pollMs ?? 200, signal);
      media = (await clients.media.getMedia({ mediaId: media.mediaId }, call)).media;
    }
    if (!media || media.state !== MediaState.READY) {
      throw new OpenAiRequestError(400, `the file cannot be transcribed: ${media?.error?.message || "it was not accepted"}`, "file", media?.error?.code || null);
    }
    // Word times and confidence are what verbose_json's words and segments are made of; a job gives them only when asked.
    const job = (await clients.jobs.createJob({ mediaId: media.mediaId, config: { ...config, enableWordTimeOffsets: true, enableWordConfidence: true } as RecognitionConfig }, call)).job!;
    let transcriptId = "";
    for await (const update of clients.jobs.watchJob({ jobId: job.jobId }, call)) {
      if (update.state === JobState.SUCCEEDED) {
        transcriptId = update.transcriptId;
        break;
      }
      if (update.state === JobState.FAILED || update.state === JobState.CANCELLED) {
        throw new OpenAiRequestError(update.error?.retryable ? 503 : 400, `transcription job ${job.jobId} ended without a transcript: ${update.error?.message || "cancelled"}`, "file", update.error?.code || null);
      }
    }
    if (!transcriptId) throw new OpenAiRequestError(500, `transcription job ${job.jobId} stopped reporting before it ended`);
    // The job's own bill (GetJob), the same figure UsageService counts.
    const billed = seconds((await clients.jobs.getJob({ jobId: job.jobId }, call)).job?.billedDuration);
    return await fromTranscript(clients, transcriptId, billed, call);
  } catch (err) {
    if (signal.aborted && !options.signal.aborted) {
      throw new OpenAiRequestError(504, `the file did not finish transcribing within ${Math.round(options.maxJobWaitMs / 1000)} s; its job goes on and its transcript will be listed by TranscriptService`, null, "timeout");
    }
    throw err;
  }
}

async function fromTranscript(clients: PlatformClients, transcriptId: string, billedSeconds: number, call: { headers: Record<string, string>; signal: AbortSignal }): Promise<Transcription> {
  const segments: TranscribedSegment[] = [];
  let pageToken = "";
  let transcript;
  do {
    const page = await clients.transcripts.getTranscript({ transcriptId, pageSize: TRANSCRIPT_PAGE_SIZE, pageToken, includeWords: true }, call);
    transcript ??= page.transcript;
    for (const s of page.segments) {
      segments.push({ start: seconds(s.startOffset), end: seconds(s.endOffset), text: s.text, confidence: s.confidence, words: wordsOf(s.words) });
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  segments.sort((a, b) => a.start - b.start);
  return { language: transcript?.languageCode ?? "", duration: seconds(transcript?.audioDuration), billedSeconds, segments };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}
