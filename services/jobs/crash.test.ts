// The crash test of DESIGN.md decision 7: many jobs while the worker process (`npm run worker`, spawned for
// real) is killed with SIGKILL several times in the middle of its work. The jobs are written to the database
// as queued and nothing else, so the worker's reconciler has to find them; after each kill, the jobs the dead
// worker held are taken over once their heartbeat is stale. In the end every job has succeeded and has
// exactly one transcript with exactly the segments and speakers of one run. Before the last worker starts,
// one more job is created through the domain in this process (BullMQ carries it to the worker process) and
// watched from here: WatchJob follows a job that another process runs (Redis pub/sub and database polls).
// Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL): PGlite is one process's database, so the embedded
// mode has no second process to kill.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAudioDir, sox, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { openDatabase, type Database } from "../platform/database/database.js";
import { entities } from "../app/entities.js";
import { createServerDatabaseUrl } from "../platform/database/testing.js";
import { childEnvironment, testEnvironment } from "../platform/config/test-environment.js";
import { Media } from "../media/media.entity.js";
import { Organization } from "../identity/model/organization.entity.js";
import { FsBlobStore } from "../platform/blobs/index.js";
import { Segment } from "../transcripts/segment.entity.js";
import { Speaker } from "../transcripts/speaker.entity.js";
import { Transcript } from "../transcripts/transcript.entity.js";
import { RedisJobEvents } from "./events.js";
import { Job } from "./job.entity.js";
import { Jobs } from "./jobs.js";
import { BullJobQueue } from "./queue.js";

const JOBS = 50;
const KILLS = 4;
const { databaseUrl: serverUrl, redisUrl } = testEnvironment();
const workerPath = fileURLToPath(new URL("../worker/main.ts", import.meta.url));

let audio: AudioDir;
let database: Database;
let drop: () => Promise<void>;
let env: Record<string, string>;
let expectedText: string;
let organizationId: string;
let watchedMediaId: string;
const workers = new Set<ChildProcess>();

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", workerPath], { env: childEnvironment(env), stdio: ["ignore", "ignore", "pipe"] });
  workers.add(child);
  child.once("exit", () => workers.delete(child));
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

async function succeeded(): Promise<number> {
  return database.fork().count(Job, { status: "succeeded" });
}

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(!serverUrl || !redisUrl)("the worker killed with SIGKILL while it runs jobs", () => {
  beforeAll(async () => {
    audio = await createAudioDir("jobs-crash-");
    await soxDtmf("123", audio.path("left.wav"), { leadMs: 200 });
    await soxDtmf("456", audio.path("right.wav"), { leadMs: 900 });
    await sox("-D", "-M", audio.path("left.wav"), audio.path("right.wav"), "-e", "u-law", "-b", "8", "-r", "8000", audio.path("call.wav"));
    // Each party on its own channel (the jobs below ask for separate recognition): one segment per channel.
    expectedText = "123 456";

    const created = await createServerDatabaseUrl(serverUrl!);
    drop = created.drop;
    env = {
      DATABASE_URL: created.url,
      REDIS_URL: redisUrl!,
      DATA_DIR: audio.dir,
      BLOB_SIGNING_SECRET: randomBytes(32).toString("hex"),
      // The filesystem store in a directory this test shares with the worker, whatever S3 the shell names.
      S3_ENDPOINT: "",
      JOB_QUEUE_NAME: `crash-${randomUUID()}`,
      JOB_DEFAULT_MODEL: "dtmf",
      JOB_CONCURRENCY: "2",
      JOB_STALE_SECONDS: "2",
      JOB_RECONCILE_SECONDS: "1",
      METRICS_PORT: "0",
      LOG_LEVEL: "warn",
      // The runners' temporary copies of media, where this test can see what a killed worker left.
      TMPDIR: audio.path("tmp"),
    };
    await mkdir(env.TMPDIR!, { recursive: true });
    database = await openDatabase({ url: created.url, dataDir: "" }, entities);

    const blobs = new FsBlobStore({ dataDir: audio.dir, signingSecret: env.BLOB_SIGNING_SECRET!, publicBaseUrl: "http://127.0.0.1:1" });
    await blobs.ensureBuckets();
    const em = database.fork();
    const org = em.create(Organization, { name: "مركز الاتصال", slug: `crash-${randomUUID().slice(0, 8)}` });
    const bytes = await readFile(audio.path("call.wav"));
    for (let i = 0; i < JOBS; i++) {
      const media = em.create(Media, { organization: org, filename: `call-${i}.wav`, contentType: "audio/wav", storageKey: `orgs/${org.id}/media/call-${i}.wav`, status: "ready" });
      await blobs.put("media", media.storageKey, bytes);
      em.create(Job, { organization: org, media, config: { model: "dtmf", languageCode: "ar", separateRecognitionPerChannel: true } });
    }
    const watched = em.create(Media, { organization: org, filename: "watched.wav", contentType: "audio/wav", storageKey: `orgs/${org.id}/media/watched.wav`, status: "ready" });
    await blobs.put("media", watched.storageKey, bytes);
    await em.flush();
    organizationId = org.id;
    watchedMediaId = watched.id;
  }, 120_000);

  afterAll(async () => {
    for (const child of workers) await kill(child);
    await database?.close();
    await drop?.();
    await audio?.remove();
  });

  it(`completes all ${JOBS} jobs, each transcript written exactly once`, async () => {
    for (let k = 0; k < KILLS; k++) {
      const before = await succeeded();
      const worker = startWorker();
      // Killed mid-stream: after it finished a few jobs, while it holds others.
      await until(async () => (await succeeded()) >= Math.min(JOBS, before + 3), 90_000, `worker ${k + 1} to finish jobs`);
      await until(async () => (await database.fork().count(Job, { status: "running" })) > 0 || (await succeeded()) === JOBS, 30_000, "a running job");
      await kill(worker);
    }
    // One more job, created and watched from this process, run by the last worker.
    const redis = new Redis(redisUrl!, { maxRetriesPerRequest: 2 });
    const events = new RedisJobEvents(redis, { prefix: env.JOB_QUEUE_NAME });
    await events.whenReady();
    const queue = new BullJobQueue({ redisUrl: redisUrl!, name: `${env.JOB_QUEUE_NAME}-jobs`, prefix: "bull" });
    const jobs = new Jobs({ database, queue, events, models: { recognizer: async ({ model }) => ({ name: model, languageCode: "ar", gate: "energy" }), list: async () => [] }, defaultModel: "dtmf" });
    const seen: string[] = [];
    try {
      const { view } = await jobs.create(organizationId, { mediaId: watchedMediaId, config: { model: "dtmf", separateRecognitionPerChannel: true }, priority: 3, labels: {} });
      const watching = (async () => {
        for await (const v of jobs.watch(organizationId, view.job.id, AbortSignal.timeout(240_000))) seen.push(v.job.status);
      })();
      startWorker();
      await watching;
    } finally {
      await queue.close();
      await events.close();
      redis.disconnect();
    }
    expect(seen[0]).toBe("queued");
    expect(seen).toContain("running");
    expect(seen.at(-1)).toBe("succeeded");

    await until(async () => (await succeeded()) === JOBS + 1, 240_000, "every job to succeed");
    // The last worker swept what the killed ones left in their temporary folders, and its own runs cleaned up.
    await until(async () => (await readdir(`${env.TMPDIR}/arabicstt-jobs`)).length === 0, 10_000, "no temporary media copies left");

    const em = database.fork();
    const all = await em.find(Job, {});
    expect(all.map((j) => j.status)).toEqual(Array(JOBS + 1).fill("succeeded"));
    // The kills cost runs: some jobs were started more than once, and still wrote once.
    const runs = all.reduce((sum, j) => sum + j.attempts, 0);
    expect(runs).toBeGreaterThan(JOBS + 1);
    const transcripts = await em.find(Transcript, {});
    expect(transcripts).toHaveLength(JOBS + 1);
    expect(new Set(transcripts.map((t) => t.job!.id)).size).toBe(JOBS + 1);
    console.log(`crash: ${JOBS} jobs, ${KILLS} SIGKILLs of the worker, then 1 more watched; ${runs} runs started for ${JOBS + 1} jobs, ${transcripts.length} transcripts`);
    for (const transcript of transcripts) {
      expect(transcript.text).toBe(expectedText);
      expect(await em.count(Segment, { transcript })).toBe(2);
      expect(await em.count(Speaker, { transcript })).toBe(2);
    }
  }, 600_000);
});
