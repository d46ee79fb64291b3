// SpeechService's handlers: each RPC maps proto to the live-sessions domain and back.
import type { ServiceImpl } from "@connectrpc/connect";
import type { LiveRecognizer } from "./live-recognition.js";
import type { SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import type { ModelCatalog } from "../models/catalog.js";
import type { LiveSessions } from "./live-sessions.js";
import { liveSessionHandlers } from "./live-session-handlers.js";
import { ResumableStreams } from "./resumable.js";
import { listModelsHandler, recognizeHandler, type RecognizeMedia, type RecognizeUsage } from "./recognize.js";
import { streamingRecognizeHandler, type LiveQuota } from "./streaming-recognize.js";

export interface SpeechServiceDependencies {
  recognizer: LiveRecognizer;
  catalog: ModelCatalog;
  /** StreamingRecognize streams a client may resume; a private set when left out. */
  streams?: ResumableStreams;
  /** The live-session trio; left out, those RPCs answer UNIMPLEMENTED. */
  sessions?: LiveSessions;
  /** Checked before a new recognition opens (StreamingRecognize, CreateLiveSession); none when left out. */
  quota?: LiveQuota;
  /** An organisation's default model (ListModels marks it as the caller's default). */
  organizationDefaults?: (organizationId: string) => Promise<{ model: string }>;
  /** Uploaded media, for Recognize's `media_id`. */
  media?: RecognizeMedia;
  /** Recognize's quota check and usage record; neither when left out. */
  usage?: RecognizeUsage;
  /** RNNOISE_MODEL, for Recognize's DENOISE_MODE_NEURAL; unset refuses that mode. */
  rnnoiseModel?: string;
}

export function speechService(deps: SpeechServiceDependencies): Partial<ServiceImpl<typeof SpeechService>> {
  return {
    streamingRecognize: streamingRecognizeHandler(deps.recognizer, deps.streams ?? new ResumableStreams(), deps.quota),
    recognize: recognizeHandler(deps.recognizer, { media: deps.media, usage: deps.usage, rnnoiseModel: deps.rnnoiseModel }),
    listModels: listModelsHandler(deps.catalog, deps.organizationDefaults),
    ...(deps.sessions ? liveSessionHandlers(deps.sessions, deps.quota) : {}),
  };
}
