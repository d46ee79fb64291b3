// gRPC server reflection (grpc.reflection.v1 and v1alpha), so grpcurl, Postman, Kreya and ghz can list and
// describe the API without .proto files. The answers come from @grpc/reflection, the gRPC project's own
// implementation, fed with the descriptors of the services registered on the router (the generated code in
// proto/gen, so they can never drift from what is served). That package serves grpc-js servers; our gRPC
// listener is Connect's, so each request is handed to its handler as grpc-js would hand it (decoded by the
// package's own serializers from the bytes Connect received) and each answer goes back the same way.
import { EventEmitter } from "node:events";
import {
  create,
  createFileRegistry,
  fromBinary,
  toBinary,
  type DescFile,
  type DescMethodBiDiStreaming,
  type DescService,
  type Message,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type DescriptorProto, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { ReflectionService } from "@grpc/reflection";
import type { PackageDefinition } from "@grpc/proto-loader";

/** Requests one reflection stream may carry; a client (grpcurl) sends a handful. */
export const MAX_REFLECTION_REQUESTS_PER_STREAM = 10_000;

/** The grpc-js view of one ServerReflectionInfo method that @grpc/reflection registers. */
interface GrpcMethod {
  path: string;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: unknown): Buffer;
  requestType?: { fileDescriptorProtos?: Buffer[] };
}
type GrpcBidiHandler = (stream: EventEmitter & { write(value: unknown): boolean; end(): void }) => void;
interface CapturedMethod {
  grpc: GrpcMethod;
  handler: GrpcBidiHandler;
}

/** Full names of the reflection services, for the auth interceptor's open list. */
export const REFLECTION_SERVICE_NAMES = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"] as const;

/**
 * Registers grpc.reflection.v1 and v1alpha on `router`. They describe every service registered on the router
 * before this call, and themselves.
 */
export function registerServerReflection(router: ConnectRouter): void {
  const served = new Map<string, DescService>();
  for (const handler of router.handlers) served.set(handler.service.typeName, handler.service);

  // The reflection services' own descriptors come with the package: a first instance hands them over.
  const reflectionFiles = captureMethods(new ReflectionService({})).map(({ grpc }) => descriptorOf(grpc));
  const names = [...served.keys(), ...REFLECTION_SERVICE_NAMES];
  const files = [...filesOf([...served.values()]).map((file) => file.proto), ...reflectionFiles.flatMap((r) => r.files)];
  const service = new ReflectionService(packageDefinitionOf(files), { services: names });

  for (const { grpc, handler } of captureMethods(service)) {
    const method = descriptorOf(grpc).method;
    router.rpc(method, (requests: AsyncIterable<Message>) => answer(method, grpc, handler, requests));
  }
}

/** The methods @grpc/reflection adds to a grpc-js server, caught by a stand-in server. */
function captureMethods(service: ReflectionService): CapturedMethod[] {
  const methods: CapturedMethod[] = [];
  service.addToServer({
    addService(definition, implementation) {
      for (const [name, grpc] of Object.entries(definition)) {
        methods.push({ grpc: grpc as unknown as GrpcMethod, handler: (implementation as Record<string, unknown>)[name] as GrpcBidiHandler });
      }
    },
  });
  return methods;
}

/** The Connect descriptor of a grpc-js method loaded by proto-loader, built from the files it was loaded from. */
function descriptorOf(grpc: GrpcMethod): { method: DescMethodBiDiStreaming; files: FileDescriptorProto[] } {
  const files = (grpc.requestType?.fileDescriptorProtos ?? []).map((bytes) => qualifyTypeNames(fromBinary(FileDescriptorProtoSchema, bytes)));
  const [serviceName = "", methodName] = grpc.path.slice(1).split("/");
  const service = createFileRegistry(create(FileDescriptorSetSchema, { file: files })).getService(serviceName);
  const method = service?.methods.find((m): m is DescMethodBiDiStreaming => m.name === methodName && m.methodKind === "bidi_streaming");
  if (!method) throw new Error(`@grpc/reflection registered ${grpc.path}, which is not a bidi method of its descriptors`);
  return { method, files };
}

/**
 * protobufjs (inside proto-loader) writes a field's message or enum type as it appears in the .proto source
 * (`ExtensionRequest`), where descriptors carry full names (`.grpc.reflection.v1.ExtensionRequest`); both
 * Connect and reflection clients need the full ones. Resolved by protobuf's scoping rules, innermost scope
 * first, within the file (the reflection contracts import nothing).
 */
function qualifyTypeNames(file: FileDescriptorProto): FileDescriptorProto {
  const declared = new Set<string>();
  const collect = (scope: string, messages: DescriptorProto[], enums: { name: string }[]) => {
    for (const e of enums) declared.add(`${scope}.${e.name}`);
    for (const m of messages) {
      declared.add(`${scope}.${m.name}`);
      collect(`${scope}.${m.name}`, m.nestedType, m.enumType);
    }
  };
  const root = file.package ? `.${file.package}` : "";
  collect(root, file.messageType, file.enumType);
  const resolve = (scope: string, name: string) => {
    if (name === "" || name.startsWith(".")) return name;
    for (let s = scope; ; s = s.slice(0, s.lastIndexOf("."))) {
      if (declared.has(`${s}.${name}`)) return `${s}.${name}`;
      if (s === "") return name;
    }
  };
  const visit = (scope: string, messages: DescriptorProto[]) => {
    for (const m of messages) {
      const inner = `${scope}.${m.name}`;
      for (const field of m.field) field.typeName = resolve(inner, field.typeName);
      visit(inner, m.nestedType);
    }
  };
  visit(root, file.messageType);
  for (const service of file.service) {
    for (const method of service.method) {
      method.inputType = resolve(root, method.inputType);
      method.outputType = resolve(root, method.outputType);
    }
  }
  return file;
}

/** Every file the services are declared in, and every file those import, dependencies first. */
function filesOf(services: DescService[]): DescFile[] {
  const ordered: DescFile[] = [];
  const seen = new Set<string>();
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    seen.add(file.name);
    file.dependencies.forEach(visit);
    ordered.push(file);
  };
  services.forEach((s) => visit(s.file));
  return ordered;
}

/**
 * @grpc/reflection indexes the `fileDescriptorProtos` of a proto-loader package definition. Loading our
 * descriptor set through proto-loader would regroup the files by package (one `arabicstt/v1` file holding
 * every service, imports lost), so the package gets the files exactly as compiled, under one entry.
 */
function packageDefinitionOf(files: FileDescriptorProto[]): PackageDefinition {
  const unique = [...new Map(files.map((f) => [f.name, f])).values()];
  const fileDescriptorProtos = unique.map((file) => Buffer.from(toBinary(FileDescriptorProtoSchema, file)));
  return { "": { format: "Protocol Buffer 3 FileDescriptorProto", type: {}, fileDescriptorProtos } } as unknown as PackageDefinition;
}

/**
 * One reflection stream: each request goes to the package's handler as grpc-js would deliver it, and the
 * answer it writes (synchronously, one per request) is sent back. Bounded by MAX_REFLECTION_REQUESTS_PER_STREAM.
 */
async function* answer(method: DescMethodBiDiStreaming, grpc: GrpcMethod, handler: GrpcBidiHandler, requests: AsyncIterable<Message>): AsyncGenerator<Message> {
  const written: Buffer[] = [];
  const stream = Object.assign(new EventEmitter(), {
    write(value: unknown) {
      written.push(grpc.responseSerialize(value));
      return true;
    },
    end() {},
  });
  handler(stream);
  let count = 0;
  for await (const request of requests) {
    if (++count > MAX_REFLECTION_REQUESTS_PER_STREAM) {
      throw new ConnectError(`a reflection stream carries at most ${MAX_REFLECTION_REQUESTS_PER_STREAM} requests`, Code.ResourceExhausted);
    }
    stream.emit("data", grpc.requestDeserialize(Buffer.from(toBinary(method.input, request))));
    if (written.length === 0) throw new ConnectError("server reflection gave no answer", Code.Internal);
    for (const bytes of written.splice(0)) yield fromBinary(method.output, bytes);
  }
  stream.emit("end");
}
