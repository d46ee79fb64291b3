// One gRPC transport to the API for both examples, with the API key on every call.
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";

export interface Settings {
  /** The gRPC listener: http://host:50051 (h2c) or https://host (TLS). */
  url: string;
  /** An API key (ApiKeyService.CreateApiKey) or an access token. */
  apiKey: string;
}

/** ARABICSTT_URL (default http://127.0.0.1:50051) and ARABICSTT_API_KEY (required). */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Settings {
  const apiKey = env.ARABICSTT_API_KEY;
  if (!apiKey) throw new Error("set ARABICSTT_API_KEY to an API key (see the README's 'Accounts, tokens and keys')");
  return { url: env.ARABICSTT_URL || "http://127.0.0.1:50051", apiKey };
}

export function clientFactory(settings: Settings): <S extends DescService>(service: S) => Client<S> {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${settings.apiKey}`);
    return next(req);
  };
  const transport = createGrpcTransport({ baseUrl: settings.url, interceptors: [auth] });
  return (service) => createClient(service, transport);
}
