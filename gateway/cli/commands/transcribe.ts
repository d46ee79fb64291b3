// `arabicstt transcribe FILE`: the batch path end to end. The file is uploaded (progress bar), a job is
// created and followed (progress bar), then the transcript is printed, or exported (TXT, SRT, VTT, DOCX,
// JSON) to --output or stdout.
import { writeFile } from "node:fs/promises";
import { toJson } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { ExportFormat, ExportService, ExportState, type Export } from "../../../proto/gen/arabicstt/v1/export_pb.js";
import { JobSchema, JobService } from "../../../proto/gen/arabicstt/v1/job_pb.js";
import { MediaService } from "../../../proto/gen/arabicstt/v1/media_pb.js";
import { TranscriptSegmentSchema, TranscriptSchema, TranscriptService, type TranscriptSegment } from "../../../proto/gen/arabicstt/v1/transcript_pb.js";
import { stringOption, type Command, type Context } from "../command.js";
import { CliFailure, UsageError } from "../errors.js";
import { formatBytes, note, printLine, progressBar, StatusLine, writeAll } from "../io.js";
import { followJob, requireSucceeded } from "../job-progress.js";
import { uploadFile } from "../upload.js";

/** `text` prints the segments; the others are ExportService's renderers. */
const FORMATS = { text: undefined, txt: ExportFormat.TXT, srt: ExportFormat.SRT, vtt: ExportFormat.VTT, docx: ExportFormat.DOCX, json: ExportFormat.JSON } as const;
type FormatName = keyof typeof FORMATS;
/** Transcript pages of 200 segments: 500 pages is far beyond the longest audio a job accepts. */
const MAX_TRANSCRIPT_PAGES = 500;
/** Exports are rendered while CreateExport runs; a server that renders later is waited for this long. */
const EXPORT_WAIT_MS = 5 * 60_000;
const EXPORT_POLL_MS = 500;

export const transcribe: Command = {
  name: "transcribe",
  summary: "upload a file, run a batch job, print the transcript or write an export",
  usage: "arabicstt transcribe FILE [--model NAME] [--language CODE] [--format FORMAT] [--output FILE] [--diarize] [--speakers N] [--separate-channels]",
  help: `Uploads FILE (any audio or video ffmpeg reads: WAV, MP3, FLAC, Ogg/Opus, M4A, …) with a progress
bar on stderr, runs a batch job on it with a progress bar, then prints the transcript on stdout, one
segment a line (prefixed with the speaker when there are several), or the export in --format.

Options:
  --model NAME           the recognition model (arabicstt models lists them; default: the server's)
  --language CODE        the language tag, e.g. ar, ar-SA (default: ar)
  --format FORMAT        text (default: the segments), or an export: txt, srt, vtt, docx, json
  --output FILE          write the export (or the text) to FILE instead of stdout; docx needs it on a terminal
  --diarize              tell speakers apart in mono audio
  --speakers N           with --diarize: the number of speakers, when known
  --separate-channels    recognise each channel on its own (a call recorded one party a channel)`,
  options: {
    model: { type: "string" },
    language: { type: "string" },
    format: { type: "string" },
    output: { type: "string" },
    diarize: { type: "boolean" },
    speakers: { type: "string" },
    "separate-channels": { type: "boolean" },
  },
  async run(ctx, values, positionals) {
    const [file, ...extra] = positionals;
    if (!file) throw new UsageError("transcribe needs a FILE", "transcribe");
    if (extra.length > 0) throw new UsageError(`transcribe takes one FILE (got also ${extra.join(" ")})`, "transcribe");
    const format = (stringOption(values, "format") ?? "text") as FormatName;
    if (!Object.hasOwn(FORMATS, format)) throw new UsageError(`--format is one of ${Object.keys(FORMATS).join(", ")}`, "transcribe");
    const output = stringOption(values, "output");
    if (format === "docx" && !output && ctx.io.stdout.isTTY) throw new UsageError("docx is binary: give --output FILE, or redirect stdout", "transcribe");
    const speakersText = stringOption(values, "speakers");
    if (speakersText !== undefined && (!values.diarize || !/^([1-9]|10)$/.test(speakersText))) {
      throw new UsageError("--speakers takes a number from 1 to 10, with --diarize", "transcribe");
    }
    const speakers = speakersText ? Number(speakersText) : 0;

    const status = new StatusLine(ctx.io.stderr);
    const media = await uploadFile(
      ctx.connection.client(MediaService),
      file,
      (sent, total) => status.show(progressBar(sent / total, `uploading ${formatBytes(sent)} of ${formatBytes(total)}`)),
      ctx.signal,
    ).finally(() => status.clear());
    note(ctx.io, `uploaded ${file} as media ${media.mediaId}`);

    const jobs = ctx.connection.client(JobService);
    const { job: created } = await jobs.createJob(
      {
        mediaId: media.mediaId,
        config: {
          model: stringOption(values, "model") ?? "",
          languageCode: stringOption(values, "language") ?? "",
          separateRecognitionPerChannel: values["separate-channels"] === true,
          diarizationConfig: values.diarize ? { enableSpeakerDiarization: true, minSpeakerCount: speakers, maxSpeakerCount: speakers } : undefined,
        },
      },
      { signal: ctx.signal },
    );
    note(ctx.io, `job ${created!.jobId} created`);
    const job = await followJob(ctx.io, jobs, created!.jobId, ctx.signal);
    requireSucceeded(job);
    note(ctx.io, `job ${job.jobId} succeeded: transcript ${job.transcriptId}`);

    const exportFormat = FORMATS[format];
    if (exportFormat !== undefined) {
      const bytes = await exportTranscript(ctx, job.transcriptId, exportFormat);
      if (output) {
        await writeFile(output, bytes);
        note(ctx.io, `wrote ${output} (${formatBytes(bytes.length)})`);
      } else {
        await writeAll(ctx.io.stdout, bytes);
      }
      return;
    }
    const transcripts = ctx.connection.client(TranscriptService);
    const { transcript, segments } = await readTranscript(transcripts, job.transcriptId, ctx.signal);
    if (ctx.json) {
      const doc = { job: toJson(JobSchema, job), transcript: transcript && toJson(TranscriptSchema, transcript), segments: segments.map((s) => toJson(TranscriptSegmentSchema, s)) };
      await emit(ctx, output, `${JSON.stringify(doc)}\n`);
      return;
    }
    const labelled = new Set(segments.map((s) => s.speakerLabel)).size > 1;
    const lines = segments.map((s) => (labelled ? `${s.speakerLabel}: ${s.text}` : s.text));
    if (output) await emit(ctx, output, lines.map((line) => `${line}\n`).join(""));
    else for (const line of lines) printLine(ctx.io, line);
  },
};

async function emit(ctx: Context, output: string | undefined, text: string): Promise<void> {
  if (output) {
    await writeFile(output, text);
    note(ctx.io, `wrote ${output}`);
  } else {
    await writeAll(ctx.io.stdout, text);
  }
}

async function readTranscript(client: Client<typeof TranscriptService>, transcriptId: string, signal: AbortSignal) {
  const segments: TranscriptSegment[] = [];
  let pageToken = "";
  let first;
  for (let page = 0; page < MAX_TRANSCRIPT_PAGES; page++) {
    const res = await client.getTranscript({ transcriptId, pageSize: 200, pageToken }, { signal });
    first ??= res.transcript;
    segments.push(...res.segments);
    pageToken = res.nextPageToken;
    if (!pageToken) break;
  }
  return { transcript: first, segments };
}

/** CreateExport, waited for until it is rendered, then its file downloaded from the presigned URL. */
async function exportTranscript(ctx: Context, transcriptId: string, format: ExportFormat): Promise<Buffer> {
  const exports = ctx.connection.client(ExportService);
  let made: Export = (await exports.createExport({ transcriptId, format }, { signal: ctx.signal })).export!;
  const deadline = Date.now() + EXPORT_WAIT_MS;
  while ((made.state === ExportState.PENDING || made.state === ExportState.RUNNING) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, EXPORT_POLL_MS));
    made = (await exports.getExport({ exportId: made.exportId }, { signal: ctx.signal })).export!;
  }
  if (made.state !== ExportState.SUCCEEDED) {
    const why = made.error ? `${made.error.code}: ${made.error.message}` : (ExportState[made.state] ?? "").toLowerCase();
    throw new CliFailure(`export ${made.exportId} did not finish: ${why}`, "export_failed");
  }
  const res = await fetch(made.downloadUrl, { signal: ctx.signal });
  if (!res.ok) throw new CliFailure(`download of export ${made.exportId}: HTTP ${res.status}`, "download_failed");
  return Buffer.from(await res.arrayBuffer());
}
