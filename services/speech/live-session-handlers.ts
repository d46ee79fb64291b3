// The live-session trio (and CloseLiveSession) for clients that cannot stream requests: proto to
// services/live-sessions and back. Responses carry the same fields as StreamingRecognize's.
import { fromJsonString, toJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";
import type { ReportedLiveSessionState, SessionRecord } from "./bus.js";
import type { LiveSessions } from "./live-sessions.js";
import { StreamingRecognitionConfigSchema, type StreamingRecognitionConfig } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import {
  LiveAudioStatus,
  LiveSessionState as ProtoState,
  type CloseLiveSessionRequest,
  type CreateLiveSessionRequest,
  type LiveSessionSchema,
  type SendLiveAudioRequest,
  type WatchLiveSessionRequest,
  type WatchLiveSessionResponseSchema,
} from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { requestContextOf } from "../platform/request-context.js";
import { durationOf, liveConfigOf, metadataOf, responseOf, type SessionFacts } from "./convert.js";
import { principalOf } from "../identity/model/context.js";
import { languageOrDefault } from "../arabic-text/language.js";
import type { LiveQuota } from "./streaming-recognize.js";
import { billableSeconds } from "../usage/billable.js";

const states: Record<ReportedLiveSessionState, ProtoState> = {
  active: ProtoState.ACTIVE,
  disconnected: ProtoState.DISCONNECTED,
  closing: ProtoState.CLOSING,
  closed: ProtoState.CLOSED,
};

function configOf(record: SessionRecord): StreamingRecognitionConfig {
  return fromJsonString(StreamingRecognitionConfigSchema, record.config);
}

function factsOf(record: SessionRecord, config: StreamingRecognitionConfig): SessionFacts {
  return {
    sessionId: record.id,
    languageCode: languageOrDefault(config.config?.languageCode),
    processedSeconds: record.processedSeconds,
    channels: record.channels,
    bytesReceived: record.bytesReceived,
  };
}

function sessionOf(record: SessionRecord, state: ReportedLiveSessionState): MessageInitShape<typeof LiveSessionSchema> {
  return {
    sessionId: record.id,
    state: states[state],
    streamingConfig: configOf(record),
    nextSequenceNumber: BigInt(record.nextSequence),
    audioBytesReceived: BigInt(record.bytesReceived),
    audioProcessed: durationOf(record.processedSeconds),
    billedDuration: durationOf(billableSeconds(record.processedSeconds, record.channels)),
    nextResultIndex: BigInt(record.nextResultIndex),
    createdAt: timestampFromMs(record.createdAt),
    lastActivityAt: timestampFromMs(record.lastActivityAt),
    expiresAt: timestampFromMs(record.expiresAt),
  };
}

const audioStatuses = {
  accepted: LiveAudioStatus.ACCEPTED,
  duplicate: LiveAudioStatus.DUPLICATE,
  out_of_order: LiveAudioStatus.OUT_OF_ORDER,
} as const;

export function liveSessionHandlers(sessions: LiveSessions, quota?: LiveQuota) {
  return {
    async createLiveSession(request: CreateLiveSessionRequest, ctx: HandlerContext) {
      const streaming = request.streamingConfig as StreamingRecognitionConfig;
      const config = liveConfigOf(streaming, "streaming_config");
      const principal = principalOf(ctx.values);
      const organizationId = principal.organizationId;
      await quota?.assertWithinQuota(organizationId);
      const apiKeyId = principal.kind === "api_key" ? principal.apiKeyId : null;
      const record = await sessions.create(config, toJsonString(StreamingRecognitionConfigSchema, streaming), organizationId, apiKeyId);
      return { session: sessionOf(record, sessions.stateOf(record)) };
    },

    async sendLiveAudio(request: SendLiveAudioRequest, ctx: HandlerContext) {
      const org = principalOf(ctx.values).organizationId;
      const { status, record } = await sessions.send(request.sessionId, Number(request.sequenceNumber), request.audioContent, request.finalize, org);
      return {
        status: audioStatuses[status],
        nextSequenceNumber: BigInt(record.nextSequence),
        state: states[sessions.stateOf(record)],
        expiresAt: timestampFromMs(record.expiresAt),
      };
    },

    async *watchLiveSession(request: WatchLiveSessionRequest, ctx: HandlerContext): AsyncGenerator<MessageInitShape<typeof WatchLiveSessionResponseSchema>> {
      const { requestId } = requestContextOf(ctx.values);
      const org = principalOf(ctx.values).organizationId;
      const record = await sessions.get(request.sessionId, org);
      const config = configOf(record);
      const options = { wordTimeOffsets: Boolean(config.config?.enableWordTimeOffsets), wordConfidence: Boolean(config.config?.enableWordConfidence), speakerLabels: Boolean(config.config?.diarizationConfig?.enableSpeakerDiarization) };
      let facts = factsOf(record, config);
      for await (const item of sessions.watch(request.sessionId, Number(request.fromResultIndex), ctx.signal, org)) {
        if (item.kind === "closed") {
          facts = factsOf(item.record, config);
          yield { metadata: metadataOf(facts, requestId), resultIndex: BigInt(item.record.nextResultIndex), state: ProtoState.CLOSED };
          return;
        }
        yield { ...responseOf(item.output, facts, requestId, options), state: states[item.state] };
      }
    },

    async closeLiveSession(request: CloseLiveSessionRequest, ctx: HandlerContext) {
      const record = await sessions.close(request.sessionId, undefined, principalOf(ctx.values).organizationId);
      return { session: sessionOf(record, sessions.stateOf(record)) };
    },
  };
}
