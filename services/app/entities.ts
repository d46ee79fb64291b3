import { ApiKeySchema } from "../identity/api-keys/api-key.entity.js";
import { AuditEventSchema } from "../identity/audit/audit-event.entity.js";
import { OneTimeTokenSchema } from "../identity/auth/one-time-token.entity.js";
import { RefreshTokenSchema } from "../identity/auth/refresh-token.entity.js";
import { UserSchema } from "../identity/auth/user.entity.js";
import { ExportSchema } from "../exports/export.entity.js";
import { JobSchema } from "../jobs/job.entity.js";
import { LiveSessionSchema } from "../speech/live-session.entity.js";
import { MediaSchema } from "../media/media.entity.js";
import { InvitationSchema } from "../identity/orgs/invitation.entity.js";
import { MembershipSchema } from "../identity/orgs/membership.entity.js";
import { OrganizationSchema } from "../identity/orgs/organization.entity.js";
import { SegmentSchema } from "../transcripts/segment.entity.js";
import { SpeakerSchema } from "../transcripts/speaker.entity.js";
import { TranscriptSchema } from "../transcripts/transcript.entity.js";
import { UsageRecordSchema } from "../usage/usage-record.entity.js";
import { WebhookDeliverySchema } from "../webhooks/webhook-delivery.entity.js";
import { WebhookEndpointSchema } from "../webhooks/webhook-endpoint.entity.js";
import { BaseEntitySchema } from "../platform/database/base.entity.js";

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
];
