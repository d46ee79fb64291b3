// The CLI against the running platform (gateway/testing/platform.ts: the embedded composition root, the real
// inference sidecar over gRPC, jobs run in-process): log in, list models, transcribe a WAV of keypad tones end
// to end through the presigned upload, a job and WatchJob, write an export, stream the same file live, manage
// API keys, refresh an expired access token, and fail in one line with the request id the gateway logged.
// Commands run in-process through runCli (its streams captured); the `bin` entry runs once as a process.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthService } from "../../proto/gen/arabicstt/v1/auth_pb.js";
import { createAudioDir, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../testing/platform.js";
import { TEST_PASSWORD, uniqueEmail } from "../testing/accounts.js";
import { childEnvironment } from "../../services/platform/config/test-environment.js";
import { runCli } from "./cli.js";
import type { Output } from "./io.js";

const BIN = fileURLToPath(new URL("./arabicstt.mjs", import.meta.url));
const KEYS = "42#7";

/** A stream that keeps what is written; `tty` makes it look like a terminal. */
function capture(tty = false): Output & { text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  if (tty) Object.assign(stream, { isTTY: true, columns: 100 });
  return Object.assign(stream, { text: () => Buffer.concat(chunks).toString("utf8") });
}

/** Bytes as a pipe delivers them: a first piece shorter than any header, then pieces of 4 KiB. */
function pieces(bytes: Buffer): Buffer[] {
  const out = [bytes.subarray(0, 5)];
  for (let at = 5; at < bytes.length; at += 4096) out.push(bytes.subarray(at, at + 4096));
  return out.filter((piece) => piece.length > 0);
}

describe("the arabicstt CLI against the platform", () => {
  let h: TestPlatform;
  let audio: AudioDir;
  let home: string;
  let server: string;
  const email = uniqueEmail();

  /** Runs `arabicstt ARGS` in-process with this test's config folder and server. */
  async function cli(args: string[], options: { stdin?: string | Buffer; env?: Record<string, string>; ttyStdout?: boolean; ttyStderr?: boolean } = {}) {
    const stdout = capture(options.ttyStdout);
    const stderr = capture(options.ttyStderr);
    const code = await runCli({
      argv: [...args, "--server", server],
      env: { XDG_CONFIG_HOME: home, HOME: home, ...options.env },
      io: { stdout, stderr, stdin: Readable.from(pieces(Buffer.from(options.stdin ?? ""))) },
    });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  beforeAll(async () => {
    h = await startTestPlatform({ ...UNTHROTTLED }, { jobs: { runJobs: true } });
    server = `http://127.0.0.1:${h.platform.gateway.grpcPort}`;
    home = await mkdtemp(path.join(tmpdir(), "arabicstt-cli-"));
    audio = await createAudioDir("arabicstt-cli-audio-");
    // Keypad tones as a call centre records them: 8 kHz, 16-bit PCM, mono; and the same keys as μ-law.
    await soxDtmf(KEYS, audio.path("keys.wav"), { leadMs: 300 });
    await soxDtmf(KEYS, audio.path("keys-ulaw.wav"), { leadMs: 300, encoding: "u-law" });
    await h.client(AuthService).register({ email, password: TEST_PASSWORD, displayName: "ليلى", organizationName: "مركز الاتصال" });
  });

  afterAll(async () => {
    await h?.stop();
    await audio?.remove();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("logs in with the password from stdin and keeps the tokens in a file only its owner reads", async () => {
    const wrong = await cli(["login", "--email", email], { stdin: "not the password\n" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^arabicstt: error: unauthenticated: .* \(request id [\w.:-]+\)\n$/);

    const res = await cli(["login", "--email", email], { stdin: `${TEST_PASSWORD}\n` });
    expect(res.stderr).toContain(`logged in as ${email}`);
    expect(res.code).toBe(0);
    const file = path.join(home, "arabicstt", "config.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(await readFile(file, "utf8"));
    expect(saved).toMatchObject({ server, email });
    expect(saved.accessToken).toMatch(/^ey/);
    expect(saved.refreshToken.length).toBeGreaterThan(20);
  });

  it("lists the models, as a table and as JSON", async () => {
    const table = await cli(["models"]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^MODEL\s+STATE\s+LIVE\s+BATCH/);
    expect(table.stdout).toMatch(/^dtmf\s/m);
    const json = await cli(["models", "--json"]);
    const names = (JSON.parse(json.stdout) as { models: { name: string }[] }).models.map((m) => m.name);
    expect(names).toContain("dtmf");
  });

  it("transcribes a WAV end to end: upload, job, transcript with the keys", async () => {
    const res = await cli(["transcribe", audio.path("keys.wav"), "--model", "dtmf"]);
    expect(res.stderr).toMatch(/uploaded .*keys\.wav as media [0-9a-f-]{36}/);
    expect(res.stderr).toMatch(/job [0-9a-f-]{36} succeeded: transcript [0-9a-f-]{36}/);
    expect(res.code).toBe(0);
    expect(res.stdout.replace(/\s/g, "")).toBe(KEYS);

    const jobs = await cli(["jobs", "list", "--json"]);
    const listed = JSON.parse(jobs.stdout) as { jobs: { jobId: string; state: string }[] };
    expect(listed.jobs[0]?.state).toBe("JOB_STATE_SUCCEEDED");
    const watched = await cli(["jobs", "watch", listed.jobs[0]!.jobId]);
    expect(watched.code).toBe(0);
    expect(watched.stderr).toMatch(/succeeded: transcript/);
    // --json: each WatchJob update, then the finished job, one JSON document a line.
    const json = await cli(["jobs", "watch", listed.jobs[0]!.jobId, "--json"]);
    const last = JSON.parse(json.stdout.trim().split("\n").at(-1)!) as { jobId: string; state: string; transcriptId: string };
    expect(last).toMatchObject({ jobId: listed.jobs[0]!.jobId, state: "JOB_STATE_SUCCEEDED" });
    expect(last.transcriptId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("writes an export in the chosen format to a file, with progress bars on a terminal", async () => {
    const out = path.join(home, "keys.srt");
    const res = await cli(["transcribe", audio.path("keys-ulaw.wav"), "--model", "dtmf", "--format", "srt", "--output", out], { ttyStderr: true });
    expect(res.code).toBe(0);
    const srt = await readFile(out, "utf8");
    expect(srt).toMatch(/^1\r?\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}/);
    // Each cue: its number, its times, the speaker and the keys.
    expect(srt.replace(/^\d+$|^.*-->.*$|\bS\d+:|\s/gm, "")).toBe(KEYS);
    // The bars were drawn on stderr, rewritten in place and erased.
    expect(res.stderr).toMatch(/\r\x1b\[2K\[#+-*\]\s+\d+% uploading/);
    expect(res.stderr).toMatch(/\r\x1b\[2K\[[#-]+\]\s+\d+% job /);
    expect(res.stdout).toBe("");
  });

  it("streams a file live and prints the finals on stdout", async () => {
    const res = await cli(["live", audio.path("keys.wav"), "--model", "dtmf", "--dtmf"], { ttyStderr: true });
    expect(res.code).toBe(0);
    expect(res.stdout.replace(/\s/g, "")).toBe(KEYS);
    // --dtmf: each key as an event on stderr, in order.
    // On a terminal (stderr is one here) a partial drawn in place is erased before the next line.
    const lines = res.stderr.split(/\n|\r\x1b\[2K/);
    expect(lines.flatMap((line) => /^key (\S) at [\d.]+ s$/.exec(line)?.[1] ?? []).join("")).toBe(KEYS);

    const piped = await cli(["live", "-", "--model", "dtmf", "--fast", "--json"], { stdin: await readFile(audio.path("keys-ulaw.wav")) });
    expect(piped.code).toBe(0);
    const finals = piped.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { results?: { isFinal?: boolean; alternatives: { transcript: string }[] }[] })
      .flatMap((r) => r.results ?? [])
      .filter((r) => r.isFinal)
      .map((r) => r.alternatives[0]?.transcript ?? "");
    expect(finals.join("").replace(/\s/g, "")).toBe(KEYS);
  });

  it("creates an API key that works with --api-key and ARABICSTT_API_KEY, then revokes it", async () => {
    const made = await cli(["keys", "create", "--name", "ci", "--scope", "speech,jobs_read"]);
    expect(made.code).toBe(0);
    const secret = made.stdout.trim();
    expect(secret).toMatch(/^astt_/);
    const list = await cli(["keys", "list"]);
    expect(list.stdout).toMatch(/\sactive\s+speech,jobs_read\s/);
    const id = /^([0-9a-f-]{36})\s/m.exec(list.stdout)![1]!;

    const other = await mkdtemp(path.join(tmpdir(), "arabicstt-cli-nologin-"));
    try {
      const byFlag = await cli(["models", "--api-key", secret], { env: { XDG_CONFIG_HOME: other } });
      expect(byFlag.code).toBe(0);
      expect(byFlag.stdout).toMatch(/^dtmf\s/m);
      const byEnv = await cli(["jobs", "list"], { env: { XDG_CONFIG_HOME: other, ARABICSTT_API_KEY: secret } });
      expect(byEnv.code).toBe(0);
      // jobs:read is not media:write: the key cannot upload.
      const refused = await cli(["transcribe", audio.path("keys.wav")], { env: { XDG_CONFIG_HOME: other, ARABICSTT_API_KEY: secret } });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^arabicstt: error: permission_denied: .*\(request id [\w.:-]+\)\n$/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
    const revoked = await cli(["keys", "revoke", id]);
    expect(revoked.code).toBe(0);
    const after = await cli(["models", "--api-key", secret]);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/^arabicstt: error: unauthenticated: /);
  });

  it("refreshes an access token that is about to expire, saves the new pair, and asks for a login when refresh is refused", async () => {
    const file = path.join(home, "arabicstt", "config.json");
    const before = JSON.parse(await readFile(file, "utf8"));
    await writeFile(file, JSON.stringify({ ...before, accessTokenExpiresAt: new Date(Date.now() - 1000).toISOString() }));
    const res = await cli(["models"]);
    expect(res.code).toBe(0);
    const after = JSON.parse(await readFile(file, "utf8"));
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(Date.parse(after.accessTokenExpiresAt)).toBeGreaterThan(Date.now());

    // The old refresh token is spent: presented again, the server revokes the login, and the CLI says to log in.
    await writeFile(file, JSON.stringify({ ...after, refreshToken: before.refreshToken, accessTokenExpiresAt: new Date(0).toISOString() }));
    const spent = await cli(["models"]);
    expect(spent.code).toBe(1);
    expect(spent.stderr).toMatch(/^arabicstt: error: unauthenticated: the saved login for http:\S+ has expired or was revoked: run arabicstt login \(request id [\w.:-]+\)\n$/);
    const again = await cli(["login", "--email", email], { stdin: `${TEST_PASSWORD}\n` });
    expect(again.code).toBe(0);
  });

  it("fails in one line with the code and the request id the gateway logged, exit status 1", async () => {
    const res = await cli(["jobs", "watch", "not-a-job-id"]);
    expect(res.code).toBe(1);
    const match = /^arabicstt: error: invalid_argument: (.*job_id.*) \(request id ([\w.:-]+)\)\n$/.exec(res.stderr);
    expect(match, res.stderr).not.toBeNull();
    expect(h.logs.some((line) => line.request_id === match![2])).toBe(true);
    expect(res.stdout).toBe("");
  });

  it("refuses a wrong command line with exit status 2 and says where the help is", async () => {
    const unknown = await cli(["transcribe", audio.path("keys.wav"), "--colour", "red"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^arabicstt: Unknown option '--colour'.*\(see arabicstt transcribe --help\)\n$/);
    const help = await cli(["live", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: arabicstt live FILE\|-/);
    expect(help.stdout).toContain("--realtime");
  });

  it("lists its commands with --help", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^arabicstt: Arabic speech-to-text/);
    for (const command of ["login", "keys", "models", "transcribe", "live", "jobs"]) expect(help.stdout).toMatch(new RegExp(`^ {2}${command}\\s`, "m"));
  });

  it("runs as the package's bin, with the exit status of its error", async () => {
    const run = promisify(execFile);
    const env = childEnvironment({ XDG_CONFIG_HOME: home, ARABICSTT_API_KEY: "astt_not_a_real_key" });
    const failed = await run(process.execPath, [BIN, "models", "--server", server], { env }).then(
      () => undefined,
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/^arabicstt: error: unauthenticated: .* \(request id [\w.:-]+\)\n$/);
  });
});
