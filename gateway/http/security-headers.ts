import type { ServerResponse } from "node:http";

/**
 * Headers that keep browsers from misusing what the HTTP/1.1 listener serves: no MIME sniffing,
 * no framing, no referrers leaking signed URLs or tokens, nothing executable, HTTPS remembered
 * (browsers honour that header only over HTTPS, i.e. behind the TLS-terminating proxy).
 */
const SECURITY_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
};

export function applySecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}
