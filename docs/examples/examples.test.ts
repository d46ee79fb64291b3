// The examples in docs/examples run as a user runs them, each as its own process with an API key, against
// the whole platform (started as `npm start` starts it, with the real local sidecar over gRPC): a WAV file
// of keypad tones, dialled by sox, streamed through StreamingRecognize and transcribed as a batch job
// (UploadMedia, CreateJob, WatchJob, GetTranscript) by the `dtmf` model, whose words are the keys heard.
// TypeScript always; Python where /usr/bin/python3 has grpcio and protoc's gRPC plugin is installed; Go
// where Go and Debian's gRPC and protobuf Go sources are (built offline in GOPATH mode).
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, cp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyScope, ApiKeyService } from "../../proto/gen/arabicstt/v1/api_key_pb.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../gateway/testing/platform.js";
import { registerOwner } from "../../gateway/testing/accounts.js";
import { createAudioDir, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const KEYS = "1590";

/** Whether `command` runs (exit status 0). */
function runs(command: string, ...args: string[]): boolean {
  return spawnSync(command, args, { stdio: "ignore" }).status === 0;
}

const pythonMissing = !runs("/usr/bin/python3", "-c", "import grpc, google.protobuf")
  ? "/usr/bin/python3 lacks grpcio or protobuf (Debian: python3-grpcio python3-protobuf)"
  : !runs("sh", "-c", "command -v protoc && command -v grpc_python_plugin")
    ? "protoc or grpc_python_plugin is missing (Debian: protobuf-compiler protobuf-compiler-grpc)"
    : "";
const GOPATH_SOURCES = "/usr/share/gocode";
const goMissing = !runs("go", "version")
  ? "Go is missing (Debian: golang-go)"
  : !runs("sh", "-c", "command -v protoc-gen-go && command -v protoc-gen-go-grpc")
    ? "protoc-gen-go or protoc-gen-go-grpc is missing (Debian: protoc-gen-go protoc-gen-go-grpc)"
    : !existsSync(`${GOPATH_SOURCES}/src/google.golang.org/grpc`) || !existsSync(`${GOPATH_SOURCES}/src/google.golang.org/protobuf`)
      ? "the gRPC and protobuf Go sources are missing (Debian: golang-google-grpc-dev golang-google-protobuf-dev)"
      : // Debian's gRPC 1.33 marshals through github.com/golang/protobuf: 1.3 cannot encode protoc-gen-go's (APIv2) messages.
        existsSync(`${GOPATH_SOURCES}/src/github.com/golang/protobuf/proto/table_marshal.go`)
        ? "github.com/golang/protobuf is 1.3, which cannot marshal APIv2 messages (Debian: golang-github-golang-protobuf-1-5-dev)"
        : "";

let h: TestPlatform;
let audio: AudioDir;
let work: string;
let env: Record<string, string>;
let wav: string;

beforeAll(async () => {
  h = await startTestPlatform({ ...UNTHROTTLED, JOB_DEFAULT_MODEL: "dtmf" }, { jobs: { runJobs: true } });
  const owner = await registerOwner(h);
  const { secret } = await h.client(ApiKeyService, { credential: owner.accessToken }).createApiKey({
    name: "examples",
    scopes: [
      ApiKeyScope.SPEECH,
      ApiKeyScope.MEDIA_READ,
      ApiKeyScope.MEDIA_WRITE,
      ApiKeyScope.JOBS_READ,
      ApiKeyScope.JOBS_WRITE,
      ApiKeyScope.TRANSCRIPTS_READ,
    ],
  });
  env = { ...(process.env as Record<string, string>), ARABICSTT_URL: `http://127.0.0.1:${h.platform.gateway.grpcPort}`, ARABICSTT_API_KEY: secret };
  audio = await createAudioDir("arabicstt-examples-");
  wav = audio.path("keys.wav");
  // 16 kHz mono 16-bit PCM, as a softphone records: each key 100 ms, 100 ms apart.
  await soxDtmf(KEYS, wav, { rate: 16_000 });
  work = await mkdtemp(path.join(tmpdir(), "arabicstt-examples-"));
}, 120_000);

afterAll(async () => {
  await h?.stop();
  await audio?.remove();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Runs an example to its end; its stdout lines (a failure shows its stderr). */
async function runExample(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<string[]> {
  try {
    const { stdout } = await exec(command, args, { cwd: options.cwd ?? root, env: { ...env, ...options.env }, timeout: 120_000 });
    return stdout.split("\n").filter(Boolean);
  } catch (err) {
    const { stdout = "", stderr = "" } = err as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed:\n${stdout}${stderr}`);
  }
}

/** The keys in the lines that start with `prefix` (the dtmf model's words are the keys). */
function keysOf(lines: string[], prefix: string): string {
  return lines
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length))
    .join("")
    .replace(/[^0-9*#A-D]/g, "");
}

/** What every example must print for the file: the keys as final results, and the batch job's transcript. */
async function expectBothFlows(run: (args: string[]) => Promise<string[]>): Promise<void> {
  const streamed = await run(["stream", wav, "--model", "dtmf"]);
  expect(keysOf(streamed, "final: ")).toBe(KEYS);

  const batch = await run(["batch", wav, "--model", "dtmf"]);
  expect(batch.some((line) => line.startsWith("job: JOB_STATE_SUCCEEDED") || line.startsWith("job: SUCCEEDED"))).toBe(true);
  expect(keysOf(batch, "transcript: ")).toBe(KEYS);
}

describe("the TypeScript example", () => {
  it("streams the WAV file and runs it as a batch job", async () => {
    const tsx = path.join(root, "node_modules/.bin/tsx");
    await expectBothFlows((args) => runExample(tsx, ["docs/examples/typescript/main.ts", ...args]));
  });

  it("says in one line what is wrong with a request the server refuses", async () => {
    const tsx = path.join(root, "node_modules/.bin/tsx");
    const failed = exec(tsx, ["docs/examples/typescript/main.ts", "stream", wav, "--model", "dtmf"], {
      cwd: root,
      env: { ...env, ARABICSTT_API_KEY: "sk_not_a_key" },
    });
    await expect(failed).rejects.toMatchObject({ stderr: expect.stringMatching(/request id [\w-]+/) });
  });
});

describe.skipIf(Boolean(pythonMissing))(`the Python example${pythonMissing ? ` (skipped: ${pythonMissing})` : ""}`, () => {
  it("streams the WAV file and runs it as a batch job, with the generated SDK", async () => {
    const sdk = path.join(work, "python-sdk");
    await exec("bash", ["proto/tools/generate-sdk.sh", sdk], { cwd: root, env: { ...env, SDK_LANGUAGES: "python" } });
    const pythonEnv = { PYTHONPATH: path.join(sdk, "python") };
    await expectBothFlows((args) => runExample("/usr/bin/python3", ["docs/examples/python/example.py", ...args], { env: pythonEnv }));
  });
});

describe.skipIf(Boolean(goMissing))(`the Go example${goMissing ? ` (skipped: ${goMissing})` : ""}`, () => {
  it("builds offline against the generated SDK, streams the WAV file and runs it as a batch job", async () => {
    // GOPATH mode: the SDK and the example under this GOPATH, gRPC and protobuf from Debian's Go sources.
    // go.mod's module paths are the import paths here, so the same files build in module mode online.
    const gopath = path.join(work, "gopath");
    const at = path.join(gopath, "src/example.com/arabicstt");
    await mkdir(at, { recursive: true });
    await exec("bash", ["proto/tools/generate-sdk.sh", path.join(work, "go-sdk")], { cwd: root, env: { ...env, SDK_LANGUAGES: "go" } });
    await symlink(path.join(work, "go-sdk/go"), path.join(at, "sdk"));
    await cp(path.join(root, "docs/examples/go"), path.join(at, "examples"), { recursive: true });
    const binary = path.join(work, "example");
    // The build cache outlives the test (under .tmp/, ignored by git): a cold build compiles gRPC first.
    const goEnv = { GO111MODULE: "off", GOFLAGS: "", GOPATH: `${gopath}:${GOPATH_SOURCES}`, GOCACHE: path.join(root, ".tmp/go-build-cache") };
    await runExample("go", ["build", "-o", binary, "."], { cwd: path.join(at, "examples"), env: goEnv });
    await expectBothFlows((args) => runExample(binary, args));
  }, 300_000);
});
