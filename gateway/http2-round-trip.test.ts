// The client round trip on HTTP/2, with a real Node server and client: it tells a client that
// half-closed its stream and waits for the answer from one whose END_STREAM was the first half of a
// cancel (END_STREAM, then RST_STREAM), by the order the client's frames arrive in, not by time: the
// server asks only once it has read the END_STREAM, and its event loop then stalls, as on a loaded box.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { http2RoundTrip } from "./http2-round-trip.js";

/** Holds the event loop, as a process starved of CPU does: every timer due meanwhile fires late. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

interface Exchange {
  /** What the server's round trip said, asked once the client's END_STREAM was read. */
  answer: boolean;
  client: http2.ClientHttp2Session;
  request: http2.ClientHttp2Stream;
}

const servers: http2.Http2Server[] = [];
const clients: http2.ClientHttp2Session[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const server of servers.splice(0)) await new Promise((r) => server.close(r));
});

/**
 * A server that asks the round trip once it has read the request's end. `atEnd` runs on the client's
 * side right then, before the question is sent (both ends share this process's event loop).
 */
async function exchange(atEnd: (e: Omit<Exchange, "answer">) => void, beforeEnd?: (e: Omit<Exchange, "answer">) => void): Promise<Exchange> {
  let arrive!: () => void;
  const arrived = new Promise<void>((r) => (arrive = r));
  let resolveAnswer!: (a: boolean) => void;
  const answered = new Promise<boolean>((r) => (resolveAnswer = r));
  const server = http2.createServer();
  servers.push(server);
  let e: Omit<Exchange, "answer"> | undefined;
  server.on("stream", (stream) => {
    arrive();
    stream.on("error", () => undefined);
    stream.resume();
    stream.on("end", () => {
      atEnd(e!);
      void http2RoundTrip(stream).then(resolveAnswer);
      stall(400);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  client.on("error", () => undefined);
  clients.push(client);
  const request = client.request({ ":method": "POST", ":path": "/" });
  request.on("error", () => undefined);
  e = { client, request };
  if (beforeEnd) {
    await arrived;
    beforeEnd(e);
  }
  request.end("audio");
  return { ...e, answer: await answered };
}

describe("a round trip to an HTTP/2 client", () => {
  it("is answered by a client that half-closed and waits for the response", async () => {
    const { answer } = await exchange(() => undefined);
    expect(answer).toBe(true);
  });

  it("is not, when the client reset the stream after its END_STREAM (a cancel), however late the reset is read", async () => {
    const { answer } = await exchange(({ request }) => request.close(http2.constants.NGHTTP2_CANCEL));
    expect(answer).toBe(false);
  });

  it("is not, when the client dropped the connection after its END_STREAM", async () => {
    const { answer } = await exchange(({ client }) => client.destroy());
    expect(answer).toBe(false);
  });

  it("is answered on a connection the client said GOAWAY on (where Node sends no PING) while it still waits for the response", async () => {
    const { answer } = await exchange(
      () => undefined,
      ({ client }) => client.goaway(http2.constants.NGHTTP2_NO_ERROR),
    );
    expect(answer).toBe(true);
  });
});
