// The ghz configuration under deploy/ghz: its data file is what make-data.ts writes today, every
// message in it is protojson that the contract accepts (ghz reads protojson), and one stream of
// it, sent to a real gateway with the engine and the sidecar, returns the keys on each channel.
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInferenceClient, type InferenceClient } from "../../inference/client/index.js";
import { startSidecar, type Sidecar } from "../../inference/local/server.js";
import { createStreamDecoder } from "../../services/audio/index.js";
import { LiveRecognizer } from "../../services/speech/live-recognition.js";
import { ModelCatalog } from "../../services/models/catalog.js";
import { SpeechService, StreamingRecognizeRequestSchema } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { productRoutes } from "../../gateway/routes.js";
import { transports, withHeaders } from "../../gateway/testing/clients.js";
import { testAuthenticator, testAuthHeaders } from "../../gateway/testing/auth.js";
import { startTestGateway, type TestGateway } from "../../gateway/testing/test-gateway.js";
import { speechService } from "../../services/speech/speech-service.js";
import { dataFile, ghzMessages, KEYS } from "./make-data.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("the ghz configuration for StreamingRecognize", () => {
  let weightsDir: string;
  let sidecar: Sidecar;
  let inference: InferenceClient;
  let gateway: TestGateway;

  beforeAll(async () => {
    weightsDir = await mkdtemp(join(tmpdir(), "arabicstt-ghz-weights-"));
    sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir: join(root, "inference/models"), weightsDir, logger: pino({ level: "silent" }) });
    inference = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`] });
    const models = new ModelCatalog(inference, { defaultModel: "whisper" });
    const recognizer = new LiveRecognizer({ inference, models, createDecoder: createStreamDecoder });
    gateway = await startTestGateway({
      authenticator: testAuthenticator(), routes: productRoutes({ [SpeechService.typeName]: speechService({ recognizer, catalog: models }) }) });
  }, 60_000);

  afterAll(async () => {
    await gateway?.drain();
    inference?.close();
    await sidecar?.close();
    if (weightsDir) await rm(weightsDir, { recursive: true, force: true });
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
    const client = createClient(SpeechService, withHeaders(transports(gateway.grpcPort, gateway.httpPort).grpc, testAuthHeaders));
    const finals: Record<number, string> = { 1: "", 2: "" };
    async function* requests() {
      yield* messages;
    }
    for await (const r of client.streamingRecognize(requests())) {
      for (const result of r.results) if (result.isFinal) finals[result.channelTag] += result.alternatives[0]!.transcript;
    }
    expect(finals).toEqual(KEYS);
  });
});
