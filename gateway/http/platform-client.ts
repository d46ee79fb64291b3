// The HTTP adapters (OpenAI-compatible API, telephony media streams) are translations, not second APIs: each
// request becomes calls of the platform's own RPCs (Recognize, ListModels, the batch and live-session RPCs)
// over an in-process transport, through the same interceptors the listeners put in
// front of them. The caller's bearer token, address and request id travel as headers, so
// authentication, scopes, rate limits, validation, the field policy and the error mapper apply exactly
// as they do to a Connect or gRPC client.
import { createClient, createRouterTransport, type Client, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../services/platform/logger.js";
import type { Authenticator } from "../../services/identity/model/principal.js";
import type { AuditLog } from "../../services/identity/audit/audit-log.js";
import type { RateLimits } from "../../services/platform/limits/rate-limits.js";
import type { ProductHandlers } from "../../services/app/product-services.js";
import { rpcPolicy } from "../../services/identity/auth/rpc-policy.js";
import { SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { MediaService } from "../../proto/gen/arabicstt/v1/media_pb.js";
import { JobService } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { TranscriptService } from "../../proto/gen/arabicstt/v1/transcript_pb.js";
import { productRoutes } from "../routes.js";
import { requestContextInterceptor } from "../interceptors/request-context.js";
import { tracingInterceptor } from "../interceptors/tracing.js";
import { errorMapperInterceptor } from "../interceptors/error-mapper.js";
import { deadlineInterceptor } from "../interceptors/deadline.js";
import { authInterceptor } from "../interceptors/auth.js";
import { validationInterceptor } from "../interceptors/validation.js";
import { fieldPolicyInterceptor } from "../interceptors/field-policy.js";

export interface PlatformClientOptions {
  handlers: ProductHandlers;
  authenticator: Authenticator;
  limits?: RateLimits;
  audit?: Pick<AuditLog, "record">;
  logger: Logger;
  /** The listeners' limits: the largest message and the server-side deadline of a unary call. */
  maxMessageBytes: number;
  unaryDeadlineMs: number;
}

export interface PlatformClients {
  speech: Client<typeof SpeechService>;
  media: Client<typeof MediaService>;
  jobs: Client<typeof JobService>;
  transcripts: Client<typeof TranscriptService>;
}

/**
 * Clients of the product's services, in process. The chain is the gateway's (gateway/server.ts), less
 * what belongs to a listener: metrics and drain see the HTTP request itself, and no live stream is opened.
 */
export function platformClients(options: PlatformClientOptions): PlatformClients {
  const interceptors: Interceptor[] = [
    requestContextInterceptor(options.logger),
    // A span per call, as on the listeners: an OpenAI-style or telephony request's RPCs are traced too.
    tracingInterceptor(),
    errorMapperInterceptor(),
    deadlineInterceptor(options.unaryDeadlineMs),
    authInterceptor({ authenticator: options.authenticator, policy: rpcPolicy, openServices: [], limits: options.limits, audit: options.audit }),
    validationInterceptor(),
    fieldPolicyInterceptor(),
  ];
  const transport = createRouterTransport(productRoutes(options.handlers), {
    router: { interceptors, readMaxBytes: options.maxMessageBytes, writeMaxBytes: options.maxMessageBytes },
    transport: { readMaxBytes: options.maxMessageBytes, writeMaxBytes: options.maxMessageBytes },
  });
  return {
    speech: createClient(SpeechService, transport),
    media: createClient(MediaService, transport),
    jobs: createClient(JobService, transport),
    transcripts: createClient(TranscriptService, transport),
  };
}
