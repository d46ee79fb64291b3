// What the StreamingRecognize transport tells the outside world about its streams (the gateway's
// Prometheus metrics implement it). Separate from the engine's EngineObserver: these are facts of
// connections and sessions, not of recognition.

/** Why a client stopped listening without closing its stream: it may come back and resume. */
export type LiveDropReason =
  /** The client cancelled its call (RST_STREAM CANCEL), or its connection was reset. */
  | "cancelled"
  /** Nothing came from the client for too long (HTTP/2 keepalive or the stream's own timeout). */
  | "silent"
  /** The server is shutting down: the session was finalised and left for a resume elsewhere. */
  | "drain";

/** How a session ended for good. */
export type LiveSessionOutcome = "closed" | "failed" | "abandoned";

export interface LiveStreamObserver {
  /** A session started (not a resume). */
  sessionStarted(): void;
  /** A session ended for good on this replica: closed by its client, failed, or abandoned after its grace period. */
  sessionEnded(outcome: LiveSessionOutcome): void;
  /** A session this replica held was handed to another replica on a resume there. */
  sessionHandedOver(): void;
  /** A client went away without closing. */
  dropped(reason: LiveDropReason): void;
  /** A client resumed a session: on the replica that held it, or taken over from another (or a dead) one. */
  resumed(where: "local" | "takeover"): void;
  /** Kept outputs sent again to a resuming client. */
  replayed(outputs: number): void;
  /** Seconds from the arrival of the audio a result ends in to the result's sending. */
  lag(seconds: number): void;
}

/** An observer that records nothing (tests, tools). */
export const silentLiveObserver: LiveStreamObserver = {
  sessionStarted() {},
  sessionEnded() {},
  sessionHandedOver() {},
  dropped() {},
  resumed() {},
  replayed() {},
  lag() {},
};
