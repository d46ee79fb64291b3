// Reads a `multipart/form-data` request (busboy) into its fields and its one file, bounded: one file of at
// most `maxFileBytes`, a few small fields, and nothing after a limit is crossed.
import type { IncomingMessage } from "node:http";
import busboy from "busboy";
import { OpenAiRequestError } from "./errors.js";

export interface FormLimits {
  maxFileBytes: number;
  /** Most form fields (not counting the file). */
  maxFields: number;
  /** Largest value of one field. */
  maxFieldBytes: number;
}

export interface ParsedForm {
  /** Every value of each field, in order (`timestamp_granularities[]` repeats). */
  fields: Map<string, string[]>;
  file?: { name: string; bytes: Buffer; contentType: string };
}

export function parseForm(req: IncomingMessage, limits: FormLimits): Promise<ParsedForm> {
  const contentType = req.headers["content-type"] ?? "";
  if (!/^multipart\/form-data\b/i.test(contentType)) {
    return Promise.reject(new OpenAiRequestError(400, "send the audio as multipart/form-data with a `file` part", null, "invalid_content_type"));
  }
  return new Promise((resolve, reject) => {
    const fields = new Map<string, string[]>();
    let file: ParsedForm["file"];
    let failed = false;
    const fail = (err: OpenAiRequestError) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      // The rest of the body is not read: the connection closes after the answer.
      req.resume();
      reject(err);
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { files: 1, fileSize: limits.maxFileBytes, fields: limits.maxFields, fieldSize: limits.maxFieldBytes, parts: limits.maxFields + 1 },
      });
    } catch (err) {
      reject(new OpenAiRequestError(400, `the multipart body cannot be read: ${(err as Error).message}`));
      return;
    }
    parser.on("field", (name, value, info) => {
      if (info.valueTruncated) return fail(new OpenAiRequestError(400, `the field ${name} is longer than ${limits.maxFieldBytes} bytes`, name));
      fields.set(name, [...(fields.get(name) ?? []), value]);
    });
    parser.on("file", (name, stream, info) => {
      if (name !== "file") {
        stream.resume();
        return fail(new OpenAiRequestError(400, `unexpected file field ${JSON.stringify(name)}: the audio goes in \`file\``, name));
      }
      const parts: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => parts.push(chunk));
      stream.on("limit", () =>
        fail(new OpenAiRequestError(413, `the file is larger than ${limits.maxFileBytes} bytes, the most this endpoint takes`, "file", "file_too_large")),
      );
      stream.on("close", () => {
        if (!stream.truncated) file = { name: info.filename ?? "audio", bytes: Buffer.concat(parts), contentType: info.mimeType };
      });
    });
    parser.on("filesLimit", () => fail(new OpenAiRequestError(400, "send one file", "file")));
    parser.on("fieldsLimit", () => fail(new OpenAiRequestError(400, `too many form fields (at most ${limits.maxFields})`)));
    parser.on("partsLimit", () => fail(new OpenAiRequestError(400, `too many form parts (at most ${limits.maxFields + 1})`)));
    parser.on("error", (err: Error) => fail(new OpenAiRequestError(400, `the multipart body cannot be read: ${err.message}`)));
    parser.on("close", () => {
      if (!failed) resolve({ fields, file });
    });
    req.on("aborted", () => fail(new OpenAiRequestError(400, "the request was cut short")));
    req.pipe(parser);
  });
}
