import { describe, expect, it } from "vitest";
import {
  failureFromStatus,
  InferenceInternalError,
  InferenceUnavailableError,
  Status,
  type InferenceClient,
} from "../../inference/client/index.js";
import {
  DeadlineExceededError,
  DomainError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
  UnimplementedError,
} from "./errors/errors.js";
import { domainErrorOf, withDomainErrors } from "./inference.js";

describe("inference failures as the services see them", () => {
  const context = { model: "whisper", address: "127.0.0.1:8001" };
  const cases = [
    [Status.UNAVAILABLE, "model whisper is loading", UnavailableError, "inference model whisper unavailable: model whisper is loading"],
    [Status.NOT_FOUND, 'unknown model "whisper"', NotFoundError, "inference model whisper not found"],
    [Status.INVALID_ARGUMENT, 'missing required input "AUDIO"', InvalidArgumentError, 'AUDIO: missing required input "AUDIO"'],
    [Status.OUT_OF_RANGE, "too long", InvalidArgumentError, "inputs: too long"],
    [Status.DEADLINE_EXCEEDED, "Deadline exceeded", DeadlineExceededError, "inference model whisper: deadline exceeded (Deadline exceeded)"],
    [Status.RESOURCE_EXHAUSTED, "queue full", ResourceExhaustedError, "inference model whisper overloaded: queue full"],
    [Status.FAILED_PRECONDITION, "wrong state", FailedPreconditionError, "inference model whisper: wrong state"],
    [Status.UNIMPLEMENTED, "no streaming", UnimplementedError, "inference model whisper: no streaming"],
  ] as const;

  for (const [code, details, domainClass, message] of cases) {
    it(`${Status[code]} becomes ${domainClass.name} with the inference error's message, and the inference error as its cause`, () => {
      const failure = failureFromStatus(code, details, context, ["AUDIO"]);
      const domain = domainErrorOf(failure);
      expect(domain).toBeInstanceOf(domainClass);
      expect((domain as DomainError).message).toBe(message);
      expect((domain as DomainError).message).toBe(failure.message);
      expect((domain as Error).cause).toBe(failure);
    });
  }

  it("keeps the field of a refused input and no retry-after for an overloaded server", () => {
    expect((domainErrorOf(failureFromStatus(Status.INVALID_ARGUMENT, "bad AUDIO", context, ["AUDIO"])) as InvalidArgumentError).field).toBe("AUDIO");
    expect((domainErrorOf(failureFromStatus(Status.RESOURCE_EXHAUSTED, "full", context)) as ResourceExhaustedError).retryAfterSeconds).toBeUndefined();
  });

  it("leaves internal failures and foreign errors as they are, so they reach clients only as INTERNAL", () => {
    const internal = new InferenceInternalError(Status.DATA_LOSS, "inference model whisper failed with DATA_LOSS: bytes lost", context);
    expect(domainErrorOf(internal)).toBe(internal);
    expect(domainErrorOf(internal)).not.toBeInstanceOf(DomainError);
    const aborted = new Error("the caller gave up");
    expect(domainErrorOf(aborted)).toBe(aborted);
  });

  it("withDomainErrors makes a client's failures domain errors and passes its answers through", async () => {
    const failing = new InferenceUnavailableError("sidecar restarting", { address: "127.0.0.1" });
    const inner = {
      transcribe: async () => {
        throw failing;
      },
      serverLive: async () => true,
      close: () => undefined,
    } as unknown as InferenceClient;
    const client = withDomainErrors(inner);
    const refused = await client.transcribe("dtmf", new Float32Array(160)).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(UnavailableError);
    expect((refused as Error).message).toBe("sidecar restarting");
    expect(await client.serverLive()).toBe(true);
  });
});
