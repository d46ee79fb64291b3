// SpeechService.StreamingRecognize: the config first, then audio and controls; results and events
// back as the engine produces them. Reading requests and writing responses run side by side; the
// engine's bounded queues pace the reading, so a client that sends faster than it is recognised,
// or stops reading its results, is slowed down by HTTP/2 flow control and loses nothing.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { AbortedError, InvalidArgumentError } from "../platform/errors/errors.js";
import type { Attachment, ResumableStreams } from "./resumable.js";
import type { LiveRecognition, LiveRecognizer } from "./live-recognition.js";
import {
  StreamingControlType,
  type StreamingRecognizeRequest,
  type StreamingRecognizeResponseSchema,
} from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { requestContextOf } from "../platform/request-context.js";
import { principalKey } from "../identity/model/context.js";
import { factsOf, liveConfigOf, metadataOf, responseOf } from "./convert.js";

type Response = MessageInitShape<typeof StreamingRecognizeResponseSchema>;

/** The organisation's monthly audio quota: RESOURCE_EXHAUSTED (with when to retry) once it is used. */
export interface LiveQuota {
  assertWithinQuota(organizationId: string): Promise<void>;
}

export function streamingRecognizeHandler(recognizer: LiveRecognizer, streams: ResumableStreams, quota?: LiveQuota) {
  return async function* streamingRecognize(requests: AsyncIterable<StreamingRecognizeRequest>, ctx: HandlerContext): AsyncGenerator<Response> {
    const { requestId } = requestContextOf(ctx.values);
    const reader = requests[Symbol.asyncIterator]();
    const first = await reader.next();
    if (first.done) throw new InvalidArgumentError("streaming_config", "the stream ended before its first message, which must carry streaming_config");
    const head = first.value.streamingRequest;
    if (head.case !== "streamingConfig") {
      throw new InvalidArgumentError("streaming_config", `the first message must carry streaming_config; it carried ${head.case === "audioContent" ? "audio_content" : "a control"}`);
    }
    const resume = head.value.resume;
    const principal = ctx.values.get(principalKey);
    const organizationId = principal?.organizationId ?? "";
    let recognition: LiveRecognition;
    let attachment: Attachment;
    if (resume) {
      ({ recognition, attachment } = await streams.resume(resume.sessionId, Number(resume.fromResultIndex), organizationId));
    } else {
      // A resumed stream was let in when it started; a new one only while the month's audio lasts.
      if (quota && organizationId !== "") await quota.assertWithinQuota(organizationId);
      recognition = await recognizer.open(liveConfigOf(head.value, "streaming_config"), { signal: ctx.signal, organizationId });
      // Its usage is the key's, as for Recognize, jobs and browser sessions (GetUsage by api_key_id).
      attachment = await streams.start(recognition, organizationId, principal?.kind === "api_key" ? principal.apiKeyId : null);
    }
    // A client that goes away without closing may come back: the session waits for it.
    const onAbort = () => attachment.detach("cancelled");
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    const options = { wordTimeOffsets: Boolean(recognition.config.wordTimeOffsets), wordConfidence: Boolean(recognition.config.wordConfidence) };
    const facts = () => factsOf(recognition, streams.committed(recognition.id));
    let over = false;
    try {
      // The session id (and, on a resume, the byte to resend audio from) before any result.
      yield { metadata: metadataOf(facts(), requestId), resultIndex: resume ? resume.fromResultIndex : 0n };
      void pump(reader, recognition, attachment, ctx.signal);
      // Replayed outputs are old news, not lag.
      const liveFrom = recognition.nextResultIndex;
      for await (const output of attachment.outputs) {
        if (output.kind === "result" && output.index >= liveFrom) {
          const arrived = recognition.arrivalOf(output.result.endSeconds);
          if (arrived !== undefined) streams.observer.lag((performance.now() - arrived) / 1000);
        }
        yield responseOf(output, facts, requestId, options);
      }
      if (ctx.signal.aborted) return;
      if (!attachment.current) throw new AbortedError(`live session ${recognition.id} was resumed by another stream`);
      over = true;
      yield { metadata: metadataOf(facts(), requestId), resultIndex: BigInt(recognition.nextResultIndex) };
    } catch (err) {
      over = !ctx.signal.aborted && attachment.current;
      throw err;
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
      if (over) {
        streams.release(recognition.id);
        recognition.abort();
      } else {
        attachment.detach("cancelled");
      }
    }
  };
}

/**
 * How long the end of the request stream waits for the call's cancellation before it counts as
 * a half-close. gRPC clients that cancel may half-close first (grpc-js does, a millisecond before
 * its RST_STREAM): treating that as "no more audio" would end a session the client means to resume.
 */
const CANCEL_AFTER_END_MS = 250;

/**
 * Feeds the requests after the config to the recognition; any problem ends it with that error.
 * It stops feeding once a newer stream took the session over (its attachment is no longer current).
 */
async function pump(reader: AsyncIterator<StreamingRecognizeRequest>, recognition: LiveRecognition, attachment: Attachment, signal: AbortSignal): Promise<void> {
  try {
    for (let n = 2; ; n++) {
      if (!recognition.acceptsAudio || !attachment.current) return;
      const next = await reader.next();
      if (!attachment.current || signal.aborted) return;
      if (next.done) break;
      const message = next.value.streamingRequest;
      switch (message.case) {
        case "streamingConfig":
          throw new InvalidArgumentError("streaming_config", `only the first message may carry streaming_config; message ${n} carried another`);
        case "audioContent":
          await recognition.write(message.value);
          break;
        case "control":
          if (message.value.type === StreamingControlType.KEEPALIVE) recognition.keepalive();
          else if (message.value.type === StreamingControlType.FINALIZE) await recognition.finalize();
          else if (message.value.type === StreamingControlType.CLOSE) {
            await recognition.close();
            return;
          }
          break;
        default:
          throw new InvalidArgumentError("streaming_request", `message ${n} carries neither audio_content nor control`);
      }
    }
    if (await cancelledSoon(signal)) return;
    if (attachment.current) await recognition.close();
  } catch (err) {
    // A dropped connection is not the recognition's failure: the client may resume it.
    if (!signal.aborted && attachment.current) recognition.fail(err);
  }
}

/** True if `signal` aborts within CANCEL_AFTER_END_MS. */
function cancelledSoon(signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(false);
    }, CANCEL_AFTER_END_MS);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
