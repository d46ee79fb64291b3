// A TCP proxy between a test's client and a server that fails the way networks do: `reset()` kills every
// connection with a TCP RST (a crashed peer, a NAT that forgot the flow), `freeze()` makes every connection
// go silent without closing it (a pulled cable, a dead NAT). Bytes are forwarded unchanged, so any protocol
// (HTTP/2 with gRPC, HTTP/1.1) runs through it.
import net from "node:net";

export interface ChaosProxyOptions {
  /** Where connections are forwarded to. */
  target: { host: string; port: number };
  /** Interface the proxy listens on. Default 127.0.0.1. */
  host?: string;
}

export interface ChaosProxy {
  /** The port the proxy listens on (ephemeral). */
  port: number;
  /** Connection pairs (client side and server side) open right now. */
  readonly connections: number;
  /** Destroys every open connection pair with a TCP RST on both sides. The proxy keeps accepting. */
  reset(): void;
  /** Stops forwarding in both directions without closing anything; connections made while frozen are frozen too. */
  freeze(): void;
  /** Forwards again what `freeze()` held back (and what the peers sent meanwhile). */
  thaw(): void;
  /** Stops listening and closes every connection pair. */
  close(): Promise<void>;
}

/** One direction of a connection pair: reads `from`, writes `to`, and waits for `to` to drain when it is full. */
class Pipe {
  private awaitingDrain = false;
  constructor(
    readonly from: net.Socket,
    readonly to: net.Socket,
    private frozen: () => boolean,
  ) {
    from.on("data", (chunk: Buffer) => {
      if (to.write(chunk)) return;
      this.awaitingDrain = true;
      from.pause();
      to.once("drain", () => {
        this.awaitingDrain = false;
        if (!this.frozen()) from.resume();
      });
    });
  }
  /** Starts (or restarts) reading unless frozen or held back by a full peer. */
  flow(): void {
    if (!this.frozen() && !this.awaitingDrain) this.from.resume();
  }
}

class ConnectionPair {
  private readonly pipes: [Pipe, Pipe];
  private resetting = false;

  constructor(
    readonly client: net.Socket,
    readonly server: net.Socket,
    frozen: () => boolean,
    onClosed: () => void,
  ) {
    this.pipes = [new Pipe(client, server, frozen), new Pipe(server, client, frozen)];
    let open = 2;
    for (const [socket, other] of [
      [client, server],
      [server, client],
    ] as const) {
      // allowHalfOpen: a FIN from one side is passed on as a FIN, and the other side may still answer.
      socket.on("end", () => other.end());
      // A peer that reset its side gets its counterpart reset too, so the failure looks the same on both ends.
      socket.on("error", () => {
        if (!this.resetting) this.reset();
      });
      socket.on("close", () => {
        if (!other.destroyed && !this.resetting) other.end();
        if (--open === 0) onClosed();
      });
    }
  }

  flow(): void {
    for (const pipe of this.pipes) pipe.flow();
  }

  pause(): void {
    this.client.pause();
    this.server.pause();
  }

  reset(): void {
    this.resetting = true;
    for (const socket of [this.client, this.server]) {
      // A socket that is still connecting is reset once connected; one already gone needs nothing.
      if (!socket.destroyed) socket.resetAndDestroy();
    }
  }

  destroy(): void {
    this.client.destroy();
    this.server.destroy();
  }
}

export async function startChaosProxy(options: ChaosProxyOptions): Promise<ChaosProxy> {
  const pairs = new Set<ConnectionPair>();
  let frozen = false;
  const isFrozen = () => frozen;

  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    const upstream = net.connect({ host: options.target.host, port: options.target.port, allowHalfOpen: true });
    // The upstream socket reads from the start; it is paused here and flows only when not frozen.
    upstream.pause();
    const pair = new ConnectionPair(client, upstream, isFrozen, () => pairs.delete(pair));
    pairs.add(pair);
    pair.flow();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });

  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return pairs.size;
    },
    reset() {
      for (const pair of pairs) pair.reset();
    },
    freeze() {
      frozen = true;
      for (const pair of pairs) pair.pause();
    },
    thaw() {
      frozen = false;
      for (const pair of pairs) pair.flow();
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const pair of pairs) pair.destroy();
      await closed;
    },
  };
}
