// The servers a client talks to: one grpc-js channel and one circuit breaker per address, the
// round-robin choice of the next address whose breaker lets a request through, and one attempt of
// an RPC on one address, which tells a status a server sent from one grpc-js made up.
import * as grpc from "@grpc/grpc-js";
import { inferenceMethod, type InferenceMethodName } from "../kserve/service.js";
import type { Logger } from "../logger.js";
import { CircuitBreaker, type BreakerOptions } from "./breaker.js";
import type { InferenceMetrics } from "./metrics.js";

export interface Endpoint {
  address: string;
  client: grpc.Client;
  breaker: CircuitBreaker;
}

export interface ChannelSettings {
  credentials: grpc.ChannelCredentials;
  channelOptions: grpc.ChannelOptions;
}

/** The client's addresses, each with its channel and breaker, picked round-robin. */
export class EndpointPool {
  readonly endpoints: readonly Endpoint[];
  private next = 0;

  constructor(addresses: readonly string[], channel: ChannelSettings, breakerOptions: BreakerOptions, metrics: InferenceMetrics, logger?: Logger) {
    this.endpoints = addresses.map((address) => {
      metrics.breakerOpen.set({ address }, 0);
      return {
        address,
        client: new grpc.Client(address, channel.credentials, channel.channelOptions),
        breaker: new CircuitBreaker(breakerOptions, (state) => {
          metrics.breakerOpen.set({ address }, state === "closed" ? 0 : 1);
          if (state === "open") logger?.warn({ address, cooldownMs: breakerOptions.cooldownMs }, "inference server unreachable: circuit open");
          else logger?.info({ address }, "inference server reachable again: circuit closed");
        }),
      };
    });
  }

  /**
   * The next address round-robin whose breaker lets a request through, preferring ones not yet tried.
   * With `affinity`, the search starts at an address of its own instead, so calls with the same
   * affinity keep to one address while it takes them.
   */
  pick(tried: ReadonlySet<Endpoint>, affinity?: number): Endpoint | undefined {
    const { endpoints } = this;
    const first = affinity === undefined ? this.next : affinity % endpoints.length;
    for (const untriedOnly of [true, false]) {
      for (let i = 0; i < endpoints.length; i++) {
        const index = (first + i) % endpoints.length;
        const endpoint = endpoints[index]!;
        if (untriedOnly && tried.has(endpoint)) continue;
        if (endpoint.breaker.tryAcquire()) {
          if (affinity === undefined) this.next = (index + 1) % endpoints.length;
          return endpoint;
        }
      }
    }
    return undefined;
  }

  /** Whether an address not in `tried` remains. */
  hasUntried(tried: ReadonlySet<Endpoint>): boolean {
    return this.endpoints.some((e) => !tried.has(e));
  }

  close(): void {
    for (const endpoint of this.endpoints) endpoint.client.close();
  }
}

/** One attempt's failure, with whether a server sent the status or grpc-js made it up locally. */
export class AttemptFailure extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
    readonly serverAnswered: boolean,
  ) {
    super(details);
  }
}

/** One RPC on one address, no retry; rejects with an AttemptFailure for any gRPC status but OK. */
export function attempt<Res>(endpoint: Endpoint, method: InferenceMethodName, request: object, deadline: number, signal?: AbortSignal, metadata = new grpc.Metadata()): Promise<Res> {
  const definition = inferenceMethod(method);
  return new Promise<Res>((resolve, reject) => {
    let headersReceived = false;
    const call = endpoint.client.makeUnaryRequest<object, object>(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      request,
      metadata,
      { deadline },
      (err, response) => {
        signal?.removeEventListener("abort", cancel);
        if (!err) return resolve(response as Res);
        // A status from a server arrives in HTTP/2 headers: response headers, or one trailers-only
        // frame whose leftover headers (content-type, date) stay in the error's metadata. A status
        // grpc-js made up (connection refused, dropped, local limits) has neither.
        const serverAnswered = headersReceived || Object.keys(err.metadata?.getMap() ?? {}).length > 0;
        reject(new AttemptFailure(err.code, err.details, serverAnswered));
      },
    );
    call.on("metadata", () => {
      headersReceived = true;
    });
    const cancel = () => call.cancel();
    signal?.addEventListener("abort", cancel, { once: true });
  });
}
