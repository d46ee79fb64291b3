// What grpcurl does against the running platform: list the services and describe one through gRPC server
// reflection, over both protocol versions, with a plain grpc-js client and the reflection contract as the
// gRPC project publishes it (the copy inside @grpc/reflection). No credential is sent: grpcurl sends none.
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { startTestPlatform, type TestPlatform } from "../testing/platform.js";
import { productServiceNames } from "../../services/app/product-services.js";

const VERSIONS = ["v1", "v1alpha"] as const;

interface ReflectionResponse {
  listServicesResponse?: { service: Array<{ name: string }> };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
  messageResponse: string;
}

/** One reflection stream: sends each request and collects one answer per request, as grpcurl does. */
async function reflect(port: number, version: (typeof VERSIONS)[number], requests: object[]): Promise<ReflectionResponse[]> {
  const protoPath = createRequire(import.meta.url).resolve(`@grpc/reflection/build/proto/grpc/reflection/${version}/reflection.proto`);
  const loaded = grpc.loadPackageDefinition(loadSync(protoPath, { oneofs: true, longs: String })) as any;
  const Client = loaded.grpc.reflection[version].ServerReflection as grpc.ServiceClientConstructor;
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as any;
  try {
    const call = client.ServerReflectionInfo() as grpc.ClientDuplexStream<object, ReflectionResponse>;
    const answers: ReflectionResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (answer) => answers.push(answer));
      call.on("error", reject);
      call.on("end", resolve);
    });
    for (const request of requests) call.write(request);
    call.end();
    await done;
    return answers;
  } finally {
    client.close();
  }
}

function missingImports(files: Map<string, FileDescriptorProto>): string[] {
  return [...new Set([...files.values()].flatMap((f) => f.dependency))].filter((name) => !files.has(name));
}

describe("gRPC server reflection on the gRPC listener", () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform({ LOG_LEVEL: "silent" });
  });
  afterAll(async () => t?.stop());

  for (const version of VERSIONS) {
    it(`${version}: lists every product service, health and reflection`, async () => {
      const [answer] = await reflect(t.platform.gateway.grpcPort, version, [{ listServices: "*" }]);
      const names = answer!.listServicesResponse!.service.map((s) => s.name).sort();
      expect(names).toEqual(
        [...productServiceNames, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"].sort(),
      );
    });

    it(`${version}: describes SpeechService with its methods and message fields, imports included`, async () => {
      const port = t.platform.gateway.grpcPort;
      const [answer] = await reflect(port, version, [{ fileContainingSymbol: "arabicstt.v1.SpeechService" }]);
      const files = new Map<string, FileDescriptorProto>();
      const add = (response: ReflectionResponse) =>
        response.fileDescriptorResponse!.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes)).forEach((f) => files.set(f.name, f));
      add(answer!);
      // Like grpcurl: an import the answer left out (one used for options only) is asked for by name.
      for (let missing = missingImports(files); missing.length > 0; missing = missingImports(files)) {
        (await reflect(port, version, missing.map((fileByFilename) => ({ fileByFilename })))).forEach(add);
      }
      const registry = createFileRegistry(files.get("arabicstt/v1/speech.proto")!, (name) => files.get(name));
      const service = registry.getService("arabicstt.v1.SpeechService")!;
      expect(service.methods.map((m) => m.name)).toEqual(expect.arrayContaining(["Recognize", "StreamingRecognize"]));
      const streaming = service.methods.find((m) => m.name === "StreamingRecognize")!;
      expect(streaming.methodKind).toBe("bidi_streaming");
      expect(streaming.input.fields.map((f) => f.name)).toEqual(expect.arrayContaining(["streaming_config", "audio_content"]));
    });

    it(`${version}: describes the reflection service itself with full type names`, async () => {
      const [answer] = await reflect(t.platform.gateway.grpcPort, version, [{ fileContainingSymbol: `grpc.reflection.${version}.ServerReflection` }]);
      const [file] = answer!.fileDescriptorResponse!.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
      const method = createFileRegistry(file!, () => undefined).getService(`grpc.reflection.${version}.ServerReflection`)!.methods[0]!;
      expect([method.name, method.methodKind, method.input.typeName]).toEqual(["ServerReflectionInfo", "bidi_streaming", `grpc.reflection.${version}.ServerReflectionRequest`]);
    });

    it(`${version}: answers an unknown symbol with NOT_FOUND in the stream, and keeps serving it`, async () => {
      const answers = await reflect(t.platform.gateway.grpcPort, version, [
        { fileContainingSymbol: "arabicstt.v1.NoSuchService" },
        { fileByFilename: "grpc/health/v1/health.proto" },
      ]);
      expect(answers[0]!.errorResponse!.errorCode).toBe(grpc.status.NOT_FOUND);
      const health = fromBinary(FileDescriptorProtoSchema, answers[1]!.fileDescriptorResponse!.fileDescriptorProto[0]!);
      expect(health.service.map((s) => s.name)).toEqual(["Health"]);
    });
  }
});
