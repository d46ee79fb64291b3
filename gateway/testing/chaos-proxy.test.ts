// The chaos proxy does what the resumable-stream tests rely on: bytes pass unchanged, reset() is a real
// TCP reset that a gRPC client reports as UNAVAILABLE, and freeze() is a silent connection that only a
// keepalive notices.
import { randomBytes } from "node:crypto";
import net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startChaosProxy, type ChaosProxy } from "./chaos-proxy.js";
import { grpcJsClient, loadGrpcJsPackage } from "./clients.js";
import { startTestGateway, type TestGateway } from "./test-gateway.js";

/** A TCP echo server that also keeps every byte it received, to see what got through. */
async function startEchoServer() {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // A reset from the proxy surfaces here as ECONNRESET; the test looks at the client's side.
    socket.on("error", () => {});
    socket.on("data", (chunk) => {
      received.push(chunk);
      socket.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => Buffer.concat(received),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Reads from `socket` until `length` bytes have come. */
function readBytes(socket: net.Socket, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= length) {
        socket.off("data", onData);
        socket.off("error", reject);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("chaos proxy over a TCP echo server", () => {
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  let proxy: ChaosProxy;
  const clients: net.Socket[] = [];
  beforeAll(async () => {
    echo = await startEchoServer();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await proxy?.close();
  });
  afterAll(() => echo.close());

  async function client(): Promise<net.Socket> {
    const socket = await connect(proxy.port);
    clients.push(socket);
    return socket;
  }

  it("forwards bytes unchanged in both directions", async () => {
    proxy = await startChaosProxy({ target: { host: "127.0.0.1", port: echo.port } });
    const socket = await client();
    // More than the sockets' buffers hold, so the proxy's backpressure path runs too.
    const payload = randomBytes(4 * 1024 * 1024);
    const echoed = readBytes(socket, payload.length);
    socket.write(payload);
    expect((await echoed).equals(payload)).toBe(true);
    expect(proxy.connections).toBe(1);
  });

  it("reset() gives the client a real connection reset (ECONNRESET), not a polite close", async () => {
    proxy = await startChaosProxy({ target: { host: "127.0.0.1", port: echo.port } });
    const socket = await client();
    const echoed = readBytes(socket, 5);
    socket.write("hello");
    await echoed;
    const failed = new Promise<NodeJS.ErrnoException>((resolve) => socket.once("error", resolve));
    proxy.reset();
    expect((await failed).code).toBe("ECONNRESET");
    // The proxy keeps accepting: a new connection works.
    const again = await client();
    const reply = readBytes(again, 5);
    again.write("again");
    expect((await reply).toString()).toBe("again");
  });

  it("freeze() holds every byte, on open connections and on new ones, until thaw()", async () => {
    proxy = await startChaosProxy({ target: { host: "127.0.0.1", port: echo.port } });
    const before = await client();
    const first = readBytes(before, 3);
    before.write("one");
    await first;
    const receivedBefore = echo.received().length;

    proxy.freeze();
    const during = await client();
    const held = Promise.all([readBytes(before, 3), readBytes(during, 3)]);
    before.write("two");
    during.write("new");
    // Silence cannot be awaited: give the bytes time they would need to arrive, then check that none did.
    // A broken freeze could only make this pass by luck, never fail a working one.
    await pause(200);
    expect(echo.received().length).toBe(receivedBefore);
    expect(proxy.connections).toBe(2);

    proxy.thaw();
    const [two, fresh] = await held;
    expect(two.toString()).toBe("two");
    expect(fresh.toString()).toBe("new");
  });
});

describe("chaos proxy in front of a gRPC server, with a grpc-js client", () => {
  const pkg = loadGrpcJsPackage();
  let gw: TestGateway;
  let proxy: ChaosProxy;
  const clients: grpc.Client[] = [];
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await proxy?.close();
  });
  afterAll(() => gw.drain());

  function healthClient(channelOptions: grpc.ChannelOptions = {}) {
    const client = grpcJsClient(pkg, "grpc.health.v1.Health", `127.0.0.1:${proxy.port}`, {}, channelOptions);
    clients.push(client);
    return client as grpc.Client & {
      Check(req: object, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: { status: string }) => void): void;
      Watch(req: object, options: grpc.CallOptions): grpc.ClientReadableStream<{ status: string }>;
    };
  }

  /**
   * Opens a Watch stream (a call that stays open, as a live stream does) and resolves once its first status
   * has come; `failed` settles with the code the stream ends with. The deadline only bounds the test: a
   * stream that ended with DEADLINE_EXCEEDED was not told about the broken connection.
   */
  async function openWatch(client: ReturnType<typeof healthClient>) {
    const call = client.Watch({ service: "" }, { deadline: Date.now() + 30_000 });
    const failed = new Promise<grpc.status>((resolve) => call.on("error", (err: grpc.ServiceError) => resolve(err.code)));
    await new Promise<void>((resolve) => call.once("data", () => resolve()));
    return { call, failed };
  }

  function check(client: ReturnType<typeof healthClient>): Promise<string> {
    return new Promise((resolve, reject) =>
      client.Check({ service: "" }, { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
  }

  it("reset() ends an open call with UNAVAILABLE, and the channel reconnects through the proxy", async () => {
    proxy = await startChaosProxy({ target: { host: "127.0.0.1", port: gw.grpcPort } });
    const client = healthClient();
    const { failed } = await openWatch(client);
    expect(proxy.connections).toBe(1);
    proxy.reset();
    expect(await failed).toBe(grpc.status.UNAVAILABLE);
    expect(await check(client)).toBe("SERVING");
  });

  it("freeze() is noticed by client-side HTTP/2 keepalive: the call ends with UNAVAILABLE", async () => {
    proxy = await startChaosProxy({ target: { host: "127.0.0.1", port: gw.grpcPort } });
    // A ping every 500 ms, the connection given up after 500 ms without its answer.
    const client = healthClient({ "grpc.keepalive_time_ms": 500, "grpc.keepalive_timeout_ms": 500 });
    const { failed } = await openWatch(client);
    proxy.freeze();
    expect(await failed).toBe(grpc.status.UNAVAILABLE);
    proxy.thaw();
    expect(await check(client)).toBe("SERVING");
  });
});
