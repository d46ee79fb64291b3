// What every telephony adapter (Twilio media streams, Asterisk AudioSocket) does with the live session a call
// feeds: watch it for final results, close it when the call ends (the platform stores and bills it), and
// tell the organisation's webhooks (`live_session.closed`) with the results. The adapters differ only in
// their wire protocol and in the details of the call they add to the event.
import { toJson } from "@bufbuild/protobuf";
import { LiveSessionSchema, type LiveSession } from "../../../proto/gen/arabicstt/v1/speech_pb.js";
import type { Logger } from "../../../services/platform/logger.js";
import type { Authenticator } from "../../../services/identity/model/principal.js";
import type { WebhookEvent } from "../../../services/webhooks/webhooks.js";
import type { PlatformClients } from "../platform-client.js";

export interface FinalResult {
  channelTag: number;
  transcript: string;
  endSeconds: number;
}

/** How long a closed session's watch may take to deliver its last results before the event goes without them. */
const WATCH_DRAIN_MS = 10_000;

/** A call's live session, watched from its creation until the call closes it. */
export class CallSession {
  private readonly watchAbort = new AbortController();
  private readonly finals: Promise<FinalResult[]>;

  constructor(
    private readonly clients: PlatformClients,
    readonly sessionId: string,
    private readonly headers: Record<string, string>,
    private readonly logger: Logger,
    /** The call's kind in log lines ("a Twilio call"). */
    private readonly what: string,
  ) {
    this.finals = this.watch();
  }

  /** Closes the session (stored and billed by the platform) and returns it with the final results it gave. */
  async close(): Promise<{ session: LiveSession | undefined; finals: FinalResult[] }> {
    let session: LiveSession | undefined;
    try {
      session = (await this.clients.speech.closeLiveSession({ sessionId: this.sessionId }, { headers: this.headers })).session;
    } catch (err) {
      this.logger.warn({ err, session_id: this.sessionId }, `closing ${this.what}'s session failed; the platform's sweeper ends it`);
    }
    const watchTimer = setTimeout(() => this.watchAbort.abort(), WATCH_DRAIN_MS);
    const finals = await this.finals;
    clearTimeout(watchTimer);
    return { session, finals };
  }

  /** Final results of the session, by channel, as WatchLiveSession gives them. */
  private async watch(): Promise<FinalResult[]> {
    const finals: FinalResult[] = [];
    try {
      for await (const response of this.clients.speech.watchLiveSession({ sessionId: this.sessionId }, { headers: this.headers, signal: this.watchAbort.signal })) {
        for (const r of response.results) {
          if (!r.isFinal) continue;
          const end = r.resultEndOffset;
          finals.push({ channelTag: r.channelTag, transcript: r.alternatives[0]?.transcript ?? "", endSeconds: end ? Number(end.seconds) + end.nanos / 1e9 : 0 });
        }
      }
    } catch (err) {
      // swallowed: the watch only gathers results for the webhook; the session itself is closed, stored and billed by the platform either way.
      if (!this.watchAbort.signal.aborted) this.logger.info({ err, session_id: this.sessionId }, `watching ${this.what}'s session failed`);
    }
    return finals;
  }
}

export interface CallEventOptions {
  authenticator: Authenticator;
  webhooks: { publish(event: WebhookEvent): Promise<unknown> };
  logger: Logger;
}

/** What every telephony adapter is built with: the platform's RPCs, besides what the closing event needs. */
export interface CallAdapterOptions extends CallEventOptions {
  clients: PlatformClients;
}

/**
 * Publishes `live_session.closed` for a call to the organisation of `credential` (an API key): the session,
 * `source` and the adapter's own details, and the results. Never throws; a failure is logged.
 */
export async function publishCallClosed(
  options: CallEventOptions,
  call: { credential: string; session: LiveSession; source: string; details: Record<string, unknown>; results: Array<Record<string, unknown>>; what: string },
): Promise<void> {
  try {
    const principal = await options.authenticator.authenticate(call.credential);
    await options.webhooks.publish({
      organizationId: principal.organizationId,
      type: "live_session.closed",
      // One event per session, however often it is published (the session id is a UUID, as event ids are).
      eventId: call.session.sessionId,
      data: { ...(toJson(LiveSessionSchema, call.session) as Record<string, unknown>), source: call.source, ...call.details, results: call.results },
    });
  } catch (err) {
    options.logger.error({ err, session_id: call.session.sessionId }, `${call.what}'s webhook event could not be published`);
  }
}

/** A final result as the webhook event carries it. */
export function resultOf(f: FinalResult): Record<string, unknown> {
  return { channelTag: f.channelTag, transcript: f.transcript, resultEndOffset: `${f.endSeconds.toFixed(3)}s` };
}
