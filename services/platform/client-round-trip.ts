// Whether the client at the other end of a stream is still there, asked of its transport. The end of
// a request stream alone cannot say: a gRPC client that cancels may half-close first (grpc-js sends
// END_STREAM, then RST_STREAM), and the two may be read far apart: a network that holds the second
// segment back, or an event loop too busy to read it before a timer set at the first fires. A round
// trip decides by order instead of by time: the client answers it after everything it sent before,
// a reset included.
import { createContextKey } from "@connectrpc/connect";

/**
 * Asks the client for a round trip on the RPC's connection: true once it answered with the RPC's stream
 * still open, false if the stream was reset or its connection lost first, undefined where the
 * transport cannot ask (HTTP/1.1).
 */
export type ClientRoundTrip = () => Promise<boolean | undefined>;

/** The server (gateway/server.ts) puts its transport's round trip here for every request; the default cannot ask. */
export const clientRoundTripKey = createContextKey<ClientRoundTrip>(() => Promise.resolve(undefined), {
  description: "a round trip to the client on the RPC's connection",
});
