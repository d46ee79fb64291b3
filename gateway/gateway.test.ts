// The gateway as clients meet it: every service of the public API over gRPC (grpc-js and
// Connect-ES), Connect and gRPC-Web; validation, size limits, errors, request ids, logs,
// metrics, health, probes, CORS and graceful shutdown.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as grpc from "@grpc/grpc-js";
import { create, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { productRoutes } from "./routes.js";
import { productServices } from "../services/app/product-services.js";
import { startTestGateway, type TestGateway } from "./testing/test-gateway.js";
import { grpcJsClient, loadGrpcJsPackage, transports, withHeaders, type Transports } from "./testing/clients.js";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "../proto/gen/grpc/health/v1/health_pb.js";
import { JobService } from "../proto/gen/arabicstt/v1/job_pb.js";
import { SpeechService, RecognizeRequestSchema } from "../proto/gen/arabicstt/v1/speech_pb.js";
import { AdminService, GetSystemStatsResponseSchema } from "../proto/gen/arabicstt/v1/admin_pb.js";
import { FailedPreconditionError, NotFoundError } from "../services/platform/errors/errors.js";
import { rpcPolicy } from "../services/identity/auth/rpc-policy.js";
import { startTestIdentity, type TestIdentity } from "./testing/test-identity.js";

// Real credentials, made through the identity service once for the file: a member's access token, and a
// platform operator's (a viewer in their organisation, admin through PLATFORM_ADMIN_EMAILS).
let identity: TestIdentity;
const asMember = { headers: { authorization: "" } };
const asOperator = { headers: { authorization: "" } };
beforeAll(async () => {
  identity = await startTestIdentity();
  const [member, operator] = await Promise.all([identity.user("member"), identity.operator("viewer")]);
  asMember.headers.authorization = `Bearer ${member}`;
  asOperator.headers.authorization = `Bearer ${operator}`;
}, 60_000);
afterAll(() => identity?.stop());

type AnyClient = Record<string, (...args: unknown[]) => unknown>;

async function callConnect(transport: Transport, service: DescService, method: DescMethod): Promise<Code | "ok"> {
  const client = createClient(service, transport) as unknown as AnyClient;
  const input = create(method.input);
  try {
    switch (method.methodKind) {
      case "unary":
        await client[method.localName]!(input);
        break;
      case "server_streaming":
        for await (const _ of client[method.localName]!(input) as AsyncIterable<unknown>) void _;
        break;
      case "client_streaming":
        await client[method.localName]!((async function* () {
          yield input;
        })());
        break;
      case "bidi_streaming":
        for await (const _ of client[method.localName]!((async function* () {
          yield input;
        })()) as AsyncIterable<unknown>) void _;
        break;
    }
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

function callGrpcJs(client: grpc.Client, method: DescMethod): Promise<number> {
  const c = client as unknown as Record<string, (...args: unknown[]) => grpc.ClientReadableStream<unknown> & grpc.ClientWritableStream<unknown>>;
  const fn = c[method.name]!.bind(client);
  return new Promise((resolve) => {
    const done = (err: grpc.ServiceError | null) => resolve(err ? err.code : 0);
    switch (method.methodKind) {
      case "unary":
        fn({}, done);
        break;
      case "client_streaming": {
        const call = fn(done);
        call.write({});
        call.end();
        break;
      }
      case "server_streaming":
      case "bidi_streaming": {
        const call = method.methodKind === "server_streaming" ? fn({}) : fn();
        call.on("data", () => undefined);
        call.on("error", (err: grpc.ServiceError) => resolve(err.code));
        call.on("status", (s: grpc.StatusObject) => s.code === 0 && resolve(0));
        if (method.methodKind === "bidi_streaming") {
          call.write({});
          call.end();
        }
        break;
      }
    }
  });
}

describe("a gateway serving the public API before any capability is built", () => {
  let gw: TestGateway;
  let t: Transports;
  let grpcPkg: grpc.GrpcObject;

  beforeAll(async () => {
    gw = await startTestGateway({ env: { CORS_ORIGINS: "https://app.example.com", MAX_MESSAGE_BYTES: "65536" }, identity });
    t = transports(gw.grpcPort, gw.httpPort);
    grpcPkg = loadGrpcJsPackage();
  });
  afterAll(() => gw.drain());

  const allMethods = productServices.flatMap((service) => service.methods.map((method) => ({ service, method })));

  it("mounts all fourteen services and every RPC the contracts declare", () => {
    expect(productServices.map((s) => s.name)).toEqual([
      "SpeechService", "TextService", "AuthService", "OrganizationService", "ApiKeyService", "MediaService", "JobService",
      "TranscriptService", "ExportService", "UsageService", "WebhookService", "AdminService", "BillingService",
      "PrivacyService",
    ]);
    expect(allMethods.length).toBeGreaterThanOrEqual(60);
  });

  it("answers every RPC the same way over gRPC, Connect and gRPC-Web (h2c and HTTP/1.1) and a plain grpc-js client", async () => {
    const h2Only = new Set(["client_streaming", "bidi_streaming"]);
    for (const { service, method } of allMethods) {
      const label = `${service.name}.${method.name}`;
      const grpcCode = await callConnect(t.grpc, service, method);
      // No handler is mounted here. Without credentials a protected RPC stops at the auth
      // interceptor; a public one either fails validation or reaches the router's UNIMPLEMENTED.
      // Either proves the RPC is routed and the stack answered.
      if (rpcPolicy[`${service.typeName}/${method.name}`]?.access === "public") {
        expect([Code.Unimplemented, Code.InvalidArgument], label).toContain(grpcCode);
      } else {
        expect(grpcCode, label).toBe(Code.Unauthenticated);
      }
      const others: Array<[string, Transport]> = [["connectH2", t.connectH2], ["grpcWebH2", t.grpcWebH2]];
      // Browsers (HTTP/1.1) cannot stream requests; those RPCs are for h2 clients.
      if (!h2Only.has(method.methodKind)) others.push(["connectH1", t.connectH1], ["grpcWebH1", t.grpcWebH1]);
      for (const [name, transport] of others) {
        expect(await callConnect(transport, service, method), `${label} over ${name}`).toBe(grpcCode);
      }
      const client = grpcJsClient(grpcPkg, service.typeName, `127.0.0.1:${gw.grpcPort}`);
      expect(await callGrpcJs(client, method), `${label} over grpc-js`).toBe(grpcCode);
      client.close();
    }
  });

  it("rejects an invalid field with INVALID_ARGUMENT naming it, and structured violations", async () => {
    const jobs = createClient(JobService, t.grpc);
    const err = await jobs.getJob({ jobId: "not-a-uuid" }, asMember).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toMatch(/^invalid GetJobRequest: job_id: must be a valid UUID \[string\.uuid\]$/);
    const [violations] = (err as ConnectError).findDetails(ViolationsSchema);
    expect(violations?.violations[0]?.field?.elements[0]?.fieldName).toBe("job_id");
  });

  it("refuses a message over the size limit with RESOURCE_EXHAUSTED", async () => {
    const speech = createClient(SpeechService, t.grpc);
    const big = create(RecognizeRequestSchema, { audioSource: { case: "content", value: new Uint8Array(70_000) } });
    const err = await speech.recognize(big, asMember).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
  });

  it("echoes the client's request id, or makes one, on success and on error", async () => {
    const health = createClient(Health, t.connectH1);
    let headers: Headers | undefined;
    await health.check({}, { headers: { "x-request-id": "call-centre-42" }, onHeader: (h) => (headers = h) });
    expect(headers?.get("x-request-id")).toBe("call-centre-42");

    const jobs = createClient(JobService, t.grpc);
    const err = ConnectError.from(await jobs.getJob({ jobId: "x" }, asMember).catch((e: unknown) => e));
    expect(err.metadata.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const line = gw.logs.find((l) => l.request_id === err.metadata.get("x-request-id"));
    expect(line).toMatchObject({ rpc_service: "arabicstt.v1.JobService", rpc_method: "GetJob", code: "invalid_argument" });
  });

  it("counts RPCs by method and code and serves them on /metrics", async () => {
    await createClient(Health, t.grpc).check({});
    const text = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(text).toMatch(/arabicstt_rpc_requests_total\{service="grpc.health.v1.Health",method="Check",code="ok"\} \d+/);
    expect(text).toMatch(/arabicstt_rpc_requests_total\{service="arabicstt.v1.JobService",method="GetJob",code="invalid_argument"\} \d+/);
    expect(text).toContain("arabicstt_rpc_duration_seconds_bucket");
    expect(text).toContain("process_resident_memory_bytes");
  });

  it("serves grpc.health.v1 for the server and each service, NOT_FOUND for unknown ones", async () => {
    const health = createClient(Health, t.grpc);
    expect((await health.check({})).status).toBe(Serving.SERVING);
    expect((await health.check({ service: "arabicstt.v1.SpeechService" })).status).toBe(Serving.SERVING);
    const err = ConnectError.from(await health.check({ service: "nope.Service" }).catch((e: unknown) => e));
    expect(err.code).toBe(Code.NotFound);
  });

  it("answers probes, and 404 for unknown paths on either listener", async () => {
    const base = `http://127.0.0.1:${gw.httpPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", ready: true, checks: {} });
    const missing = await fetch(`${base}/no/such/path`);
    expect(missing.status).toBe(404);
    const unknownRpc = await fetch(`${base}/arabicstt.v1.SpeechService/NoSuchMethod`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(unknownRpc.status).toBe(404);
  });

  it("sends security headers on every HTTP/1.1 response, and no stack traces", async () => {
    const base = `http://127.0.0.1:${gw.httpPort}`;
    const responses = [
      await fetch(`${base}/healthz`),
      await fetch(`${base}/no/such/path`),
      await fetch(`${base}/arabicstt.v1.JobService/GetJob`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" }),
      await fetch(`${base}/arabicstt.v1.AuthService/GetCurrentUser`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }),
    ];
    for (const res of responses) {
      expect(res.headers.get("x-content-type-options"), res.url).toBe("nosniff");
      expect(res.headers.get("x-frame-options"), res.url).toBe("DENY");
      expect(res.headers.get("referrer-policy"), res.url).toBe("no-referrer");
      expect(res.headers.get("content-security-policy"), res.url).toContain("default-src 'none'");
      expect(await res.text(), res.url).not.toMatch(/\n\s+at |node_modules/);
    }
    expect(responses[3]!.status).toBe(401);
  });

  it("applies the CORS allowlist on the browser listener", async () => {
    const url = `http://127.0.0.1:${gw.httpPort}/grpc.health.v1.Health/Check`;
    const preflight = (origin: string) =>
      fetch(url, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-request-id" },
      });
    const allowed = await preflight("https://app.example.com");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(allowed.headers.get("access-control-allow-headers")).toMatch(/x-request-id/i);
    expect((await preflight("https://evil.example")).status).toBe(403);

    const actual = await fetch(url, {
      method: "POST",
      headers: { origin: "https://app.example.com", "content-type": "application/json" },
      body: "{}",
    });
    expect(actual.headers.get("access-control-expose-headers")).toMatch(/x-request-id/i);
  });
});

describe("errors and deadlines through the interceptor stack", () => {
  let gw: TestGateway;
  let client: Client<typeof AdminService>;
  const chunksSeen: number[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({
      env: { UNARY_DEADLINE_MS: "300" },
      identity,
      routes: productRoutes({
        "arabicstt.v1.SpeechService": {
          async *streamingRecognize(requests) {
            for await (const req of requests) {
              if (req.streamingRequest.case === "audioContent") chunksSeen.push(req.streamingRequest.value.length);
            }
          },
        },
        "arabicstt.v1.AdminService": {
          listOrganizations: () => {
            throw new FailedPreconditionError("platform admin flag required for this listing");
          },
          suspendOrganization: (req) => {
            throw new NotFoundError("organization", req.organizationId);
          },
          getSystemStats: () => {
            throw new Error("connect ECONNREFUSED postgres://admin:hunter2@10.0.0.5/prod");
          },
          listAuditEvents: async () => {
            await new Promise((r) => setTimeout(r, 2000));
            return {};
          },
        },
      }),
    });
    client = createClient(AdminService, withHeaders(transports(gw.grpcPort, gw.httpPort).grpc, asOperator.headers));
  });
  afterAll(() => gw.drain());

  const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => ConnectError.from(e));

  it("turns typed domain errors into their codes with their messages", async () => {
    const precondition = await failure(client.listOrganizations({}));
    expect(precondition?.code).toBe(Code.FailedPrecondition);
    expect(precondition?.rawMessage).toBe("platform admin flag required for this listing");
    const id = "6f1c7c1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
    const notFound = await failure(client.suspendOrganization({ organizationId: id, reason: "unpaid invoices" }));
    expect(notFound?.code).toBe(Code.NotFound);
    expect(notFound?.rawMessage).toBe(`organization ${id} not found`);
  });

  it("never lets an internal error's text reach the client, and logs it with the request id", async () => {
    const err = await failure(client.getSystemStats({}));
    expect(err?.code).toBe(Code.Internal);
    expect(err?.rawMessage).toMatch(/^internal error \(request id [0-9a-f-]{36}\)$/);
    expect(err?.message).not.toMatch(/hunter2|ECONNREFUSED/);
    const requestId = err?.metadata.get("x-request-id");
    const logged = gw.logs.filter((l) => l.request_id === requestId).map((l) => JSON.stringify(l)).join("\n");
    expect(logged).toContain("ECONNREFUSED");
  });

  it("validates each message of a bidi stream as it arrives, before the handler sees it", async () => {
    const speech = createClient(SpeechService, withHeaders(transports(gw.grpcPort, gw.httpPort).grpc, asMember.headers));
    const requests = (async function* () {
      yield { streamingRequest: { case: "audioContent" as const, value: new Uint8Array(1600) } };
      yield { streamingRequest: { case: "audioContent" as const, value: new Uint8Array(1_048_577) } };
    })();
    const err = await (async () => {
      for await (const _ of speech.streamingRecognize(requests)) void _;
    })().catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toContain("StreamingRecognizeRequest #2: audio_content");
    expect(chunksSeen).toEqual([1600]);
  });

  it("gives a stuck unary RPC DEADLINE_EXCEEDED at the server's deadline", async () => {
    const err = await failure(client.listAuditEvents({}));
    expect(err?.code).toBe(Code.DeadlineExceeded);
  });
});

describe("graceful shutdown", () => {
  it("finishes RPCs in flight, tells health watchers NOT_SERVING, refuses new work, then stops", async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const gw = await startTestGateway({
      env: { SHUTDOWN_GRACE_MS: "4000" },
      identity,
      healthWatchIntervalMs: 50,
      routes: productRoutes({
        "arabicstt.v1.AdminService": {
          getSystemStats: async () => {
            await released;
            return create(GetSystemStatsResponseSchema, {});
          },
        },
      }),
    });
    const t = transports(gw.grpcPort, gw.httpPort);
    const statuses: Serving[] = [];
    const watching = (async () => {
      for await (const res of createClient(Health, t.grpc).watch({})) statuses.push(res.status);
    })();
    const slow = createClient(AdminService, t.grpc).getSystemStats({}, asOperator);
    while (statuses.length === 0 || gw.inFlight() < 2) await new Promise((r) => setTimeout(r, 20));

    const drained = gw.drain();
    await watching;
    expect(statuses).toEqual([Serving.SERVING, Serving.NOT_SERVING]);
    const ready = await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`).catch(() => undefined);
    expect(ready === undefined || ready.status === 503).toBe(true);

    release();
    await expect(slow).resolves.toBeDefined();
    await drained;
    expect(gw.inFlight()).toBe(0);
    const afterwards = await createClient(Health, transports(gw.grpcPort, gw.httpPort).grpc)
      .check({})
      .catch((e: unknown) => ConnectError.from(e));
    expect((afterwards as ConnectError).code).toBe(Code.Unavailable);
  });
});
