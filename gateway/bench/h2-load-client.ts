// The streams bench's lean load generator: StreamingRecognize calls written as raw gRPC over node:http2,
// each audio frame's request encoded once for every stream (they all send the same audio), responses
// decoded with protobuf-es. A @grpc/grpc-js client spends about as much CPU per stream as the gateway it
// loads (its channel, call and filter stacks run per message), and on the bench's one box that CPU is
// taken from the servers being measured; this one costs a small part of it, so the ladder finds the
// servers' limit rather than the client's. `--client grpc-js` keeps the SDK-shaped client.
//
// Written by hand rather than with a client library because the point is to do less than one: no
// per-message serialisation, no interceptors, no retries. It speaks the same wire protocol (gRPC over
// h2c: 5-byte envelopes, `grpc-status` in the trailers) and reports as the grpc-js duplex does.
import { EventEmitter } from "node:events";
import http2 from "node:http2";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { StreamingRecognizeRequestSchema, StreamingRecognizeResponseSchema, type StreamingRecognizeResponse } from "../../proto/gen/arabicstt/v1/speech_pb.js";

const PATH = "/arabicstt.v1.SpeechService/StreamingRecognize";

/** A gRPC message envelope: flag 0 (uncompressed), 4-byte big-endian length, the message. */
function envelope(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** The request carrying `audio` as audio_content, enveloped: encode each frame once, send it on every stream. */
export function audioEnvelope(audio: Uint8Array): Buffer {
  return envelope(toBinary(StreamingRecognizeRequestSchema, create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: audio } })));
}

export function requestEnvelope(init: MessageInitShape<typeof StreamingRecognizeRequestSchema>): Buffer {
  return envelope(toBinary(StreamingRecognizeRequestSchema, create(StreamingRecognizeRequestSchema, init)));
}

/**
 * One call. Emits "data" with each response (decoded unless `decode` is false, then with undefined),
 * "error" with an Error whose message is the status when the call ends with one, or "end".
 */
export interface H2Call extends EventEmitter {
  write(envelope: Buffer): void;
  end(): void;
}

/** One HTTP/2 connection to `authority` (http://host:port), many calls on it. */
export class H2LoadClient {
  private readonly session: http2.ClientHttp2Session;

  constructor(authority: string) {
    this.session = http2.connect(authority);
    // A connection-level failure fails each open call through its stream; nothing to do here.
    this.session.on("error", () => undefined);
  }

  call(headers: Readonly<Record<string, string>>, decode: boolean): H2Call {
    const stream = this.session.request({ ":method": "POST", ":path": PATH, "content-type": "application/grpc", te: "trailers", ...headers });
    const call = Object.assign(new EventEmitter(), {
      write: (data: Buffer) => void stream.write(data),
      end: () => stream.end(),
    });
    let pending: Buffer | undefined;
    let status: string | undefined;
    let message = "";
    const onHeaders = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] !== undefined) {
        status = String(h["grpc-status"]);
        message = decodeURIComponent(String(h["grpc-message"] ?? ""));
      }
    };
    stream.on("response", onHeaders); // a trailers-only answer carries the status in its headers
    stream.on("trailers", onHeaders);
    stream.on("data", (chunk: Buffer) => {
      let data = pending ? Buffer.concat([pending, chunk]) : chunk;
      while (data.length >= 5) {
        const length = data.readUInt32BE(1);
        if (data.length < 5 + length) break;
        const response: StreamingRecognizeResponse | undefined = decode ? fromBinary(StreamingRecognizeResponseSchema, data.subarray(5, 5 + length)) : undefined;
        data = data.subarray(5 + length);
        call.emit("data", response);
      }
      pending = data.length > 0 ? data : undefined;
    });
    stream.on("error", (err) => call.emit("error", err));
    stream.on("close", () => {
      if (status === "0") call.emit("end");
      else call.emit("error", new Error(status === undefined ? `stream closed without a status (code ${stream.rstCode})` : `${status} ${message}`));
    });
    return call;
  }

  close(): void {
    this.session.close();
  }
}
