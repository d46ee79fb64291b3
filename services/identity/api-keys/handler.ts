// ApiKeyService over the wire.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  ApiKeySchema,
  ApiKeyScope as ScopeMessage,
  ApiKeyState as StateMessage,
  type ApiKey as ApiKeyMessage,
  type ApiKeyService,
} from "../../../proto/gen/arabicstt/v1/api_key_pb.js";
import { InvalidArgumentError } from "../../platform/errors/errors.js";
import { callerOf, userOf } from "../model/context.js";
import type { ApiKeyScope } from "../model/principal.js";
import type { ApiKey } from "../model/api-key.entity.js";
import { apiKeyState, type ApiKeys } from "./api-keys.js";

const scopeToProto: Record<ApiKeyScope, ScopeMessage> = {
  speech: ScopeMessage.SPEECH,
  "media:read": ScopeMessage.MEDIA_READ,
  "media:write": ScopeMessage.MEDIA_WRITE,
  "jobs:read": ScopeMessage.JOBS_READ,
  "jobs:write": ScopeMessage.JOBS_WRITE,
  "transcripts:read": ScopeMessage.TRANSCRIPTS_READ,
  "transcripts:write": ScopeMessage.TRANSCRIPTS_WRITE,
  "usage:read": ScopeMessage.USAGE_READ,
  webhooks: ScopeMessage.WEBHOOKS,
};

function fromScope(scope: ScopeMessage): ApiKeyScope {
  const found = (Object.keys(scopeToProto) as ApiKeyScope[]).find((s) => scopeToProto[s] === scope);
  if (!found) throw new InvalidArgumentError("scopes", "holds a scope this server does not know");
  return found;
}

const stateToProto = { active: StateMessage.ACTIVE, revoked: StateMessage.REVOKED, expired: StateMessage.EXPIRED } as const;

export function toApiKey(key: ApiKey): ApiKeyMessage {
  return create(ApiKeySchema, {
    apiKeyId: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes.map((s) => scopeToProto[s as ApiKeyScope]).filter((s) => s !== undefined),
    state: stateToProto[apiKeyState(key)],
    createdByUserId: key.createdBy?.id ?? "",
    createdAt: timestampFromDate(key.createdAt),
    lastUsedAt: key.lastUsedAt ? timestampFromDate(key.lastUsedAt) : undefined,
    expiresAt: key.expiresAt ? timestampFromDate(key.expiresAt) : undefined,
    revokedAt: key.revokedAt ? timestampFromDate(key.revokedAt) : undefined,
  });
}

export function apiKeyHandler(apiKeys: ApiKeys): Partial<ServiceImpl<typeof ApiKeyService>> {
  return {
    async createApiKey(req, ctx) {
      const { key, secret } = await apiKeys.create(
        userOf(ctx.values),
        { name: req.name, scopes: req.scopes.map(fromScope), expiresAt: req.expiresAt ? timestampDate(req.expiresAt) : undefined },
        callerOf(ctx.values),
      );
      return { apiKey: toApiKey(key), secret };
    },
    async listApiKeys(req, ctx) {
      const page = await apiKeys.list(userOf(ctx.values), req);
      return { apiKeys: page.items.map(toApiKey), nextPageToken: page.nextPageToken };
    },
    async revokeApiKey(req, ctx) {
      return { apiKey: toApiKey(await apiKeys.revoke(userOf(ctx.values), req.apiKeyId, callerOf(ctx.values))) };
    },
  };
}
