import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import {
  Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as Status,
} from "../../proto/gen/grpc/health/v1/health_pb.js";
import type { Readiness } from "../../services/platform/readiness.js";

/**
 * The standard grpc.health.v1 service. "" is the whole server; each served service's full
 * name is accepted too and shares the server's status (they share every dependency).
 * Unknown names get NOT_FOUND from Check and SERVICE_UNKNOWN from Watch, as the protocol says.
 */
export function grpcHealthService(
  readiness: Readiness,
  serviceNames: string[],
  options: { watchIntervalMs: number; shutdownSignal: AbortSignal },
): Partial<ServiceImpl<typeof Health>> {
  const known = new Set(["", ...serviceNames]);
  const status = async () => ((await readiness.report()).ready ? Status.SERVING : Status.NOT_SERVING);
  return {
    async check(req) {
      if (!known.has(req.service)) throw new ConnectError(`unknown service ${req.service}`, Code.NotFound);
      return create(HealthCheckResponseSchema, { status: await status() });
    },
    async *watch(req, ctx) {
      if (!known.has(req.service)) {
        yield create(HealthCheckResponseSchema, { status: Status.SERVICE_UNKNOWN });
      }
      let last: Status | undefined;
      // Bounded by the client's cancellation and by server shutdown; one report per interval.
      while (!ctx.signal.aborted && !options.shutdownSignal.aborted) {
        const current = known.has(req.service) ? await status() : Status.SERVICE_UNKNOWN;
        if (current !== last) {
          last = current;
          yield create(HealthCheckResponseSchema, { status: current });
        }
        await sleep(options.watchIntervalMs, [ctx.signal, options.shutdownSignal]);
      }
      if (options.shutdownSignal.aborted && last !== Status.NOT_SERVING) {
        yield create(HealthCheckResponseSchema, { status: Status.NOT_SERVING });
      }
    },
  };
}

function sleep(ms: number, signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signals.forEach((s) => s.removeEventListener("abort", done));
      resolve();
    };
    const timer = setTimeout(done, ms);
    signals.forEach((s) => s.addEventListener("abort", done, { once: true }));
  });
}
