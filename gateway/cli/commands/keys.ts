// `arabicstt keys create|list|revoke`: API keys for programs (ApiKeyService). The secret of a new key is
// printed once, alone on stdout, so `KEY=$(arabicstt keys create --name ci --scope speech)` captures it.
import { create, toJson } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ApiKeyScope,
  ApiKeyService,
  ApiKeyState,
  CreateApiKeyResponseSchema,
  ListApiKeysResponseSchema,
  RevokeApiKeyResponseSchema,
  type ApiKey,
} from "../../../proto/gen/arabicstt/v1/api_key_pb.js";
import { listOption, stringOption, type Command } from "../command.js";
import { UsageError } from "../errors.js";
import { note, printTable } from "../io.js";

const MAX_PAGES = 50;

/** The scopes by the names users type: `speech`, `jobs_write` or `jobs:write`. */
const SCOPES = Object.entries(ApiKeyScope)
  .filter(([name, value]) => typeof value === "number" && value !== ApiKeyScope.UNSPECIFIED)
  .map(([name, value]) => [name.toLowerCase(), value as ApiKeyScope] as const);

function scopeName(scope: ApiKeyScope): string {
  return (ApiKeyScope[scope] ?? "UNSPECIFIED").toLowerCase();
}

export const keys: Command = {
  name: "keys",
  summary: "create, list and revoke API keys",
  usage: "arabicstt keys create --name NAME --scope SCOPE[,SCOPE…] [--expires-in-days N] | keys list [--all] | keys revoke ID",
  help: `Manages the organisation's API keys (owners and admins, logged in with a password: API keys cannot
manage keys).

  keys create   makes a key and prints its secret, once, alone on stdout
  keys list     the active keys (--all: revoked and expired ones too)
  keys revoke   revokes a key by its id

Scopes: ${SCOPES.map(([name]) => name).join(", ")}.

Options:
  --name NAME            create: a name to recognise the key by
  --scope SCOPE          create: what the key may do; repeat or separate with commas
  --expires-in-days N    create: the key stops working after N days (default: never)
  --all                  list: include revoked and expired keys`,
  options: {
    name: { type: "string" },
    scope: { type: "string", multiple: true },
    "expires-in-days": { type: "string" },
    all: { type: "boolean" },
  },
  async run(ctx, values, positionals) {
    const apiKeys = ctx.connection.client(ApiKeyService);
    const [action, ...rest] = positionals;
    if (action === "create") {
      const name = stringOption(values, "name");
      if (!name) throw new UsageError("keys create needs --name", "keys");
      const scopes = listOption(values, "scope").map((typed) => {
        const found = SCOPES.find(([scope]) => scope === typed.toLowerCase().replace(/[:.-]/g, "_"));
        if (!found) throw new UsageError(`unknown scope ${JSON.stringify(typed)}; use ${SCOPES.map(([s]) => s).join(", ")}`, "keys");
        return found[1];
      });
      if (scopes.length === 0) throw new UsageError("keys create needs at least one --scope", "keys");
      const days = stringOption(values, "expires-in-days");
      if (days !== undefined && !/^[1-9]\d{0,4}$/.test(days)) throw new UsageError("--expires-in-days takes a whole number of days from 1", "keys");
      const res = await apiKeys.createApiKey({
        name,
        scopes,
        expiresAt: days ? timestampFromDate(new Date(Date.now() + Number(days) * 86_400_000)) : undefined,
      });
      if (ctx.json) {
        ctx.io.stdout.write(`${JSON.stringify(toJson(CreateApiKeyResponseSchema, res))}\n`);
        return;
      }
      note(ctx.io, `created API key ${res.apiKey?.apiKeyId} (${name}); its secret is shown this once:`);
      ctx.io.stdout.write(`${res.secret}\n`);
      return;
    }
    if (action === "list") {
      const all: ApiKey[] = [];
      let pageToken = "";
      for (let page = 0; page < MAX_PAGES; page++) {
        const res = await apiKeys.listApiKeys({ pageSize: 200, pageToken, includeInactive: values.all === true });
        all.push(...res.apiKeys);
        pageToken = res.nextPageToken;
        if (!pageToken) break;
      }
      if (ctx.json) {
        ctx.io.stdout.write(`${JSON.stringify(toJson(ListApiKeysResponseSchema, create(ListApiKeysResponseSchema, { apiKeys: all })))}\n`);
        return;
      }
      printTable(
        ctx.io,
        ["ID", "PREFIX", "STATE", "SCOPES", "LAST USED", "NAME"],
        all.map((k) => [
          k.apiKeyId,
          k.prefix,
          (ApiKeyState[k.state] ?? "UNSPECIFIED").toLowerCase(),
          k.scopes.map(scopeName).join(","),
          k.lastUsedAt ? timestampDate(k.lastUsedAt).toISOString() : "-",
          k.name,
        ]),
      );
      return;
    }
    if (action === "revoke") {
      const [id] = rest;
      if (!id || rest.length > 1) throw new UsageError("keys revoke takes one key id", "keys");
      const res = await apiKeys.revokeApiKey({ apiKeyId: id });
      if (ctx.json) ctx.io.stdout.write(`${JSON.stringify(toJson(RevokeApiKeyResponseSchema, res))}\n`);
      else note(ctx.io, `revoked API key ${id} (${res.apiKey?.name ?? ""})`);
      return;
    }
    throw new UsageError(action ? `unknown keys action ${JSON.stringify(action)}` : "keys needs an action: create, list or revoke", "keys");
  },
};
