// Errors have one path out, and what comes out of it is for the client: walks the public API's error paths
// (bad input, missing things, files that are not audio, models the server lacks) over gRPC and Connect on a
// platform configured as shipped (the default model, whisper, has no weights), and checks that no message
// carries what is the server's business: its filesystem paths, stack frames or SQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { AuthService } from "../proto/gen/arabicstt/v1/auth_pb.js";
import { ExportFormat, ExportService } from "../proto/gen/arabicstt/v1/export_pb.js";
import { JobService } from "../proto/gen/arabicstt/v1/job_pb.js";
import { MediaService } from "../proto/gen/arabicstt/v1/media_pb.js";
import { SpeechService } from "../proto/gen/arabicstt/v1/speech_pb.js";
import { TranscriptService } from "../proto/gen/arabicstt/v1/transcript_pb.js";
import { AudioEncoding } from "../proto/gen/arabicstt/v1/recognition_pb.js";
import { startIdentityGateway, type IdentityGateway } from "./testing/identity-gateway.js";
import { registerOwner, type TestAccount } from "./testing/accounts.js";
import { makeMediaFiles, uploadByStream, type MediaFiles } from "./testing/media.js";

/** What a client must never read in an error: the server's files, its code's stack, its database's words. */
const LEAKS: Array<[string, RegExp]> = [
  ["a server path", /(^|[\s"'(=:])\/(work|tmp|home|root|srv|var|usr|opt|app|data)\//],
  ["node_modules", /node_modules/],
  ["a stack frame", /^\s*at \S+ \(|\n\s+at /m],
  ["a file URL", /file:\/\//],
  ["SQL", /\b(select .+ from|insert into|update \S+ set|delete from|violates .* constraint|relation "|syntax error at or near)\b/i],
];

const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";

let h: IdentityGateway;
let files: MediaFiles;
let owner: TestAccount;
let mediaId: string;
beforeAll(async () => {
  [h, files] = await Promise.all([startIdentityGateway(), makeMediaFiles()]);
  owner = await registerOwner(h);
  mediaId = (await uploadByStream(h.client(MediaService, { credential: owner.accessToken }), { filename: "call.wav" }, files.wav)).mediaId;
});
afterAll(async () => {
  await h?.stop();
  await files?.remove();
});

describe.each(["grpc", "connect"] as const)("every error message over %s", (protocol) => {
  it("names the field or the fix, and carries no server path, stack frame or SQL", async () => {
    const as = { credential: owner.accessToken, protocol };
    const auth = h.client(AuthService, { protocol });
    const media = h.client(MediaService, as);
    const jobs = h.client(JobService, as);
    const speech = h.client(SpeechService, as);
    const transcripts = h.client(TranscriptService, as);
    const exports = h.client(ExportService, as);

    const paths: Array<[string, () => Promise<unknown>]> = [
      ["Login with a wrong password", () => auth.login({ email: owner.email, password: "not the password at all" })],
      ["Register an email already registered", () => auth.register({ email: owner.email, password: "كلمة سر طويلة 2026", displayName: "x", organizationName: "y" })],
      ["UploadMedia of a text file", () => uploadByStream(media, { filename: "notes.wav" }, files.text)],
      ["UploadMedia of a truncated WAV", () => uploadByStream(media, { filename: "cut.wav" }, files.truncatedWav)],
      ["CompleteUpload with nothing uploaded", async () => media.completeUpload({ mediaId: (await media.createUpload({ filename: "a.wav", sizeBytes: 10n })).media!.mediaId, sizeBytes: 10n, sha256: "0".repeat(64) })],
      ["GetMedia of an unknown id", () => media.getMedia({ mediaId: UNKNOWN_ID })],
      ["ListMedia with a forged page token", () => media.listMedia({ pageToken: "'; drop table media; --" })],
      ["CreateJob with the server's default model not installed", () => jobs.createJob({ mediaId, config: {} })],
      ["CreateJob naming a model that is not installed", () => jobs.createJob({ mediaId, config: { model: "whisper" } })],
      ["CreateJob naming an unknown model", () => jobs.createJob({ mediaId, config: { model: "../../etc/passwd" } })],
      ["CreateJob for an unknown media id", () => jobs.createJob({ mediaId: UNKNOWN_ID, config: { model: "dtmf" } })],
      ["GetJob of an unknown id", () => jobs.getJob({ jobId: UNKNOWN_ID })],
      ["Recognize with the default model not installed", () => speech.recognize({ config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16000 }, audioSource: { case: "content", value: files.wav } })],
      ["Recognize of a text file", () => speech.recognize({ config: { model: "dtmf" }, audioSource: { case: "content", value: files.text } })],
      ["GetTranscript of an unknown id", () => transcripts.getTranscript({ transcriptId: UNKNOWN_ID })],
      ["SearchTranscripts with SQL in the query", () => transcripts.searchTranscripts({ query: `"' or 1=1; select * from users --` }).then((r) => { throw new Error(`answered ${r.results.length} results`); })],
      ["CreateExport of an unknown transcript", () => exports.createExport({ transcriptId: UNKNOWN_ID, format: ExportFormat.SRT })],
    ];

    const seen: string[] = [];
    for (const [what, call] of paths) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      // A search that finds nothing is a fine answer too; only errors are checked.
      if (err === undefined) continue;
      const { code, rawMessage } = ConnectError.from(err);
      seen.push(what);
      expect(code, what).not.toBe(Code.Internal);
      for (const [leak, pattern] of LEAKS) expect(rawMessage, `${what}: ${leak} in ${JSON.stringify(rawMessage)}`).not.toMatch(pattern);
    }
    // The walk reached the paths that once leaked: a model the server lacks, and a file ffprobe refused.
    expect(seen).toEqual(expect.arrayContaining(["CreateJob with the server's default model not installed", "Recognize with the default model not installed", "UploadMedia of a text file"]));
  });
});
