import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { createValidator, violationsToProto } from "@bufbuild/protovalidate";
import { mapStream } from "./streams.js";
import { payloadFastPath, takenByFastPath } from "./payload-fast-path.js";

/**
 * Checks every request message against the protovalidate rules declared in proto/, before
 * any handler runs: INVALID_ARGUMENT naming the field, with buf.validate.Violations in the
 * error details for SDKs that want the structured form. Client and bidi streams are checked
 * message by message as they arrive; live audio messages within their length take the shortcut of
 * payload-fast-path.ts. The gateway runs this together with the field policy (request-checks.ts).
 */
export function validationInterceptor(): Interceptor {
  const check = messageValidator();
  return (next) => async (req) => {
    if (!req.stream) {
      check(req.method.input, req.message);
      return next(req);
    }
    const fast = payloadFastPath(req.method.input);
    let index = 0;
    return next({
      ...req,
      message: mapStream(req.message, {
        each: (message) => {
          const at = index++;
          if (fast && takenByFastPath(fast, message) !== undefined) return;
          check(req.method.input, message, at);
        },
      }),
    });
  };
}

/** Throws INVALID_ARGUMENT (with buf.validate.Violations) for a message that breaks its protovalidate rules. */
export type MessageValidator = <D extends DescMessage>(schema: D, message: MessageShape<D>, index?: number) => void;

export function messageValidator(): MessageValidator {
  const validator = createValidator();
  return (schema, message, index) => {
    const result = validator.validate(schema, message);
    if (result.kind === "valid") return;
    if (result.kind === "error") {
      // A rule that cannot be compiled or evaluated is our bug, not the client's.
      throw result.error;
    }
    const where = index === undefined ? schema.name : `${schema.name} #${index + 1}`;
    const [details, detailsSchema] = violationsToProto(result.error.violations);
    throw new ConnectError(`invalid ${where}: ${result.error.message}`, Code.InvalidArgument, undefined, [
      { desc: detailsSchema, value: details },
    ]);
  };
}
