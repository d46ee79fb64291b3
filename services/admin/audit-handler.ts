// AdminService.ListAuditEvents over the wire. The other AdminService RPCs belong to the admin
// capability and answer UNIMPLEMENTED until it is built.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  AuditActorType,
  AuditEventSchema,
  AuditOutcome as OutcomeMessage,
  type AdminService,
  type AuditEvent as AuditEventMessage,
} from "../../proto/gen/arabicstt/v1/admin_pb.js";
import { principalOf } from "../identity/model/context.js";
import type { AuditEvent } from "../identity/model/audit-event.entity.js";
import type { AuditLog, AuditOutcome } from "../identity/audit/audit-log.js";

const outcomeToProto: Record<AuditOutcome, OutcomeMessage> = {
  success: OutcomeMessage.SUCCESS,
  failure: OutcomeMessage.FAILURE,
  denied: OutcomeMessage.DENIED,
};

function fromOutcome(outcome: OutcomeMessage): AuditOutcome | undefined {
  return (Object.keys(outcomeToProto) as AuditOutcome[]).find((o) => outcomeToProto[o] === outcome);
}

export function toAuditEvent(event: AuditEvent): AuditEventMessage {
  const metadata = event.metadata as { outcome?: AuditOutcome; request_id?: string; actor_email?: string; actor?: "system"; details?: Record<string, string> };
  const type =
    metadata.actor === "system" ? AuditActorType.SYSTEM : event.actorApiKey ? AuditActorType.API_KEY : event.actorUser ? AuditActorType.USER : AuditActorType.ANONYMOUS;
  return create(AuditEventSchema, {
    auditEventId: event.id,
    organizationId: event.organization?.id ?? "",
    actor: { type, userId: event.actorUser?.id ?? "", email: metadata.actor_email ?? "", apiKeyId: event.actorApiKey?.id ?? "" },
    action: event.action,
    resourceType: event.targetType ?? "",
    resourceId: event.targetId ?? "",
    outcome: metadata.outcome ? outcomeToProto[metadata.outcome] : OutcomeMessage.UNSPECIFIED,
    ipAddress: event.ip ?? "",
    userAgent: event.userAgent ?? "",
    requestId: metadata.request_id ?? "",
    details: metadata.details ?? {},
    occurredAt: timestampFromDate(event.createdAt),
  });
}

export function auditHandler(audit: AuditLog): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async listAuditEvents(req, ctx) {
      const page = await audit.list(principalOf(ctx.values), {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        organizationId: req.organizationId || undefined,
        actorUserId: req.actorUserId || undefined,
        actionPrefix: req.actionPrefix || undefined,
        outcome: fromOutcome(req.outcome),
        startTime: req.startTime ? timestampDate(req.startTime) : undefined,
        endTime: req.endTime ? timestampDate(req.endTime) : undefined,
      });
      return { events: page.items.map(toAuditEvent), nextPageToken: page.nextPageToken };
    },
  };
}
