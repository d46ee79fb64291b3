// A lean gRPC transport for one bidi method (StreamingRecognize: 50 request messages a second per
// channel on a live call). connect-node runs every request message through a chain of async
// generators (envelope split, decompress, parse) and every response through another (serialize,
// compress, join, catch), several promises and microtask turns per message. Here the envelopes are
// read synchronously from the HTTP/2 stream's `data` events into a bounded queue
// (inbound-messages.ts), and each response is serialized and written straight to the stream.
//
// Everything above the wire is connect's own: the handler context (createHandlerContext), the
// request's URL, headers, context values and its signal aborted on RST_STREAM
// (universalRequestFromNodeRequest), grpc-timeout (parseTimeout), response compression
// (compressionNegotiate, envelopeCompress), (de)serialization with the read/write limits
// (createMethodSerializationLookup) and the trailers (setTrailerStatus). The interceptors wrap the
// handler in the same order, and the request and response reach them as connect's
// invoke-implementation.ts hands them over, so they cannot tell the two paths apart.
//
// Only what connect-node would serve the same way is taken: POST to exactly the method's path, a
// binary gRPC content type, and no request compression. gRPC-Web, the Connect protocol, JSON, a
// compressed request or any other method stays on connect-node.
import type http2 from "node:http2";
import { create, isMessage, type DescMessage, type DescMethodBiDiStreaming, type MessageShape } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createHandlerContext,
  createMethodImplSpec,
  createServiceImplSpec,
  type ConnectRouter,
  type HandlerContext,
  type Interceptor,
  type MethodImplSpec,
  type StreamRequest,
  type StreamResponse,
} from "@connectrpc/connect";
import {
  compressedFlag,
  compressionNegotiate,
  createMethodSerializationLookup,
  createMethodUrl,
  encodeEnvelope,
  envelopeCompress,
  validateUniversalHandlerOptions,
} from "@connectrpc/connect/protocol";
import {
  contentTypeProto,
  grpcStatusOk,
  headerAcceptEncoding,
  headerContentType,
  headerEncoding,
  headerGrpcStatus,
  headerTimeout,
  parseTimeout,
  setTrailerStatus,
} from "@connectrpc/connect/protocol-grpc";
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, type ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import { GrpcEnvelopeReader } from "./grpc-envelopes.js";
import { InboundMessages } from "./inbound-messages.js";

/** The connect-node adapter's options, less what only its router needs: the lean path honours the same. */
export type GrpcBidiOptions = Omit<ConnectNodeAdapterOptions, "routes" | "fallback">;

/** Takes a request it serves and returns true, or returns false and leaves it to connect-node. */
export type GrpcBidiRoute = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => boolean;

type BidiSpec = Extract<MethodImplSpec, { kind: "bidi_streaming" }>;

/**
 * `routes` as it is, passing `method`'s implementation to `found` when it registers it (as connect's router
 * wraps it: a service's method bound to its object, or UNIMPLEMENTED where the object lacks it). Handed to
 * connect-node, so the one registration serves both paths.
 */
export function capturingRoutes(
  routes: (router: ConnectRouter) => void,
  method: DescMethodBiDiStreaming,
  found: (spec: BidiSpec) => void,
): (router: ConnectRouter) => void {
  return (router) => {
    const capturing: ConnectRouter = {
      get handlers() {
        return router.handlers;
      },
      service(service, implementation, options) {
        router.service(service, implementation, options);
        if (service.typeName === method.parent.typeName) {
          found(createServiceImplSpec(service, implementation).methods[method.localName] as BidiSpec);
        }
        return capturing;
      },
      rpc(rpcMethod, implementation, options) {
        router.rpc(rpcMethod, implementation, options);
        if (rpcMethod.parent.typeName === method.parent.typeName && rpcMethod.name === method.name) {
          found(createMethodImplSpec(rpcMethod, implementation) as BidiSpec);
        }
        return capturing;
      },
    };
    routes(capturing);
  };
}

/** The lean route for `spec`'s bidi method, configured as connect-node is with `adapterOptions`. */
export function grpcBidiRoute(spec: BidiSpec, adapterOptions: GrpcBidiOptions): GrpcBidiRoute {
  // connect-node's defaults: it accepts gzip and brotli unless told otherwise.
  const opt = validateUniversalHandlerOptions({
    ...adapterOptions,
    acceptCompression: adapterOptions.acceptCompression ?? [compressionGzip, compressionBrotli],
  });
  const serialization = createMethodSerializationLookup(spec.method, opt.binaryOptions, opt.jsonOptions, opt);
  const call: Call = {
    spec,
    opt,
    contextValues: adapterOptions.contextValues,
    input: serialization.getI(true),
    output: serialization.getO(true),
    invoke: applyInterceptors(opt.interceptors),
  };
  const path = (adapterOptions.requestPathPrefix ?? "") + createMethodUrl("/", spec.method);
  return (req, res) => {
    if (req.url !== path || req.method !== "POST") return false;
    const type = req.headers["content-type"];
    if (type !== "application/grpc" && type !== "application/grpc+proto") return false;
    const encoding = req.headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") return false;
    serve(call, req, res).catch((reason: unknown) => {
      // As connect-node's adapter reports a handler that failed outside the RPC's own error path.
      if (ConnectError.from(reason).code === Code.Aborted) return;
      console.error(`handler for rpc ${spec.method.name} of ${spec.method.parent.typeName} failed`, reason);
    });
    return true;
  };
}

interface Call {
  spec: BidiSpec;
  opt: ReturnType<typeof validateUniversalHandlerOptions>;
  contextValues: GrpcBidiOptions["contextValues"];
  input: { parse(data: Uint8Array): MessageShape<DescMessage> };
  output: { serialize(message: MessageShape<DescMessage>): Uint8Array };
  invoke: (next: AnyStreamFn) => AnyStreamFn;
}

type AnyStreamFn = (req: StreamRequest) => Promise<StreamResponse>;

/**
 * connect's applyInterceptors (interceptor.ts), which the package does not export: the first interceptor
 * is the outermost.
 */
function applyInterceptors(interceptors: Interceptor[]): (next: AnyStreamFn) => AnyStreamFn {
  return (next) => {
    for (const interceptor of interceptors.concat().reverse()) next = interceptor(next as never) as unknown as AnyStreamFn;
    return next;
  };
}

async function serve(call: Call, req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): Promise<void> {
  const { spec, opt } = call;
  const method = spec.method;
  const uReq = universalRequestFromNodeRequest(req, res, undefined, call.contextValues?.(req));
  const timeout = parseTimeout(uReq.header.get(headerTimeout), opt.maxTimeoutMs);
  // As connect's gRPC handler (protocol-grpc/handler-factory.ts) builds it.
  const context = createHandlerContext({
    ...spec,
    service: method.parent,
    requestMethod: uReq.method,
    protocolName: "grpc",
    timeoutMs: timeout.timeoutMs,
    shutdownSignal: opt.shutdownSignal,
    requestSignal: uReq.signal,
    requestHeader: uReq.header,
    url: uReq.url,
    responseHeader: { [headerContentType]: contentTypeProto },
    responseTrailer: { [headerGrpcStatus]: grpcStatusOk },
    contextValues: uReq.contextValues,
  });
  const compression = compressionNegotiate(opt.acceptCompression, uReq.header.get(headerEncoding), uReq.header.get(headerAcceptEncoding), headerAcceptEncoding);
  if (compression.response) context.responseHeader.set(headerEncoding, compression.response.name);

  const requests = readRequests(call, req);
  // connect raises a bad grpc-timeout on the first read of the request stream (so the interceptors run and
  // the error reaches the client as the handler's), not before.
  if (timeout.error) requests.fail(timeout.error);

  const stream = res.stream;
  let failure: unknown;
  let responses: AsyncIterator<unknown> | undefined;
  try {
    const response = await call.invoke(implementation(call, context))({
      stream: true,
      message: requests,
      method,
      requestMethod: context.requestMethod,
      url: context.url,
      signal: context.signal,
      header: context.requestHeader,
      service: method.parent,
      contextValues: context.values,
    });
    copyHeaders(response.header, context.responseHeader);
    responses = response.message[Symbol.asyncIterator]();
    for (;;) {
      const next = await responses.next();
      if (next.done) break;
      let envelope = { flags: 0, data: call.output.serialize(next.value as MessageShape<DescMessage>) };
      if (compression.response && envelope.data.byteLength >= opt.compressMinBytes) {
        envelope = await envelopeCompress(envelope, compression.response, opt.compressMinBytes);
      }
      if (stream.destroyed || stream.closed) throw new ConnectError("the client's stream closed", Code.Canceled);
      // As connect-node: the headers go with the first message, so that the handler may still set them until then.
      if (!res.headersSent) res.writeHead(200, nodeHeaders(context.responseHeader));
      if (!stream.write(encodeEnvelope(envelope.flags, envelope.data))) await drained(stream);
    }
    copyHeaders(response.trailer, context.responseTrailer);
  } catch (err) {
    failure = err;
    // A write that failed, or a serialization error: the handler is stopped as connect stops it.
    // swallowed: the handler's own error on being stopped; the failure above is what the trailers carry.
    await responses?.return?.()?.catch(() => undefined);
  }
  context.abort(failure);
  if (failure instanceof ConnectError) setTrailerStatus(context.responseTrailer, failure);
  else if (failure !== undefined) setTrailerStatus(context.responseTrailer, new ConnectError("internal error", Code.Internal, undefined, undefined, failure));
  if (stream.destroyed || stream.closed) return;
  if (!res.headersSent) res.writeHead(200, nodeHeaders(context.responseHeader));
  res.addTrailers(nodeHeaders(context.responseTrailer));
  res.end();
}

/** The request's envelopes, read from its `data` events, as the handler's message stream. */
function readRequests(call: Call, req: http2.Http2ServerRequest): InboundMessages<MessageShape<DescMessage>> {
  const reader = new GrpcEnvelopeReader(call.opt.readMaxBytes);
  const messages = new InboundMessages(call.input.parse, { pause: () => req.pause(), resume: () => req.resume() });
  const sink = (flags: number, data: Uint8Array) => {
    // Only identity was negotiated (a compressed request goes to connect-node): connect's own refusal.
    if ((flags & compressedFlag) === compressedFlag) {
      throw new ConnectError("received compressed envelope, but do not know how to decompress", Code.Internal);
    }
    messages.push(data);
  };
  const onData = (chunk: Buffer) => {
    try {
      reader.push(chunk, sink);
    } catch (err) {
      stopReading();
      messages.fail(err);
    }
  };
  const onEnd = () => {
    stopReading();
    if (reader.bufferedBytes > 0) messages.fail(new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument));
    else messages.end();
  };
  const stopReading = () => {
    req.off("data", onData);
    req.off("end", onEnd);
    // What the client still sends is read and dropped, so its flow-control window does not stay shut.
    req.resume();
  };
  req.on("data", onData);
  req.on("end", onEnd);
  return messages;
}

/** connect's anyFn for a bidi method (invoke-implementation.ts): the handler, called with the request the interceptors pass down. */
function implementation(call: Call, context: HandlerContext & { abort(reason?: unknown): void }): AnyStreamFn {
  const { spec } = call;
  return (req) =>
    Promise.resolve({
      message: normalized(
        spec.method.output,
        spec.impl(req.message as AsyncIterable<never>, {
          ...context,
          service: req.service,
          requestHeader: req.header,
          signal: req.signal,
          values: req.contextValues,
        }) as AsyncIterable<unknown>,
      ),
      stream: true,
      method: spec.method,
      service: spec.method.parent,
      header: context.responseHeader,
      trailer: context.responseTrailer,
    } as StreamResponse);
}

/**
 * The handler's responses as messages (a handler may yield init objects), as connect's normalizeIterable
 * hands them to the interceptors; a plain iterator, one `then` per response, where connect's is a generator.
 */
function normalized(schema: DescMessage, source: AsyncIterable<unknown>): AsyncIterable<MessageShape<DescMessage>> {
  return {
    [Symbol.asyncIterator]() {
      const inner = source[Symbol.asyncIterator]();
      const toMessage = (result: IteratorResult<unknown>): IteratorResult<MessageShape<DescMessage>> =>
        result.done ? result : { done: false, value: isMessage(result.value, schema) ? result.value : create(schema, result.value as never) };
      return {
        next: () => inner.next().then(toMessage),
        return: (value?: unknown) => (inner.return ? inner.return(value).then(toMessage) : Promise.resolve({ done: true as const, value: undefined })),
      };
    },
  };
}

/** connect's copyHeaders (invoke-implementation.ts): an interceptor may have replaced the headers object. */
function copyHeaders(from: Headers, to: Headers): void {
  if (from === to) return;
  for (const key of [...to.keys()]) to.delete(key);
  from.forEach((value, key) => to.set(key, value));
}

/** connect-node's webHeaderToNodeHeaders (not exported): repeated headers become arrays. */
function nodeHeaders(headers: Headers): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = Object.create(null) as http2.OutgoingHttpHeaders;
  headers.forEach((value, key) => {
    const existing = out[key];
    if (existing === undefined) out[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[key] = [String(existing), value];
  });
  return out;
}

/** Resolves when the stream takes writes again; fails when it closes first (the client went away). */
function drained(stream: http2.ServerHttp2Stream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      stream.off("close", onClose);
      resolve();
    };
    const onClose = () => {
      stream.off("drain", onDrain);
      reject(new ConnectError("the client's stream closed", Code.Canceled));
    };
    stream.once("drain", onDrain);
    stream.once("close", onClose);
  });
}
