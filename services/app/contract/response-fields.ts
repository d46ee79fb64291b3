// What the API promises about every response field: ONE entry per field of each message a response
// reaches, `set` (by which code) or `optional` (by which code, and when it is left unset and why).
// field-table.test.ts walks the descriptors: a response field added to a contract without an entry fails.
// Fields listed as optional "always, for now" are promises not kept yet (issue 17 item 2 fills them).
import type { CodeRef, OptionalField, ResponseEntry, SetField } from "./fields.js";

/** Every field named is set by `by`; `optional` lists those left unset at times, with when and why. */
function message(type: string, by: CodeRef, set: readonly string[], optional: Record<string, string> = {}): Record<string, ResponseEntry> {
  const entries: Record<string, ResponseEntry> = {};
  for (const name of set) entries[`arabicstt.v1.${type}.${name}`] = { kind: "set", by } satisfies SetField;
  for (const [name, unsetWhen] of Object.entries(optional)) entries[`arabicstt.v1.${type}.${name}`] = { kind: "optional", by, unsetWhen } satisfies OptionalField;
  return entries;
}

const ACCURACY: CodeRef = "services/transcripts/accuracy.ts#accuracyMetricsOf";
const RECOGNIZE: CodeRef = "services/speech/recognize.ts#recognizeHandler";
const LIST_MODELS: CodeRef = "services/speech/recognize.ts#listModelsHandler";
const RESPONSE_OF: CodeRef = "services/speech/convert.ts#responseOf";
const METADATA_OF: CodeRef = "services/speech/convert.ts#metadataOf";
const STREAM: CodeRef = "services/speech/streaming-recognize.ts#streamingRecognizeHandler";
const LIVE: CodeRef = "services/speech/live-session-handlers.ts#liveSessionHandlers";
const SESSION_OF: CodeRef = "services/speech/live-session-handlers.ts#sessionOf";
const AUTH: CodeRef = "services/identity/auth/handler.ts#authHandler";
const ORGS: CodeRef = "services/identity/orgs/handler.ts#organizationHandler";
const TO_USER: CodeRef = "services/identity/model/proto.ts#toUser";
const TO_ORG: CodeRef = "services/identity/model/proto.ts#toOrganization";
const TO_MEMBER: CodeRef = "services/identity/model/proto.ts#toMember";
const TO_TOKENS: CodeRef = "services/identity/model/proto.ts#toAuthTokens";
const API_KEYS: CodeRef = "services/identity/api-keys/handler.ts#apiKeyHandler";
const TO_API_KEY: CodeRef = "services/identity/api-keys/handler.ts#toApiKey";
const MEDIA: CodeRef = "services/media/handler.ts#mediaHandler";
const TO_MEDIA: CodeRef = "services/media/handler.ts#toMedia";
const JOBS: CodeRef = "services/jobs/handler.ts#jobHandler";
const TO_JOB: CodeRef = "services/jobs/handler.ts#toJob";
const TO_PROGRESS: CodeRef = "services/jobs/handler.ts#toProgress";
const TRANSCRIPTS: CodeRef = "services/transcripts/handler.ts#transcriptHandler";
const TO_TRANSCRIPT: CodeRef = "services/transcripts/handler.ts#toTranscript";
const TO_SEGMENT: CodeRef = "services/transcripts/handler.ts#toSegment";
const TO_SEARCH: CodeRef = "services/transcripts/handler.ts#toSearchResult";
const EXPORTS: CodeRef = "services/exports/handler.ts#exportHandler";
const TO_EXPORT: CodeRef = "services/exports/handler.ts#toExport";
const TO_OPTIONS: CodeRef = "services/exports/handler.ts#toOptions";
const USAGE: CodeRef = "services/usage/handler.ts#usageHandler";
const TO_TOTALS: CodeRef = "services/usage/handler.ts#toTotals";
const WEBHOOKS: CodeRef = "services/webhooks/handler.ts#webhookHandler";
const TO_WEBHOOK: CodeRef = "services/webhooks/handler.ts#toWebhook";
const TO_DELIVERY: CodeRef = "services/webhooks/handler.ts#toDelivery";
const ORG_ADMIN: CodeRef = "services/admin/organization-admin-handler.ts#organizationAdminHandler";
const TO_AUDIT: CodeRef = "services/admin/audit-handler.ts#toAuditEvent";
const PRIVACY: CodeRef = "services/privacy/handler.ts#privacyHandler";
const TO_DATA_EXPORT: CodeRef = "services/privacy/handler.ts#toDataExport";
const TO_ERASURE: CodeRef = "services/privacy/handler.ts#toErasure";
const SYSTEM_STATS: CodeRef = "services/admin/system-stats-handler.ts#systemStatsHandler";

// RecognitionConfig and StreamingRecognitionConfig come back in Job.config and LiveSession.streaming_config,
// as the client sent them (stored as proto JSON); what the client left unset stays unset.
const ECHOED = "when the client left it unset: the config is returned exactly as it was sent";
const echoed = (type: string, by: CodeRef, fields: readonly string[]) => message(type, by, [], Object.fromEntries(fields.map((f) => [f, ECHOED])));

export const responseFields: Readonly<Record<string, ResponseEntry>> = {
  // SpeechService
  ...message("RecognizeResponse", RECOGNIZE, ["results", "metadata"]),
  ...message("FormatTextResponse", "services/arabic-text/handler.ts#textHandler", ["text"], { redactions: "nothing was redacted (no redaction_config, or no span of its types)" }),
  ...message("RedactedSpan", "services/arabic-text/handler.ts#textHandler", ["type", "start_offset", "end_offset"]),
  ...message("SpeechRecognitionResult", RECOGNIZE, ["alternatives", "channel_tag", "result_start_offset", "result_end_offset", "language_code"]),
  ...message("SpeechRecognitionAlternative", RECOGNIZE, ["transcript"], {
    confidence: "0 on interim streaming results: a hypothesis that may still change has no confidence yet",
    words: "unless enable_word_time_offsets, enable_word_confidence or diarization asks for words (and on interim streaming results)",
  }),
  ...message("WordInfo", RESPONSE_OF, ["word"], {
    start_offset: "unless enable_word_time_offsets asked for times (live recognition, and a job's transcript); live sessions' transcripts always carry them",
    end_offset: "unless enable_word_time_offsets asked for times (live recognition, and a job's transcript); live sessions' transcripts always carry them",
    confidence: "0 unless enable_word_confidence asked for it (live recognition, and a job's transcript), or the model gave none",
    speaker_label: "in live recognition without diarization_config; in transcripts' words when the pipeline named no speaker or the job turned enable_speaker_diarization off",
  }),
  ...message("RecognitionResponseMetadata", RECOGNIZE, ["request_id", "audio_duration", "billed_duration"]),
  ...message("StreamingRecognizeResponse", STREAM, ["result_index"], {
    results: "on responses that carry a speech event or metadata only",
    speech_event: "on responses that carry results or metadata only",
    metadata: "on interim results and speech events: metadata comes first, with finals and at the end",
  }),
  ...message("StreamingRecognitionResult", RESPONSE_OF, ["alternatives", "is_final", "channel_tag", "result_end_offset", "language_code"], {
    stability: "0 on final results, which do not change",
  }),
  ...message("SpeechEvent", RESPONSE_OF, ["type", "offset", "channel_tag"], { dtmf_digit: "on events other than DTMF" }),
  ...message("StreamingRecognitionMetadata", METADATA_OF, ["request_id", "session_id", "audio_processed", "billed_duration", "audio_bytes_received"], {
    audio_bytes_committed: "0 on browser sessions (WatchLiveSession), whose audio is acknowledged by SendLiveAudio instead",
  }),
  ...message("CreateLiveSessionResponse", LIVE, ["session"]),
  ...message("LiveSession", SESSION_OF, [
    "session_id",
    "state",
    "streaming_config",
    "next_sequence_number",
    "audio_bytes_received",
    "audio_processed",
    "billed_duration",
    "next_result_index",
    "created_at",
    "last_activity_at",
    "expires_at",
  ]),
  ...echoed("StreamingRecognitionConfig", SESSION_OF, ["config", "interim_results", "voice_activity_events", "single_utterance", "dtmf_events", "resume"]),
  ...echoed("RecognitionConfig", TO_JOB, [
    "encoding",
    "sample_rate_hz",
    "audio_channel_count",
    "separate_recognition_per_channel",
    "language_code",
    "model",
    "enable_word_time_offsets",
    "enable_word_confidence",
    "enable_automatic_punctuation",
    "diarization_config",
    "endpointing_config",
    "phrase_hints",
    "verbatim",
    "redaction_config",
    "max_alternatives",
    "profanity_filter",
    "denoise",
    "arabic_text_config",
  ]),
  ...echoed("SpeakerDiarizationConfig", TO_JOB, ["enable_speaker_diarization", "min_speaker_count", "max_speaker_count"]),
  ...echoed("EndpointingConfig", TO_JOB, ["silence_duration", "max_utterance_duration", "utterance_end_silence", "speech_threshold"]),
  ...echoed("PhraseHints", TO_JOB, ["phrases", "boost"]),
  ...echoed("Phrase", TO_JOB, ["value", "boost"]),
  ...echoed("RedactionConfig", TO_JOB, ["types", "min_digit_count"]),
  ...echoed("ArabicTextConfig", TO_JOB, ["numeral_style", "remove_diacritics"]),
  ...echoed("StreamingResume", SESSION_OF, ["session_id", "from_result_index"]),
  ...message("SendLiveAudioResponse", LIVE, ["status", "next_sequence_number", "state", "expires_at"]),
  ...message("WatchLiveSessionResponse", LIVE, ["result_index", "state"], {
    results: "on responses that carry a speech event, or the closing metadata",
    speech_event: "on responses that carry results or metadata",
    metadata: "on interim results and speech events",
  }),
  ...message("CloseLiveSessionResponse", LIVE, ["session"]),
  ...message("ListModelsResponse", LIST_MODELS, ["models"], { next_page_token: "on the last page" }),
  ...message("Model", LIST_MODELS, [
    "name",
    "display_name",
    "description",
    "language_codes",
    "state",
    "is_default",
    "supports_streaming",
    "supports_batch",
    "supports_word_time_offsets",
    "supports_word_confidence",
    "native_sample_rate_hz",
  ]),

  // AuthService
  ...message("RegisterResponse", AUTH, ["user", "organization", "tokens"]),
  ...message("User", TO_USER, ["user_id", "email", "email_verified", "platform_admin", "created_at", "updated_at"], {
    display_name: "when the account has none",
    last_login_at: "always, for now: logins are not recorded on the user yet",
  }),
  ...message("Organization", TO_ORG, ["organization_id", "name", "state", "plan", "settings", "member_count", "created_at", "updated_at"], {
    suspension_reason: "unless the organisation is suspended",
  }),
  ...message("OrganizationSettings", TO_ORG, ["default_language_code"], {
    default_model: "when the organisation chose none: the platform's default model serves it",
    retention_days: "0 when media is kept until deleted",
  }),
  ...message("AuthTokens", TO_TOKENS, ["access_token", "access_token_expires_at", "refresh_token", "refresh_token_expires_at", "token_type", "organization_id"]),
  ...message("LoginResponse", AUTH, ["user", "organization", "role", "tokens"]),
  ...message("RefreshTokenResponse", AUTH, ["tokens"]),
  ...message("VerifyEmailResponse", AUTH, ["user"]),
  ...message("ChangePasswordResponse", AUTH, ["tokens"]),
  ...message("GetCurrentUserResponse", AUTH, ["user", "organization", "role"]),

  // OrganizationService
  ...message("GetOrganizationResponse", ORGS, ["organization"]),
  ...message("UpdateOrganizationResponse", ORGS, ["organization"]),
  ...message("ListMembersResponse", ORGS, ["members"], { next_page_token: "on the last page" }),
  ...message("Member", TO_MEMBER, ["user_id", "email", "role", "joined_at"], {
    display_name: "when the member's account has none",
    last_active_at: "until the member's first authenticated request in the organisation (kept to the minute: services/identity/auth/member-activity.ts)",
  }),
  ...message("InviteMemberResponse", ORGS, ["invitation"]),
  ...message("Invitation", ORGS, ["invitation_id", "email", "role", "state", "created_at", "expires_at"], {
    invited_by_user_id: "when the inviting account was deleted since",
  }),
  ...message("AcceptInvitationResponse", ORGS, ["member", "organization", "user", "tokens"]),
  ...message("UpdateMemberRoleResponse", ORGS, ["member"]),

  // ApiKeyService
  ...message("CreateApiKeyResponse", API_KEYS, ["api_key", "secret"]),
  ...message("ApiKey", TO_API_KEY, ["api_key_id", "name", "prefix", "scopes", "state", "created_at"], {
    created_by_user_id: "when the creating account was deleted since",
    last_used_at: "until the key is first used",
    expires_at: "for keys that do not expire",
    revoked_at: "unless the key was revoked",
  }),
  ...message("ListApiKeysResponse", API_KEYS, ["api_keys"], { next_page_token: "on the last page" }),
  ...message("RevokeApiKeyResponse", API_KEYS, ["api_key"]),

  // MediaService
  ...message("CreateUploadResponse", MEDIA, ["media"], {
    single_part: "when the upload is cut into parts (multipart is set instead)",
    multipart: "when the file fits one PUT (single_part is set instead)",
  }),
  ...message("Media", TO_MEDIA, ["media_id", "filename", "content_type", "state", "labels", "created_at"], {
    size_bytes: "0 until the item is READY (checked)",
    sha256: "until the item is READY (checked)",
    audio_properties: "until the item is READY (probed)",
    error: "unless the item FAILED",
    uploaded_at: "until the upload completes",
    expires_at: "when the organisation keeps media until deleted",
  }),
  ...message("AudioProperties", TO_MEDIA, ["duration", "container", "codec", "sample_rate_hz", "channel_count", "has_video"]),
  ...message("ProcessingError", TO_MEDIA, ["code", "message", "occurred_at", "retryable"]),
  ...message("PresignedPut", MEDIA, ["url", "headers", "expires_at"]),
  ...message("PresignedMultipartUpload", MEDIA, ["part_size_bytes", "parts", "headers", "expires_at"]),
  ...message("PresignedPart", MEDIA, ["part_number", "url"]),
  ...message("CompleteUploadResponse", MEDIA, ["media"]),
  ...message("UploadMediaResponse", MEDIA, ["media"]),
  ...message("GetMediaResponse", MEDIA, ["media"]),
  ...message("ListMediaResponse", MEDIA, ["media"], { next_page_token: "on the last page" }),
  ...message("GetMediaDownloadUrlResponse", MEDIA, ["url", "expires_at"]),

  // JobService
  ...message("CreateJobResponse", JOBS, ["job", "created"], { webhook_secret: "when the job has no webhook_url, or an earlier call made it (the secret is shown once)" }),
  ...message("Job", TO_JOB, ["job_id", "media_id", "state", "progress_percent", "stage_progress", "config", "priority", "has_reference_transcript", "attempt_count", "labels", "created_at", "updated_at"], {
    stage: "unless the job is RUNNING",
    idempotency_key: "when none was given, or it expired (after 24 hours)",
    webhook_url: "when none was given",
    transcript_id: "until the job SUCCEEDED",
    accuracy: "unless the job SUCCEEDED with a reference_transcript",
    error: "unless the job FAILED",
    audio_duration: "when the media's duration is not known yet",
    billed_duration: "until the job SUCCEEDED",
    started_at: "until a runner first takes the job",
    finished_at: "until the job ends",
  }),
  ...message("AccuracyMetrics", ACCURACY, ["word_error_rate", "character_error_rate", "reference_word_count", "substitutions", "deletions", "insertions"]),
  ...message("GetJobResponse", JOBS, ["job"]),
  ...message("ListJobsResponse", JOBS, ["jobs"], { next_page_token: "on the last page" }),
  ...message("CancelJobResponse", JOBS, ["job"]),
  ...message("RetryJobResponse", JOBS, ["job"]),
  ...message("WatchJobResponse", TO_PROGRESS, ["job_id", "state", "progress_percent", "stage_progress", "updated_at"], {
    stage: "unless the job is RUNNING",
    transcript_id: "until the job SUCCEEDED",
    error: "unless the job FAILED",
  }),

  // TranscriptService
  ...message("GetTranscriptResponse", TRANSCRIPTS, ["transcript", "segments"], { next_page_token: "on the last page" }),
  ...message("Transcript", TO_TRANSCRIPT, ["transcript_id", "title", "language_code", "preview", "audio_duration", "segment_count", "word_count", "confidence", "speakers", "channels", "edit_count", "created_at", "updated_at"], {
    job_id: "for a live session's transcript, which no job made",
    media_id: "for a live session's transcript, which has no media",
    model: "when the recogniser's name was not recorded",
    accuracy: "unless its job was given a reference_transcript",
  }),
  ...message("Speaker", TO_TRANSCRIPT, ["speaker_label", "channel_tag", "talk_time", "word_count"], { display_name: "until someone names the speaker (RenameSpeaker)" }),
  ...message("Channel", TO_TRANSCRIPT, ["channel_tag", "talk_time", "segment_count"]),
  ...message("TranscriptSegment", TO_SEGMENT, ["segment_id", "index", "channel_tag", "start_offset", "end_offset", "text", "confidence", "language_code", "revision", "updated_at"], {
    speaker_label: "when the pipeline named no speaker for the segment, or the job turned enable_speaker_diarization off",
    words: "unless include_words asked for them, and for a job that asked for none of word times, word confidence and speakers",
    edits: "unless include_edit_history asked for them",
    alternatives:
      "unless the job asked for max_alternatives above 1 and the model gave a runner-up that reads differently after the text chain; for a segment split between speakers, after an edit of its text, and on live sessions' transcripts",
  }),
  ...message("SegmentAlternative", TO_SEGMENT, ["text"]),
  ...message("SegmentEdit", TO_SEGMENT, ["revision", "previous_text", "edited_at"], {
    previous_speaker_label: "when the segment had no speaker before the edit",
    edited_by_user_id: "when an API key made the edit",
    edited_by_api_key_id: "when a user made the edit",
  }),
  ...message("ListTranscriptsResponse", TRANSCRIPTS, ["transcripts"], { next_page_token: "on the last page" }),
  ...message("UpdateSegmentResponse", TRANSCRIPTS, ["segment"]),
  ...message("RenameSpeakerResponse", TRANSCRIPTS, ["speaker"]),
  ...message("SearchTranscriptsResponse", TRANSCRIPTS, ["results", "total_size"], { next_page_token: "on the last page" }),
  ...message("TranscriptSearchResult", TO_SEARCH, ["transcript_id", "title", "score", "snippets", "audio_duration", "created_at"]),
  ...message("SearchSnippet", TO_SEARCH, ["segment_id", "channel_tag", "start_offset", "text", "highlights"], { speaker_label: "when the segment has no speaker" }),
  ...message("TextRange", TO_SEARCH, ["start", "end"]),

  // ExportService
  ...message("CreateExportResponse", EXPORTS, ["export"]),
  ...message("Export", TO_EXPORT, ["export_id", "transcript_id", "format", "options", "state", "filename", "created_at"], {
    download_url: "unless the export SUCCEEDED",
    download_url_expires_at: "unless the export SUCCEEDED",
    size_bytes: "0 unless the export SUCCEEDED",
    error: "unless the export FAILED",
    completed_at: "until the export ends",
    expires_at: "until the export ends",
  }),
  ...message("ExportOptions", TO_OPTIONS, [], {
    include_speakers: "when the client left it unset (the format's default applies)",
    include_timestamps: "when the client left it unset (the format's default applies)",
    include_words: "when the client left it unset (the format's default applies)",
    max_line_length: "0 when the client left it unset (the default applies)",
    max_lines_per_cue: "0 when the client left it unset (the default applies)",
    max_cue_duration: "when the client left it unset (the default applies)",
    add_rtl_marks: "when the client left it unset (the format's default applies)",
  }),
  ...message("GetExportResponse", EXPORTS, ["export"]),

  // UsageService
  ...message("GetUsageResponse", USAGE, ["buckets", "total"]),
  ...message("UsageBucket", USAGE, ["start_time", "end_time", "usage"]),
  ...message("UsageTotals", TO_TOTALS, ["recognize_duration", "streaming_duration", "batch_duration", "billed_duration", "recognize_request_count", "streaming_session_count", "job_count", "export_count", "peak_storage_bytes"]),
  ...message("GetQuotaResponse", USAGE, ["plan", "period_start", "period_end", "limits"]),
  ...message("QuotaLimit", USAGE, ["metric", "used", "resets_at"], { limit: "when the plan has no limit on the metric" }),

  // BillingService
  ...message("GetBillingAccountResponse", "services/billing/handler.ts#billingHandler", ["account"]),
  ...message("ListPlansResponse", "services/billing/handler.ts#billingHandler", ["plans"]),
  ...message("ChangePlanResponse", "services/billing/handler.ts#billingHandler", ["account"]),
  ...message("ListInvoicesResponse", "services/billing/handler.ts#billingHandler", ["invoices"], { next_page_token: "on the last page" }),
  ...message("Plan", "services/billing/handler.ts#toPlan", ["name", "included_audio", "currency"], {
    monthly_fee_minor: "0 on a plan without a fee",
    overage_per_minute_minor: "0 on a plan without overage",
  }),
  ...message("BillingAccount", "services/billing/handler.ts#toAccount", ["plan", "status", "mode"], {
    stripe_customer_id: "in-house, and with Stripe before the first paid plan",
    stripe_subscription_id: "in-house, and with Stripe while on a plan without prices",
    past_due_since: "unless the account is PAST_DUE or SUSPENDED",
    suspends_at: "unless the account is PAST_DUE",
  }),
  ...message("Invoice", "services/billing/handler.ts#toInvoice", ["invoice_id", "status", "currency", "period_start", "period_end", "created_at"], {
    number: "on a draft",
    amount_due_minor: "0 when nothing is due",
    amount_paid_minor: "0 until paid (always in-house: nothing is charged)",
    billed_audio: "with Stripe: its invoice has its own line items",
    hosted_invoice_url: "in-house (nothing is paid online)",
  }),

  // WebhookService
  ...message("CreateWebhookResponse", WEBHOOKS, ["webhook", "secret"]),
  ...message("Webhook", TO_WEBHOOK, ["webhook_id", "url", "event_types", "secret_prefix", "created_at", "updated_at"], {
    description: "when none was given",
    previous_secret_expires_at: "unless a rotation left the previous secret valid for a while, and it still is",
  }),
  ...message("ListWebhooksResponse", WEBHOOKS, ["webhooks"], { next_page_token: "on the last page" }),
  ...message("RotateWebhookSecretResponse", WEBHOOKS, ["webhook", "secret"]),
  ...message("ListDeliveriesResponse", WEBHOOKS, ["deliveries"], { next_page_token: "on the last page" }),
  ...message("WebhookDelivery", TO_DELIVERY, ["delivery_id", "webhook_id", "event_id", "event_type", "state", "attempt_count", "payload", "created_at"], {
    last_status_code: "until a receiver answered with a status",
    last_error: "unless the last attempt failed",
    last_attempt_at: "until the first attempt",
    next_attempt_at: "unless another attempt is due",
  }),
  ...message("RedeliverDeliveryResponse", WEBHOOKS, ["delivery"]),

  // AdminService
  ...message("ListOrganizationsResponse", ORG_ADMIN, ["organizations"], { next_page_token: "on the last page" }),
  ...message("SuspendOrganizationResponse", ORG_ADMIN, ["organization"]),
  ...message(
    "GetSystemStatsResponse",
    SYSTEM_STATS,
    [
      "generated_at",
      "organization_count",
      "user_count",
      "active_stream_count",
      "queued_job_count",
      "running_job_count",
      "worker_count",
      "jobs_succeeded_last_day",
      "jobs_failed_last_day",
      "jobs_cancelled_last_day",
      "audio_billed_last_day",
    ],
    {
      models: "when no inference server answers, or none holds a recogniser",
      inference_models: "when no inference server answers",
    },
  ),
  ...message("InferenceModelStatus", SYSTEM_STATS, ["name", "state"], { reason: "when the model is ready, or its server gives no reason" }),
  ...message("ListAuditEventsResponse", "services/admin/audit-handler.ts#listAuditEvents", ["events"], { next_page_token: "on the last page" }),
  ...message("AuditEvent", TO_AUDIT, ["audit_event_id", "actor", "action", "occurred_at"], {
    organization_id: "for events of no organisation (a failed login of an unknown address)",
    resource_type: "for events about no resource (a login)",
    resource_id: "for events about no resource (a login)",
    outcome: "for events recorded before outcomes were",
    ip_address: "when the event came from no request (the worker, the cleanup)",
    user_agent: "when the event came from no request, or the client sent none",
    request_id: "when the event came from no request (the worker, the cleanup)",
    details: "when the action has nothing to add",
  }),
  ...message("AuditActor", TO_AUDIT, ["type"], {
    user_id: "unless a user acted",
    email: "unless a user acted",
    api_key_id: "unless an API key acted",
  }),

  // PrivacyService
  ...message("CreateDataExportResponse", PRIVACY, ["data_export"]),
  ...message("GetDataExportResponse", PRIVACY, ["data_export"]),
  ...message("DataExport", TO_DATA_EXPORT, ["data_export_id", "organization_id", "state", "progress_percent", "created_at"], {
    download_url: "until it has SUCCEEDED",
    size_bytes: "until it has SUCCEEDED",
    error: "unless it FAILED",
    completed_at: "until it has SUCCEEDED or FAILED",
    expires_at: "until it has SUCCEEDED",
  }),
  ...message("EraseOrganizationResponse", PRIVACY, ["erasure"], { already_requested: "on the first request" }),
  ...message("EraseUserResponse", PRIVACY, ["erasure"], { already_requested: "on the first request" }),
  ...message("GetErasureResponse", PRIVACY, ["erasure"]),
  ...message("Erasure", TO_ERASURE, ["erasure_id", "subject_type", "subject_id", "state", "created_at"], { completed_at: "until it is COMPLETED" }),
};
