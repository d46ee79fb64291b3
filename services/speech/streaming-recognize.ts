// SpeechService.StreamingRecognize: the config first, then audio and controls; results and events
// back as the engine produces them. Reading requests and writing responses run side by side; the
// engine's bounded queues pace the reading, so a client that sends faster than it is recognised,
// or stops reading its results, is slowed down by HTTP/2 flow control and loses nothing.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { AbortedError, InvalidArgumentError } from "../platform/errors/errors.js";
import type { Attachment, ResumableStreams } from "./resumable.js";
import type { LiveRecognition, LiveRecognizer } from "./live-recognition.js";
import type { EngineOutput } from "./engine/types.js";
import {
  StreamingControlType,
  type StreamingRecognizeRequest,
  type StreamingRecognizeResponseSchema,
} from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { requestContextOf } from "../platform/request-context.js";
import { clientRoundTripKey, type ClientRoundTrip } from "../platform/client-round-trip.js";
import { principalKey } from "../identity/model/context.js";
import { factsOf, liveConfigOf, metadataOf, responseOf } from "./convert.js";

type Response = MessageInitShape<typeof StreamingRecognizeResponseSchema>;

/** The organisation's monthly audio quota: RESOURCE_EXHAUSTED (with when to retry) once it is used. */
export interface LiveQuota {
  assertWithinQuota(organizationId: string): Promise<void>;
}

export function streamingRecognizeHandler(recognizer: LiveRecognizer, streams: ResumableStreams, quota?: LiveQuota) {
  return function streamingRecognize(requests: AsyncIterable<StreamingRecognizeRequest>, ctx: HandlerContext): AsyncIterableIterator<Response> {
    return new StreamingRecognizeCall(recognizer, streams, quota, requests, ctx);
  };
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * One StreamingRecognize call, as a plain async iterator of its responses rather than an async
 * generator: a generator costs several promises per response (its request queue, the await of the
 * yielded value, the resumption), this the one `then` that turns an output into its response.
 * It goes through four phases: `opening` (the config read and checked, the session started or
 * resumed; answered with the metadata), `live` (the outputs), `closing` (the last metadata, once the
 * session ended here) and `done`.
 */
class StreamingRecognizeCall implements AsyncIterableIterator<Response> {
  private phase: "opening" | "live" | "closing" | "done" = "opening";
  private readonly reader: AsyncIterator<StreamingRecognizeRequest>;
  private readonly requestId: string;
  private recognition: LiveRecognition | undefined;
  private attachment: Attachment | undefined;
  private outputs: AsyncIterator<EngineOutput> | undefined;
  private pumping = false;
  /** Replayed outputs (below this index) are old news, not lag. */
  private liveFrom = 0;
  private options = { wordTimeOffsets: false, wordConfidence: false, speakerLabels: false };
  /** True once the session ended here (rather than being left for a resume): its state is let go. */
  private over = false;
  private readonly onAbort = () => this.attachment?.detach("cancelled");
  private readonly facts = () => factsOf(this.recognition!, this.streams.committed(this.recognition!.id));
  private readonly onOutput = (next: IteratorResult<EngineOutput>): IteratorResult<Response> => {
    try {
      return next.done ? this.ended() : { done: false, value: this.responseTo(next.value) };
    } catch (err) {
      return this.failed(err);
    }
  };
  private readonly onError = (err: unknown): never => this.failed(err);

  constructor(
    private readonly recognizer: LiveRecognizer,
    private readonly streams: ResumableStreams,
    private readonly quota: LiveQuota | undefined,
    requests: AsyncIterable<StreamingRecognizeRequest>,
    private readonly ctx: HandlerContext,
  ) {
    this.reader = requests[Symbol.asyncIterator]();
    this.requestId = requestContextOf(ctx.values).requestId;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Response>> {
    switch (this.phase) {
      case "opening":
        return this.open();
      case "live":
        if (!this.pumping) {
          // Requests are read once the session's metadata is out, beside the reading of outputs.
          this.pumping = true;
          void pump(this.reader, this.recognition!, this.attachment!, this.ctx.signal, this.ctx.values.get(clientRoundTripKey));
        }
        return this.outputs!.next().then(this.onOutput, this.onError);
      case "closing":
        this.finish();
        return Promise.resolve(DONE);
      case "done":
        return Promise.resolve(DONE);
    }
  }

  /** The client stopped reading (or the transport gave up): what `finally` did in a generator. */
  return(): Promise<IteratorResult<Response>> {
    this.finish();
    return Promise.resolve(DONE);
  }

  throw(error: unknown): Promise<IteratorResult<Response>> {
    try {
      return Promise.resolve(this.failed(error));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The config, then the session started or resumed; the first response, its metadata. */
  private async open(): Promise<IteratorResult<Response>> {
    const { ctx, streams } = this;
    this.phase = "live";
    try {
      const first = await this.reader.next();
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
        if (this.quota && organizationId !== "") await this.quota.assertWithinQuota(organizationId);
        recognition = await this.recognizer.open(liveConfigOf(head.value, "streaming_config"), { signal: ctx.signal, organizationId });
        // Its usage is the key's, as for Recognize, jobs and browser sessions (GetUsage by api_key_id).
        attachment = await streams.start(recognition, organizationId, principal?.kind === "api_key" ? principal.apiKeyId : null);
      }
      this.recognition = recognition;
      this.attachment = attachment;
      // A client that goes away without closing may come back: the session waits for it.
      ctx.signal.addEventListener("abort", this.onAbort, { once: true });
      this.options = { wordTimeOffsets: Boolean(recognition.config.wordTimeOffsets), wordConfidence: Boolean(recognition.config.wordConfidence), speakerLabels: Boolean(recognition.config.diarization) };
      this.outputs = attachment.outputs[Symbol.asyncIterator]();
      this.liveFrom = recognition.nextResultIndex;
      if (this.phase !== "live") {
        // Let go (`return`) while it was opening: the client left, and may resume.
        this.phase = "live";
        this.finish();
        return DONE;
      }
      // The session id (and, on a resume, the byte to resend audio from) before any result.
      return { done: false, value: { metadata: metadataOf(this.facts(), this.requestId), resultIndex: resume ? resume.fromResultIndex : 0n } };
    } catch (err) {
      if (this.attachment) return this.failed(err);
      this.phase = "done";
      throw err;
    }
  }

  private responseTo(output: EngineOutput): Response {
    const { recognition } = this;
    if (output.kind === "result" && output.index >= this.liveFrom) {
      const arrived = recognition!.arrivalOf(output.result.endSeconds);
      if (arrived !== undefined) this.streams.observer.lag((performance.now() - arrived) / 1000);
    }
    return responseOf(output, this.facts, this.requestId, this.options);
  }

  /** The outputs ended: the last metadata if the session ended here, nothing if the client left. */
  private ended(): IteratorResult<Response> {
    const recognition = this.recognition!;
    if (this.ctx.signal.aborted) {
      this.finish();
      return DONE;
    }
    if (!this.attachment!.current) throw new AbortedError(`live session ${recognition.id} was resumed by another stream`);
    this.over = true;
    this.phase = "closing";
    return { done: false, value: { metadata: metadataOf(this.facts(), this.requestId), resultIndex: BigInt(recognition.nextResultIndex) } };
  }

  /** Ends the call with `err`: the session is over unless the client went away (it may resume). */
  private failed(err: unknown): never {
    this.over = !this.ctx.signal.aborted && Boolean(this.attachment?.current);
    this.finish();
    throw err;
  }

  private finish(): void {
    if (this.phase === "done") return;
    this.phase = "done";
    const { recognition, attachment } = this;
    if (!recognition || !attachment) return; // still opening: `open` lets it go when it gets there
    this.ctx.signal.removeEventListener("abort", this.onAbort);
    if (this.over) {
      this.streams.release(recognition.id);
      recognition.abort();
    } else {
      attachment.detach("cancelled");
    }
  }
}

/**
 * How long the end of the request stream waits, at least, for the call's cancellation before it counts
 * as a half-close: a proxy between the client and us may forward the client's reset a little after
 * its END_STREAM.
 */
const CANCEL_AFTER_END_MS = 250;

/**
 * Feeds the requests after the config to the recognition; any problem ends it with that error.
 * It stops feeding once a newer stream took the session over (its attachment is no longer current).
 */
async function pump(
  reader: AsyncIterator<StreamingRecognizeRequest>,
  recognition: LiveRecognition,
  attachment: Attachment,
  signal: AbortSignal,
  roundTrip: ClientRoundTrip,
): Promise<void> {
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
        case "audioContent": {
          // Queued at once (the usual frame) it costs no promise: only a wait for room is awaited.
          const writing = recognition.writeNow(message.value);
          if (writing) await writing;
          break;
        }
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
    if (!(await halfClosed(signal, roundTrip))) return;
    if (attachment.current) await recognition.close();
  } catch (err) {
    // A dropped connection is not the recognition's failure: the client may resume it.
    if (!signal.aborted && attachment.current) recognition.fail(err);
  }
}

/**
 * Whether the end of the request stream was the client's half-close, not the first half of a cancel
 * or of a connection's loss (grpc-js sends END_STREAM, then RST_STREAM; a connection that went silent
 * may deliver the END_STREAM long before the reset). Ending the session on the wrong one would lose
 * what the client sends when it resumes. The client must answer a round trip asked after the end,
 * with the stream still open: its reset, had it sent one, comes first. That is an order, not a time,
 * so an event loop too busy to read the reset before a timer fires cannot decide it. Where the
 * transport cannot ask, the wait alone decides.
 */
async function halfClosed(signal: AbortSignal, roundTrip: ClientRoundTrip): Promise<boolean> {
  if (signal.aborted) return false;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const answered = Promise.all([roundTrip(), new Promise((resolve) => (timer = setTimeout(resolve, CANCEL_AFTER_END_MS)))]).then(([present]) => present !== false);
    const cancelled = new Promise<false>((resolve) => {
      onAbort = () => resolve(false);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    return (await Promise.race([answered, cancelled])) && !signal.aborted;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}
