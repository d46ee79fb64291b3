// Holds one of the organisation's live-stream slots for as long as each StreamingRecognize call is
// open, and gives it back however the stream ends (finished, failed, cancelled).
import type { Interceptor } from "@connectrpc/connect";
import { principalKey } from "../../services/identity/model/context.js";
import type { StreamSlots } from "../../services/platform/limits/stream-slots.js";
import { mapStream } from "./streams.js";

export function streamLimitInterceptor(slots: StreamSlots, methods: readonly string[]): Interceptor {
  const limited = new Set(methods);
  return (next) => async (req) => {
    const principal = req.contextValues.get(principalKey);
    if (!principal || !limited.has(`${req.service.typeName}/${req.method.name}`)) return next(req);
    const slot = await slots.acquire(principal.organizationId);
    let res;
    try {
      res = await next(req);
    } catch (err) {
      await slot.release();
      throw err;
    }
    if (!res.stream) {
      await slot.release();
      return res;
    }
    // One `then` per response rather than an async generator's several promises; the slot is given back
    // before the stream's end is passed on, and also when the response stream is dropped before its first read.
    return { ...res, message: mapStream(res.message, { onEnd: () => slot.release() }) };
  };
}
