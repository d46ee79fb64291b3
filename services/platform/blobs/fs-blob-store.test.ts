import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidBlobKeyError } from "./blob-store.js";
import { describeBlobStoreContract, expectSameBytes, readAll } from "./blob-store-contract.js";
import { createFsBlobHttpHandler } from "./fs-blob-http.js";
import type { FsBlobHttpOptions } from "./fs-blob-http.js";
import { FsBlobStore } from "./fs-blob-store.js";
import { createBlobStore } from "./index.js";

const SECRET = "test-signing-secret-0123456789abcdef";

interface Harness {
  store: FsBlobStore;
  server: Server;
  baseUrl: string;
  dataDir: string;
  errors: unknown[];
  close(): Promise<void>;
}

/** A temp data dir and a bare HTTP server mounting the handler, as the gateway's listener does. */
async function startHarness(options: Partial<FsBlobHttpOptions> = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), "arabicstt-blobs-"));
  const errors: unknown[] = [];
  let handler: ReturnType<typeof createFsBlobHttpHandler> | undefined;
  const server = createServer((req, res) => {
    void handler!(req, res).then((handled) => {
      if (!handled) res.writeHead(418).end("not a blob route");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store = createBlobStore({ kind: "fs", dataDir, signingSecret: SECRET, publicBaseUrl: `${baseUrl}/` });
  handler = createFsBlobHttpHandler(store, {
    maxUploadBytes: 64 * 1024 * 1024,
    onError: (error) => errors.push(error),
    ...options,
  });
  return {
    store,
    server,
    baseUrl,
    dataDir,
    errors,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

describeBlobStoreContract("filesystem", async () => {
  const harness = await startHarness();
  return {
    store: harness.store,
    cleanup: async () => {
      // Nothing may have failed inside the handler unnoticed while the contract ran.
      expect(harness.errors).toEqual([]);
      await harness.close();
    },
  };
});

describe("filesystem blob store and its HTTP handler", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ maxUploadBytes: 1024 * 1024 });
    await h.store.ensureBuckets();
  });

  afterAll(() => h.close());

  it("lays objects out as <dataDir>/blobs/<bucket>/<key>", async () => {
    await h.store.put("exports", "orgs/o1/t1.srt", Buffer.from("1\n00:00:00,000 --> 00:00:01,000\nمرحبا\n"));
    expect(await readdir(join(h.dataDir, "blobs", "exports", "orgs", "o1"))).toEqual(["t1.srt"]);
  });

  it("leaves routes outside /blobs/ to the gateway", async () => {
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(418);
    expect((await fetch(`${h.baseUrl}/blobsmith`)).status).toBe(418);
  });

  it("answers 405 to methods a signed URL cannot grant", async () => {
    await h.store.put("media", "m.wav", Buffer.from("x"));
    const url = await h.store.presignGet("media", "m.wav", { expiresInSeconds: 60 });
    for (const method of ["DELETE", "POST", "PATCH"]) {
      const res = await fetch(url, { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get("allow")).toContain("PUT");
    }
    expect(await h.store.head("media", "m.wav")).not.toBeNull();
  });

  it("answers 404 for an unknown blob and an unknown bucket", async () => {
    const url = await h.store.presignGet("media", "never-written.wav", { expiresInSeconds: 60 });
    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(url.replace("/blobs/media/", "/blobs/secrets/"))).status).toBe(404);
  });

  it("refuses traversal in the URL path before any file is touched", async () => {
    const url = new URL(await h.store.presignGet("media", "m.wav", { expiresInSeconds: 60 }));
    const raw = await rawRequest(h.baseUrl, `/blobs/media/..%2F..%2F..%2Fetc%2Fpasswd${url.search}`);
    expect(raw.status).toBe(400);
    // Literal dots are resolved by URL parsing first, which lands on `/blobs/x`: no such bucket.
    const dots = await rawRequest(h.baseUrl, `/blobs/media/a/../../x${url.search}`);
    expect(dots.status).toBe(404);
  });

  it("refuses a tampered expiry, file name or content type with 403", async () => {
    await h.store.put("media", "s.wav", Buffer.from("x"));
    const get = new URL(await h.store.presignGet("media", "s.wav", { expiresInSeconds: 60, downloadFileName: "a.wav" }));
    const later = new URL(get);
    later.searchParams.set("expires", String(Number(get.searchParams.get("expires")) + 3600));
    expect((await fetch(later)).status).toBe(403);
    const renamed = new URL(get);
    renamed.searchParams.set("filename", "evil.html");
    expect((await fetch(renamed)).status).toBe(403);
    const noSig = new URL(get);
    noSig.searchParams.delete("sig");
    expect((await fetch(noSig)).status).toBe(403);

    const put = new URL(await h.store.presignPut("media", "typed.wav", { expiresInSeconds: 60, contentType: "audio/wav" }));
    put.searchParams.set("contentType", "text/html");
    const res = await fetch(put, { method: "PUT", body: "<script>", headers: { "Content-Type": "text/html" } });
    expect(res.status).toBe(403);
  });

  it("answers 413 to an upload declared larger than the limit, keeping the old object", async () => {
    await h.store.put("media", "big.bin", Buffer.from("original"));
    const url = await h.store.presignPut("media", "big.bin", { expiresInSeconds: 60 });
    const res = await fetch(url, { method: "PUT", body: Buffer.alloc(1024 * 1024 + 1) });
    expect(res.status).toBe(413);
    expectSameBytes(await readAll((await h.store.get("media", "big.bin")).stream), Buffer.from("original"));
  });

  it("answers 413 to a chunked upload that streams past the limit, leaving no temp file", async () => {
    const url = await h.store.presignPut("media", "chunked.bin", { expiresInSeconds: 60 });
    async function* body() {
      for (let i = 0; i < 3; i++) yield new Uint8Array(512 * 1024);
    }
    const res = await fetch(url, { method: "PUT", body: body(), duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(await h.store.head("media", "chunked.bin")).toBeNull();
    expect(await readdir(join(h.dataDir, "blobs", ".tmp"))).toEqual([]);
  });

  it("serves byte ranges, as audio players seeking through a recording ask", async () => {
    const body = Buffer.from("0123456789");
    await h.store.put("processed", "r.raw", body, { contentType: "audio/L16" });
    const url = await h.store.presignGet("processed", "r.raw", { expiresInSeconds: 60 });
    const part = await fetch(url, { headers: { Range: "bytes=2-5" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 2-5/10");
    expect(await part.text()).toBe("2345");
    const tail = await fetch(url, { headers: { Range: "bytes=-3" } });
    expect(await tail.text()).toBe("789");
    const beyond = await fetch(url, { headers: { Range: "bytes=10-" } });
    expect(beyond.status).toBe(416);
    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("10");
    expect(head.headers.get("content-type")).toBe("audio/L16");
  });

  it("serves user content so a browser will not run it as a page, and lets any origin use signed URLs", async () => {
    await h.store.put("media", "page.html", Buffer.from("<script>alert(1)</script>"), { contentType: "text/html" });
    const url = await h.store.presignGet("media", "page.html", { expiresInSeconds: 60 });
    const res = await fetch(url);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toContain("sandbox");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const preflight = await fetch(url, { method: "OPTIONS" });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toContain("PUT");
  });

  it("refuses a key whose path would need an existing object to be a folder", async () => {
    await h.store.put("media", "clash", Buffer.from("file"));
    await expect(h.store.put("media", "clash/inner", Buffer.from("x"))).rejects.toBeInstanceOf(InvalidBlobKeyError);
    await expect(h.store.get("media", "clash/inner")).rejects.toThrow(/not found/);
    // Distinct keys whose meta files would once have shared a path.
    await h.store.put("media", "m", Buffer.from("1"), { contentType: "a/b" });
    await h.store.put("media", "m.json/x", Buffer.from("2"), { contentType: "c/d" });
    expect((await h.store.head("media", "m"))?.contentType).toBe("a/b");
    expect((await h.store.head("media", "m.json/x"))?.contentType).toBe("c/d");
  });

  it("refuses a weak signing secret and a non-HTTP base URL", () => {
    expect(() => new FsBlobStore({ dataDir: h.dataDir, signingSecret: "short", publicBaseUrl: h.baseUrl })).toThrow(
      /at least 32/,
    );
    expect(() => new FsBlobStore({ dataDir: h.dataDir, signingSecret: SECRET, publicBaseUrl: "file:///x" })).toThrow(
      /http/,
    );
  });

  it("is not ready before its folders exist", async () => {
    const store = new FsBlobStore({ dataDir: join(h.dataDir, "elsewhere"), signingSecret: SECRET, publicBaseUrl: h.baseUrl });
    await expect(store.ping()).rejects.toThrow(/not usable/);
  });
});

/** fetch normalises `..` and `%2F` away; a raw request shows what a hostile client can really send. */
function rawRequest(baseUrl: string, path: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on("error", reject);
    req.end();
  });
}
