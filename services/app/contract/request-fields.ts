// What happens to every request field of the public API: ONE table with an entry for each field of each
// message an RPC's request reaches (nested configs included). `applied` names the code that reads the field
// and the test that fails if it stops; `refused` fields are answered with their code and a message naming
// them by gateway/interceptors/field-policy.ts before any handler runs, so no field is accepted and ignored.
// field-table.test.ts walks the descriptors: a field added to a contract without an entry here fails the build.
//
// The Arabic text fields (verbatim, arabic_text_config, redaction_config, profanity_filter) are applied on
// live RPCs, batch jobs and FormatText, by the one chain in services/arabic-text. CreateJob's batch switches (encoding, word options, the diarization
// switch) are applied too (issue 17 item 2).
import type { Applied, CodeRef, FieldEntry, FieldRule, NoProofYet, Proof, Refused, RpcName } from "./fields.js";
import { DenoiseMode } from "../../../proto/gen/arabicstt/v1/recognition_pb.js";

const applied = (by: CodeRef, proof: Proof | NoProofYet, note?: string): Applied => ({ kind: "applied", by, proof, ...(note ? { note } : {}) });
const test = (file: Proof["test"], name: string): Proof => ({ test: file, name });
const noProofYet = (why: string): NoProofYet => ({ none: why });
const invalid = (reason: string, allows?: Refused["allows"]): Refused => ({ kind: "refused", code: "invalid_argument", reason, ...(allows ? { allows } : {}) });
const perRpc = (rules: Record<RpcName, FieldRule>): FieldEntry => ({ kind: "per_rpc", rules });

const FORMAT_TEXT: RpcName = "arabicstt.v1.TextService/FormatText";
const TEXT_HANDLER: CodeRef = "services/arabic-text/handler.ts#textHandler";
const TEXT_OPTIONS: CodeRef = "services/arabic-text/options.ts#textChainOptions";
const TEXT_TEST = "services/arabic-text/format-text.test.ts" as const;

const RECOGNIZE: RpcName = "arabicstt.v1.SpeechService/Recognize";
const STREAMING: RpcName = "arabicstt.v1.SpeechService/StreamingRecognize";
const CREATE_LIVE: RpcName = "arabicstt.v1.SpeechService/CreateLiveSession";
const CREATE_JOB: RpcName = "arabicstt.v1.JobService/CreateJob";

/** The three RPCs whose RecognitionConfig goes to live recognition (services/speech/convert.ts → LiveRecognizer). */
const live = (rule: FieldRule) => ({ [RECOGNIZE]: rule, [STREAMING]: rule, [CREATE_LIVE]: rule });
/** A field of a config message that recognition and FormatText both reach. */
const withFormatText = (liveRule: FieldRule, textRule: FieldRule, batchRule: FieldRule = liveRule): FieldEntry => perRpc({ ...live(liveRule), [CREATE_JOB]: batchRule, [FORMAT_TEXT]: textRule });
/** Live recognition and batch jobs read a RecognitionConfig field differently. */
const liveAndBatch = (liveRule: FieldRule, batchRule: FieldRule): FieldEntry => perRpc({ ...live(liveRule), [CREATE_JOB]: batchRule });

// Where things are read.
const CONVERT: CodeRef = "services/speech/convert.ts#recognitionConfigOf";
const LIVE_CONFIG: CodeRef = "services/speech/convert.ts#liveConfigOf";
const RECOGNIZER: CodeRef = "services/speech/live-recognition.ts#open";
const RECOGNIZE_HANDLER: CodeRef = "services/speech/recognize.ts#recognizeHandler";
const STREAM_HANDLER: CodeRef = "services/speech/streaming-recognize.ts#streamingRecognizeHandler";
const PUMP: CodeRef = "services/speech/streaming-recognize.ts#pump";
const LIVE_SESSIONS: CodeRef = "services/speech/live-session-handlers.ts#liveSessionHandlers";
const RESPONSE_OF: CodeRef = "services/speech/convert.ts#responseOf";
const CATALOG: CodeRef = "services/models/catalog.ts#page";
const CHECK_JOB: CodeRef = "services/jobs/jobs.ts#checkConfig";
const JOB_SETTINGS: CodeRef = "services/jobs/settings.ts#settingsOf";
const JOB_RUNNER: CodeRef = "services/jobs/runner.ts#runAudioPipeline";
const JOBS: CodeRef = "services/jobs/handler.ts#jobHandler";
const ACCOUNTS = (fn: string): CodeRef => `services/identity/auth/accounts.ts#${fn}`;
const EMAILS = (fn: string): CodeRef => `services/identity/auth/account-emails.ts#${fn}`;
const ORGS = (fn: string): CodeRef => `services/identity/orgs/organizations.ts#${fn}`;
const INVITES: CodeRef = "services/identity/orgs/invitations.ts#accept";
const API_KEYS = (fn: string): CodeRef => `services/identity/api-keys/api-keys.ts#${fn}`;
const MEDIA: CodeRef = "services/media/handler.ts#mediaHandler";
const TRANSCRIPTS: CodeRef = "services/transcripts/handler.ts#transcriptHandler";
const EXPORT_OPTIONS: CodeRef = "services/exports/handler.ts#fromOptions";
const EXPORTS: CodeRef = "services/exports/handler.ts#exportHandler";
const USAGE: CodeRef = "services/usage/handler.ts#getUsage";
const WEBHOOKS: CodeRef = "services/webhooks/handler.ts#webhookHandler";
const AUDIT: CodeRef = "services/admin/audit-handler.ts#listAuditEvents";
const ORG_ADMIN: CodeRef = "services/admin/organization-admin-handler.ts#listOrganizations";

// The tests that show it.
const SPEECH = "services/speech/speech-service.test.ts" as const;
const MULAW = test(SPEECH, "recognises raw 8 kHz μ-law over grpc-js");
const STEREO_WAV = test(SPEECH, "recognises a stereo WAV file (encoding detected) per channel, with times and billing");
const MIXDOWN = test(SPEECH, "mixes channels down to one unless they are recognised separately");
const STEREO_STREAM = test(SPEECH, "recognises a different digit sequence on each channel of stereo 8 kHz μ-law in 20 ms frames (grpc-js)");
const CONNECT_STREAM = test(SPEECH, "serves Connect's client: mono LINEAR16 at 16 kHz, FINALIZE mid-stream, CLOSE at the end");
const VAD_EVENTS = test(SPEECH, "reports speech begin and end from VAD on espeak-ng Arabic, and never sends silence to the model");
const UTTERANCE_END = test(SPEECH, "sends UTTERANCE_END once the speaker is silent for utterance_end_silence after the last final word");
const DTMF = test(SPEECH, "reports keypad presses as DTMF events beside a VAD-gated model (IVR)");
const SINGLE = test(SPEECH, "with single_utterance, ends the stream after the first utterance's final");
const KEEPALIVE = test(SPEECH, "keeps a quiet stream open with KEEPALIVE, and ends one that sends nothing with DEADLINE_EXCEEDED");
const RESUME = test(SPEECH, "resumes a dropped stream: missed finals replayed from the index asked, audio resent from the bytes received");
const MODELS = test(SPEECH, "filters by language (a regional tag is served by its language's models) and pages");
const BAD_MODEL = test("services/speech/live-sessions.test.ts", "answers unknown sessions, bad indexes and resume configs with the right codes");
const WATCHER = test("services/speech/live-sessions.test.ts", "resumes a dropped watcher on another replica with no result lost or repeated");
const CLOSE_LIVE = test("gateway/platform-live.test.ts", "writes a browser session's finals and usage once CloseLiveSession ends it, then refuses the next session once the quota is used");
const MAX_UTTERANCE = test("services/speech/engine/session.test.ts", "forces a final at the maximum utterance length and carries on without a new speech begin");
const LIVE_PROOFS = "services/app/contract/live-config.test.ts" as const;
const JOBS_TEST = "services/jobs/jobs.test.ts" as const;
const STEREO_JOB = test(JOBS_TEST, "transcribes a stereo μ-law call: each party's keys, times and channel speaker, written once");
const JOB_CONFIG = test(JOBS_TEST, "refuses an unsupported config, naming %s");
const AUTH = "services/identity/auth/auth.test.ts" as const;
const MAIL = "services/identity/mail-flows.test.ts" as const;
const ORGS_TEST = "services/identity/orgs/organizations.test.ts" as const;
const KEYS = "services/identity/api-keys/api-keys.test.ts" as const;
const UPLOADS = "services/media/uploads.test.ts" as const;
const MEDIA_TEST = "services/media/media.test.ts" as const;
const TRANSCRIPTS_TEST = "services/transcripts/transcripts.test.ts" as const;
const EXPORTS_TEST = "services/exports/exports.test.ts" as const;
const USAGE_TEST = "services/usage/usage.test.ts" as const;
const HOOKS = "services/webhooks/webhooks.test.ts" as const;
const AUDIT_TEST = "services/identity/audit/audit.test.ts" as const;
const SUSPENSION = "services/identity/orgs/suspension.test.ts" as const;
const ISOLATION = test("gateway/isolation.test.ts", "answers NOT_FOUND to a caller from another organisation, over gRPC and Connect, and changes nothing");
const NO_TIME_FILTER_TEST = noProofYet("no test lists with a time filter yet");

// Refusals shared by several fields.
// Live recognition, Recognize and batch transcripts run every result through the text chain.
const TEXT_CHAIN: CodeRef = "services/speech/live-recognition.ts#formatted";
const LIVE_TEXT_TEST = "services/speech/text-chain-live.test.ts" as const;
const LIVE_REDACTION = test(LIVE_TEXT_TEST, "redacts a phone number keyed in live: no partial or final shows its digits, even while it is being keyed");
const LIVE_NUMERALS = test(LIVE_TEXT_TEST, "Recognize writes digits as numeral_style asks and redacts a payment card, over Connect");
const MAX_ALTERNATIVES_LIVE = test(LIVE_TEXT_TEST, "max_alternatives: Recognize and live finals give one to N hypotheses, each through the text chain; 11 is INVALID_ARGUMENT");
/** Applied by the text chain on live RPCs (its unit tests in services/arabic-text prove the rules), refused on CreateJob for now. */
const BATCH_TEXT: CodeRef = "services/jobs/runner.ts#throughTextChain";
const JOB_TEXT_TEST = "services/jobs/job-text.test.ts" as const;
const JOB_REDACTION = test(JOB_TEXT_TEST, "stores a redacted phone number nowhere: not in the text, the segments or their words");
const JOB_NUMERALS = test(JOB_TEXT_TEST, "writes digits as numeral_style asks, and leaves them as they are without options");
/** Applied by the text chain on live RPCs and on batch transcripts (its unit tests in services/arabic-text prove the rules). */
const textField = (proof: Proof, batchProof: Proof, note?: string): FieldEntry => liveAndBatch(applied(TEXT_CHAIN, proof, note), applied(BATCH_TEXT, batchProof, note));
const PUNCTUATION_TEST = "services/jobs/punctuation.test.ts" as const;
const DENOISE_TEST = "services/speech/denoise-recognize.test.ts" as const;
const PUNCTUATION_STREAM = test(PUNCTUATION_TEST, "on StreamingRecognize: every partial and final follows the switch");
const PUNCTUATION_NOTE = "the model's own punctuation, kept or removed: nothing adds marks a model did not write (the rules: services/arabic-text/chain.test.ts)";
// Phrase hints: the decoder's prompt and the boost after recognition (services/arabic-text/phrase-hints.ts), on
// every RPC that recognises. Whisper's use of the prompt needs real weights; the tests show what reaches the model.
const HINTS_TEST = "services/jobs/phrase-hints.test.ts" as const;
const HINTS_LIVE = test(HINTS_TEST, "reach the model as its prompt on Recognize, strongest first, and recognition goes on as before");
const HINTS_STREAM = test(HINTS_TEST, "reach the model on every decode of a live stream");
const HINTS_JOB = test(HINTS_TEST, "reach the model on every chunk of a batch job");
const HINTS_LIMITS = test(HINTS_TEST, "over their limits are INVALID_ARGUMENT naming the field, live and batch");
const HINTS_BOOST = test("services/arabic-text/phrase-hints.test.ts", "lets the boost decide how far a word may be: none at boost 0, a third of the letters at 20");
const HINTS_ORDER = test("services/arabic-text/phrase-hints.test.ts", "prompts with the strongest phrases first, within the prompt's length, once each");
const LIVE_HINTS: CodeRef = "services/speech/live-recognition.ts#asrOf";
const BATCH_HINTS: CodeRef = "services/jobs/pipeline/index.ts#phraseHints";
const hintsField = (liveProof: Proof, batchProof: Proof, note?: string): FieldEntry =>
  perRpc({ [RECOGNIZE]: applied(LIVE_HINTS, liveProof, note), [STREAMING]: applied(LIVE_HINTS, HINTS_STREAM, note), [CREATE_LIVE]: applied(LIVE_HINTS, HINTS_STREAM, note), [CREATE_JOB]: applied(BATCH_HINTS, batchProof, note) });
// Worded as services/speech/convert.ts words it, so a client sees one message whichever check answers.
const WORD_OPTIONS_TEST = "services/jobs/word-options.test.ts" as const;
const WORD_SWITCHES = test(WORD_OPTIONS_TEST, "leaves word times and confidence out unless asked, and gives each when asked, the segments keeping their times");
const TRANSCRIPT_WORDS: CodeRef = "services/transcripts/handler.ts#toSegment";
const MONO_DIARIZATION = test("services/jobs/diarization.test.ts", "labels every word with its speaker, within the counts asked, splitting segments where the speaker changes");
const LIVE_DIARIZATION = test("services/speech/diarization-live.test.ts", "labels two espeak-ng voices in one mono stream as two speakers, in the order they speak");
const LIVE_DIARIZATION_BOUNDS = test("services/audio/speakers/online.test.ts", "never names more speakers than max_speaker_count, and opens one only past the threshold");
// Batch jobs read endpointing_config as where their segments may be cut (services/jobs/settings.ts#segmentationOf).
const BATCH_SEGMENTATION: CodeRef = "services/jobs/settings.ts#segmentationOf";
const ENDPOINTING_TEST = "services/jobs/endpointing.test.ts" as const;
const BATCH_SILENCE = test(ENDPOINTING_TEST, "cuts a segment at every pause of silence_duration or longer, and only there");
const BATCH_MAX_UTTERANCE = test(ENDPOINTING_TEST, "makes no segment longer than max_utterance_duration");
// Refused by design, not for now: the field is a live turn-taking signal, and a transcript has no events.
const BATCH_NO_UTTERANCE_END = "batch transcripts carry no speech events, so there is no UTTERANCE_END to send (a live turn-taking signal); leave it unset on jobs";
// A job's n-best: each segment keeps the model's runner-ups for it (services/jobs/pipeline/runner-ups.ts).
const MAX_ALTERNATIVES_JOB = test("services/jobs/alternatives.test.ts", "keeps up to max_alternatives - 1 runner-ups per segment, each through the text chain, redaction included");

export const requestFields: Readonly<Record<string, FieldEntry>> = {
  // SpeechService.Recognize
  "arabicstt.v1.RecognizeRequest.config": applied(RECOGNIZE_HANDLER, MULAW),
  "arabicstt.v1.RecognizeRequest.content": applied(RECOGNIZE_HANDLER, MULAW),
  "arabicstt.v1.RecognizeRequest.media_id": applied(
    RECOGNIZE_HANDLER,
    test("services/speech/recognize-media.test.ts", "recognises the organisation's uploaded media as if its bytes were sent, and bills it"),
    "a READY item of the caller's organisation within content's limits (60 s, 10 MiB); API keys need media:read too",
  ),

  // RecognitionConfig: Recognize, StreamingRecognize, CreateLiveSession (live recognition) and CreateJob (batch).
  "arabicstt.v1.RecognitionConfig.encoding": liveAndBatch(
    applied(CONVERT, MULAW, "UNSPECIFIED and AUTO read the format from the audio's header on Recognize, and are refused by live streams"),
    applied(
      CHECK_JOB,
      test(JOBS_TEST, "transcribes raw μ-law uploaded as audio/basic when the job names MULAW and its rate; refuses the job without them"),
      "unset and AUTO read the file's header; any other is checked against the codec the upload's probe stored (INVALID_ARGUMENT on a mismatch, e.g. FLAC on a μ-law WAV); headerless media (uploaded as audio/basic, audio/PCMU or audio/PCMA) needs LINEAR16/MULAW/ALAW with sample_rate_hz, and the pipeline decodes its bytes as they say",
    ),
  ),
  "arabicstt.v1.RecognitionConfig.sample_rate_hz": liveAndBatch(
    applied(CONVERT, MULAW),
    applied(CHECK_JOB, JOB_CONFIG, "checked against the media's own rate, which the pipeline reads from the file"),
  ),
  "arabicstt.v1.RecognitionConfig.audio_channel_count": liveAndBatch(
    applied(CONVERT, STEREO_STREAM),
    applied(CHECK_JOB, JOB_CONFIG, "checked against the media's own channel count, which the pipeline reads from the file"),
  ),
  "arabicstt.v1.RecognitionConfig.separate_recognition_per_channel": liveAndBatch(
    applied(RECOGNIZER, MIXDOWN),
    applied(
      JOB_RUNNER,
      test("services/jobs/channels.test.ts", "mixes the channels down to mono: every key once, on channel_tag 1, billed once"),
      "true: every channel recognised on its own, under its channel_tag; false: mixed down to mono, recognised and billed as one channel",
    ),
  ),
  "arabicstt.v1.RecognitionConfig.language_code": liveAndBatch(
    applied(RECOGNIZER, test("services/speech/whisper-live.test.ts", "recognises two utterances, sending Whisper only their speech"), "a region (ar-EG) is served by the language's models; only the language reaches the model"),
    applied(CHECK_JOB, STEREO_JOB),
  ),
  "arabicstt.v1.RecognitionConfig.model": liveAndBatch(applied(RECOGNIZER, BAD_MODEL), applied(CHECK_JOB, JOB_CONFIG)),
  "arabicstt.v1.RecognitionConfig.enable_word_time_offsets": liveAndBatch(
    applied(RESPONSE_OF, STEREO_WAV),
    applied(TRANSCRIPT_WORDS, WORD_SWITCHES, "stored whole; GetTranscript leaves word times out when the job did not ask (segments and subtitles keep theirs)"),
  ),
  "arabicstt.v1.RecognitionConfig.enable_word_confidence": liveAndBatch(
    applied(RESPONSE_OF, test(LIVE_PROOFS, "gives words their confidence only when enable_word_confidence asks for it")),
    applied(TRANSCRIPT_WORDS, WORD_SWITCHES, "stored whole; GetTranscript leaves word confidence out (0) when the job did not ask"),
  ),
  // Step 6 of the text chain (services/arabic-text/chain.ts): true keeps the model's marks written the Arabic way, false removes them.
  "arabicstt.v1.RecognitionConfig.enable_automatic_punctuation": perRpc({
    [RECOGNIZE]: applied(TEXT_CHAIN, test(PUNCTUATION_TEST, "on Recognize: true writes the model's marks the Arabic way, false removes them, words keep their times"), PUNCTUATION_NOTE),
    [STREAMING]: applied(TEXT_CHAIN, PUNCTUATION_STREAM, PUNCTUATION_NOTE),
    [CREATE_LIVE]: applied(TEXT_CHAIN, PUNCTUATION_STREAM, PUNCTUATION_NOTE),
    [CREATE_JOB]: applied(BATCH_TEXT, test(PUNCTUATION_TEST, "on a batch job: the stored transcript, its segments and their words"), PUNCTUATION_NOTE),
  }),
  "arabicstt.v1.RecognitionConfig.diarization_config": liveAndBatch(
    applied(CONVERT, LIVE_DIARIZATION, "mono: each final's utterance clustered online (services/speech/diarization.ts), speaker_embedding prints when the model is ready, else spectral ones; channels recognised separately: one speaker each (live DER: npm run bench:diarization)"),
    applied(JOB_SETTINGS, MONO_DIARIZATION, "mono audio: speaker_embedding prints when the model is ready, else weights-free spectral ones (DER: npm run bench:diarization)")),
  "arabicstt.v1.RecognitionConfig.endpointing_config": liveAndBatch(applied(CONVERT, UTTERANCE_END), applied(BATCH_SEGMENTATION, BATCH_SILENCE)),
  "arabicstt.v1.RecognitionConfig.phrase_hints": hintsField(HINTS_LIVE, HINTS_JOB, "Whisper's initial prompt plus a post-recognition boost; other models take the prompt and ignore it, the boost still applies"),
  "arabicstt.v1.RecognitionConfig.verbatim": textField(test("services/arabic-text/chain.test.ts", "keeps the words, and the digits as written, when verbatim"), test("services/arabic-text/chain.test.ts", "keeps the words, and the digits as written, when verbatim"), "numbers in words need a speech model's words; the chain's tests show them, live wiring is shown with digits"),
  "arabicstt.v1.RecognitionConfig.redaction_config": textField(LIVE_REDACTION, JOB_REDACTION),
  // Up to N hypotheses per final from the final decode's n-best (Triton's whisper: beams); runtimes without one
  // (whisper.cpp's binding returns only its best path, dtmf) give one, which the contract allows ("may return fewer").
  // Batch jobs ask every chunk's decode for N and keep each segment's runner-ups (TranscriptSegment.alternatives).
  "arabicstt.v1.RecognitionConfig.max_alternatives": liveAndBatch(
    applied(CONVERT, MAX_ALTERNATIVES_LIVE, "applied: up to N per final, each through the text chain; runtimes without an n-best (whisper.cpp, dtmf) give one; runner-ups carry no words or confidence"),
    applied(
      JOB_SETTINGS,
      MAX_ALTERNATIVES_JOB,
      "each segment keeps up to N-1 runner-ups in TranscriptSegment.alternatives, each through the text chain; runtimes without an n-best (whisper.cpp, dtmf) give none; not searched; an edit of the text clears them",
    ),
  ),
  "arabicstt.v1.RecognitionConfig.profanity_filter": textField(test(TEXT_TEST, "masks profanity, keeping the first letter"), test(TEXT_TEST, "masks profanity, keeping the first letter"), "the keypad model cannot say a word: FormatText's test shows the same chain masking"),
  "arabicstt.v1.RecognitionConfig.denoise": perRpc({
    // The batch pipeline's filters (services/audio/filters.ts) in Recognize's ffmpeg pass, before recognition.
    [RECOGNIZE]: applied(
      RECOGNIZE_HANDLER,
      test(DENOISE_TEST, "recognises the keys under noise with DENOISE_MODE_SPECTRAL, from a WAV file and from raw μ-law"),
      "SPECTRAL: afftdn; NEURAL: RNNoise (arnndn) with RNNOISE_MODEL, refused naming the field without one (the test shows it)",
    ),
    // Live audio is refused by design, not for now: denoising would add latency.
    [STREAMING]: invalid("live recognition does not denoise (it would add latency); leave it unset or OFF", (v) => v === DenoiseMode.OFF),
    [CREATE_LIVE]: invalid("live recognition does not denoise (it would add latency); leave it unset or OFF", (v) => v === DenoiseMode.OFF),
    [CREATE_JOB]: applied(JOB_RUNNER, JOB_CONFIG, "NEURAL needs an RNNoise model configured (refused otherwise, which the test shows)"),
  }),
  "arabicstt.v1.RecognitionConfig.arabic_text_config": textField(LIVE_NUMERALS, JOB_NUMERALS),

  "arabicstt.v1.SpeakerDiarizationConfig.enable_speaker_diarization": perRpc({
    ...live(applied(CONVERT, LIVE_DIARIZATION)),
    [CREATE_JOB]: applied(
      JOB_SETTINGS,
      test(WORD_OPTIONS_TEST, "false: the transcript lists no speakers and its segments and words carry none, even with counts given"),
      "false (with diarization_config sent): no speakers, dropped at storage; without diarization_config the platform's default stands (a speaker per channel, one speaker for mono unless the speaker model is ready)",
    ),
  }),
  "arabicstt.v1.SpeakerDiarizationConfig.min_speaker_count": liveAndBatch(applied(CONVERT, LIVE_DIARIZATION_BOUNDS, "ignored with enable_speaker_diarization off, as the whole config is"), applied(JOB_SETTINGS, MONO_DIARIZATION, "diarize.test.ts covers the clustering's bounds")),
  "arabicstt.v1.SpeakerDiarizationConfig.max_speaker_count": liveAndBatch(applied(CONVERT, LIVE_DIARIZATION_BOUNDS, "ignored with enable_speaker_diarization off, as the whole config is"), applied(JOB_SETTINGS, MONO_DIARIZATION, "diarize.test.ts covers the clustering's bounds")),

  // Live: the engine's endpointing. Batch: where the pipeline may cut segments.
  "arabicstt.v1.EndpointingConfig.silence_duration": liveAndBatch(
    applied(CONVERT, UTTERANCE_END),
    applied(BATCH_SEGMENTATION, BATCH_SILENCE, "a pause this long or longer always ends a segment; a shorter one may, where the model ends one"),
  ),
  "arabicstt.v1.EndpointingConfig.max_utterance_duration": liveAndBatch(
    applied(CONVERT, MAX_UTTERANCE, "the engine test shows the limit; convert.ts maps the field to it"),
    applied(BATCH_SEGMENTATION, BATCH_MAX_UTTERANCE, "the pipeline's longest chunk, padding included"),
  ),
  "arabicstt.v1.EndpointingConfig.utterance_end_silence": liveAndBatch(applied(CONVERT, UTTERANCE_END), invalid(BATCH_NO_UTTERANCE_END)),
  "arabicstt.v1.EndpointingConfig.speech_threshold": liveAndBatch(
    applied(CONVERT, test(LIVE_PROOFS, "passes endpointing_config to the engine's settings")),
    applied(
      BATCH_SEGMENTATION,
      test(ENDPOINTING_TEST, "gives speech_threshold to the voice activity detector as its start threshold"),
      "the VAD's threshold for speech models; the keypad model's energy gate is on or off, so any threshold reads it alike",
    ),
  ),

  "arabicstt.v1.PhraseHints.phrases": hintsField(HINTS_LIVE, HINTS_JOB),
  "arabicstt.v1.PhraseHints.boost": hintsField(HINTS_LIMITS, HINTS_LIMITS, "the allowed edits of the boost: phrase-hints.test.ts"),
  "arabicstt.v1.Phrase.value": hintsField(HINTS_LIMITS, HINTS_LIMITS),
  "arabicstt.v1.Phrase.boost": hintsField(HINTS_BOOST, HINTS_ORDER, "orders the prompt and sets the boost's allowed edits; the unit tests show both"),
  // FormatText applies them; recognition refuses them until the chain is wired into transcripts.
  "arabicstt.v1.RedactionConfig.types": withFormatText(applied(TEXT_CHAIN, LIVE_REDACTION), applied(TEXT_OPTIONS, test(TEXT_TEST, "redacts each type over Western and Arabic-Indic digits and numbers spoken in words, and reports the spans"))),
  "arabicstt.v1.RedactionConfig.min_digit_count": withFormatText(applied(TEXT_CHAIN, test(TEXT_TEST, "redacts numbers spoken in words when verbatim too, and honours min_digit_count"), "the same options code as FormatText (services/arabic-text/options.ts)"), applied(TEXT_OPTIONS, test(TEXT_TEST, "redacts numbers spoken in words when verbatim too, and honours min_digit_count"))),
  "arabicstt.v1.ArabicTextConfig.numeral_style": withFormatText(applied(TEXT_CHAIN, LIVE_NUMERALS), applied(TEXT_OPTIONS, test(TEXT_TEST, "writes numbers of several dialects as digits, Western by default and Arabic-Indic when asked, over gRPC and Connect"))),
  "arabicstt.v1.ArabicTextConfig.remove_diacritics": withFormatText(applied(TEXT_CHAIN, test(TEXT_TEST, "keeps the words when verbatim, and removes diacritics and tatweel when asked"), "the same options code as FormatText"), applied(TEXT_OPTIONS, test(TEXT_TEST, "keeps the words when verbatim, and removes diacritics and tatweel when asked"))),

  // TextService.FormatText
  "arabicstt.v1.FormatTextRequest.text": applied(TEXT_HANDLER, test(TEXT_TEST, "writes numbers of several dialects as digits, Western by default and Arabic-Indic when asked, over gRPC and Connect")),
  "arabicstt.v1.FormatTextRequest.language_code": applied(TEXT_HANDLER, test(TEXT_TEST, "answers INVALID_ARGUMENT naming the field for empty or oversized text, unknown redaction types and counts out of range"), "checked like RecognitionConfig.language_code; the chain has one set of rules for every Arabic tag"),
  "arabicstt.v1.FormatTextRequest.verbatim": applied(TEXT_OPTIONS, test(TEXT_TEST, "keeps the words when verbatim, and removes diacritics and tatweel when asked")),
  "arabicstt.v1.FormatTextRequest.arabic_text_config": applied(TEXT_OPTIONS, test(TEXT_TEST, "keeps the words when verbatim, and removes diacritics and tatweel when asked")),
  "arabicstt.v1.FormatTextRequest.redaction_config": applied(TEXT_OPTIONS, test(TEXT_TEST, "redacts each type over Western and Arabic-Indic digits and numbers spoken in words, and reports the spans")),
  "arabicstt.v1.FormatTextRequest.profanity_filter": applied(TEXT_OPTIONS, test(TEXT_TEST, "masks profanity, keeping the first letter")),

  // SpeechService.StreamingRecognize and the live-session RPCs
  "arabicstt.v1.StreamingRecognizeRequest.streaming_config": applied(STREAM_HANDLER, CONNECT_STREAM),
  "arabicstt.v1.StreamingRecognizeRequest.audio_content": applied(PUMP, CONNECT_STREAM),
  "arabicstt.v1.StreamingRecognizeRequest.control": applied(PUMP, CONNECT_STREAM),
  "arabicstt.v1.StreamingRecognitionConfig.config": applied(LIVE_CONFIG, CONNECT_STREAM),
  "arabicstt.v1.StreamingRecognitionConfig.interim_results": applied(LIVE_CONFIG, STEREO_STREAM),
  "arabicstt.v1.StreamingRecognitionConfig.voice_activity_events": applied(LIVE_CONFIG, VAD_EVENTS),
  "arabicstt.v1.StreamingRecognitionConfig.single_utterance": applied(LIVE_CONFIG, SINGLE),
  "arabicstt.v1.StreamingRecognitionConfig.dtmf_events": applied(LIVE_CONFIG, DTMF),
  "arabicstt.v1.StreamingRecognitionConfig.resume": perRpc({
    [STREAMING]: applied(STREAM_HANDLER, RESUME),
    [CREATE_LIVE]: invalid("a live session is resumed by watching it again (WatchLiveSession with from_result_index); leave resume unset"),
  }),
  "arabicstt.v1.StreamingResume.session_id": perRpc({
    [STREAMING]: applied(STREAM_HANDLER, RESUME),
    [CREATE_LIVE]: invalid("a live session is resumed by watching it again (WatchLiveSession with from_result_index); leave resume unset"),
  }),
  "arabicstt.v1.StreamingResume.from_result_index": perRpc({
    [STREAMING]: applied(STREAM_HANDLER, RESUME),
    [CREATE_LIVE]: invalid("a live session is resumed by watching it again (WatchLiveSession with from_result_index); leave resume unset"),
  }),
  "arabicstt.v1.StreamingControl.type": applied(PUMP, KEEPALIVE),
  "arabicstt.v1.CreateLiveSessionRequest.streaming_config": applied(LIVE_SESSIONS, WATCHER),
  "arabicstt.v1.SendLiveAudioRequest.session_id": applied(LIVE_SESSIONS, WATCHER),
  "arabicstt.v1.SendLiveAudioRequest.sequence_number": applied(LIVE_SESSIONS, WATCHER),
  "arabicstt.v1.SendLiveAudioRequest.audio_content": applied(LIVE_SESSIONS, WATCHER),
  "arabicstt.v1.SendLiveAudioRequest.finalize": applied(LIVE_SESSIONS, noProofYet("bus.test.ts carries the flag through the bus; no RPC test sends finalize yet")),
  "arabicstt.v1.WatchLiveSessionRequest.session_id": applied(LIVE_SESSIONS, WATCHER),
  "arabicstt.v1.WatchLiveSessionRequest.from_result_index": applied(LIVE_SESSIONS, WATCHER),
  "arabicstt.v1.CloseLiveSessionRequest.session_id": applied(LIVE_SESSIONS, CLOSE_LIVE),
  "arabicstt.v1.ListModelsRequest.language_code": applied(CATALOG, MODELS),
  "arabicstt.v1.ListModelsRequest.page_size": applied(CATALOG, MODELS),
  "arabicstt.v1.ListModelsRequest.page_token": applied(CATALOG, MODELS),

  // AuthService
  "arabicstt.v1.RegisterRequest.email": applied(ACCOUNTS("register"), test(AUTH, "refuses a second account for an email, whatever its case")),
  "arabicstt.v1.RegisterRequest.password": applied(ACCOUNTS("register"), test(AUTH, "refuses weak passwords and malformed emails with INVALID_ARGUMENT and a helpful message")),
  "arabicstt.v1.RegisterRequest.display_name": applied(ACCOUNTS("register"), test(AUTH, "creates an organisation and its owner with Arabic names, and the tokens work over gRPC and Connect")),
  "arabicstt.v1.RegisterRequest.organization_name": applied(ACCOUNTS("register"), test(AUTH, "creates an organisation and its owner with Arabic names, and the tokens work over gRPC and Connect")),
  "arabicstt.v1.LoginRequest.email": applied(ACCOUNTS("login"), test(AUTH, "logs in with the right password only; unknown email and wrong password fail alike, and both are audited")),
  "arabicstt.v1.LoginRequest.password": applied(ACCOUNTS("login"), test(AUTH, "logs in with the right password only; unknown email and wrong password fail alike, and both are audited")),
  "arabicstt.v1.LoginRequest.organization_id": applied(ACCOUNTS("login"), ISOLATION),
  "arabicstt.v1.RefreshTokenRequest.refresh_token": applied(ACCOUNTS("refresh"), test(AUTH, "rotate on every use; presenting a spent one revokes the whole family")),
  "arabicstt.v1.RefreshTokenRequest.organization_id": applied(ACCOUNTS("refresh"), ISOLATION),
  "arabicstt.v1.LogoutRequest.refresh_token": applied(ACCOUNTS("logout"), test(AUTH, "revokes the refresh family and denies the access token until it expires")),
  "arabicstt.v1.LogoutRequest.all_sessions": applied(ACCOUNTS("logout"), test(AUTH, "with all_sessions ends every device's session, access tokens included")),
  "arabicstt.v1.VerifyEmailRequest.token": applied(EMAILS("verifyEmail"), test(MAIL, "sends a verification link at registration; the token verifies once")),
  "arabicstt.v1.ResendVerificationRequest.email": applied(EMAILS("resendVerification"), test(MAIL, "resends verification with a new token that replaces the old one")),
  "arabicstt.v1.RequestPasswordResetRequest.email": applied(EMAILS("requestPasswordReset"), test(MAIL, "answers a reset request the same for unknown addresses, and sends them nothing")),
  "arabicstt.v1.ResetPasswordRequest.token": applied(EMAILS("resetPassword"), test(MAIL, "resets a forgotten password by the emailed token, once, ending every session")),
  "arabicstt.v1.ResetPasswordRequest.new_password": applied(EMAILS("resetPassword"), test(MAIL, "resets a forgotten password by the emailed token, once, ending every session")),
  "arabicstt.v1.ChangePasswordRequest.current_password": applied(ACCOUNTS("changePassword"), test(AUTH, "needs the current password, then revokes other sessions and returns fresh tokens")),
  "arabicstt.v1.ChangePasswordRequest.new_password": applied(ACCOUNTS("changePassword"), test(AUTH, "needs the current password, then revokes other sessions and returns fresh tokens")),

  // OrganizationService
  "arabicstt.v1.UpdateOrganizationRequest.name": applied(ORGS("update"), test(ORGS_TEST, "changes only the fields sent, needs ADMIN, and is audited")),
  "arabicstt.v1.UpdateOrganizationRequest.default_language_code": applied(ORGS("update"), test(ORGS_TEST, "changes only the fields sent, needs ADMIN, and is audited")),
  "arabicstt.v1.UpdateOrganizationRequest.default_model": applied(ORGS("update"), test(ORGS_TEST, "changes only the fields sent, needs ADMIN, and is audited")),
  "arabicstt.v1.UpdateOrganizationRequest.retention_days": applied(ORGS("update"), test(MEDIA_TEST, "deletes items past the organisation's retention, and says when in expires_at"), "media only: transcripts and exports are kept (issue 17 item 2)"),
  "arabicstt.v1.ListMembersRequest.page_size": applied(ORGS("listMembers"), test(ORGS_TEST, "lists members oldest first, page by page")),
  "arabicstt.v1.ListMembersRequest.page_token": applied(ORGS("listMembers"), test(ORGS_TEST, "lists members oldest first, page by page")),
  "arabicstt.v1.InviteMemberRequest.email": applied("services/identity/orgs/invitations.ts#invite", test(MAIL, "invites a new address by mail; accepting creates a verified account and joins with the role")),
  "arabicstt.v1.InviteMemberRequest.role": applied("services/identity/orgs/invitations.ts#invite", test(MAIL, "needs OWNER to invite an owner, ADMIN to invite at all, and refuses current members")),
  "arabicstt.v1.AcceptInvitationRequest.token": applied(INVITES, test(MAIL, "invites a new address by mail; accepting creates a verified account and joins with the role")),
  "arabicstt.v1.AcceptInvitationRequest.display_name": applied(INVITES, test(MAIL, "invites a new address by mail; accepting creates a verified account and joins with the role")),
  "arabicstt.v1.AcceptInvitationRequest.password": applied(INVITES, test(MAIL, "lets an existing account accept only as itself: by access token or password")),
  "arabicstt.v1.UpdateMemberRoleRequest.user_id": applied(ORGS("updateMemberRole"), test(ORGS_TEST, "admins change roles below owner; the change applies to the member's current token at once")),
  "arabicstt.v1.UpdateMemberRoleRequest.role": applied(ORGS("updateMemberRole"), test(ORGS_TEST, "admins change roles below owner; the change applies to the member's current token at once")),
  "arabicstt.v1.RemoveMemberRequest.user_id": applied(ORGS("removeMember"), test(ORGS_TEST, "lets anyone leave, needs ADMIN to remove another, OWNER to remove an owner, and keeps the last owner")),

  // ApiKeyService
  "arabicstt.v1.CreateApiKeyRequest.name": applied(API_KEYS("create"), test(KEYS, "shows the secret once, with a recognisable prefix, and stores only its hash")),
  "arabicstt.v1.CreateApiKeyRequest.scopes": applied(API_KEYS("create"), test(KEYS, "refuses RPCs outside its scopes, and every identity service, with PERMISSION_DENIED")),
  "arabicstt.v1.CreateApiKeyRequest.expires_at": applied(API_KEYS("create"), test(KEYS, "stops working when it expires, and refuses forged secrets that share a real prefix")),
  "arabicstt.v1.ListApiKeysRequest.page_size": applied(API_KEYS("list"), test(KEYS, "pages through the list, newest first")),
  "arabicstt.v1.ListApiKeysRequest.page_token": applied(API_KEYS("list"), test(KEYS, "pages through the list, newest first")),
  "arabicstt.v1.ListApiKeysRequest.include_inactive": applied(API_KEYS("list"), test(KEYS, "stops working at once when revoked; revoking again returns it unchanged")),
  "arabicstt.v1.RevokeApiKeyRequest.api_key_id": applied(API_KEYS("revoke"), test(KEYS, "stops working at once when revoked; revoking again returns it unchanged")),

  // MediaService
  "arabicstt.v1.CreateUploadRequest.filename": applied(MEDIA, test(UPLOADS, "stores a sox WAV, checks it and probes it: READY with its audio properties")),
  "arabicstt.v1.CreateUploadRequest.content_type": applied(MEDIA, test(UPLOADS, "refuses a PUT with another Content-Type than the one signed")),
  "arabicstt.v1.CreateUploadRequest.size_bytes": applied(MEDIA, test(UPLOADS, "refuses a size that differs from CreateUpload's, and keeps the upload open")),
  "arabicstt.v1.CreateUploadRequest.labels": applied(MEDIA, test(UPLOADS, "stores a sox WAV, checks it and probes it: READY with its audio properties")),
  "arabicstt.v1.CompleteUploadRequest.media_id": applied(MEDIA, test(UPLOADS, "stores a sox WAV, checks it and probes it: READY with its audio properties")),
  "arabicstt.v1.CompleteUploadRequest.size_bytes": applied(MEDIA, test(UPLOADS, "refuses a size that differs from CreateUpload's, and keeps the upload open")),
  "arabicstt.v1.CompleteUploadRequest.sha256": applied(MEDIA, test(UPLOADS, "refuses a checksum that differs from the stored bytes', and says so again when asked again")),
  "arabicstt.v1.CompleteUploadRequest.parts": applied(MEDIA, test(UPLOADS, "cuts a large file into parts, takes them in parallel, and assembles them")),
  "arabicstt.v1.CompletedPart.part_number": applied(MEDIA, test(UPLOADS, "cuts a large file into parts, takes them in parallel, and assembles them")),
  "arabicstt.v1.CompletedPart.etag": applied(MEDIA, test(UPLOADS, "cuts a large file into parts, takes them in parallel, and assembles them")),
  "arabicstt.v1.UploadMediaRequest.metadata": applied(MEDIA, test(UPLOADS, "needs the metadata first, and only first")),
  "arabicstt.v1.UploadMediaRequest.chunk": applied(MEDIA, test(UPLOADS, "takes a WAV from a plain @grpc/grpc-js client, with size and checksum declared")),
  "arabicstt.v1.UploadMediaMetadata.filename": applied(MEDIA, test(UPLOADS, "takes a WAV from a plain @grpc/grpc-js client, with size and checksum declared")),
  "arabicstt.v1.UploadMediaMetadata.content_type": applied(MEDIA, test(UPLOADS, "takes an Opus file from Connect-ES with neither size nor checksum declared")),
  "arabicstt.v1.UploadMediaMetadata.size_bytes": applied(MEDIA, test(UPLOADS, "refuses bytes that disagree with the declared size or checksum")),
  "arabicstt.v1.UploadMediaMetadata.sha256": applied(MEDIA, test(UPLOADS, "refuses bytes that disagree with the declared size or checksum")),
  "arabicstt.v1.UploadMediaMetadata.labels": applied(MEDIA, noProofYet("no streamed upload test sends labels yet")),
  "arabicstt.v1.GetMediaRequest.media_id": applied(MEDIA, test(MEDIA_TEST, "answers NOT_FOUND for an id that does not exist")),
  "arabicstt.v1.ListMediaRequest.page_size": applied(MEDIA, test(MEDIA_TEST, "lists the organisation's items newest first, page by page, and by state")),
  "arabicstt.v1.ListMediaRequest.page_token": applied(MEDIA, test(MEDIA_TEST, "lists the organisation's items newest first, page by page, and by state")),
  "arabicstt.v1.ListMediaRequest.state": applied(MEDIA, test(MEDIA_TEST, "lists the organisation's items newest first, page by page, and by state")),
  "arabicstt.v1.DeleteMediaRequest.media_id": applied(MEDIA, test(MEDIA_TEST, "hides the item, removes its bytes, and is audited with who did it")),
  "arabicstt.v1.GetMediaDownloadUrlRequest.media_id": applied(MEDIA, test(MEDIA_TEST, "GET the original bytes under the file name, for the time asked; a tampered or expired URL is refused")),
  "arabicstt.v1.GetMediaDownloadUrlRequest.expires_in": applied(MEDIA, test(MEDIA_TEST, "GET the original bytes under the file name, for the time asked; a tampered or expired URL is refused")),

  // JobService
  "arabicstt.v1.CreateJobRequest.media_id": applied(JOBS, STEREO_JOB),
  "arabicstt.v1.CreateJobRequest.config": applied(JOBS, STEREO_JOB),
  "arabicstt.v1.CreateJobRequest.idempotency_key": applied(JOBS, test(JOBS_TEST, "returns the same job for the same key and request, and refuses the key for a different request")),
  "arabicstt.v1.CreateJobRequest.webhook_url": applied(JOBS, test("gateway/platform-jobs.test.ts", "runs a job to a transcript with no worker process")),
  "arabicstt.v1.CreateJobRequest.priority": applied(JOBS, STEREO_JOB),
  "arabicstt.v1.CreateJobRequest.reference_transcript": applied(JOBS, STEREO_JOB),
  "arabicstt.v1.CreateJobRequest.labels": applied(JOBS, STEREO_JOB),
  "arabicstt.v1.GetJobRequest.job_id": applied(JOBS, STEREO_JOB),
  "arabicstt.v1.ListJobsRequest.page_size": applied(JOBS, noProofYet("no test pages through ListJobs yet")),
  "arabicstt.v1.ListJobsRequest.page_token": applied(JOBS, noProofYet("no test pages through ListJobs yet")),
  "arabicstt.v1.ListJobsRequest.state": applied(JOBS, noProofYet("no test lists jobs by state yet")),
  "arabicstt.v1.ListJobsRequest.media_id": applied(JOBS, test("gateway/isolation.test.ts", "matches nothing of tenant A when the stranger filters a list by A's ids")),
  "arabicstt.v1.ListJobsRequest.created_after": applied(JOBS, NO_TIME_FILTER_TEST),
  "arabicstt.v1.ListJobsRequest.created_before": applied(JOBS, NO_TIME_FILTER_TEST),
  "arabicstt.v1.CancelJobRequest.job_id": applied(JOBS, test(JOBS_TEST, "cancels a queued job before any runner takes it")),
  "arabicstt.v1.RetryJobRequest.job_id": applied(JOBS, test(JOBS_TEST, "stops a running job promptly (its recognition call is aborted), leaves no transcript, and retry runs it again")),
  "arabicstt.v1.WatchJobRequest.job_id": applied(JOBS, STEREO_JOB),

  // TranscriptService
  "arabicstt.v1.GetTranscriptRequest.transcript_id": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "returns speakers, channels, totals and timed words over %s")),
  "arabicstt.v1.GetTranscriptRequest.page_size": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "pages through the segments in time order, with channel, speaker and seek filters")),
  "arabicstt.v1.GetTranscriptRequest.page_token": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "pages through the segments in time order, with channel, speaker and seek filters")),
  "arabicstt.v1.GetTranscriptRequest.include_words": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "returns speakers, channels, totals and timed words over %s")),
  "arabicstt.v1.GetTranscriptRequest.include_edit_history": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "keeps the recogniser's text and every earlier version, and refuses an edit of a stale copy")),
  "arabicstt.v1.GetTranscriptRequest.channel_tag": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "pages through the segments in time order, with channel, speaker and seek filters")),
  "arabicstt.v1.GetTranscriptRequest.speaker_label": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "pages through the segments in time order, with channel, speaker and seek filters")),
  "arabicstt.v1.GetTranscriptRequest.from_offset": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "pages through the segments in time order, with channel, speaker and seek filters")),
  "arabicstt.v1.ListTranscriptsRequest.page_size": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "lists the organisation's transcripts newest first, by media too")),
  "arabicstt.v1.ListTranscriptsRequest.page_token": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "lists the organisation's transcripts newest first, by media too")),
  "arabicstt.v1.ListTranscriptsRequest.media_id": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "lists the organisation's transcripts newest first, by media too")),
  "arabicstt.v1.ListTranscriptsRequest.created_after": applied(TRANSCRIPTS, NO_TIME_FILTER_TEST),
  "arabicstt.v1.ListTranscriptsRequest.created_before": applied(TRANSCRIPTS, NO_TIME_FILTER_TEST),
  "arabicstt.v1.UpdateSegmentRequest.transcript_id": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "keeps the recogniser's text and every earlier version, and refuses an edit of a stale copy")),
  "arabicstt.v1.UpdateSegmentRequest.segment_id": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "keeps the recogniser's text and every earlier version, and refuses an edit of a stale copy")),
  "arabicstt.v1.UpdateSegmentRequest.text": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "keeps the recogniser's text and every earlier version, and refuses an edit of a stale copy")),
  "arabicstt.v1.UpdateSegmentRequest.speaker_label": applied(TRANSCRIPTS, noProofYet("no test moves a segment to another speaker yet")),
  "arabicstt.v1.UpdateSegmentRequest.expected_revision": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "lets exactly one of two concurrent edits of the same revision through")),
  "arabicstt.v1.RenameSpeakerRequest.transcript_id": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "names a speaker, and clears the name again")),
  "arabicstt.v1.RenameSpeakerRequest.speaker_label": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "names a speaker, and clears the name again")),
  "arabicstt.v1.RenameSpeakerRequest.display_name": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "names a speaker, and clears the name again")),
  "arabicstt.v1.SearchTranscriptsRequest.query": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "takes web-search syntax: phrases and exclusions")),
  "arabicstt.v1.SearchTranscriptsRequest.page_size": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "ignores diacritics, tatweel and hamza forms in the query, and pages")),
  "arabicstt.v1.SearchTranscriptsRequest.page_token": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "ignores diacritics, tatweel and hamza forms in the query, and pages")),
  "arabicstt.v1.SearchTranscriptsRequest.language_code": applied(TRANSCRIPTS, noProofYet("no search test filters by language yet")),
  "arabicstt.v1.SearchTranscriptsRequest.created_after": applied(TRANSCRIPTS, NO_TIME_FILTER_TEST),
  "arabicstt.v1.SearchTranscriptsRequest.created_before": applied(TRANSCRIPTS, NO_TIME_FILTER_TEST),
  "arabicstt.v1.DeleteTranscriptRequest.transcript_id": applied(TRANSCRIPTS, test(TRANSCRIPTS_TEST, "hides the transcript from every read, and its job cannot write it again")),

  // ExportService
  "arabicstt.v1.CreateExportRequest.transcript_id": applied(EXPORTS, test(EXPORTS_TEST, "renders SubRip that parses back into the segments, timed, with speaker names")),
  "arabicstt.v1.CreateExportRequest.format": applied(EXPORTS, test(EXPORTS_TEST, "renders WebVTT, plain text, JSON and a DOCX (a zip with the document in it)")),
  "arabicstt.v1.CreateExportRequest.options": applied(EXPORT_OPTIONS, test(EXPORTS_TEST, "gives a fresh download URL on every GetExport, and echoes the options")),
  "arabicstt.v1.ExportOptions.include_speakers": applied(EXPORT_OPTIONS, test("services/exports/format/txt.test.ts", "leaves out times and speakers when asked")),
  "arabicstt.v1.ExportOptions.include_timestamps": applied(EXPORT_OPTIONS, test("services/exports/format/txt.test.ts", "leaves out times and speakers when asked")),
  "arabicstt.v1.ExportOptions.include_words": applied(EXPORT_OPTIONS, test("services/exports/format/json.test.ts", "writes words as null when they are left out, keeps empty segments, rounds times to the millisecond")),
  "arabicstt.v1.ExportOptions.max_line_length": applied(EXPORT_OPTIONS, test(EXPORTS_TEST, "refuses options out of range and an unspecified format, and writes nothing")),
  "arabicstt.v1.ExportOptions.max_lines_per_cue": applied(EXPORT_OPTIONS, test("services/exports/format/subtitle-cues.test.ts", "start a new cue when the words no longer fit in the cue's lines")),
  "arabicstt.v1.ExportOptions.max_cue_duration": applied(EXPORT_OPTIONS, test("services/exports/format/subtitle-cues.test.ts", "cut no cue longer than the maximum duration, and cut a single overlong word short at it")),
  "arabicstt.v1.ExportOptions.add_rtl_marks": applied(EXPORT_OPTIONS, test("services/exports/format/vtt.test.ts", "writes the header, cues with full-stop times, speakers as voices and right-to-left marks")),
  "arabicstt.v1.GetExportRequest.export_id": applied(EXPORTS, test(EXPORTS_TEST, "gives a fresh download URL on every GetExport, and echoes the options")),

  // UsageService
  "arabicstt.v1.GetUsageRequest.start_time": applied(USAGE, test(USAGE_TEST, "sums audio per day and kind, empty days included, aligned to the time zone asked for")),
  "arabicstt.v1.GetUsageRequest.end_time": applied(USAGE, test(USAGE_TEST, "sums audio per day and kind, empty days included, aligned to the time zone asked for")),
  "arabicstt.v1.GetUsageRequest.granularity": applied(USAGE, test(USAGE_TEST, "refuses an unknown time zone and a period too long for the granularity")),
  "arabicstt.v1.GetUsageRequest.time_zone": applied(USAGE, test(USAGE_TEST, "sums audio per day and kind, empty days included, aligned to the time zone asked for")),
  "arabicstt.v1.GetUsageRequest.api_key_id": applied(
    USAGE,
    test(USAGE_TEST, "by api_key_id also counts the jobs and live sessions created with that key"),
    "Recognize calls, jobs and live sessions (the CreateLiveSession trio) carry the key they were made with; StreamingRecognize streams do not record one yet",
  ),

  // WebhookService
  "arabicstt.v1.CreateWebhookRequest.url": applied(WEBHOOKS, test(HOOKS, "refuses URLs that are not https, and unknown event types")),
  "arabicstt.v1.CreateWebhookRequest.event_types": applied(WEBHOOKS, test(HOOKS, "POSTs the event, signed, to every endpoint subscribed to its type, and logs the attempt")),
  "arabicstt.v1.CreateWebhookRequest.description": applied(WEBHOOKS, test(HOOKS, "lists webhooks without secrets; deleting one stops its deliveries")),
  "arabicstt.v1.ListWebhooksRequest.page_size": applied(WEBHOOKS, noProofYet("no test pages through ListWebhooks yet")),
  "arabicstt.v1.ListWebhooksRequest.page_token": applied(WEBHOOKS, noProofYet("no test pages through ListWebhooks yet")),
  "arabicstt.v1.DeleteWebhookRequest.webhook_id": applied(WEBHOOKS, test(HOOKS, "lists webhooks without secrets; deleting one stops its deliveries")),
  "arabicstt.v1.RotateWebhookSecretRequest.webhook_id": applied(WEBHOOKS, test(HOOKS, "rotates the secret: both sign during the grace period, only the new one after a rotation without one")),
  "arabicstt.v1.RotateWebhookSecretRequest.previous_secret_valid_for": applied(WEBHOOKS, test(HOOKS, "rotates the secret: both sign during the grace period, only the new one after a rotation without one")),
  "arabicstt.v1.ListDeliveriesRequest.webhook_id": applied(WEBHOOKS, test("gateway/isolation.test.ts", "matches nothing of tenant A when the stranger filters a list by A's ids")),
  "arabicstt.v1.ListDeliveriesRequest.state": applied(WEBHOOKS, test(HOOKS, "gives up after the last attempt with the last error, and RedeliverDelivery sends it again")),
  "arabicstt.v1.ListDeliveriesRequest.page_size": applied(WEBHOOKS, test(HOOKS, "pages the delivery log, newest first")),
  "arabicstt.v1.ListDeliveriesRequest.page_token": applied(WEBHOOKS, test(HOOKS, "pages the delivery log, newest first")),
  "arabicstt.v1.RedeliverDeliveryRequest.delivery_id": applied(WEBHOOKS, test(HOOKS, "gives up after the last attempt with the last error, and RedeliverDelivery sends it again")),

  // BillingService
  "arabicstt.v1.ChangePlanRequest.plan": applied(
    "services/billing/billing.ts#changePlan",
    test("services/billing/billing.test.ts", "ChangePlan makes the Stripe customer and subscription, changes its prices, and cancels it on a plan without prices"),
  ),
  "arabicstt.v1.ListInvoicesRequest.page_size": applied("services/billing/billing.ts#invoices", test("services/billing/billing.test.ts", "lists one invoice per month computed from usage, newest first, a page at a time")),
  "arabicstt.v1.ListInvoicesRequest.page_token": applied("services/billing/billing.ts#invoices", test("services/billing/billing.test.ts", "lists one invoice per month computed from usage, newest first, a page at a time")),

  // AdminService
  "arabicstt.v1.ListOrganizationsRequest.page_size": applied(ORG_ADMIN, test(SUSPENSION, "lists organisations for operators, newest first, by name and state")),
  "arabicstt.v1.ListOrganizationsRequest.page_token": applied(ORG_ADMIN, test(SUSPENSION, "lists organisations for operators, newest first, by name and state")),
  "arabicstt.v1.ListOrganizationsRequest.query": applied(ORG_ADMIN, test(SUSPENSION, "lists organisations for operators, newest first, by name and state")),
  "arabicstt.v1.ListOrganizationsRequest.state": applied(ORG_ADMIN, test(SUSPENSION, "lists organisations for operators, newest first, by name and state")),
  "arabicstt.v1.SuspendOrganizationRequest.organization_id": applied(ORGS("suspend"), test(SUSPENSION, "refuses its keys and its writes at once, keeps reads, is audited, and can be lifted")),
  "arabicstt.v1.SuspendOrganizationRequest.reason": applied(ORGS("suspend"), test(SUSPENSION, "refuses its keys and its writes at once, keeps reads, is audited, and can be lifted")),
  "arabicstt.v1.SuspendOrganizationRequest.reinstate": applied(ORGS("suspend"), test(SUSPENSION, "refuses its keys and its writes at once, keeps reads, is audited, and can be lifted")),
  "arabicstt.v1.ListAuditEventsRequest.page_size": applied(AUDIT, test(AUDIT_TEST, "pages, and filters by action prefix, actor and outcome")),
  "arabicstt.v1.ListAuditEventsRequest.page_token": applied(AUDIT, test(AUDIT_TEST, "pages, and filters by action prefix, actor and outcome")),
  "arabicstt.v1.ListAuditEventsRequest.organization_id": applied(AUDIT, test(AUDIT_TEST, "shows platform admins every organisation's events")),
  "arabicstt.v1.ListAuditEventsRequest.actor_user_id": applied(AUDIT, test(AUDIT_TEST, "pages, and filters by action prefix, actor and outcome")),
  "arabicstt.v1.ListAuditEventsRequest.action_prefix": applied(AUDIT, test(AUDIT_TEST, "pages, and filters by action prefix, actor and outcome")),
  "arabicstt.v1.ListAuditEventsRequest.outcome": applied(AUDIT, test(AUDIT_TEST, "pages, and filters by action prefix, actor and outcome")),
  "arabicstt.v1.ListAuditEventsRequest.start_time": applied(AUDIT, NO_TIME_FILTER_TEST),
  "arabicstt.v1.ListAuditEventsRequest.end_time": applied(AUDIT, NO_TIME_FILTER_TEST),

  // PrivacyService
  "arabicstt.v1.GetDataExportRequest.data_export_id": applied("services/privacy/handler.ts#privacyHandler", test("services/privacy/privacy.test.ts", "exports an organisation's data as one ZIP archive at a download URL, with progress, that holds its transcript")),
  "arabicstt.v1.EraseOrganizationRequest.organization_id": applied("services/privacy/erasures.ts#eraseOrganization", test("services/privacy/privacy.test.ts", "erases an organisation: afterwards no RPC and no bucket shows anything of it, and the audit event left holds no personal data")),
  "arabicstt.v1.EraseUserRequest.user_id": applied("services/privacy/erasures.ts#eraseUser", test("services/privacy/privacy.test.ts", "erases a user: the account, its sessions and its audit trail, and keeps the organisation it shared")),
  "arabicstt.v1.GetErasureRequest.erasure_id": applied("services/privacy/erasures.ts#get", test("services/privacy/privacy.test.ts", "erases an organisation: afterwards no RPC and no bucket shows anything of it, and the audit event left holds no personal data")),
};
