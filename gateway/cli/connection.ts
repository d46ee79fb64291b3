// The CLI's link to the gateway: Connect's gRPC transport over HTTP/2 (the gRPC listener, :50051 on the
// embedded defaults; https:// for TLS), the project's generated clients, and one interceptor that gives
// every call a request id and the caller's credential. Access tokens are refreshed a minute before they
// expire, and once more when a unary call finds one refused, and the new pair is saved at once (refresh
// tokens rotate: the old one is spent).
import { randomUUID } from "node:crypto";
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { DescService } from "@bufbuild/protobuf";
import { AuthService } from "../../proto/gen/arabicstt/v1/auth_pb.js";
import type { AuthTokens } from "../../proto/gen/arabicstt/v1/identity_pb.js";
import { REQUEST_ID_HEADER } from "./errors.js";
import type { Profile, ProfileStore } from "./profile.js";

/** Refresh this long before the access token expires, so a call never starts with a token about to lapse. */
const REFRESH_AHEAD_MS = 60_000;
/** Calls that carry no credential: they are how one is obtained. */
const WITHOUT_CREDENTIAL = new Set(["Register", "Login", "RefreshToken"]);

/** Where a credential came from, in the order they are tried. */
export interface CredentialSources {
  /** `--api-key`. */
  flag?: string;
  /** `ARABICSTT_API_KEY`. */
  env?: string;
  store: ProfileStore;
}

export class Connection {
  private readonly transport;
  private profile: Profile | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    readonly server: string,
    private readonly credentials: CredentialSources,
  ) {
    this.transport = createGrpcTransport({ baseUrl: server, interceptors: [this.interceptor()] });
  }

  client<S extends DescService>(service: S): Client<S> {
    return createClient(service, this.transport);
  }

  /** Keeps the tokens of a login or refresh, for this process and in the saved profile. */
  async keepTokens(tokens: AuthTokens, extra: Pick<Profile, "email" | "organizationId"> = {}): Promise<void> {
    const previous = this.profile ?? (await this.credentials.store.load());
    this.profile = {
      server: this.server,
      email: extra.email ?? previous.email,
      organizationId: tokens.organizationId || extra.organizationId || previous.organizationId,
      accessToken: tokens.accessToken,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt ? timestampDate(tokens.accessTokenExpiresAt).toISOString() : undefined,
      refreshToken: tokens.refreshToken,
    };
    await this.credentials.store.save(this.profile);
  }

  /** The saved profile when it belongs to this server (credentials never go to a server they were not issued by). */
  async savedProfile(): Promise<Profile | undefined> {
    this.profile ??= await this.credentials.store.load();
    return this.profile.server === this.server ? this.profile : undefined;
  }

  /** The bearer credential for the next call: a key from the flag or environment, else the saved login. */
  private async credential(): Promise<string | undefined> {
    const key = this.credentials.flag || this.credentials.env;
    if (key) return key;
    const saved = await this.savedProfile();
    if (saved?.apiKey) return saved.apiKey;
    if (!saved?.accessToken) return undefined;
    const expires = saved.accessTokenExpiresAt ? Date.parse(saved.accessTokenExpiresAt) : 0;
    if (saved.refreshToken && expires - Date.now() < REFRESH_AHEAD_MS) await this.refresh();
    return this.profile?.accessToken;
  }

  /** Swaps the refresh token for a new pair, once at a time (a second swap of the same token would revoke the family). */
  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      const saved = await this.savedProfile();
      if (!saved?.refreshToken) return;
      let res;
      try {
        res = await this.client(AuthService).refreshToken({ refreshToken: saved.refreshToken, organizationId: saved.organizationId ?? "" });
      } catch (err) {
        const error = ConnectError.from(err);
        if (error.code !== Code.Unauthenticated) throw error;
        // The refresh token expired, was spent elsewhere or revoked: only a new login helps, so say so.
        // A ConnectError, as the transport would wrap anything else thrown from inside a call.
        throw new ConnectError(`the saved login for ${this.server} has expired or was revoked: run arabicstt login`, Code.Unauthenticated, error.metadata);
      }
      if (res.tokens) await this.keepTokens(res.tokens);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private interceptor(): Interceptor {
    return (next) => async (req) => {
      // The gateway keeps a sane request id the client offers and echoes it; offering one means a failure
      // that never reached it (a refused connection) still has an id to quote.
      if (!req.header.has(REQUEST_ID_HEADER)) req.header.set(REQUEST_ID_HEADER, randomUUID());
      const offered = req.header.get(REQUEST_ID_HEADER)!;
      const withCredential = !WITHOUT_CREDENTIAL.has(req.method.name);
      try {
        if (withCredential) {
          const credential = await this.credential();
          if (credential) req.header.set("authorization", `Bearer ${credential}`);
        }
        try {
          return await next(req);
        } catch (err) {
          // A unary call whose access token was refused (revoked, or the clock is off) is retried once after a
          // refresh; a stream is not, since its request messages may already be spent.
          const saved = withCredential && !this.credentials.flag && !this.credentials.env ? await this.savedProfile() : undefined;
          if (req.stream || !saved?.refreshToken || ConnectError.from(err).code !== Code.Unauthenticated) throw err;
          await this.refresh();
          req.header.set("authorization", `Bearer ${this.profile?.accessToken ?? ""}`);
          return await next(req);
        }
      } catch (err) {
        const error = ConnectError.from(err);
        if (!error.metadata.has(REQUEST_ID_HEADER)) error.metadata.set(REQUEST_ID_HEADER, offered);
        throw error;
      }
    };
  }
}
