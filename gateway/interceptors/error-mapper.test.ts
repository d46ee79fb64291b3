import { describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { pino } from "pino";
import { Writable } from "node:stream";
import { toConnectError } from "./error-mapper.js";
import * as errors from "../../services/platform/errors/errors.js";

function capturingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: "info" }, sink), lines };
}

describe("the error mapper", () => {
  it.each([
    [new errors.InvalidArgumentError("config.sample_rate_hz", "must be 8000 to 48000"), Code.InvalidArgument],
    [new errors.NotFoundError("job", "0b5c…"), Code.NotFound],
    [new errors.AlreadyExistsError("email already registered"), Code.AlreadyExists],
    [new errors.PermissionDeniedError("viewers cannot create jobs"), Code.PermissionDenied],
    [new errors.UnauthenticatedError("token expired"), Code.Unauthenticated],
    [new errors.FailedPreconditionError("job already finished"), Code.FailedPrecondition],
    [new errors.ResourceExhaustedError("rate limit", 3), Code.ResourceExhausted],
    [new errors.AbortedError("concurrent edit"), Code.Aborted],
    [new errors.UnavailableError("model not ready"), Code.Unavailable],
    [new errors.DeadlineExceededError("too slow"), Code.DeadlineExceeded],
    [new errors.UnimplementedError("not yet"), Code.Unimplemented],
  ])("maps %s to its code with its own message", (error, code) => {
    const { logger } = capturingLogger();
    const mapped = toConnectError(error, "req-1", logger);
    expect(mapped.code).toBe(code);
    expect(mapped.rawMessage).toBe(error.message);
  });

  it("removes server filesystem paths from a message, and leaves MIME types, URLs and fractions alone", () => {
    const { logger, lines } = capturingLogger();
    const reason = `model "whisper" is not ready (unavailable: no weights in /tmp/arabicstt-x/data/models/whisper; curl -fL -o /srv/m/ggml.bin https://huggingface.co/ggerganov/x)`;
    const mapped = toConnectError(new errors.UnavailableError(reason), "req-1", logger);
    expect(mapped.rawMessage).toBe(`model "whisper" is not ready (unavailable: no weights in <server path>; curl -fL -o <server path> https://huggingface.co/ggerganov/x)`);
    expect(lines.join("")).toContain("/tmp/arabicstt-x/data/models/whisper");
    const kept = "content_type: must be a MIME type such as audio/wav; 1/2 of the parts";
    expect(toConnectError(new errors.InvalidArgumentError("content_type", kept), "req-1", logger).rawMessage).toBe(`content_type: ${kept}`);
    const passedOn = toConnectError(new ConnectError("cannot open /work/app/node_modules/x.js", Code.FailedPrecondition), "req-1", logger);
    expect([passedOn.code, passedOn.rawMessage]).toEqual([Code.FailedPrecondition, "cannot open <server path>"]);
  });

  it("tells the client when to retry after a rate limit", () => {
    const { logger } = capturingLogger();
    const mapped = toConnectError(new errors.ResourceExhaustedError("too many streams", 2.2), "req-1", logger);
    expect(mapped.metadata.get("retry-after")).toBe("3");
  });

  it("hides internal failures behind INTERNAL with the request id, and logs them", () => {
    const { logger, lines } = capturingLogger();
    const mapped = toConnectError(new Error("connect ECONNREFUSED postgres://admin:hunter2@db"), "req-42", logger);
    expect(mapped.code).toBe(Code.Internal);
    expect(mapped.rawMessage).toBe("internal error (request id req-42)");
    expect(mapped.message).not.toContain("hunter2");
    expect(lines.join("")).toContain("ECONNREFUSED");
  });

  it("passes Connect errors through, except INTERNAL/UNKNOWN whose text may leak", () => {
    const { logger } = capturingLogger();
    const invalid = new ConnectError("bad field", Code.InvalidArgument);
    expect(toConnectError(invalid, "r", logger)).toBe(invalid);
    const leaky = toConnectError(new ConnectError("stack at /srv/app.ts:12", Code.Unknown), "r", logger);
    expect(leaky.code).toBe(Code.Internal);
    expect(leaky.rawMessage).not.toContain("/srv/app.ts");
  });
});
