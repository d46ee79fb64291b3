import { ApiKeySchema } from "../api-keys/api-key.entity.js";
import { AuditEventSchema } from "../audit/audit-event.entity.js";
import { OneTimeTokenSchema } from "../auth/one-time-token.entity.js";
import { RefreshTokenSchema } from "../auth/refresh-token.entity.js";
import { UserSchema } from "../auth/user.entity.js";
import { ExportSchema } from "../exports/export.entity.js";
import { JobSchema } from "../jobs/job.entity.js";
import { LiveSessionSchema } from "../live-sessions/live-session.entity.js";
import { MediaSchema } from "../media/media.entity.js";
import { InvitationSchema } from "../orgs/invitation.entity.js";
import { MembershipSchema } from "../orgs/membership.entity.js";
import { OrganizationSchema } from "../orgs/organization.entity.js";
import { SegmentSchema } from "../transcripts/segment.entity.js";
import { SpeakerSchema } from "../transcripts/speaker.entity.js";
import { TranscriptSchema } from "../transcripts/transcript.entity.js";
import { UsageRecordSchema } from "../usage/usage-record.entity.js";
import { WebhookDeliverySchema } from "../webhooks/webhook-delivery.entity.js";
import { WebhookEndpointSchema } from "../webhooks/webhook-endpoint.entity.js";
import { BaseEntitySchema } from "./base.entity.js";

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
