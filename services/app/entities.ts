import { ApiKeySchema } from "../identity/model/api-key.entity.js";
import { AuditEventSchema } from "../identity/model/audit-event.entity.js";
import { OneTimeTokenSchema } from "../identity/model/one-time-token.entity.js";
import { RefreshTokenSchema } from "../identity/model/refresh-token.entity.js";
import { UserSchema } from "../identity/model/user.entity.js";
import { ExportSchema } from "../exports/export.entity.js";
import { JobSchema } from "../jobs/job.entity.js";
import { LiveSessionSchema } from "../speech/live-session.entity.js";
import { MediaSchema } from "../media/media.entity.js";
import { InvitationSchema } from "../identity/model/invitation.entity.js";
import { MembershipSchema } from "../identity/model/membership.entity.js";
import { OrganizationSchema } from "../identity/model/organization.entity.js";
import { SegmentSchema } from "../transcripts/segment.entity.js";
import { SpeakerSchema } from "../transcripts/speaker.entity.js";
import { TranscriptSchema } from "../transcripts/transcript.entity.js";
import { UsageRecordSchema } from "../usage/usage-record.entity.js";
import { WebhookDeliverySchema } from "../webhooks/webhook-delivery.entity.js";
import { WebhookEndpointSchema } from "../webhooks/webhook-endpoint.entity.js";
import { BaseEntitySchema } from "../platform/database/base.entity.js";
import { BillingAccountSchema } from "../billing/billing-account.entity.js";
import { StripeEventSchema } from "../billing/stripe-event.entity.js";
import { ReportedUsageSchema, UsageReportSchema } from "../billing/usage-report.entity.js";
import { DataExportSchema } from "../privacy/data-export.entity.js";
import { ErasureSchema } from "../privacy/erasure.entity.js";

/**
 * Every mapped entity, listed by hand: discovery by folder glob would depend on how the process was started
 * (tsx, vitest, compiled JS), a list does not. A new `*.entity.ts` is added here and gets a migration.
 */
export const entities = [
  BaseEntitySchema,
  OrganizationSchema,
  UserSchema,
  MembershipSchema,
  InvitationSchema,
  ApiKeySchema,
  RefreshTokenSchema,
  OneTimeTokenSchema,
  MediaSchema,
  JobSchema,
  LiveSessionSchema,
  TranscriptSchema,
  SegmentSchema,
  SpeakerSchema,
  ExportSchema,
  UsageRecordSchema,
  WebhookEndpointSchema,
  WebhookDeliverySchema,
  AuditEventSchema,
  BillingAccountSchema,
  StripeEventSchema,
  UsageReportSchema,
  ReportedUsageSchema,
  DataExportSchema,
  ErasureSchema,
];
