import type { IncomingMessage, ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import type { Readiness } from "./readiness.js";

/** A plain HTTP route on the HTTP/1.1 listener; returns false when the path is not its own. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" }).end(JSON.stringify(body));
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? "/", "http://localhost").pathname;
}

/** /healthz: the process is alive and its event loop turns. Never checks dependencies. */
export function livenessRoute(): HttpRoute {
  return (req, res) => {
    if (pathOf(req) !== "/healthz") return false;
    json(res, 200, { status: "ok" });
    return true;
  };
}

/** /readyz: every dependency answers and the process is not draining; 503 with the reasons otherwise. */
export function readinessRoute(readiness: Readiness): HttpRoute {
  return async (req, res) => {
    if (pathOf(req) !== "/readyz") return false;
    const report = await readiness.report();
    json(res, report.ready ? 200 : 503, { status: report.ready ? "ready" : "not ready", ...report });
    return true;
  };
}

/** What /metrics answers with: a registry, or something that gathers several (gateway/cluster.ts). */
export type MetricsExposition = Pick<Registry, "metrics" | "contentType">;

export function metricsRoute(registry: MetricsExposition): HttpRoute {
  return async (req, res) => {
    if (pathOf(req) !== "/metrics") return false;
    const body = await registry.metrics();
    res.writeHead(200, { "Content-Type": registry.contentType }).end(body);
    return true;
  };
}

/** Tries each route in turn; what none claims is a 404. */
export function routeHttp(routes: HttpRoute[]): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    try {
      for (const route of routes) if (await route(req, res)) return;
      json(res, 404, { error: "not found", path: pathOf(req) });
    } catch {
      // Details go nowhere near the client; the route itself logs what it knows.
      if (!res.headersSent) json(res, 500, { error: "internal error" });
      else res.destroy();
    }
  };
}
