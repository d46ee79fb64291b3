import type { IncomingMessage, ServerResponse } from "node:http";
import { cors as connectCors } from "@connectrpc/connect";
import { REQUEST_ID_HEADER } from "../interceptors/request-context.js";

// Written by hand rather than with the `cors` npm package: it is a dozen lines once
// Connect's own lists of methods and headers are used, and it keeps the allowlist exact.
const allowMethods = connectCors.allowedMethods.join(", ");
const allowHeaders = [...connectCors.allowedHeaders, REQUEST_ID_HEADER, "Authorization", "X-Api-Key"].join(", ");
const exposeHeaders = [...connectCors.exposedHeaders, REQUEST_ID_HEADER, "Retry-After"].join(", ");

/**
 * Applies the CORS allowlist. Returns true when the request was a preflight and has been
 * answered. An origin outside the allowlist gets no CORS headers, so browsers block it.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowedOrigins: string[]): boolean {
  const origin = req.headers.origin;
  const allowed = origin !== undefined && (allowedOrigins.includes("*") || allowedOrigins.includes(origin));
  if (allowed) {
    res.setHeader("Access-Control-Allow-Origin", origin);
    res.setHeader("Access-Control-Expose-Headers", exposeHeaders);
  }
  res.setHeader("Vary", "Origin");
  if (req.method !== "OPTIONS" || !req.headers["access-control-request-method"]) return false;
  if (!allowed) {
    res.writeHead(403, { "Content-Type": "application/json" }).end(JSON.stringify({ error: "origin not allowed" }));
    return true;
  }
  res.writeHead(204, {
    "Access-Control-Allow-Methods": allowMethods,
    "Access-Control-Allow-Headers": allowHeaders,
    "Access-Control-Max-Age": "7200",
  });
  res.end();
  return true;
}
