// The services of the public API, and the handlers a capability passes in for them. The composition
// root collects these; the gateway mounts them (gateway/routes.ts).
import type { ServiceImpl } from "@connectrpc/connect";
import { AdminService } from "../../proto/gen/arabicstt/v1/admin_pb.js";
import { ApiKeyService } from "../../proto/gen/arabicstt/v1/api_key_pb.js";
import { AuthService } from "../../proto/gen/arabicstt/v1/auth_pb.js";
import { BillingService } from "../../proto/gen/arabicstt/v1/billing_pb.js";
import { ExportService } from "../../proto/gen/arabicstt/v1/export_pb.js";
import { JobService } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { MediaService } from "../../proto/gen/arabicstt/v1/media_pb.js";
import { OrganizationService } from "../../proto/gen/arabicstt/v1/organization_pb.js";
import { PrivacyService } from "../../proto/gen/arabicstt/v1/privacy_pb.js";
import { SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { TextService } from "../../proto/gen/arabicstt/v1/text_pb.js";
import { TranscriptService } from "../../proto/gen/arabicstt/v1/transcript_pb.js";
import { UsageService } from "../../proto/gen/arabicstt/v1/usage_pb.js";
import { WebhookService } from "../../proto/gen/arabicstt/v1/webhook_pb.js";

export const productServices = [
  SpeechService,
  TextService,
  AuthService,
  OrganizationService,
  ApiKeyService,
  MediaService,
  JobService,
  TranscriptService,
  ExportService,
  UsageService,
  WebhookService,
  AdminService,
  BillingService,
  PrivacyService,
] as const;

export const productServiceNames = productServices.map((s) => s.typeName);

type ProductService = (typeof productServices)[number];

/** Handlers by service; each may implement any subset of its RPCs. */
export type ProductHandlers = {
  [S in ProductService as S["typeName"]]?: Partial<ServiceImpl<S>>;
};

