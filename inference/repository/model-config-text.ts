// Parsing config.pbtxt, Triton's model configuration in the protobuf text format, into the
// generated ModelConfig message. The parsing itself is protobuf-es's own text-format reader
// (`@bufbuild/protobuf/txtpb`, in the pinned @bufbuild/protobuf since 2.13): it resolves field
// names, enum value names, nested messages, maps, `[a, b]` lists and escapes against the
// ModelConfig descriptor, so the field set is the .proto's and there is no second copy of it here.
// What it lacks is a position in its errors; `locateError` finds the line (see there).
import { fromText } from "@bufbuild/protobuf/txtpb";
import { ModelConfigSchema, type ModelConfig } from "../../proto/gen/inference/model_config_pb.js";

/** A config.pbtxt that cannot be read or is not a valid model configuration. */
export class ModelConfigError extends Error {
  override readonly name = "ModelConfigError";
  constructor(
    readonly file: string,
    /** 1-based line the problem is on, when it has one. */
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line === undefined ? "" : `:${line}`}: ${reason}`);
  }
}

/** Parses the text of one config.pbtxt; `file` only names it in errors. */
export function parseModelConfigText(text: string, file: string): ModelConfig {
  try {
    return fromText(ModelConfigSchema, text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ModelConfigError(file, locateError(text, reason), reason);
  }
}

/**
 * The line where parsing `text` fails with `reason`. The reader stops at the first bad token and
 * reads left to right, so the first prefix of whole lines that fails with the same message ends
 * on the offending line: cutting the text short elsewhere fails only with "end of input", and
 * text format strings and comments never span lines. A file that itself ends too early
 * (an unclosed brace) is reported on its last line.
 */
function locateError(text: string, reason: string): number {
  const lines = text.split("\n");
  if (!reason.includes("end of input")) {
    let prefix = "";
    for (let i = 0; i < lines.length; i++) {
      prefix += `${lines[i]}\n`;
      try {
        fromText(ModelConfigSchema, prefix);
      } catch (err) {
        if (err instanceof Error && err.message === reason) return i + 1;
      }
    }
  }
  let last = lines.length;
  while (last > 1 && lines[last - 1]?.trim() === "") last--;
  return last;
}

/** The 1-based line of the first occurrence of `needle` in `text`, for errors found after parsing. */
export function lineOf(text: string, needle: string): number | undefined {
  const at = text.indexOf(needle);
  if (at < 0) return undefined;
  let line = 1;
  for (let i = 0; i < at; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
