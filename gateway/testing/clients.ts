// Clients of every kind our users run, for tests and benchmarks: a plain @grpc/grpc-js
// client (what gRPC SDK users in any language look like on the wire), and Connect-ES
// clients over the gRPC, Connect and gRPC-Web protocols.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";

const descriptorSetPath = fileURLToPath(new URL("../../proto/gen/descriptor_set.binpb", import.meta.url));

/**
 * Loads the service definitions with @grpc/proto-loader from the descriptor set that
 * proto/tools/generate.sh compiles from the .proto files. (protobufjs cannot read the
 * .proto sources directly: they import protovalidate's validate.proto, which exists
 * offline only as an embedded descriptor.)
 */
export function loadGrpcJsPackage(): grpc.GrpcObject {
  const definition = protoLoader.loadFileDescriptorSetFromBuffer(readFileSync(descriptorSetPath), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition);
}

type GrpcClientCtor = new (address: string, credentials: grpc.ChannelCredentials, options?: object) => grpc.Client;

/**
 * A grpc-js client for a service by its full name, e.g. "arabicstt.v1.SpeechService". `channelOptions` are
 * grpc-js channel arguments ("grpc.keepalive_time_ms", ...).
 */
export function grpcJsClient(
  pkg: grpc.GrpcObject,
  serviceTypeName: string,
  address: string,
  headers: Readonly<Record<string, string>> = {},
  channelOptions: grpc.ChannelOptions = {},
): grpc.Client {
  let node: unknown = pkg;
  for (const part of serviceTypeName.split(".")) node = (node as Record<string, unknown>)[part];
  if (typeof node !== "function") throw new Error(`no service ${serviceTypeName} in descriptor set`);
  const Ctor = node as GrpcClientCtor;
  // Headers on every call, as an SDK sends its credentials.
  const withHeaders: grpc.Interceptor = (options, next) =>
    new grpc.InterceptingCall(next(options), {
      start: (metadata, listener, start) => {
        for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
        start(metadata, listener);
      },
    });
  return new Ctor(address, grpc.credentials.createInsecure(), { ...channelOptions, interceptors: [withHeaders] });
}

export interface Transports {
  /** gRPC over h2c, as SDKs and call-centre media servers speak it. */
  grpc: Transport;
  /** Connect over h2c. */
  connectH2: Transport;
  /** Connect over HTTP/1.1, as browsers with Connect-Web speak it. */
  connectH1: Transport;
  /** gRPC-Web over HTTP/1.1, as browsers with grpc-web speak it. */
  grpcWebH1: Transport;
  /** gRPC-Web over h2c. */
  grpcWebH2: Transport;
}

export function transports(grpcPort: number, httpPort: number, host = "127.0.0.1"): Transports {
  const h2 = `http://${host}:${grpcPort}`;
  const h1 = `http://${host}:${httpPort}`;
  return {
    grpc: createGrpcTransport({ baseUrl: h2 }),
    connectH2: createConnectTransport({ baseUrl: h2, httpVersion: "2" }),
    connectH1: createConnectTransport({ baseUrl: h1, httpVersion: "1.1" }),
    grpcWebH1: createGrpcWebTransport({ baseUrl: h1, httpVersion: "1.1" }),
    grpcWebH2: createGrpcWebTransport({ baseUrl: h2, httpVersion: "2" }),
  };
}

/** The transport with these headers on every call, as SDKs send credentials. */
export function withHeaders(transport: Transport, headers: Record<string, string>): Transport {
  return {
    unary: (method, signal, timeoutMs, header, input, contextValues) => {
      const h = new Headers(header);
      for (const [name, value] of Object.entries(headers)) h.set(name, value);
      return transport.unary(method, signal, timeoutMs, h, input, contextValues);
    },
    stream: (method, signal, timeoutMs, header, input, contextValues) => {
      const h = new Headers(header);
      for (const [name, value] of Object.entries(headers)) h.set(name, value);
      return transport.stream(method, signal, timeoutMs, h, input, contextValues);
    },
  };
}
