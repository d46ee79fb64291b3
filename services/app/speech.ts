// Composes live recognition for the API process: the recognizer over the inference client, live sessions
// (over Redis streams when there is Redis, so any replica serves any call), resumable StreamingRecognize
// streams, and the persistence that turns an ended recognition into its row, transcript and usage.
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { InferenceClient } from "../../inference/client/index.js";
import { SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import type { Database } from "../platform/database/database.js";
import type { StreamSlots } from "../platform/limits/stream-slots.js";
import { createStreamDecoder } from "../audio/index.js";
import type { EngineObserver } from "../speech/engine/types.js";
import { LiveRecognizer, type LiveRecognizerOptions } from "../speech/live-recognition.js";
import type { ModelCatalog } from "../models/catalog.js";
import { InProcessBus, type LiveSessionBus } from "../speech/bus.js";
import { LiveSessions, type LiveSessionsOptions } from "../speech/live-sessions.js";
import { RedisBus } from "../speech/redis-bus.js";
import { ResumableStreams } from "../speech/resumable.js";
import type { LiveStreamObserver } from "../speech/live-observer.js";
import { MemoryStreamStore } from "../speech/stream-store.js";
import { RedisStreamStore } from "../speech/redis-stream-store.js";
import { LivePersistence, type EndedLiveSession } from "../speech/persistence.js";
import { speechService } from "../speech/speech-service.js";
import type { RecognizeMedia } from "../speech/recognize.js";
import { recognitionDefaultsFrom, recognitionDefaultsOf } from "../identity/orgs/recognition-defaults.js";
import type { OrganizationSnapshots } from "../identity/orgs/organization-snapshots.js";
import type { Transcripts } from "../transcripts/transcripts.js";
import type { Usage } from "../usage/usage.js";
import type { ProductHandlers } from "./product-services.js";

export interface SpeechCapability {
  recognizer: LiveRecognizer;
  sessions: LiveSessions;
  streams: ResumableStreams;
  handlers: ProductHandlers;
  /** Shutdown, first step: live streams' pending utterances finalised, their sessions left for a resume on another replica. */
  drain(): Promise<void>;
  /** Ends the live sessions and the resumable streams' grace periods. */
  close(): Promise<void>;
}

export function createSpeech(
  adapters: { database: Database; inference: InferenceClient; redis?: Redis; logger: Logger },
  deps: {
    models: ModelCatalog;
    transcripts: Transcripts;
    usage: Usage;
    streamSlots: StreamSlots;
    /** Organisations' settings, shared with authentication and the quota check; read each time without it. */
    organizations?: Pick<OrganizationSnapshots, "get">;
    observer?: EngineObserver;
    /** Drops, resumes and lag of StreamingRecognize streams (the gateway's metrics). */
    streamObserver?: LiveStreamObserver;
    /** How long a dropped StreamingRecognize session waits for its client (LIVE_RESUME_GRACE_MS). */
    resumeGraceMs?: number;
    /** The Redis namespace of StreamingRecognize sessions: replicas sharing a database share it. */
    streamNamespace?: string;
    engine?: LiveRecognizerOptions["engine"];
    /** The bus instead of the one the adapters give (Redis streams, or in-process); replicas in one test share one. */
    bus?: LiveSessionBus;
    /** Uploaded media, which Recognize reads by `media_id`. */
    media?: RecognizeMedia;
    /** RNNOISE_MODEL: Recognize's DENOISE_MODE_NEURAL (refused without it, as CreateJob refuses it). */
    rnnoiseModel?: string;
    /** How often sessions are swept and how long one may idle. */
    sessions?: Pick<LiveSessionsOptions, "sweepMs" | "idleTimeoutMs" | "disconnectedAfterMs">;
  },
): SpeechCapability {
  // An organisation's default model and language, for requests that leave them unset (as CreateJob does).
  const { organizations } = deps;
  const organizationDefaults = organizations
    ? async (organizationId: string) => recognitionDefaultsFrom((await organizations.get(organizationId))?.settings)
    : (organizationId: string) => recognitionDefaultsOf(adapters.database.fork(), organizationId);
  const recognizer = new LiveRecognizer({
    inference: adapters.inference,
    models: deps.models,
    createDecoder: createStreamDecoder,
    observer: deps.observer,
    engine: deps.engine,
    organizationDefaults,
  });
  // A live recognition that ends becomes a live_sessions row, its transcript and its usage.
  const persistence = new LivePersistence({ database: adapters.database, transcripts: deps.transcripts, usage: deps.usage, logger: adapters.logger });
  const onEnded = (ended: EndedLiveSession) => void persistence.persist(ended);
  // Browser sessions hold a stream slot like StreamingRecognize (whose slot the gateway's interceptor takes).
  // StreamingRecognize sessions in Redis when there is Redis, so a client resumes on any replica.
  const streams = new ResumableStreams({
    store: adapters.redis ? new RedisStreamStore(adapters.redis, { namespace: deps.streamNamespace }) : new MemoryStreamStore(),
    recognizer,
    graceMs: deps.resumeGraceMs,
    onEnded,
    observer: deps.streamObserver,
    logger: adapters.logger,
  });
  const sessions = new LiveSessions({
    recognizer,
    bus: deps.bus ?? (adapters.redis ? new RedisBus(adapters.redis) : new InProcessBus()),
    slots: deps.streamSlots,
    onEnded,
    logger: adapters.logger,
    ...deps.sessions,
  });
  const handler = speechService({ recognizer, catalog: deps.models, sessions, streams, quota: deps.usage, organizationDefaults, media: deps.media, usage: deps.usage, rnnoiseModel: deps.rnnoiseModel });
  return {
    recognizer,
    sessions,
    streams,
    handlers: { [SpeechService.typeName]: handler },
    drain: () => streams.drain(),
    close: async () => {
      await sessions.stop();
      streams.stop();
    },
  };
}
