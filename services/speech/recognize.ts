// SpeechService.Recognize and ListModels: short audio in one call, and the models there are.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { InvalidArgumentError, PermissionDeniedError, UnimplementedError } from "../platform/errors/errors.js";
import type { LiveRecognizer } from "./live-recognition.js";
import type { ModelCatalog } from "../models/catalog.js";
import { modelMessage } from "../models/proto.js";
import { AudioEncoding, DenoiseMode, type RecognitionConfig } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import {
  type ListModelsRequest,
  type ListModelsResponseSchema,
  type RecognizeRequest,
  type RecognizeResponseSchema,
} from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { requestContextOf } from "../platform/request-context.js";
import { principalKey, principalOf } from "../identity/model/context.js";
import type { Principal } from "../identity/model/principal.js";
import { durationOf, recognitionConfigOf, runnerUpAlternatives, sniffable } from "./convert.js";
import { transcodeToPcm, type RawInput } from "../audio/transcode.js";
import { audioFilters, denoiseOptionsOf, type DenoiseOptions } from "../audio/filters.js";
import { AUDIO_ENCODINGS, validateFormat } from "../audio/encodings.js";
import { UnusableMediaError } from "../audio/probe.js";
import { billableSeconds } from "../usage/billable.js";

/** Recognize takes at most this much audio (speech.proto). */
export const RECOGNIZE_MAX_SECONDS = 60;
/** And at most this many bytes of it, sent as `content` or uploaded as `media_id` (speech.proto). */
export const RECOGNIZE_MAX_BYTES = 10 * 1024 * 1024;

/** Uploaded media as Recognize reads it (services/media's MediaLibrary). */
export interface RecognizeMedia {
  readWhole(
    organizationId: string,
    mediaId: string,
    limits: { maxBytes: number; maxSeconds: number; field: string },
    options?: { signal?: AbortSignal },
  ): Promise<{ bytes: Uint8Array }>;
}

/** Usage as Recognize meets it (services/usage's Usage): the quota checked first, the call recorded once done. */
export interface RecognizeUsage {
  assertWithinQuota(organizationId: string): Promise<void>;
  recordRecognize(organizationId: string, billedSeconds: number, apiKeyId: string | null): Promise<void>;
}

export interface RecognizeDependencies {
  /** Without it (tests of recognition alone), calls are neither checked against the quota nor recorded. */
  usage?: RecognizeUsage;
  /** Where `media_id` is read from; without it (a process with no media library), `media_id` is UNIMPLEMENTED. */
  media?: RecognizeMedia;
  /** An RNNoise model file (RNNOISE_MODEL) for DENOISE_MODE_NEURAL; without one that mode is refused, as CreateJob refuses it. */
  rnnoiseModel?: string;
}

/** The denoisers `config.denoise` asks for, the batch pipeline's rule (services/audio/filters.ts); undefined for none. */
function denoiseOf(config: RecognitionConfig, rnnoiseModel: string | undefined): DenoiseOptions | undefined {
  switch (config.denoise) {
    case DenoiseMode.UNSPECIFIED:
    case DenoiseMode.OFF:
      return undefined;
    case DenoiseMode.SPECTRAL:
      return denoiseOptionsOf("spectral", rnnoiseModel);
    case DenoiseMode.NEURAL:
      if (!rnnoiseModel) throw new InvalidArgumentError("config.denoise", "DENOISE_MODE_NEURAL needs an RNNoise model, and none is configured; use DENOISE_MODE_SPECTRAL");
      return denoiseOptionsOf("neural", rnnoiseModel);
    default:
      throw new InvalidArgumentError("config.denoise", `unknown denoise mode ${String(config.denoise)}`);
  }
}

/**
 * How ffmpeg must read `content` to denoise it: headerless samples by the declared format (checked first, so a bad
 * rate is refused naming its field as without denoising), undefined for a container ffprobe reads (WAV, FLAC, Ogg).
 */
function rawInputOf(config: RecognitionConfig, content: Uint8Array): RawInput | undefined {
  const { format } = recognitionConfigOf({ ...config, denoise: DenoiseMode.OFF }, "config", content);
  const declared = validateFormat(format);
  if (AUDIO_ENCODINGS[declared.encoding].headerCarriesFormat || sniffable(content)) return undefined;
  return { encoding: declared.encoding as RawInput["encoding"], sampleRateHertz: declared.sampleRateHertz, channels: declared.channels };
}

/** The audio of a request: its `content`, or the caller's organisation's uploaded media item. */
async function audioOf(request: RecognizeRequest, principal: Principal, media: RecognizeMedia | undefined, signal: AbortSignal): Promise<Uint8Array> {
  if (request.audioSource.case === "content") return request.audioSource.value;
  const mediaId = request.audioSource.value ?? "";
  // A key that may recognise but not read the organisation's media must not get its words by this door.
  if (principal.kind === "api_key" && !principal.scopes.includes("media:read")) {
    throw new PermissionDeniedError("media_id: reading uploaded media needs an API key with the media:read scope");
  }
  if (!media) throw new UnimplementedError("media_id: this server does not read uploaded media for Recognize; send the audio as content");
  const read = await media.readWhole(principal.organizationId, mediaId, { maxBytes: RECOGNIZE_MAX_BYTES, maxSeconds: RECOGNIZE_MAX_SECONDS, field: "media_id" }, { signal });
  return read.bytes;
}

export function recognizeHandler(recognizer: LiveRecognizer, deps: RecognizeDependencies = {}) {
  return async function recognize(request: RecognizeRequest, ctx: HandlerContext): Promise<MessageInitShape<typeof RecognizeResponseSchema>> {
    const { requestId } = requestContextOf(ctx.values);
    const principal = principalOf(ctx.values);
    await deps.usage?.assertWithinQuota(principal.organizationId);
    let content = await audioOf(request, principal, deps.media, ctx.signal);
    let requestConfig = request.config as RecognitionConfig;
    const denoise = denoiseOf(requestConfig, deps.rnnoiseModel);
    const detect = (requestConfig.encoding === AudioEncoding.AUTO || requestConfig.encoding === AudioEncoding.UNSPECIFIED) && !sniffable(content);
    if (detect || denoise) {
      // Not WAV, FLAC or Ogg: whatever ffmpeg reads (MP3, M4A, AMR, …), as 16 kHz PCM with its channels. Denoising
      // runs in the same ffmpeg pass, on any encoding (the batch pipeline's filters, per channel, before recognition).
      const raw = detect ? undefined : rawInputOf(requestConfig, content);
      // A second over the limit: a longer file still reaches recognizeAll's limit and is refused, not cut.
      const decoded = await transcodeToPcm(content, { signal: ctx.signal, raw, filters: audioFilters({ denoise }), maxSeconds: RECOGNIZE_MAX_SECONDS + 1 }).catch((err: unknown) => {
        if (err instanceof UnusableMediaError) throw new InvalidArgumentError("config.encoding", `the audio format could not be detected: ${err.message}`);
        throw err;
      });
      content = decoded.pcm;
      requestConfig = { ...requestConfig, encoding: AudioEncoding.LINEAR16, sampleRateHz: decoded.sampleRateHertz, audioChannelCount: decoded.channels, denoise: DenoiseMode.OFF };
    }
    const config = recognitionConfigOf(requestConfig, "config", content);
    const wordTimes = Boolean(request.config?.enableWordTimeOffsets);
    const wordConfidence = Boolean(request.config?.enableWordConfidence);
    const speakerLabels = Boolean(config.diarization);
    const organizationId = principal.organizationId;
    const done = await recognizer.recognizeAll(config, content, { signal: ctx.signal, maxSeconds: RECOGNIZE_MAX_SECONDS, organizationId });
    const billedSeconds = billableSeconds(done.audioSeconds, done.channels);
    // Recorded before answering: a call whose usage could not be written fails rather than goes unbilled.
    await deps.usage?.recordRecognize(organizationId, billedSeconds, principal.kind === "api_key" ? principal.apiKeyId : null);
    return {
      results: done.results.map((r) => ({
        alternatives: [
          {
            transcript: r.transcript,
            confidence: r.confidence,
            words:
              wordTimes || wordConfidence || speakerLabels
                ? r.words.map((w) => ({
                    word: w.word,
                    ...(wordTimes ? { startOffset: durationOf(w.start), endOffset: durationOf(w.end) } : {}),
                    confidence: wordConfidence ? w.probability : 0,
                    speakerLabel: w.speaker ?? "",
                  }))
                : [],
          },
          ...runnerUpAlternatives(r.alternatives),
        ],
        channelTag: r.channel,
        resultStartOffset: durationOf(r.startSeconds),
        resultEndOffset: durationOf(r.endSeconds),
        languageCode: done.languageCode,
      })),
      metadata: {
        requestId,
        audioDuration: durationOf(done.audioSeconds),
        billedDuration: durationOf(billedSeconds),
      },
    };
  };
}

export function listModelsHandler(catalog: ModelCatalog, organizationDefaults?: (organizationId: string) => Promise<{ model: string }>) {
  return async function listModels(request: ListModelsRequest, ctx: HandlerContext): Promise<MessageInitShape<typeof ListModelsResponseSchema>> {
    // The caller's organisation's default model is the one its requests run on when they name none.
    const organizationId = ctx.values.get(principalKey)?.organizationId;
    const defaultModel = organizationId && organizationDefaults ? (await organizationDefaults(organizationId)).model : undefined;
    const page = await catalog.page(request, { signal: ctx.signal, defaultModel: defaultModel || undefined });
    return {
      models: page.models.map(modelMessage),
      nextPageToken: page.nextPageToken,
    };
  };
}
