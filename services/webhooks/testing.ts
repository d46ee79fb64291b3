// A webhook receiver for tests: an HTTPS server on loopback with a self-signed certificate (made with
// openssl, for localhost, 127.0.0.1 and ::1) that records every request and answers as the test says.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export interface ReceivedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface TestReceiver {
  /** https://127.0.0.1:<port> */
  origin: string;
  port: number;
  /** The certificate, for the sender's trusted CAs. */
  ca: string;
  requests: ReceivedRequest[];
  /** What to answer to a request: a status, or "hang" to never answer. Default 204. */
  respond: (request: ReceivedRequest, seenOnPath: number) => number | "hang";
  /** Resolves when `count` requests to `path` have arrived. */
  waitFor(path: string, count: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "arabicstt-webhook-cert-"));
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"), "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
    ], { stdio: "ignore" });
    return { key: readFileSync(path.join(dir, "key.pem"), "utf8"), cert: readFileSync(path.join(dir, "cert.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startTestReceiver(certificate = selfSignedCertificate()): Promise<TestReceiver> {
  const requests: ReceivedRequest[] = [];
  const waiters: Array<() => void> = [];
  const server = https.createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const received: ReceivedRequest = { path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(received);
      const answer = receiver.respond(received, requests.filter((r) => r.path === received.path).length);
      for (const wake of waiters.splice(0)) wake();
      if (answer === "hang") return;
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const receiver: TestReceiver = {
    origin: `https://127.0.0.1:${port}`,
    port,
    ca: certificate.cert,
    requests,
    respond: () => 204,
    async waitFor(wanted, count) {
      for (;;) {
        const matching = requests.filter((r) => r.path === wanted);
        if (matching.length >= count) return matching;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}
