// Writes a ghz configuration that authenticates: logs in to a running platform (or registers a throwaway
// account), mints an API key with the speech scope, and writes deploy/ghz/streaming-recognize.json with
// `metadata.authorization: Bearer <key>` to an ignored file, so `ghz --config` measures recognition rather
// than the auth error path.
//
//   npx tsx deploy/ghz/login.ts                                   # registers a throwaway account on 127.0.0.1:50051
//   npx tsx deploy/ghz/login.ts --email me@example.com --password '...' [--organization UUID]
//   npx tsx deploy/ghz/login.ts --host gateway.example.com:50051 --tls --out /tmp/ghz.json
//   ghz --config deploy/ghz/streaming-recognize.auth.json
//
// The key is printed once (its id, not the secret) and can be revoked with ApiKeyService.RevokeApiKey.
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AuthService } from "../../proto/gen/arabicstt/v1/auth_pb.js";
import { ApiKeyScope, ApiKeyService } from "../../proto/gen/arabicstt/v1/api_key_pb.js";

export const baseConfigFile = fileURLToPath(new URL("./streaming-recognize.json", import.meta.url));
export const defaultOutFile = fileURLToPath(new URL("./streaming-recognize.auth.json", import.meta.url));

export interface GhzLoginOptions {
  /** The gateway's gRPC listener, host:port (ghz's `host`). */
  host: string;
  /** TLS to the gateway (ghz's `insecure: false`). */
  tls?: boolean;
  /** Log in as this user; a throwaway account is registered when left out. */
  email?: string;
  password?: string;
  organizationId?: string;
  /** Where the configuration goes. */
  out?: string;
}

export interface GhzLogin {
  /** The configuration written: the shipped one with `host`, `insecure` and `metadata.authorization`. */
  config: Record<string, unknown>;
  out: string;
  apiKeyId: string;
  email: string;
}

export async function writeAuthenticatedGhzConfig(options: GhzLoginOptions): Promise<GhzLogin> {
  const transport = createGrpcTransport({ baseUrl: `${options.tls ? "https" : "http"}://${options.host}` });
  const auth = createClient(AuthService, transport);
  let email = options.email;
  let accessToken: string;
  if (email) {
    if (!options.password) throw new Error("--password is needed with --email");
    const res = await auth.login({ email, password: options.password, organizationId: options.organizationId ?? "" });
    accessToken = res.tokens!.accessToken;
  } else {
    email = `ghz-${Date.now()}-${randomBytes(4).toString("hex")}@example.com`;
    const password = randomBytes(18).toString("base64url");
    const res = await auth.register({ email, password, displayName: "ghz", organizationName: "ghz load test" });
    accessToken = res.tokens!.accessToken;
  }
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${accessToken}`);
    return next(req);
  };
  const keys = createClient(ApiKeyService, createGrpcTransport({ baseUrl: `${options.tls ? "https" : "http"}://${options.host}`, interceptors: [bearer] }));
  const created = await keys.createApiKey({ name: `ghz ${new Date().toISOString()}`, scopes: [ApiKeyScope.SPEECH] });
  const base = JSON.parse(await readFile(baseConfigFile, "utf8")) as Record<string, unknown>;
  const config = { ...base, host: options.host, insecure: !options.tls, metadata: { authorization: `Bearer ${created.secret}` } };
  const out = options.out ?? defaultOutFile;
  await writeFile(out, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return { config, out, apiKeyId: created.apiKey!.apiKeyId, email };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      host: { type: "string", default: "127.0.0.1:50051" },
      tls: { type: "boolean", default: false },
      email: { type: "string" },
      password: { type: "string" },
      organization: { type: "string" },
      out: { type: "string" },
    },
  });
  const result = await writeAuthenticatedGhzConfig({ host: values.host!, tls: values.tls, email: values.email, password: values.password, organizationId: values.organization, out: values.out });
  process.stdout.write(`wrote ${result.out} (API key ${result.apiKeyId} of ${result.email}); run: ghz --config ${result.out}\n`);
}
