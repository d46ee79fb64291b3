// TextService over the wire: FormatText runs the text chain on the request's text. Nothing is stored.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { RedactedSpanSchema, type TextService } from "../../proto/gen/arabicstt/v1/text_pb.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import { formatText } from "./chain.js";
import { redactionTypeOf, textChainOptions } from "./options.js";

/** text.proto: 1 to 100 000 characters (code points, as protovalidate counts them). */
export const MAX_FORMAT_TEXT_CHARS = 100_000;

export function textHandler(): Partial<ServiceImpl<typeof TextService>> {
  return {
    formatText(req) {
      // The validation interceptor rejects these first; checked again so the handler is safe on its own.
      const length = [...req.text].length;
      if (length === 0 || length > MAX_FORMAT_TEXT_CHARS) {
        throw new InvalidArgumentError("text", `must be 1 to ${MAX_FORMAT_TEXT_CHARS} characters, got ${length}`);
      }
      const out = formatText(req.text, textChainOptions(req));
      return {
        text: out.text,
        redactions: out.redactions.map((r) => create(RedactedSpanSchema, { type: redactionTypeOf(r.type), startOffset: r.start, endOffset: r.end })),
      };
    },
  };
}
