// The ghz configuration under deploy/ghz: its data file is what make-data.ts writes today, every
// message in it is protojson that the contract accepts (ghz reads protojson), and one stream of
// it, sent to a real gateway with the engine and the sidecar, returns the keys on each channel.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpeechService, StreamingRecognizeRequestSchema } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { dataFile, ghzMessages, KEYS } from "./make-data.js";
import { startTestPlatform, type TestPlatform } from "../../gateway/testing/platform.js";
import { registerOwner, TEST_PASSWORD } from "../../gateway/testing/accounts.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { writeAuthenticatedGhzConfig } from "./login.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("the ghz configuration for StreamingRecognize", () => {
  let platform: TestPlatform;
  let credential: string;

  beforeAll(async () => {
    // The whole platform, through the root `npm start` uses, with its own in-process sidecar.
    platform = await startTestPlatform({ JOB_DEFAULT_MODEL: "whisper" });
    credential = (await registerOwner(platform)).accessToken;
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("names files that exist, a method of the contract, and 20 ms between messages", async () => {
    const config = JSON.parse(await readFile(join(root, "deploy/ghz/streaming-recognize.json"), "utf8")) as Record<string, string>;
    await readFile(join(root, config.protoset!));
    expect(join(root, config["data-file"]!)).toBe(dataFile);
    expect(config.call).toBe(`${SpeechService.typeName}.${SpeechService.method.streamingRecognize.name}`);
    expect(config["stream-interval"]).toBe("20ms");
  });

  it("ships the data make-data.ts writes, and one stream of it recognises the keys of each channel", async () => {
    const shipped = JSON.parse(await readFile(dataFile, "utf8")) as JsonValue[];
    expect(shipped).toEqual(ghzMessages());
    const messages = shipped.map((m) => fromJson(StreamingRecognizeRequestSchema, m));
    const client = platform.client(SpeechService, { credential });
    const finals: Record<number, string> = { 1: "", 2: "" };
    async function* requests() {
      yield* messages;
    }
    for await (const r of client.streamingRecognize(requests())) {
      for (const result of r.results) if (result.isFinal) finals[result.channelTag] += result.alternatives[0]!.transcript;
    }
    expect(finals).toEqual(KEYS);
  });

  it("login.ts logs in (or registers), mints a speech API key, and writes a config whose authorization opens the stream", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ghz-login-"));
    try {
      const host = `127.0.0.1:${platform.platform.gateway.grpcPort}`;
      const owner = await registerOwner(platform);
      const loggedIn = await writeAuthenticatedGhzConfig({ host, email: owner.email, password: TEST_PASSWORD, out: join(dir, "login.json") });
      const registered = await writeAuthenticatedGhzConfig({ host, out: join(dir, "register.json") });
      expect(registered.email).not.toBe(owner.email);
      const base = JSON.parse(await readFile(join(root, "deploy/ghz/streaming-recognize.json"), "utf8")) as Record<string, unknown>;
      for (const result of [loggedIn, registered]) {
        const written = JSON.parse(await readFile(result.out, "utf8")) as Record<string, unknown> & { metadata: { authorization: string } };
        expect(written).toEqual({ ...base, host, insecure: true, metadata: { authorization: expect.stringMatching(/^Bearer \S+$/) } });
        // The key, not a session token: an API key id came back, and the secret authenticates a stream.
        expect(result.apiKeyId).toMatch(/^[0-9a-f-]{36}$/);
        const messages = (JSON.parse(await readFile(dataFile, "utf8")) as JsonValue[]).map((m) => fromJson(StreamingRecognizeRequestSchema, m));
        const client = platform.client(SpeechService, { headers: { authorization: written.metadata.authorization } });
        const finals: Record<number, string> = { 1: "", 2: "" };
        async function* requests() {
          yield* messages;
        }
        for await (const r of client.streamingRecognize(requests())) {
          for (const res of r.results) if (res.isFinal) finals[res.channelTag] += res.alternatives[0]!.transcript;
        }
        expect(finals).toEqual(KEYS);
      }
      // A wrong password writes nothing.
      await expect(writeAuthenticatedGhzConfig({ host, email: owner.email, password: "not the password", out: join(dir, "bad.json") })).rejects.toThrow();
      await expect(readFile(join(dir, "bad.json"))).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
