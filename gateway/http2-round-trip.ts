// The client round trip (services/platform/client-round-trip.ts) on HTTP/2: a PING on the stream's
// connection, or an empty SETTINGS (which the client must acknowledge too) where Node will not send a
// PING: on a closing connection (a GOAWAY either way), or with its quota of unanswered PINGs used. Frames
// are read in the order the client sent them, so a RST_STREAM it sent before it saw ours closes the
// stream before its answer is read.
import type { Http2Session, ServerHttp2Stream } from "node:http2";

/** True once the client answered a round trip with `stream` still open; false if the stream closed first. */
export function http2RoundTrip(stream: ServerHttp2Stream): Promise<boolean> {
  const gone = () => stream.aborted || stream.destroyed || stream.closed;
  const { session } = stream;
  if (gone() || !session) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onClose = () => resolve(false);
    stream.once("close", onClose);
    void roundTripsOf(session)
      .ask()
      // A reset read in the same chunk as the answer may reach the stream's state on a later tick: looked at after an immediate.
      .then((answered) => new Promise<boolean>((settle) => setImmediate(() => settle(answered && !gone()))))
      .then((present) => {
        stream.off("close", onClose);
        resolve(present);
      });
  });
}

const roundTrips = new WeakMap<Http2Session, RoundTrips>();

function roundTripsOf(session: Http2Session): RoundTrips {
  let trips = roundTrips.get(session);
  if (!trips) roundTrips.set(session, (trips = new RoundTrips(session)));
  return trips;
}

/**
 * One round trip at a time per connection, shared by every stream that asked while it was being
 * prepared: hundreds of streams ending together on one connection neither exceed Node's bounds on
 * unanswered PINGs and SETTINGS (the latter destroys the session) nor flood the client.
 */
class RoundTrips {
  private inFlight = false;
  private waiting: Array<(answered: boolean) => void> = [];

  constructor(private readonly session: Http2Session) {}

  /** Whether the client answered a round trip sent after this call. */
  ask(): Promise<boolean> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (!this.inFlight) this.send();
    });
  }

  private send(): void {
    const askers = this.waiting.splice(0);
    this.inFlight = true;
    const answered = (ok: boolean) => {
      this.inFlight = false;
      for (const resolve of askers) resolve(ok);
      if (this.waiting.length > 0) this.send();
    };
    const { session } = this;
    try {
      if (session.destroyed) return answered(false);
      // ping() says false when the gateway's keepalive PINGs fill Node's quota of unanswered ones.
      if (!session.closed && session.ping((err) => answered(!err))) return;
      session.settings({}, (err) => answered(!err));
    } catch {
      // swallowed: a session destroyed meanwhile cannot be asked; its streams close, which is the answer.
      answered(false);
    }
  }
}
