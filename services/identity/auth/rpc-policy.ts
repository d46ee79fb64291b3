// Who may call what: ONE table with an entry for every RPC of the public API. The gateway's auth
// interceptor enforces it before any handler runs, and rpc-policy.test.ts walks the proto descriptors
// so an RPC added to a contract without an entry here fails the build. An RPC missing from the table
// is refused at run time too (fail closed).
import type { Role } from "../model/membership.entity.js";
import type { ApiKeyScope } from "../model/principal.js";

export type RpcRule =
  /** No credential needed (the request itself carries one, or the RPC creates it). */
  | { access: "public" }
  /**
   * Organisation members with one of `roles`, and API keys holding `scope` (none: keys refused).
   * `read` RPCs stay open to a suspended organisation's users; everything else is refused for it.
   */
  | { access: "member"; roles: readonly Role[]; scope?: ApiKeyScope; read: boolean; platformAdmins?: boolean }
  /** Any logged-in user, whatever the role; never an API key. */
  | { access: "user" }
  /** Users with the platform_admin flag; organisation roles and API keys never. */
  | { access: "platform_admin" };

const ALL: readonly Role[] = ["owner", "admin", "member", "viewer"];
const WRITERS: readonly Role[] = ["owner", "admin", "member"];
const ADMINS: readonly Role[] = ["owner", "admin"];

const publicRpc: RpcRule = { access: "public" };
const anyUser: RpcRule = { access: "user" };
const platformAdmin: RpcRule = { access: "platform_admin" };
const read = (scope?: ApiKeyScope, roles = ALL): RpcRule => ({ access: "member", roles, scope, read: true });
const write = (scope?: ApiKeyScope, roles = WRITERS): RpcRule => ({ access: "member", roles, scope, read: false });

/** Keyed by "<package.Service>/<Method>", as the interceptor sees each call. */
export const rpcPolicy: Readonly<Record<string, RpcRule>> = {
  "arabicstt.v1.SpeechService/Recognize": write("speech"),
  "arabicstt.v1.SpeechService/StreamingRecognize": write("speech"),
  "arabicstt.v1.SpeechService/CreateLiveSession": write("speech"),
  "arabicstt.v1.SpeechService/SendLiveAudio": write("speech"),
  "arabicstt.v1.SpeechService/WatchLiveSession": read("speech"),
  "arabicstt.v1.SpeechService/CloseLiveSession": write("speech"),
  "arabicstt.v1.SpeechService/ListModels": read("speech"),

  // The text chain of Recognize on its own, so the same callers as Recognize.
  "arabicstt.v1.TextService/FormatText": write("speech"),

  "arabicstt.v1.AuthService/Register": publicRpc,
  "arabicstt.v1.AuthService/Login": publicRpc,
  "arabicstt.v1.AuthService/RefreshToken": publicRpc,
  "arabicstt.v1.AuthService/Logout": anyUser,
  "arabicstt.v1.AuthService/VerifyEmail": publicRpc,
  "arabicstt.v1.AuthService/ResendVerification": publicRpc,
  "arabicstt.v1.AuthService/RequestPasswordReset": publicRpc,
  "arabicstt.v1.AuthService/ResetPassword": publicRpc,
  "arabicstt.v1.AuthService/ChangePassword": anyUser,
  "arabicstt.v1.AuthService/GetCurrentUser": anyUser,

  "arabicstt.v1.OrganizationService/GetOrganization": read(),
  "arabicstt.v1.OrganizationService/UpdateOrganization": write(undefined, ADMINS),
  "arabicstt.v1.OrganizationService/ListMembers": read(),
  "arabicstt.v1.OrganizationService/InviteMember": write(undefined, ADMINS),
  "arabicstt.v1.OrganizationService/AcceptInvitation": publicRpc,
  "arabicstt.v1.OrganizationService/UpdateMemberRole": write(undefined, ADMINS),
  // Any member may remove themselves; removing someone else needs ADMIN (checked in services/orgs).
  "arabicstt.v1.OrganizationService/RemoveMember": write(undefined, ALL),

  "arabicstt.v1.ApiKeyService/CreateApiKey": write(undefined, ADMINS),
  "arabicstt.v1.ApiKeyService/ListApiKeys": read(undefined, ADMINS),
  "arabicstt.v1.ApiKeyService/RevokeApiKey": write(undefined, ADMINS),

  "arabicstt.v1.MediaService/CreateUpload": write("media:write"),
  "arabicstt.v1.MediaService/CompleteUpload": write("media:write"),
  "arabicstt.v1.MediaService/UploadMedia": write("media:write"),
  "arabicstt.v1.MediaService/GetMedia": read("media:read"),
  "arabicstt.v1.MediaService/ListMedia": read("media:read"),
  "arabicstt.v1.MediaService/DeleteMedia": write("media:write"),
  "arabicstt.v1.MediaService/GetMediaDownloadUrl": read("media:read"),

  "arabicstt.v1.JobService/CreateJob": write("jobs:write"),
  "arabicstt.v1.JobService/GetJob": read("jobs:read"),
  "arabicstt.v1.JobService/ListJobs": read("jobs:read"),
  "arabicstt.v1.JobService/CancelJob": write("jobs:write"),
  "arabicstt.v1.JobService/RetryJob": write("jobs:write"),
  "arabicstt.v1.JobService/WatchJob": read("jobs:read"),

  "arabicstt.v1.TranscriptService/GetTranscript": read("transcripts:read"),
  "arabicstt.v1.TranscriptService/ListTranscripts": read("transcripts:read"),
  "arabicstt.v1.TranscriptService/UpdateSegment": write("transcripts:write"),
  "arabicstt.v1.TranscriptService/RenameSpeaker": write("transcripts:write"),
  "arabicstt.v1.TranscriptService/SearchTranscripts": read("transcripts:read"),
  "arabicstt.v1.TranscriptService/DeleteTranscript": write("transcripts:write"),

  // Exports only read transcripts, so viewers may make them.
  "arabicstt.v1.ExportService/CreateExport": read("transcripts:read"),
  "arabicstt.v1.ExportService/GetExport": read("transcripts:read"),

  "arabicstt.v1.UsageService/GetUsage": read("usage:read"),
  "arabicstt.v1.UsageService/GetQuota": read("usage:read"),

  "arabicstt.v1.WebhookService/CreateWebhook": write("webhooks", ADMINS),
  "arabicstt.v1.WebhookService/ListWebhooks": read("webhooks", ADMINS),
  "arabicstt.v1.WebhookService/DeleteWebhook": write("webhooks", ADMINS),
  "arabicstt.v1.WebhookService/RotateWebhookSecret": write("webhooks", ADMINS),
  "arabicstt.v1.WebhookService/ListDeliveries": read("webhooks", ADMINS),
  "arabicstt.v1.WebhookService/RedeliverDelivery": write("webhooks", ADMINS),

  // Billing is the organisation's admins' business; only its owners change the plan (and so what it pays).
  "arabicstt.v1.BillingService/GetBillingAccount": read(undefined, ADMINS),
  "arabicstt.v1.BillingService/ListPlans": read(undefined, ADMINS),
  "arabicstt.v1.BillingService/ChangePlan": write(undefined, ["owner"]),
  "arabicstt.v1.BillingService/ListInvoices": read(undefined, ADMINS),

  "arabicstt.v1.AdminService/ListOrganizations": platformAdmin,
  "arabicstt.v1.AdminService/SuspendOrganization": platformAdmin,
  "arabicstt.v1.AdminService/GetSystemStats": platformAdmin,
  // Platform admins see every organisation's events; organisation admins their own (services/audit).
  "arabicstt.v1.AdminService/ListAuditEvents": { access: "member", roles: ADMINS, read: true, platformAdmins: true },

  // A data export is a read (a suspended organisation's owner may take its data away); owners only.
  "arabicstt.v1.PrivacyService/CreateDataExport": read(undefined, ["owner"]),
  "arabicstt.v1.PrivacyService/GetDataExport": read(undefined, ["owner"]),
  // The subject decides (services/privacy/erasures.ts): its organisation's owner, the user themself, or a platform admin.
  "arabicstt.v1.PrivacyService/EraseOrganization": anyUser,
  "arabicstt.v1.PrivacyService/EraseUser": anyUser,
  "arabicstt.v1.PrivacyService/GetErasure": anyUser,
};
